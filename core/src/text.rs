//! Text folding shared by intent detection and tag sanitising: one definition of
//! "the same words", so a phrase configured by a bot matches the way built-in ones do.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, strips accents (NFD, combining marks dropped) and maps `ß` to `ss`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Folds the text and splits it into clauses of word tokens.
///
/// English contractions keep their negation (`don't` → `dont`); other apostrophes
/// (French elision `n'ai`, `d'un`) separate words. Sentence punctuation, commas, dashes and emoji
/// end a clause, so "No, I want a human" is two clauses and the "No" does not negate the request.
pub fn clauses(input: &str) -> Vec<Vec<String>> {
    let folded = fold(input).replace(['\u{2019}', '\u{2018}', '`', '\u{b4}'], "'");
    let folded = folded.replace("n't", "nt");
    let mut clauses = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            current.push(std::mem::take(&mut word));
        }
        if breaks_clause(c) && !current.is_empty() {
            clauses.push(std::mem::take(&mut current));
        }
    }
    if !word.is_empty() {
        current.push(word);
    }
    if !current.is_empty() {
        clauses.push(current);
    }
    clauses
}

/// Whether `c` ends a clause: sentence punctuation, commas, brackets, dashes, and emoji, which
/// visitors use as punctuation ("una non va 😕 vorrei parlare con qualcuno").
pub fn breaks_clause(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | '!' | '?' | ':' | '\n' | '¿' | '¡' | '(' | ')' | '—' | '–')
        || matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF)
}

/// Word tokens of a phrase, folded the same way as messages (clause breaks ignored).
pub fn tokens(input: &str) -> Vec<String> {
    clauses(input).into_iter().flatten().collect()
}

/// Removes control characters except newline and tab; CRLF and lone CR become LF.
pub fn strip_control(input: &str) -> String {
    let normalized = input.replace("\r\n", "\n").replace('\r', "\n");
    normalized.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

/// Collapses all whitespace runs to one space and trims: one readable line.
pub fn one_line(input: &str) -> String {
    strip_control(input).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `input` to at most `max_chars` characters at a word boundary, adding `…` when cut.
pub fn truncate_words(input: &str, max_chars: usize) -> String {
    if input.chars().count() <= max_chars {
        return input.to_owned();
    }
    let budget = max_chars.saturating_sub(1);
    let cut: String = input.chars().take(budget).collect();
    let trimmed = match cut.rfind(char::is_whitespace) {
        Some(idx) if idx > budget / 2 => cut[..idx].trim_end().to_owned(),
        _ => cut,
    };
    format!("{trimmed}…")
}

/// Byte index of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Tags after which a reader expects a new line.
const BLOCK_TAGS: [&str; 16] =
    ["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table"];

/// An agent's comment (Zendesk stores HTML) as plain text for a chat window: tags dropped,
/// block elements as line breaks, list items as `- `, entities decoded, scripts and styles
/// removed, blank runs collapsed. Not a sanitiser for HTML output: the result is text.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        // Only `<` followed by a letter, `/` or `!` opens a tag; "2 < 3" is text.
        let opens_tag = after.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !opens_tag {
            text.push('<');
            rest = after;
            continue;
        }
        let Some(close) = after.find('>') else {
            // No `>` anywhere after: nothing further can close a tag, so the rest is text
            // (and a body of many `<a` costs one scan, not one per `<`).
            text.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = after[..close].trim();
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &after[close + 1..];
        if !closing && (name == "script" || name == "style") {
            // Skip to the matching end tag (searched without copying the rest: bodies are long).
            rest = match find_ignore_case(rest, &format!("</{name}")) {
                Some(idx) => rest[idx..].find('>').map_or("", |gt| &rest[idx + gt + 1..]),
                None => "",
            };
            continue;
        }
        if name == "li" && !closing {
            text.push_str("\n- ");
        } else if BLOCK_TAGS.contains(&name.as_str()) {
            text.push('\n');
        }
    }
    text.push_str(rest);
    let decoded = html_escape::decode_html_entities(&text).replace('\u{a0}', " ");
    let mut out = String::with_capacity(decoded.len());
    let mut blank_lines = 0;
    for line in strip_control(&decoded).lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 1 { "\n\n" } else { "\n" });
        }
        out.push_str(&line);
        blank_lines = 0;
    }
    out
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Zendesk is the final judge; this only catches what is clearly not an address.
pub fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

/// Zendesk rejects tags longer than this.
pub const TAG_MAX_CHARS: usize = 80;

/// Sanitises text into a Zendesk tag: lower case, accents folded, only letters, digits, `_`,
/// `-`, `/` and `:`; runs of anything else become one `_`. None when nothing is left.
pub fn sanitize_tag(raw: &str) -> Option<String> {
    let mut tag = String::with_capacity(raw.len());
    for c in fold(raw).chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | ':') {
            tag.push(c);
        } else if !tag.ends_with('_') {
            tag.push('_');
        }
    }
    let tag: String = tag.trim_matches('_').chars().take(TAG_MAX_CHARS).collect();
    let tag = tag.trim_end_matches('_').to_owned();
    (!tag.is_empty()).then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_strips_accents_and_case() {
        assert_eq!(fold("Hablar con un HUMANO, Señor"), "hablar con un humano, senor");
        assert_eq!(fold("Ich möchte Straße"), "ich mochte strasse");
        assert_eq!(fold("Não"), "nao");
    }

    #[test]
    fn clauses_split_on_punctuation_and_keep_contractions() {
        assert_eq!(
            clauses("No, I don't want that. Human!"),
            vec![vec!["no"], vec!["i", "dont", "want", "that"], vec!["human"]]
        );
        assert_eq!(clauses("je n'ai pas"), vec![vec!["je", "n", "ai", "pas"]]);
        // Dashes and emoji end a clause as commas do; a hyphen inside a word does not.
        assert_eq!(
            clauses("Pedido 7 — un asesor 😕 non-stop"),
            vec![vec!["pedido", "7"], vec!["un", "asesor"], vec!["non", "stop"]]
        );
    }

    #[test]
    fn strip_control_keeps_newlines_and_tabs() {
        assert_eq!(strip_control("a\u{0}b\r\nc\td\u{7}"), "ab\nc\td");
    }

    #[test]
    fn truncate_words_cuts_at_a_space() {
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(truncate_words("one two three four", 12), "one two…");
        assert_eq!(truncate_words("abcdefghijklmnop", 5), "abcd…");
    }

    #[test]
    fn html_to_text_keeps_the_words_and_the_lines() {
        assert_eq!(
            html_to_text("<p>Hi Ana,</p><p>Try <b>resetting</b> it &amp; tell me.</p>"),
            "Hi Ana,\nTry resetting it & tell me."
        );
        assert_eq!(html_to_text("Line one<br>Line two<br/>"), "Line one\nLine two");
        assert_eq!(html_to_text("<ul><li>one</li><li>two</li></ul>"), "- one\n- two");
        assert_eq!(html_to_text("a<script>alert(1)</script>b<style>p{}</style>c"), "abc");
        assert_eq!(html_to_text("plain text, 2 < 3 &lt; 4&nbsp;ok"), "plain text, 2 < 3 < 4 ok");
        assert_eq!(html_to_text("<div>a</div>\n\n\n\n<div>b</div>"), "a\n\nb");
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("if x < 5 and y > 3 then"), "if x < 5 and y > 3 then");
        assert_eq!(html_to_text("<SCRIPT>x</Script>after"), "after");
    }

    #[test]
    fn email_check_is_plain() {
        assert!(looks_like_email("a.b+c@example.co.uk"));
        for bad in ["", "a", "a@b", "@example.com", "a b@example.com", "a@example.com.", "a@@example.com"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
