//! Passwords and one-time codes the visitor introduces as such ("my password is hunter2",
//! "código: 482913"), in each language Handoff speaks. Only what follows the word is masked, and
//! only when it is introduced: after `:` or `=`, or a verb ("is", "es", "est", "ist", "è", …),
//! so "my password is not working" keeps its words; a code must be 4–10 digits.

use std::ops::Range;

use super::words::{self, word_before, words};

/// What a keyword introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Secret {
    Password,
    OneTimeCode,
}

/// Words that introduce a password (lowercase). "mot de passe" and "palavra-passe" are matched on
/// their last word (see `keyword`).
const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "pin",
    "passwort",
    "kennwort",
    "wachtwoord",
    "senha",
    "contraseña",
    "contrasena",
    "clave",
    "mdp",
];

/// Words that introduce a one-time code (lowercase), including the compounds German and Dutch write
/// as one word.
const CODE_WORDS: &[&str] = &[
    "code",
    "otp",
    "código",
    "codigo",
    "codice",
    "tan",
    "bestätigungscode",
    "sicherheitscode",
    "verifizierungscode",
    "einmalcode",
    "anmeldecode",
    "verificatiecode",
    "inlogcode",
    "beveiligingscode",
    "verificationcode",
    "2fa",
    "mfa",
];

/// A word before "code" that makes it something other than a one-time code.
const NOT_A_ONE_TIME_CODE: &[&str] = &[
    "zip",
    "postal",
    "post",
    "area",
    "country",
    "error",
    "status",
    "promo",
    "promotion",
    "discount",
    "coupon",
    "voucher",
    "gift",
    "qr",
    "bar",
    "source",
    "tracking",
    "order",
    "booking",
    "reference",
    "product",
    "postcode",
];

/// The verbs that introduce what follows ("my password is …") in the seven languages.
const VERBS: &[&str] = &["is", "was", "es", "era", "é", "est", "ist", "lautet", "war", "è", "são"];

/// What follows a password verb that is not a password ("my password is not working").
const NOT_A_PASSWORD: &[&str] = &[
    "not",
    "wrong",
    "incorrect",
    "invalid",
    "expired",
    "too",
    "the",
    "a",
    "an",
    "my",
    "your",
    "correct",
    "right",
    "working",
    "no",
    "also",
    "still",
    "blocked",
    "locked",
    "reset",
    "changed",
    "same",
    "required",
    "missing",
    "empty",
    "weak",
    "ok",
    "fine",
    "case",
    "being",
    "now",
    "incorrecta",
    "incorrecto",
    "inválida",
    "invalida",
    "errada",
    "incorreta",
    "errónea",
    "faux",
    "fausse",
    "incorrecte",
    "falsch",
    "ungültig",
    "nicht",
    "sbagliata",
    "errata",
    "forgotten",
    "lost",
    "expiring",
    "case-sensitive",
    "importante",
    "que",
    "muy",
    "non",
    "fout",
    "onjuist",
    "niet",
    "la",
    "le",
    "el",
    "o",
    "de",
    "het",
    "die",
];

/// Longest keyword, in bytes: longer words are not looked up.
const LONGEST_KEYWORD: usize = 24;

/// Every keyword's first and last letter (lowercase): most words of a chat fail this pair at once,
/// before any comparison with the lists.
const ENDS: &[(u8, u8)] = &[
    (b'p', b'd'),
    (b'p', b'e'),
    (b'p', b'n'),
    (b'p', b't'),
    (b'k', b't'),
    (b'w', b'd'),
    (b's', b'a'),
    (b'c', b'a'),
    (b'c', b'e'),
    (b'c', b'o'),
    (b'm', b'p'),
    (b'm', b'a'),
    (b'o', b'p'),
    (b't', b'n'),
    (b'2', b'a'),
    (b'b', b'e'),
    (b's', b'e'),
    (b'v', b'e'),
    (b'e', b'e'),
    (b'a', b'e'),
    (b'i', b'e'),
];

/// `ENDS` as a table: for each first byte, a bit per last letter (`a` is bit 0).
const ENDS_TABLE: [u32; 128] = {
    let mut table = [0u32; 128];
    let mut i = 0;
    while i < ENDS.len() {
        let (first, last) = ENDS[i];
        table[first as usize] |= 1 << (last - b'a');
        i += 1;
    }
    table
};

// `keyword` lowers a word in a buffer of `LONGEST_KEYWORD` bytes, and `LENGTHS` keeps a bit per
// length below 32: every keyword must fit both.
const _: () = {
    let lists: [&[&str]; 2] = [PASSWORD_WORDS, CODE_WORDS];
    let mut list = 0;
    while list < lists.len() {
        let mut i = 0;
        while i < lists[list].len() {
            assert!(lists[list][i].len() <= LONGEST_KEYWORD, "a keyword is longer than LONGEST_KEYWORD");
            i += 1;
        }
        list += 1;
    }
};

/// For each first byte (lowercase), a bit per length in bytes of the keywords that start with it:
/// with `ENDS_TABLE`, the ASCII scan turns away "page" (p…e, but no such keyword has 4 bytes).
const LENGTHS: [u32; 128] = {
    let mut table = [0u32; 128];
    let lists: [&[&str]; 3] = [PASSWORD_WORDS, CODE_WORDS, &["passe"]];
    let mut list = 0;
    while list < lists.len() {
        let mut i = 0;
        while i < lists[list].len() {
            let word = lists[list][i].as_bytes();
            table[word[0] as usize] |= 1 << word.len();
            i += 1;
        }
        list += 1;
    }
    table
};

/// Whether `word` may be a keyword at all: its length and its first and last letters. The
/// reference: `candidates` computes it without a branch per test (and with exact lengths).
#[cfg(test)]
fn may_be_keyword(bytes: &[u8]) -> bool {
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return false };
    let (first, last) = (first.to_ascii_lowercase(), last.to_ascii_lowercase());
    (3..=LONGEST_KEYWORD).contains(&bytes.len())
        && first.is_ascii()
        && last.is_ascii_lowercase()
        && ENDS_TABLE[usize::from(first)] & (1 << (last - b'a')) != 0
}

/// The keyword `word` is, given the two words before it (lowercase comparison).
fn keyword(word: &str, before: &str, before_that: &str) -> Option<Secret> {
    // ASCII words are lowered on the stack; only a short word with other letters allocates.
    let mut buffer = [0u8; LONGEST_KEYWORD];
    let unicode;
    let word = if word.is_ascii() {
        buffer[..word.len()].copy_from_slice(word.as_bytes());
        buffer[..word.len()].make_ascii_lowercase();
        std::str::from_utf8(&buffer[..word.len()]).unwrap_or_default()
    } else {
        unicode = word.to_lowercase();
        unicode.as_str()
    };
    if PASSWORD_WORDS.contains(&word) {
        return Some(Secret::Password);
    }
    if word == "passe"
        && (before.eq_ignore_ascii_case("palavra")
            || (before.eq_ignore_ascii_case("de") && before_that.eq_ignore_ascii_case("mot")))
    {
        return Some(Secret::Password);
    }
    if CODE_WORDS.contains(&word) && !NOT_A_ONE_TIME_CODE.iter().any(|w| before.eq_ignore_ascii_case(w)) {
        return Some(Secret::OneTimeCode);
    }
    None
}

/// A run of `*`: what a mask left.
fn is_mask(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b == b'*')
}

/// Longest token read as a secret, in characters: a longer one is not masked by this class, and
/// reading stops there, so a text of keywords without spaces costs linear time.
const LONGEST_TOKEN: usize = 128;

/// The end of the token starting at `at`: its first whitespace, or `LONGEST_TOKEN + 1` characters.
fn token_end(text: &str, at: usize) -> usize {
    text[at..].char_indices().take(LONGEST_TOKEN + 1).find(|(_, c)| c.is_whitespace()).map_or_else(
        || text[at..].char_indices().nth(LONGEST_TOKEN + 1).map_or(text.len(), |(i, _)| at + i),
        |(i, _)| at + i,
    )
}

/// Words that join a code's qualifier to it: "código de verificação", "codice di verifica",
/// "code de vérification".
const QUALIFIER_JOINS: &[&str] = &["de", "di", "da", "do", "del", "of"];

/// What is introduced in `text`: each secret's byte range and kind. Words are found as bit masks
/// (`candidates`), and only those that may be keywords are read; `secrets_word_by_word` (the
/// tests' reference) reads every word and finds the same.
pub(super) fn secrets(text: &str, passwords: bool, codes: bool) -> Vec<(Range<usize>, Secret)> {
    let mut scan = Scan { text, passwords, codes, skip_until: 0, found: Vec::new() };
    candidates(text, |word| {
        let before = word_before(text, word.start);
        let before_that = word_before(text, before.start);
        scan.word(word, before, before_that);
    });
    scan.found
}

/// The state of one scan: where the last secret ended, and what was found.
struct Scan<'a> {
    text: &'a str,
    passwords: bool,
    codes: bool,
    skip_until: usize,
    found: Vec<(Range<usize>, Secret)>,
}

impl Scan<'_> {
    /// Reads `word` (which passed `may_be_keyword`) with the two words before it.
    fn word(&mut self, word: Range<usize>, before: Range<usize>, before_that: Range<usize>) {
        let text = self.text;
        // A word right after a secret (or after a mask, when the text was redacted before) is
        // not read as a keyword: what the secret hid may have been the word that made it none
        // ("password: error code 500123"), and redacting twice must change nothing.
        let after_secret = || before.end > 0 && before.end <= self.skip_until || is_mask(&text[before.clone()]);
        if word.start >= self.skip_until
            && let Some(kind) = keyword(&text[word.clone()], &text[before.clone()], &text[before_that])
            && match kind {
                Secret::Password => self.passwords,
                Secret::OneTimeCode => self.codes,
            }
            && !after_secret()
            && let Some(span) = introduced(text, word.end, kind)
        {
            self.skip_until = span.end;
            self.found.push((span, kind));
        }
    }
}

/// `secrets`, reading every word: the definition the mask scan is held to.
#[cfg(test)]
fn secrets_word_by_word(text: &str, passwords: bool, codes: bool) -> Vec<(Range<usize>, Secret)> {
    let mut scan = Scan { text, passwords, codes, skip_until: 0, found: Vec::new() };
    let (mut before, mut before_that) = (0..0, 0..0);
    for word in words(text) {
        if may_be_keyword(&text.as_bytes()[word.clone()]) {
            scan.word(word.clone(), before.clone(), before_that);
        }
        before_that = before;
        before = word;
    }
    scan.found
}

/// Calls `each` with every word of `text` that passes `may_be_keyword`, in order, through the
/// words' bit masks (`words::each_word`): the test is arithmetic, without a branch per part, as it
/// runs on every word of every message (for ASCII, `| 0x20` lowers a letter and leaves a digit or
/// `*` as it is; a byte above 0x7f is neither first nor last).
fn candidates(text: &str, each: impl FnMut(Range<usize>)) {
    let may_be = |first: u8, last: u8, len: usize| {
        let lowered = usize::from(first | 0x20) & 0x7f;
        let last_letter = (last | 0x20).wrapping_sub(b'a');
        let fits = LENGTHS[lowered] >> len.min(31) & 1 == 1;
        fits & (first < 0x80) & (last_letter < 26) & (ENDS_TABLE[lowered] >> (last_letter & 31) & 1 == 1)
    };
    words::each_word(text, may_be, each);
}

/// The secret a keyword ending at `at` introduces, if any.
fn introduced(text: &str, mut at: usize, kind: Secret) -> Option<Range<usize>> {
    let mut connected = false;
    if kind == Secret::OneTimeCode {
        // "código de verificação: 482913": the qualifier is skipped.
        let mut next = words(&text[at..]).take(2).map(|r| (at + r.start, at + r.end));
        if let (Some((join_start, join_end)), Some((_, qualifier_end))) = (next.next(), next.next())
            && text[at..join_start].trim().is_empty()
            && QUALIFIER_JOINS.iter().any(|j| text[join_start..join_end].eq_ignore_ascii_case(j))
            && !text[join_end..qualifier_end].bytes().any(|b| b.is_ascii_digit())
        {
            at = qualifier_end;
        }
    }
    // At most two connectors: "password: is …" is rare, "code is: 1234" is not.
    for _ in 0..2 {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if let Some(after) = trimmed.strip_prefix([':', '=']) {
            at += trimmed.len() - after.len();
            connected = true;
            continue;
        }
        // A verb is short: read at most eight characters of the next word.
        let verb_end = trimmed
            .char_indices()
            .take(9)
            .find(|(_, c)| !c.is_alphanumeric())
            .map_or_else(|| trimmed.char_indices().nth(9).map_or(trimmed.len(), |(i, _)| i), |(i, _)| i);
        let verb = &trimmed[..verb_end];
        if !verb.is_empty() && VERBS.iter().any(|v| verb.eq_ignore_ascii_case(v) || verb == *v) {
            at += verb.len();
            connected = true;
            continue;
        }
        break;
    }
    let rest = &text[at..];
    let token_start = at + (rest.len() - rest.trim_start().len());
    let rest = &text[token_start..];
    if rest.is_empty() {
        return None;
    }
    let token = &text[token_start..token_end(text, token_start)];
    let leading = token.len() - token.trim_start_matches(['"', '\'', '«', '(', '“']).len();
    let token = token
        .trim_start_matches(['"', '\'', '«', '(', '“'])
        .trim_end_matches(['.', ',', ';', ')', '"', '\'', '»', '”']);
    let start = token_start + leading;
    match kind {
        Secret::Password => {
            let refused = NOT_A_PASSWORD.iter().any(|w| token.eq_ignore_ascii_case(w) || token == *w);
            let masked = !token.chars().any(char::is_alphanumeric);
            (connected && !token.is_empty() && token.chars().count() <= 128 && !refused && !masked)
                .then(|| start..start + token.len())
        }
        Secret::OneTimeCode => {
            let digits = token.bytes().filter(u8::is_ascii_digit).count();
            let shaped = token.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                && !token.starts_with('-')
                && !token.ends_with('-');
            // "482 913": a code written in two groups.
            let (end, digits) = match text[start + token.len()..].strip_prefix(' ') {
                Some(next)
                    if shaped
                        && digits == 3
                        && next.len() >= 3
                        && next.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                        && next.as_bytes().get(3).is_none_or(|b| !b.is_ascii_alphanumeric()) =>
                {
                    (start + token.len() + 4, 6)
                }
                _ => (start + token.len(), digits),
            };
            (shaped && (4..=10).contains(&digits)).then_some(start..end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Chat made of the lists' own words (in any case), connectors, verbs, digits, masks, other
    /// scripts, accents, emoji and odd spaces.
    fn chat() -> impl Strategy<Value = String> {
        let listed: Vec<&'static str> = PASSWORD_WORDS
            .iter()
            .chain(CODE_WORDS)
            .chain(NOT_A_ONE_TIME_CODE)
            .chain(VERBS)
            .chain(NOT_A_PASSWORD)
            .chain(QUALIFIER_JOINS)
            .chain(&[
                "mot",
                "de",
                "passe",
                "palavra",
                "PASSWORD",
                "Code",
                "OTP",
                "mot de passe",
                "palavra-passe",
                "code:",
            ])
            .chain(&[
                "CÓDIGO",
                "Contraseña",
                "BESTÄTIGUNGSCODE",
                "é",
                "ñ",
                "日本語",
                "🙂",
                "\u{a0}",
                "«",
                "»",
                "“",
                "Ü",
            ])
            .copied()
            .collect();
        let piece = prop_oneof![
            proptest::sample::select(listed).prop_map(str::to_owned),
            "[a-zA-Z0-9]{1,10}",
            "[0-9]{3,8}",
            r#"[ :=,.\n*"'()-]{1,3}"#,
            Just("***".to_owned()),
        ];
        proptest::collection::vec(piece, 0..120).prop_map(|pieces| pieces.join(" ").replace("  ", " "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The mask scan finds exactly what reading every word finds.
        #[test]
        fn the_mask_scan_finds_what_the_word_by_word_scan_finds(text in chat(), glue in any::<bool>()) {
            let text = if glue { text.replace(' ', "") } else { text };
            prop_assert_eq!(secrets(&text, true, true), secrets_word_by_word(&text, true, true), "{:?}", text);
            prop_assert_eq!(secrets(&text, true, false), secrets_word_by_word(&text, true, false));
            prop_assert_eq!(secrets(&text, false, true), secrets_word_by_word(&text, false, true));
        }
    }

    fn found(text: &str) -> Vec<(&str, Secret)> {
        secrets(text, true, true).into_iter().map(|(r, k)| (&text[r], k)).collect()
    }

    #[test]
    fn finds_passwords_introduced_in_each_language() {
        for (text, secret) in [
            ("my password is hunter2", "hunter2"),
            ("Password: hunter2.", "hunter2"),
            ("pwd=hunter2", "hunter2"),
            ("mi contraseña es Hunter2!", "Hunter2!"),
            ("a minha senha é abc123", "abc123"),
            ("mon mot de passe est soleil99", "soleil99"),
            ("palavra-passe: segredo", "segredo"),
            ("mein Passwort ist Geheim1", "Geheim1"),
            ("la password è \"ciao123\"", "ciao123"),
            ("mijn wachtwoord is geheim", "geheim"),
        ] {
            assert_eq!(found(text), [(secret, Secret::Password)], "{text}");
        }
    }

    #[test]
    fn finds_one_time_codes_introduced_in_each_language() {
        for (text, code) in [
            ("code: 123456", "123456"),
            ("código: 482913", "482913"),
            ("el código es 482913", "482913"),
            ("le code est 482913.", "482913"),
            ("der Code lautet 482913", "482913"),
            ("Bestätigungscode 4829", "4829"),
            ("il codice è 482-913", "482-913"),
            ("de verificatiecode is 482913", "482913"),
            ("my verification code is 482 913 ok", "482 913"),
            ("OTP 99887766", "99887766"),
            ("código de verificação: 482913", "482913"),
            ("el código de verificación es 482913", "482913"),
            ("codice di verifica: 482913", "482913"),
            ("code de vérification : 482913", "482913"),
        ] {
            assert_eq!(found(text), [(code, Secret::OneTimeCode)], "{text}");
        }
    }

    #[test]
    fn leaves_what_is_not_introduced_as_a_secret() {
        for text in [
            "my password is not working",
            "the password is wrong, can you reset it?",
            "I forgot my password",
            "password",
            "my zip code is 94107",
            "error code 500123",
            "the discount code is SAVE10",
            "the code is invalid",
            "código postal 28013",
            "my code is 12",
            "password is ****",
            "la clave es importante",
            "my password is forgotten",
            "tracking code 12345678",
            "order code: 99887766",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn every_keyword_passes_the_quick_check() {
        for word in PASSWORD_WORDS.iter().chain(CODE_WORDS).chain(&["passe"]) {
            assert!(may_be_keyword(word.as_bytes()), "{word}");
            assert!(may_be_keyword(word.to_uppercase().as_bytes()), "{word}");
        }
    }

    #[test]
    fn a_word_between_two_keywords_is_not_a_verb() {
        assert_eq!(found("PIN e password: hunter2"), [("hunter2", Secret::Password)]);
    }

    #[test]
    fn keywords_without_spaces_read_a_bounded_token() {
        // Each keyword reads at most `LONGEST_TOKEN` characters ahead (linear time), and a token
        // that long is not a password.
        let text = "code:".repeat(2_000);
        assert!(found(&text).is_empty());
        let text = format!("password: {}", "x".repeat(LONGEST_TOKEN + 1));
        assert!(found(&text).is_empty());
    }

    #[test]
    fn each_class_can_be_off() {
        assert!(secrets("password: x1 code: 1234", false, true).iter().all(|(_, k)| *k == Secret::OneTimeCode));
        assert!(secrets("password: x1 code: 1234", true, false).iter().all(|(_, k)| *k == Secret::Password));
    }
}
