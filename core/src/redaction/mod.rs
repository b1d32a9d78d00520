//! Redaction: what must not leave for Zendesk or sit in storage, masked before either happens.
//! Payment card numbers (Luhn-checked), IBANs (mod-97-checked), passwords and one-time codes the
//! visitor introduces as such, and a bot's own patterns. Masks keep the shape an agent can use
//! (`**** **** **** 4242`) and never make a text longer, in bytes or characters; redacting a
//! redacted text changes nothing and counts nothing.

mod introduced;
mod numbers;
pub mod patterns;
mod words;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
pub use patterns::CustomPattern;

/// What a bot redacts. Every built-in class is on unless the bot turns it off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RedactionSettings {
    pub card_numbers: bool,
    pub ibans: bool,
    pub passwords: bool,
    pub one_time_codes: bool,
    /// The bot's own patterns; each match's letters and digits become `*`.
    pub patterns: Vec<CustomPattern>,
}

impl Default for RedactionSettings {
    fn default() -> Self {
        Self { card_numbers: true, ibans: true, passwords: true, one_time_codes: true, patterns: Vec::new() }
    }
}

/// How many items of each class were masked: `card_number`, `iban`, `password`,
/// `one_time_code`, and `pattern:{name}` for a bot's own. Never what they were.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedactionCounts(pub BTreeMap<String, u32>);

impl RedactionCounts {
    fn add(&mut self, class: &str, n: usize) {
        if n > 0 {
            *self.0.entry(class.to_owned()).or_default() += u32::try_from(n).unwrap_or(u32::MAX);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds another text's counts to these.
    pub fn merge(&mut self, other: RedactionCounts) {
        for (class, n) in other.0 {
            *self.0.entry(class).or_default() += n;
        }
    }
}

/// A bot's redaction, ready to run: its classes and its patterns compiled.
#[derive(Debug, Clone)]
pub struct Redactor {
    card_numbers: bool,
    ibans: bool,
    passwords: bool,
    one_time_codes: bool,
    patterns: Vec<(String, regex_lite::Regex)>,
}

/// A pass over a text masks at most this many times for a bot's patterns: each pass turns
/// letters and digits into `*`, and a pattern may match what an earlier mask made.
const PATTERN_PASSES: usize = 4;

impl Redactor {
    /// Compiles the settings' patterns. Settings are checked when saved (`validate`); a stored
    /// pattern this build cannot compile is left out and named in the second value, for the
    /// caller to log, rather than failing the escalation.
    pub fn new(settings: &RedactionSettings) -> (Self, Vec<String>) {
        let mut skipped = Vec::new();
        let patterns = settings
            .patterns
            .iter()
            .filter_map(|p| match patterns::compile(&p.regex) {
                Ok(regex) => Some((format!("pattern:{}", p.name), regex)),
                Err(_) => {
                    skipped.push(p.name.clone());
                    None
                }
            })
            .collect();
        let redactor = Self {
            card_numbers: settings.card_numbers,
            ibans: settings.ibans,
            passwords: settings.passwords,
            one_time_codes: settings.one_time_codes,
            patterns,
        };
        (redactor, skipped)
    }

    /// Masks `text` in place, adding what it masked to `counts`.
    pub fn redact(&self, text: &mut String, counts: &mut RedactionCounts) {
        // IBANs before cards: an IBAN's mask splits its digits into new groups (`**30 00`),
        // which the card scan must see the first time as it will the second.
        let digits = count_digits(text.as_bytes());
        // Every IBAN has at least eight digits (its check digits and a numeric account).
        if self.ibans && digits >= 8 {
            let spans = numbers::ibans(text);
            counts.add("iban", spans.len());
            apply(text, &spans, |span, _, out| numbers::mask_iban(span, out));
        }
        if self.card_numbers && digits >= 12 {
            let spans = numbers::card_numbers(text);
            counts.add("card_number", spans.len());
            apply(text, &spans, numbers::mask_card);
        }
        if self.passwords || self.one_time_codes {
            let found = introduced::secrets(text, self.passwords, self.one_time_codes);
            if !found.is_empty() {
                let passwords = found.iter().filter(|(_, kind)| *kind == introduced::Secret::Password).count();
                counts.add("password", passwords);
                counts.add("one_time_code", found.len() - passwords);
                let spans: Vec<_> = found.into_iter().map(|(span, _)| span).collect();
                apply(text, &spans, |span, _, out| mask_all(span, out));
            }
        }
        for (class, regex) in &self.patterns {
            for _ in 0..PATTERN_PASSES {
                let spans: Vec<_> = regex
                    .find_iter(text)
                    .map(|m| m.range())
                    .filter(|r| text[r.clone()].chars().any(char::is_alphanumeric))
                    .collect();
                if spans.is_empty() {
                    break;
                }
                counts.add(class, spans.len());
                apply(text, &spans, |span, _, out| mask_alphanumeric(span, out));
            }
        }
    }
}

/// How many ASCII digits `bytes` holds, counted in byte-wide lanes (255 bytes at a time, so a
/// lane cannot overflow): this runs on every message, and a count in `usize` lanes is several
/// times slower.
fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &b| n + u8::from(b.wrapping_sub(b'0') < 10))))
        .sum()
}

/// Rewrites `text` with each of the (ordered, disjoint) spans masked by `mask`, which is given the
/// span and the text after it.
fn apply(text: &mut String, spans: &[std::ops::Range<usize>], mask: impl Fn(&str, &str, &mut String)) {
    if spans.is_empty() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        mask(&text[span.clone()], &text[span.end..], &mut out);
        at = span.end;
    }
    out.push_str(&text[at..]);
    *text = out;
}

/// Every character becomes `*` (a password's length is all it keeps).
fn mask_all(span: &str, out: &mut String) {
    out.extend(span.chars().map(|_| '*'));
}

/// Letters and digits become `*`; separators stay, so the shape shows.
fn mask_alphanumeric(span: &str, out: &mut String) {
    out.extend(span.chars().map(|c| if c.is_alphanumeric() { '*' } else { c }));
}

/// Problems with a bot's redaction settings, each naming its field (`redaction.patterns[2].regex`).
pub fn validate(settings: &RedactionSettings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if settings.patterns.len() > patterns::MAX_PATTERNS {
        errors.push(FieldError::new("redaction.patterns", format!("at most {} patterns", patterns::MAX_PATTERNS)));
    }
    for (i, pattern) in settings.patterns.iter().enumerate() {
        if !patterns::valid_name(&pattern.name) {
            errors.push(FieldError::new(
                format!("redaction.patterns[{i}].name"),
                "1 to 40 lowercase letters, digits or `_`",
            ));
        } else if settings.patterns[..i].iter().any(|p| p.name == pattern.name) {
            errors.push(FieldError::new(format!("redaction.patterns[{i}].name"), "is used by another pattern"));
        }
        if let Some(problem) = patterns::problem(&pattern.regex) {
            errors.push(FieldError::new(format!("redaction.patterns[{i}].regex"), problem));
        }
    }
    errors
}

#[cfg(test)]
mod tests;
