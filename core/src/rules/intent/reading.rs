//! How explicit-request detection reads a message: folded words in clauses in sentences, held-down
//! letters squeezed, pairs rewritten, a bot's exclusions and the lexicon's compounds blanked.

use std::borrow::Cow;

use super::lexicon::*;
use crate::text;

/// A sentence's clauses, and whether it asks a question.
pub(super) struct Sentence {
    pub(super) clauses: Vec<Vec<Word>>,
    /// The same clauses before compounds are blanked, where a bot's extra phrases are looked for
    /// (a bot may count "another person" although the lexicon does not).
    pub(super) with_compounds: Vec<Vec<Word>>,
    /// The sentence's words as `text::tokens` reads them, for the model's second opinion.
    pub(super) tokens: Vec<String>,
    pub(super) question: bool,
}

/// The message cut at sentence ends, each cut into clauses of folded words with held-down
/// letters squeezed, compounds and the bot's excluded phrases replaced by a word in no class.
pub(super) fn sentences(message: &str, excluded: &[Vec<String>]) -> Vec<Sentence> {
    without_quotations(message)
        .split_inclusive(['.', '!', '?', '\n', ':'])
        .map(|raw| {
            let (mut clauses, mut with_compounds, mut tokens) = (Vec::new(), Vec::new(), Vec::new());
            for clause in text::clauses(raw) {
                tokens.extend(clause.iter().cloned());
                let clause: Vec<Word> = normalized(clause).into_iter().map(Word::new).collect();
                let clause =
                    replace_phrases(clause, |c, at| excluded.iter().find(|p| begins_with(&c[at..], p)).map(Vec::len));
                let blanked = replace_phrases(clause.clone(), |c, at| COMPOUNDS.at(c, at).map(<[String]>::len).max());
                // A clause of hundreds of words is not one a visitor speaks; bounding it keeps
                // the per-clause checks from growing with the square of a pasted text.
                with_compounds.extend(clause.chunks(MAX_CLAUSE_WORDS).map(<[Word]>::to_vec));
                clauses.extend(blanked.chunks(MAX_CLAUSE_WORDS).map(<[Word]>::to_vec));
            }
            Sentence { question: raw.contains(['?', '¿']), clauses, with_compounds, tokens }
        })
        .filter(|s| !s.clauses.is_empty())
        .collect()
}

/// Quotation marks and what they open, as pairs (German „…“ closes either way).
const QUOTES: [(char, &[char]); 4] = [('"', &['"']), ('“', &['”']), ('«', &['»']), ('„', &['“', '”'])];

/// The message without the text of the quotations someone else said or wrote: "the note says
/// "please call our support team"" reports, it does not ask. Not a button's label ("where is
/// "talk to an agent"?") nor the visitor's own words ("I said "human" five times"). Linear in
/// the message.
pub(super) fn without_quotations(message: &str) -> Cow<'_, str> {
    if !message.contains(['"', '“', '«', '„']) {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    // A '"' right after a digit is an inch mark ("my 65\" TV"), neither opening nor closing.
    let inch = |text: &str, at: usize| text[..at].chars().next_back().is_some_and(|c| c.is_ascii_digit());
    while let Some((start, closers)) = rest.char_indices().find_map(|(i, c)| {
        QUOTES.iter().find(|(open, _)| *open == c && !(c == '"' && inch(rest, i))).map(|(_, close)| (i, close))
    }) {
        let inner_start = start + rest[start..].chars().next().map_or(1, char::len_utf8);
        let closing = rest[inner_start..]
            .char_indices()
            .find(|(i, c)| closers.contains(c) && !(*c == '"' && inch(&rest[inner_start..], *i)));
        let Some((len, _)) = closing else { break };
        let inner = &rest[inner_start..inner_start + len];
        // The last few words before the quotation (a bounded look, whatever the message's length).
        let near = rest[..start].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
        let before = text::tokens(&rest[near..start]);
        let before: Vec<Word> = before.into_iter().rev().take(4).map(Word::new).collect();
        let reported = before.iter().any(|t| SAYS.has(t)) && !before.iter().any(|t| FIRST_PERSON.has(t));
        out.push_str(&rest[..inner_start]);
        if !reported {
            out.push_str(inner);
        }
        rest = &rest[inner_start + len..];
        let close_len = rest.chars().next().map_or(0, char::len_utf8);
        out.push_str(&rest[..close_len]);
        rest = &rest[close_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A clause's folded words as the detector reads them: held-down letters squeezed, pairs
/// rewritten ("no one" → "noone"). A bot's phrases are read the same way.
pub(super) fn normalized(words: Vec<String>) -> Vec<String> {
    rewritten(words.iter().map(|t| squeeze(t)).collect())
}

/// "No one" as "noone", so it is one word like "nobody".
pub(super) fn rewritten(clause: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(clause.len());
    for word in clause {
        match out.last().and_then(|last| rewrite(last, &word)) {
            Some(one) => *out.last_mut().expect("a last word") = one.to_owned(),
            None => out.push(word),
        }
    }
    out
}

/// Each occurrence of one of `phrases` becomes one word in no class (`Word::nothing`), so "talk to Human Touch
/// support" still asks for support while "Human Touch won't pair" names no one.
pub(super) fn replace_phrases(clause: Vec<Word>, phrase_at: impl Fn(&[Word], usize) -> Option<usize>) -> Vec<Word> {
    let lengths: Vec<usize> = (0..clause.len()).map(|at| phrase_at(&clause, at).unwrap_or(0)).collect();
    if lengths.iter().all(|len| *len == 0) {
        return clause;
    }
    let mut out = Vec::with_capacity(clause.len());
    let mut skip = 0;
    for (word, len) in clause.into_iter().zip(lengths) {
        if skip > 0 {
            skip -= 1;
        } else if len > 0 {
            out.push(Word::nothing());
            skip = len - 1;
        } else {
            out.push(word);
        }
    }
    out
}

/// A word with a letter held down ("humanoooo", "humaiiiin") as written once: runs of three or
/// more of one letter become one.
pub(super) fn squeeze(token: &str) -> String {
    let bytes = token.as_bytes();
    if !bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return token.to_owned();
    }
    let mut out = String::with_capacity(token.len());
    let chars: Vec<char> = token.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = j - i;
        let keep = if run >= 3 && chars[i].is_alphabetic() { 1 } else { run };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i = j;
    }
    out
}

/// The most words one clause is read as; a longer run without punctuation is read in parts.
pub(super) const MAX_CLAUSE_WORDS: usize = 120;
