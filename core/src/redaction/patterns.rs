//! A bot's own redaction patterns: regular expressions checked when the settings are saved and
//! compiled when an escalation runs. The engine (`regex-lite`) matches in time linear in the text,
//! so no pattern can hang a Lambda; still, a pattern with a repetition inside a repetition
//! (`(a+)+`, `(\w*\s?)*`), which backtracks catastrophically in the engines people write and test
//! patterns with, is refused, as are patterns over `MAX_PATTERN_CHARS` or compiling larger than
//! `COMPILED_SIZE_LIMIT`.

use serde::{Deserialize, Serialize};

/// Most patterns a bot may have.
pub const MAX_PATTERNS: usize = 20;
/// Longest pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 200;
/// Largest compiled pattern, in bytes of the engine's program (`RegexBuilder::size_limit`).
pub const COMPILED_SIZE_LIMIT: usize = 64 * 1024;
/// Longest match a pattern may have, in characters: bounding it bounds how far each search
/// reads past where a match could start, so a bot's patterns cost at most this much per
/// character of text (times the pattern's size).
pub const MAX_MATCH_CHARS: usize = 100;
/// Deepest nesting of groups and repetitions (`RegexBuilder::nest_limit`).
const NEST_LIMIT: u32 = 32;

/// One pattern: its name (what the audit counts it as) and its regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPattern {
    pub name: String,
    pub regex: String,
}

/// Why a pattern is refused, in words for the 422's field message.
pub fn problem(regex: &str) -> Option<String> {
    if regex.is_empty() || regex.chars().count() > MAX_PATTERN_CHARS {
        return Some(format!("must be 1 to {MAX_PATTERN_CHARS} characters"));
    }
    if nested_repetition(regex) {
        return Some(
            "repeats a group that itself repeats (such as `(a+)+`), which backtracks catastrophically; \
             write the repetition once"
                .to_owned(),
        );
    }
    match longest_match(regex) {
        None => {
            return Some(format!(
                "repeats without bound (`*`, `+`, `{{n,}}`); say how long a match can be, such as `\\d{{4,19}}`, \
                 at most {MAX_MATCH_CHARS} characters"
            ));
        }
        Some(len) if len > MAX_MATCH_CHARS => {
            return Some(format!("can match up to {len} characters; at most {MAX_MATCH_CHARS}"));
        }
        Some(_) => {}
    }
    match compile(regex) {
        // The engine's message names the construct and its position, never a credential: the
        // pattern is the bot owner's own text.
        Err(error) => Some(format!("is not a valid regular expression or compiles too large: {error}")),
        Ok(compiled) if compiled.is_match("") => {
            Some("matches the empty text, so it would mask nothing useful".to_owned())
        }
        Ok(_) => None,
    }
}

/// Whether a name is 1–40 characters of lowercase letters, digits and `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Compiles a pattern within the size and nesting limits.
pub fn compile(regex: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::RegexBuilder::new(regex).size_limit(COMPILED_SIZE_LIMIT).nest_limit(NEST_LIMIT).build()
}

/// What the last thing read was, for the quantifier that may follow it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Atom {
    None,
    Plain,
    /// A group; `true` when something inside it repeats without bound.
    Group(bool),
}

/// Whether a group containing an unbounded repetition is itself repeated more than once.
fn nested_repetition(regex: &str) -> bool {
    let chars: Vec<char> = regex.chars().collect();
    // Per open group: whether it contains an unbounded repetition.
    let mut open = vec![false];
    let mut last = Atom::None;
    let mut at = 0;
    while at < chars.len() {
        match chars[at] {
            '\\' => {
                at += escape_len(&chars[at..]);
                last = Atom::Plain;
            }
            '[' => {
                at += class_len(&chars[at..]);
                last = Atom::Plain;
            }
            '(' => {
                open.push(false);
                at += 1;
                last = Atom::None;
            }
            ')' => {
                let inner = if open.len() > 1 { open.pop().unwrap_or(false) } else { false };
                if inner && let Some(outer) = open.last_mut() {
                    *outer = true;
                }
                at += 1;
                last = Atom::Group(inner);
            }
            '*' | '+' | '?' | '{' => {
                let Some((len, unbounded, many)) = quantifier(&chars[at..]) else {
                    at += 1;
                    last = Atom::Plain;
                    continue;
                };
                if many && last == Atom::Group(true) {
                    return true;
                }
                if unbounded && let Some(group) = open.last_mut() {
                    *group = true;
                }
                at += len;
                last = Atom::None;
            }
            _ => {
                at += 1;
                last = Atom::Plain;
            }
        }
    }
    false
}

/// The longest text `regex` can match, in characters (every atom counted as one, zero-width ones
/// too, so it errs long); `None` when a repetition is unbounded. Reads the pattern as
/// `nested_repetition` does.
fn longest_match(regex: &str) -> Option<usize> {
    let chars: Vec<char> = regex.chars().collect();
    // Per open group: (the longest finished alternative, the current alternative's length).
    let mut open: Vec<(usize, usize)> = vec![(0, 0)];
    let mut last: usize = 0;
    let mut at = 0;
    while at < chars.len() {
        let (len, atom) = match chars[at] {
            '\\' => (escape_len(&chars[at..]), Some(1)),
            '[' => (class_len(&chars[at..]), Some(1)),
            '(' => {
                open.push((0, 0));
                (1, None)
            }
            ')' => {
                let (longest, current) = if open.len() > 1 { open.pop().unwrap_or_default() } else { (0, 0) };
                (1, Some(longest.max(current)))
            }
            '|' => {
                if let Some((longest, current)) = open.last_mut() {
                    *longest = (*longest).max(*current);
                    *current = 0;
                }
                (1, None)
            }
            '*' | '+' | '?' | '{' => match quantifier(&chars[at..]) {
                Some((_, true, _)) => return None,
                Some((len, false, _)) => {
                    let most = quantified_most(&chars[at..]);
                    if let Some((_, current)) = open.last_mut() {
                        *current = current.saturating_add(last.saturating_mul(most.saturating_sub(1)));
                    }
                    at += len;
                    last = 0;
                    continue;
                }
                None => (1, Some(1)),
            },
            _ => (1, Some(1)),
        };
        if let Some(atom) = atom {
            if let Some((_, current)) = open.last_mut() {
                *current = current.saturating_add(atom);
            }
            last = atom;
        } else {
            last = 0;
        }
        at += len;
    }
    open.first().map(|(longest, current)| (*longest).max(*current))
}

/// The most repetitions a bounded quantifier at the start of `chars` allows (`?` once).
fn quantified_most(chars: &[char]) -> usize {
    if chars[0] != '{' {
        return 1;
    }
    let end = chars.iter().position(|&c| c == '}').unwrap_or(chars.len());
    let body: String = chars[1..end].iter().collect();
    let most = body.split_once(',').map_or(body.as_str(), |(_, high)| high);
    most.trim().parse().unwrap_or(usize::MAX)
}

/// Length of the escape at the start of `chars` (`\d`, `\p{L}`, `\x{41}`).
fn escape_len(chars: &[char]) -> usize {
    match chars.get(1) {
        Some('p' | 'P' | 'x' | 'u' | 'U') if chars.get(2) == Some(&'{') => {
            chars.iter().position(|&c| c == '}').map_or(chars.len(), |end| end + 1)
        }
        Some('p' | 'P') => 3.min(chars.len()),
        Some(_) => 2,
        None => 1,
    }
}

/// Length of the character class at the start of `chars`, nested classes and escapes included.
fn class_len(chars: &[char]) -> usize {
    let mut depth = 0;
    let mut at = 0;
    while at < chars.len() {
        match chars[at] {
            '\\' => {
                at += escape_len(&chars[at..]);
                continue;
            }
            '[' => {
                depth += 1;
                // A `]` (or `^]`) first in a class is a literal.
                at += 1;
                if chars.get(at) == Some(&'^') {
                    at += 1;
                }
                if chars.get(at) == Some(&']') {
                    at += 1;
                }
                continue;
            }
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    chars.len()
}

/// The quantifier at the start of `chars`: its length, whether it is unbounded, and whether it
/// may repeat more than once. `None` when the `{` is not a quantifier.
fn quantifier(chars: &[char]) -> Option<(usize, bool, bool)> {
    let (len, unbounded, many) = match chars[0] {
        '*' | '+' => (1, true, true),
        '?' => (1, false, false),
        _ => {
            let end = chars.iter().position(|&c| c == '}')?;
            let body: String = chars[1..end].iter().collect();
            let (low, high) = match body.split_once(',') {
                Some((low, high)) => (low.trim(), Some(high.trim())),
                None => (body.trim(), None),
            };
            let low: u32 = low.parse().ok()?;
            match high {
                None => (end + 1, false, low > 1),
                Some("") => (end + 1, true, true),
                Some(high) => (end + 1, false, high.parse::<u32>().ok()? > 1),
            }
        }
    };
    // A lazy or possessive mark belongs to the quantifier.
    let lazy = usize::from(matches!(chars.get(len), Some('?' | '+')));
    Some((len + lazy, unbounded, many))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_repetitions_inside_repetitions() {
        // Bounded both times, the longest match is known (25): allowed.
        assert_eq!(problem("x(a{1,5}){1,5}"), None);
        for regex in [
            "(a+)+",
            "(a*)*b",
            r"(\w+\s?)*$",
            "(?:x+y)+",
            "((ab)*c)+",
            "(a+){2,}",
            "(a+){2,5}",
            r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
        ] {
            assert!(nested_repetition(regex), "{regex}");
            assert!(problem(regex).is_some(), "{regex}");
        }
    }

    #[test]
    fn accepts_ordinary_patterns() {
        for regex in [
            r"\b[A-Z]{2}\d{6}\b",
            r"\d{3}-\d{2}-\d{4}",
            "(ab){1,3}",
            "x(ab)?",
            r"[(+)]{2}x",
            r"EMP-\d{4,8}",
            r"(?i)secret-[a-z0-9]{8}",
        ] {
            assert!(!nested_repetition(regex), "{regex}");
            assert_eq!(problem(regex), None, "{regex}");
        }
        for regex in ["(ab)+", "(a+){1}", r"[(+)]+x", r"\(a+\)+"] {
            assert!(!nested_repetition(regex), "{regex}");
        }
    }

    #[test]
    fn a_match_must_have_a_bounded_length() {
        assert_eq!(longest_match(r"EMP-\d{4}"), Some(8));
        assert_eq!(longest_match(r"(ab|cde){2}x?"), Some(7));
        assert_eq!(longest_match(r"[a-z]{0,99}X|a"), Some(100));
        for unbounded in [r"EMP-\d+", "a*", "(x{2,})", r"(?x)a +", "[a-z]*X|a"] {
            assert_eq!(longest_match(unbounded), None, "{unbounded}");
            assert!(problem(unbounded).is_some_and(|p| p.contains("without bound")), "{unbounded}");
        }
        assert!(problem(r"[a-z]{0,99}XY").is_some_and(|p| p.contains("up to 101")));
    }

    #[test]
    fn refuses_invalid_oversize_and_empty_matching_patterns() {
        assert!(problem("(unclosed").is_some_and(|p| p.contains("not a valid")));
        assert!(problem(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_some_and(|p| p.contains("characters")));
        assert!(problem("a{1000}{1000}").is_some());
        assert!(problem("x?").is_some_and(|p| p.contains("empty")));
        assert!(problem("").is_some());
    }

    #[test]
    fn names_are_short_snake_case() {
        assert!(valid_name("national_id"));
        assert!(!valid_name("National ID"));
        assert!(!valid_name(""));
        assert!(!valid_name(&"a".repeat(41)));
    }
}
