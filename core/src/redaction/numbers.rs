//! Payment card numbers and IBANs in free text: found by their checksums (Luhn, ISO 13616's
//! mod 97), so an order number of the same length is left alone, and masked keeping the shape an
//! agent recognises (`**** **** **** 4242`, `DE** **** **** **** **30 00`).

use std::ops::Range;

/// Card numbers are 12 (some Maestro) to 19 digits long.
const CARD_DIGITS: Range<usize> = 12..20;
/// IBANs are 15 (Norway) to 34 characters long.
const IBAN_CHARS: Range<usize> = 15..35;

/// A byte that glues a number to a word.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The length of the separator between two groups at `at`, if any: one or two spaces, dashes or
/// dots, a no-break space (U+00A0) or a narrow one (U+202F, French formatting), as people type
/// and paste numbers.
fn separator(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at..) {
        Some([b' ' | b'-' | b'.', b' ' | b'-' | b'.', ..]) => Some(2),
        Some([b' ' | b'-' | b'.', ..]) => Some(1),
        Some([0xC2, 0xA0, ..]) => Some(2),
        Some([0xE2, 0x80, 0xAF, ..]) => Some(3),
        _ => None,
    }
}

/// Whether the run at `start` follows a mask and a separator (`**** 4242`): the digits a card's
/// mask kept, which may not start another card (so redacting twice changes nothing). A single
/// `*` is a list bullet, not a mask.
fn after_mask(bytes: &[u8], start: usize) -> bool {
    let before = &bytes[..start];
    let stars = |end: usize| before[..end].iter().rev().take_while(|&&b| b == b'*').count() >= 2;
    (1..=3).any(|len| start > len && separator(bytes, start - len) == Some(len) && stars(start - len))
}

/// The groups of a run starting at `start`: runs of bytes `part` accepts, split by separators.
/// Stops once more than `max_len` bytes were accepted. Returns the groups and where the run ends.
fn groups(bytes: &[u8], start: usize, part: fn(u8) -> bool, max_len: usize) -> (Vec<Range<usize>>, usize) {
    let mut groups = Vec::new();
    let mut at = start;
    let mut len = 0;
    loop {
        let from = at;
        while at < bytes.len() && part(bytes[at]) {
            at += 1;
        }
        groups.push(from..at);
        len += at - from;
        let next = separator(bytes, at).filter(|&sep| bytes.get(at + sep).is_some_and(|&b| part(b)));
        match next {
            Some(sep) if len <= max_len => at += sep,
            _ => return (groups, at),
        }
    }
}

/// Byte ranges of the payment card numbers in `text`: 12–19 digits, in groups split by
/// separators, starting with a card network's digit (2–6), passing the Luhn check, not glued to a
/// word. Every card-like window of a run counts, and overlapping ones are merged: a phone number
/// typed just before a card may form a valid window that ends inside it, and the card must still
/// be masked whole.
pub(super) fn card_numbers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() || (at > 0 && is_word_byte(bytes[at - 1])) {
            at += 1;
            continue;
        }
        let (groups, end) = groups(bytes, at, |b| b.is_ascii_digit(), usize::MAX);
        let glued = end < bytes.len() && is_word_byte(bytes[end]);
        let usable = groups.len() - usize::from(glued);
        for first in usize::from(after_mask(bytes, at))..usable {
            // Windows of whole groups from `first`, stopping past 19 digits: at most 19 per start.
            let mut digits = Vec::with_capacity(CARD_DIGITS.end);
            for last in first..usable {
                digits.extend(bytes[groups[last].clone()].iter().copied());
                if digits.len() >= CARD_DIGITS.end {
                    break;
                }
                if CARD_DIGITS.contains(&digits.len()) && matches!(digits[0], b'2'..=b'6') && luhn(&digits) {
                    let span = groups[first].start..groups[last].end;
                    match found.last_mut() {
                        Some(previous) if previous.end >= span.start => previous.end = previous.end.max(span.end),
                        _ => found.push(span),
                    }
                }
            }
        }
        at = end.max(at + 1);
    }
    found
}

/// The Luhn check over ASCII digits.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 { if d > 4 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Each IBAN country's length (ISO 13616 registry, SWIFT's IBAN registry release 99).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The IBAN length of the country whose code starts at `bytes` (either case), if it has IBANs.
fn iban_length(bytes: &[u8]) -> Option<usize> {
    let code = [bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase()];
    IBAN_LENGTHS.iter().find(|(c, _)| **c == code).map(|(_, len)| *len)
}

/// Byte ranges of the IBANs in `text`: a country that has IBANs, two check digits and the
/// account, in groups split by separators or not at all, exactly the country's length, passing
/// the mod-97 check.
pub(super) fn ibans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let starts = bytes[at].is_ascii_alphabetic()
            && bytes[at + 1].is_ascii_alphabetic()
            && bytes[at + 2].is_ascii_digit()
            && bytes[at + 3].is_ascii_digit()
            && (at == 0 || !is_word_byte(bytes[at - 1]));
        let Some(length) = starts.then(|| iban_length(&bytes[at..])).flatten() else {
            at += 1;
            continue;
        };
        let (groups, end) = groups(bytes, at, |b| b.is_ascii_alphanumeric(), IBAN_CHARS.end);
        let glued = end < bytes.len() && is_word_byte(bytes[end]);
        let mut chars = Vec::with_capacity(IBAN_CHARS.end);
        let mut iban = None;
        for (i, group) in groups.iter().enumerate() {
            chars.extend(bytes[group.clone()].iter().copied());
            if chars.len() > length {
                break;
            }
            if chars.len() == length && !(glued && i == groups.len() - 1) && mod97(&chars) == 1 {
                iban = Some(groups[0].start..group.end);
                break;
            }
        }
        match iban {
            Some(span) => {
                at = span.end;
                found.push(span);
            }
            None => at += 1,
        }
    }
    found
}

/// ISO 13616's check: the first four characters moved to the end, letters as 10–35, mod 97.
fn mod97(chars: &[u8]) -> u32 {
    let (head, tail) = chars.split_at(4);
    tail.iter().chain(head).fold(0u32, |acc, &c| {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// Masks every digit of a card number but the last four; separators stay. When more digit groups
/// follow (`after`), the last four are masked too: kept, they would start a new run of groups
/// that the first reading never saw, and redacting twice must change nothing.
pub(super) fn mask_card(span: &str, after: &str, out: &mut String) {
    let more =
        separator(after.as_bytes(), 0).is_some_and(|sep| after.as_bytes().get(sep).is_some_and(u8::is_ascii_digit));
    let total = if more { usize::MAX } else { span.bytes().filter(u8::is_ascii_digit).count() };
    let mut seen: usize = 0;
    for c in span.chars() {
        if c.is_ascii_digit() {
            seen += 1;
            out.push(if seen.saturating_add(4) > total { c } else { '*' });
        } else {
            out.push(c);
        }
    }
}

/// Masks an IBAN but its country code and last four characters; spaces stay.
pub(super) fn mask_iban(span: &str, out: &mut String) {
    let total = span.bytes().filter(u8::is_ascii_alphanumeric).count();
    let mut seen = 0;
    for c in span.chars() {
        if c.is_ascii_alphanumeric() {
            seen += 1;
            out.push(if seen <= 2 || seen + 4 > total { c } else { '*' });
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> Vec<&str> {
        card_numbers(text).into_iter().map(|r| &text[r]).collect()
    }

    fn ibans_in(text: &str) -> Vec<&str> {
        ibans(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn finds_card_numbers_written_every_usual_way() {
        assert_eq!(cards("card 4242424242424242 please"), ["4242424242424242"]);
        assert_eq!(cards("it is 4242 4242 4242 4242."), ["4242 4242 4242 4242"]);
        assert_eq!(cards("4111-1111-1111-1111"), ["4111-1111-1111-1111"]);
        assert_eq!(cards("amex 3782 822463 10005, thanks"), ["3782 822463 10005"]);
        // A card followed by more digits in the same run is still found (with them, when the
        // longer window passes Luhn too: masking more is the safe side).
        let text = "4242 4242 4242 4242 2 times";
        assert!(cards(text).iter().all(|c| c.starts_with("4242 4242 4242 4242")) && cards(text).len() == 1);
    }

    #[test]
    fn leaves_numbers_that_are_not_cards() {
        for text in [
            "order 123456789012 is late",   // fails Luhn
            "order 4242424242424241",       // fails Luhn
            "ref A4242424242424242",        // glued to a word
            "4242424242424242abc",          // glued to a word
            "call +34 600 000 000",         // too short
            "tracking 9242424242424242",    // no card network starts with 9
            "4242424242424242424242424242", // 28 digits
            "on 2026-11-21 at 10:00",       // a date
        ] {
            assert!(cards(text).is_empty(), "{text}: {:?}", cards(text));
        }
    }

    #[test]
    fn finds_ibans_with_and_without_spaces() {
        assert_eq!(ibans_in("IBAN DE89 3704 0044 0532 0130 00 is mine"), ["DE89 3704 0044 0532 0130 00"]);
        assert_eq!(ibans_in("GB82WEST12345698765432."), ["GB82WEST12345698765432"]);
        assert_eq!(ibans_in("es91 2100 0418 4502 0005 1332"), ["es91 2100 0418 4502 0005 1332"]);
        assert!(ibans_in("DE89 3704 0044 0532 0130 01").is_empty(), "checksum fails");
        assert!(ibans_in("XDE89370400440532013000").is_empty(), "glued");
    }

    #[test]
    fn a_card_right_after_another_number_is_found_whole() {
        // "34 600 123 456 4599" passes Luhn too; the card after it must not be cut.
        let text = "call me on +34 600 123 456 4599 8062 4866 2834";
        let found = card_numbers(text);
        assert_eq!(found.len(), 1);
        assert!(text[found[0].clone()].ends_with("4599 8062 4866 2834"), "{:?}", &text[found[0].clone()]);
    }

    #[test]
    fn finds_cards_and_ibans_with_the_separators_people_paste() {
        for text in [
            "4242.4242.4242.4242",
            "4242  4242  4242  4242",
            "4242\u{a0}4242\u{a0}4242\u{a0}4242",
            "4242\u{202f}4242\u{202f}4242\u{202f}4242",
            "**4242424242424242**",
            "* 4242424242424242",
        ] {
            assert_eq!(cards(text).len(), 1, "{text:?}");
        }
        assert_eq!(ibans_in("DE89  3704  0044  0532  0130  00").len(), 1);
        assert_eq!(ibans_in("**DE89370400440532013000**").len(), 1);
    }

    #[test]
    fn leaves_postcodes_and_words_that_look_like_an_iban() {
        for text in ["LS11 5AB and my order is still late", "AB12 3456 7890 1234 5678 90", "order XY12 tracking"] {
            assert!(ibans_in(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn masks_keep_the_shape() {
        let mut out = String::new();
        mask_card("4242 4242 4242 4242", ".", &mut out);
        assert_eq!(out, "**** **** **** 4242");
        out.clear();
        mask_iban("DE89 3704 0044 0532 0130 00", &mut out);
        assert_eq!(out, "DE** **** **** **** **30 00");
    }
}
