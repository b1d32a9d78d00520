//! Payment card numbers and IBANs in free text: found by their checksums (Luhn, ISO 13616's
//! mod 97), so an order number of the same length is left alone, and masked keeping the shape an
//! agent recognises (`**** **** **** 4242`, `DE** **** **** **** **30 00`).

use std::ops::Range;

/// Card numbers are 12 (some Maestro) to 19 digits long.
const CARD_DIGITS: Range<usize> = 12..20;
/// IBANs are 15 (Norway) to 34 characters long.
const IBAN_CHARS: Range<usize> = 15..35;

/// A byte that glues a number to a word. A mask's `*` counts, so what a mask kept is never read
/// as the start of a new number.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'*'
}

/// Whether the run at `start` follows a mask and one separator (`**** 4242`): the digits a card's
/// mask kept, which may not start another card (so redacting twice changes nothing).
fn after_mask(bytes: &[u8], start: usize) -> bool {
    start >= 2 && matches!(bytes[start - 1], b' ' | b'-') && bytes[start - 2] == b'*'
}

/// The groups of a run starting at `start`: runs of bytes `part` accepts, separated by one space
/// or one dash. Stops after `max_len` accepted bytes. Returns the groups and where the run ends.
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
        let separated = at + 1 < bytes.len() && matches!(bytes[at], b' ' | b'-') && part(bytes[at + 1]);
        if !separated || len > max_len {
            return (groups, at);
        }
        at += 1;
    }
}

/// Byte ranges of the payment card numbers in `text`: 12–19 digits, in groups split by single
/// spaces or dashes, starting with a card network's digit (2–6), passing the Luhn check, not glued
/// to a word.
pub(super) fn card_numbers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() || (at > 0 && is_word_byte(bytes[at - 1])) {
            at += 1;
            continue;
        }
        let (groups, end) = groups(bytes, at, |b| b.is_ascii_digit(), usize::MAX);
        let glued = end < bytes.len() && is_word_byte(bytes[end]);
        let mut first = usize::from(after_mask(bytes, at));
        while first < groups.len() {
            // The longest window of whole groups starting here that is a card; digits per window
            // are at most 19, so each start tries at most 19 ends.
            let card = (first..groups.len().min(first + CARD_DIGITS.end))
                .rev()
                .filter(|&last| !(glued && last == groups.len() - 1))
                .map(|last| (last, groups[first].start..groups[last].end))
                .find(|(_, span)| {
                    let digits = digits(&bytes[span.clone()]);
                    CARD_DIGITS.contains(&digits.len()) && matches!(digits[0], b'2'..=b'6') && luhn(&digits)
                });
            match card {
                Some((last, span)) => {
                    found.push(span);
                    first = last + 1;
                }
                None => first += 1,
            }
        }
        at = end.max(at + 1);
    }
    found
}

fn digits(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(u8::is_ascii_digit).collect()
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

/// Byte ranges of the IBANs in `text`: a country code, two check digits and the account, in
/// groups split by single spaces or not at all, 15–34 characters, passing the mod-97 check.
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
        if !starts {
            at += 1;
            continue;
        }
        let (groups, end) = groups(bytes, at, |b| b.is_ascii_alphanumeric(), IBAN_CHARS.end);
        let glued = end < bytes.len() && is_word_byte(bytes[end]);
        let iban = (0..groups.len())
            .rev()
            .filter(|&last| !(glued && last == groups.len() - 1))
            .map(|last| groups[0].start..groups[last].end)
            .find(|span| {
                let chars: Vec<u8> = bytes[span.clone()].iter().copied().filter(u8::is_ascii_alphanumeric).collect();
                IBAN_CHARS.contains(&chars.len()) && mod97(&chars) == 1
            });
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

/// Masks every digit of a card number but the last four; separators stay.
pub(super) fn mask_card(span: &str, out: &mut String) {
    let total = span.bytes().filter(u8::is_ascii_digit).count();
    let mut seen = 0;
    for c in span.chars() {
        if c.is_ascii_digit() {
            seen += 1;
            out.push(if seen + 4 > total { c } else { '*' });
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
        // A card followed by more digits in the same run is still found.
        assert_eq!(cards("4242 4242 4242 4242 2 times"), ["4242 4242 4242 4242"]);
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
    fn masks_keep_the_shape() {
        let mut out = String::new();
        mask_card("4242 4242 4242 4242", &mut out);
        assert_eq!(out, "**** **** **** 4242");
        out.clear();
        mask_iban("DE89 3704 0044 0532 0130 00", &mut out);
        assert_eq!(out, "DE** **** **** **** **30 00");
    }
}
