//! The words of a text, as redaction reads them: runs of letters and digits of any script, or of
//! the `*` a mask leaves. `words` walks them one by one (the definition); `each_word` finds them
//! as bit masks over 64-byte chunks, eight ASCII bytes at a time with integer arithmetic, and
//! hands on only the words a cheap test of their first byte, last byte and length lets through;
//! this runs over every message of every escalation.

use std::ops::Range;

/// Whether the character at byte `at` (a character boundary) is a letter, a digit or a mask's
/// `*` (a mask reads as one word), and its length. ASCII is decided on the byte.
fn word_char_at(text: &str, at: usize) -> (bool, usize) {
    let byte = text.as_bytes()[at];
    if byte.is_ascii() {
        return (byte.is_ascii_alphanumeric() || byte == b'*', 1);
    }
    let c = text[at..].chars().next().unwrap_or(' ');
    (c.is_alphanumeric(), c.len_utf8())
}

/// An ASCII letter, digit or `*`.
pub(super) fn is_ascii_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'*'
}

/// A character of a word: `is_ascii_word`, or a letter or digit of any script. The Latin-1 and
/// Latin Extended-A ranges (the accents of the languages Handoff speaks, the no-break space,
/// guillemets) are decided here: the standard library's lookup is slow for them.
pub(super) fn is_word_char(c: char) -> bool {
    match u32::from(c) {
        0..=0x7f => is_ascii_word(c as u8),
        0x80..=0xbf => matches!(c, 'ª' | '²' | '³' | 'µ' | '¹' | 'º' | '¼' | '½' | '¾'),
        0xc0..=0x17f => c != '×' && c != '÷',
        _ => c.is_alphanumeric(),
    }
}

/// The words of `text` (runs of letters and digits, or of `*`) as byte ranges. ASCII is read a
/// byte at a time in tight loops (this runs over every message); other characters are decoded.
pub(super) fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            while at < bytes.len() && bytes[at].is_ascii() && !is_ascii_word(bytes[at]) {
                at += 1;
            }
            if at >= bytes.len() {
                return None;
            }
            let (is_word, len) = word_char_at(text, at);
            if is_word {
                break;
            }
            at += len;
        }
        let start = at;
        loop {
            while at < bytes.len() && is_ascii_word(bytes[at]) {
                at += 1;
            }
            if at >= bytes.len() || bytes[at].is_ascii() {
                break;
            }
            let (is_word, len) = word_char_at(text, at);
            if !is_word {
                break;
            }
            at += len;
        }
        Some(start..at)
    })
}

/// The word of `text` that ends last before byte `at` (0..0 when there is none), as `words`
/// would have it.
pub(super) fn word_before(text: &str, at: usize) -> Range<usize> {
    let mut chars = text[..at].char_indices().rev().skip_while(|&(_, c)| !is_word_char(c));
    let Some((last, c)) = chars.next() else { return 0..0 };
    let end = last + c.len_utf8();
    let start = chars.take_while(|&(_, c)| is_word_char(c)).last().map_or(last, |(i, _)| i);
    start..end
}

/// Calls `each` with every word of `text` for which `keep(first byte, last byte, length in bytes)`
/// holds, in order. Words come from the chunks' bit masks (`word_mask`): the start of each is
/// carried in the mask of starts, its end found with `trailing_zeros`, so the work is a few
/// operations per byte and per word; `keep` is meant to be arithmetic, leaving one branch, taken
/// rarely, per word.
// Inlined into its caller so `keep` folds into the loop (measured: about a quarter slower when not).
#[inline(always)]
pub(super) fn each_word(text: &str, keep: impl Fn(u8, u8, usize) -> bool, mut each: impl FnMut(Range<usize>)) {
    let bytes = text.as_bytes();
    // The start of the word still open at the end of the previous chunk.
    let mut open_start = 0;
    let mut previous_ends_in_word = false;
    let mut word = word_mask(text, 0);
    for base in (0..bytes.len()).step_by(64) {
        let len = (bytes.len() - base).min(64);
        let next = if base + 64 < bytes.len() { word_mask(text, base + 64) } else { 0 };
        let starts = word & !((word << 1) | u64::from(previous_ends_in_word));
        let mut ends = word & !((word >> 1) | ((next & 1) << 63));
        while ends != 0 {
            let last = ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let started = starts & (u64::MAX >> (63 - last));
            let start = if started == 0 { open_start } else { base + 63 - started.leading_zeros() as usize };
            let end = base + last + 1;
            if keep(bytes[start], bytes[end - 1], end - start) {
                each(start..end);
            }
        }
        if starts != 0 {
            open_start = base + 63 - starts.leading_zeros() as usize;
        }
        previous_ends_in_word = word >> (len - 1) & 1 == 1;
        word = next;
    }
}

/// `value` in every byte of a `u64`.
const fn splat(value: u8) -> u64 {
    0x0101_0101_0101_0101 * value as u64
}

/// A bit per byte (bit `i` for byte `base + i`) of the 64 bytes of `text` from `base` (fewer at
/// its end): set for the bytes of a word character (`is_ascii_word`, or a letter or digit of any
/// script, every byte of it). Eight ASCII bytes are classified at once; only a character beyond
/// ASCII is decoded (from its first byte, which may lie in the chunk before).
fn word_mask(text: &str, base: usize) -> u64 {
    const HIGH: u64 = splat(0x80);
    let bytes = text.as_bytes();
    let chunk = &bytes[base..bytes.len().min(base + 64)];
    let mut mask = 0;
    let mut at = 0;
    while at < chunk.len() {
        if let Some(eight) = chunk.get(at..at + 8) {
            let eight = u64::from_le_bytes(eight.try_into().unwrap_or_default());
            if eight & HIGH == 0 {
                mask |= word_bits(eight) << at;
                at += 8;
                continue;
            }
        }
        let byte = chunk[at];
        if byte.is_ascii() {
            mask |= u64::from(is_ascii_word(byte)) << at;
            at += 1;
            continue;
        }
        let mut from = base + at;
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let c = text[from..].chars().next().unwrap_or(' ');
        let end = (from + c.len_utf8() - base).min(chunk.len());
        if is_word_char(c) {
            for i in at..end {
                mask |= 1 << i;
            }
        }
        at = end;
    }
    mask
}

/// `word_mask` of eight ASCII bytes read as one little-endian `u64`, every byte at once: a byte
/// below 0x80 plus `0x80 - lo` has its high bit set exactly when it is at least `lo`, and no byte
/// carries into the next.
fn word_bits(x: u64) -> u64 {
    const HIGH: u64 = splat(0x80);
    let within = |v: u64, lo: u8, hi: u8| v.wrapping_add(splat(0x80 - lo)) & !v.wrapping_add(splat(0x7f - hi)) & HIGH;
    let digits = within(x, b'0', b'9');
    let letters = within(x | splat(0x20), b'a', b'z');
    let differs = x ^ splat(b'*');
    let stars = !((differs & splat(0x7f)).wrapping_add(splat(0x7f)) | differs) & HIGH;
    // Byte i's high bit to bit i.
    ((digits | letters | stars) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_characters_are_letters_digits_and_stars() {
        for c in (0..=0x17f).filter_map(char::from_u32).chain(['€', '日', '🙂', '\u{202f}', 'Ω', '٣']) {
            let expected = if c.is_ascii() { c.is_ascii_alphanumeric() || c == '*' } else { c.is_alphanumeric() };
            assert_eq!(is_word_char(c), expected, "{c:?} U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn the_word_mask_marks_exactly_the_word_bytes() {
        for byte in 0u8..128 {
            for lane in 0..8 {
                let mut eight = [b' '; 8];
                eight[lane] = byte;
                let expected = u64::from(is_ascii_word(byte)) << lane;
                let text = std::str::from_utf8(&eight).unwrap();
                assert_eq!(word_mask(text, 0), expected, "byte {byte} in lane {lane}");
            }
        }
        let all: String = (0u8..128).map(char::from).collect();
        for base in [0, 64] {
            let expected = all.as_bytes()[base..]
                .iter()
                .take(64)
                .enumerate()
                .fold(0, |m, (i, &b)| m | u64::from(is_ascii_word(b)) << i);
            assert_eq!(word_mask(&all, base), expected);
        }
        // A letter split by the chunk's edge: both halves are word bytes, in their own chunks.
        let split = format!("{}é…", "a".repeat(63));
        assert_eq!(word_mask(&split, 0), u64::MAX);
        assert_eq!(word_mask(&split, 64), 0b1);
    }
}
