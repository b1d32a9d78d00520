use proptest::prelude::*;

use super::*;

fn default_redactor() -> Redactor {
    Redactor::new(&RedactionSettings::default()).0
}

fn redacted(redactor: &Redactor, text: &str) -> (String, RedactionCounts) {
    let mut counts = RedactionCounts::default();
    let mut text = text.to_owned();
    redactor.redact(&mut text, &mut counts);
    (text, counts)
}

fn counts(pairs: &[(&str, u32)]) -> RedactionCounts {
    RedactionCounts(pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
}

#[test]
fn masks_every_class_in_one_transcript_keeping_the_shape() {
    let text = "Card 4242 4242 4242 4242, IBAN DE89 3704 0044 0532 0130 00; my password is hunter2 and código: 482913.";
    let (out, found) = redacted(&default_redactor(), text);
    assert_eq!(
        out,
        "Card **** **** **** 4242, IBAN DE** **** **** **** **30 00; my password is ******* and código: ******."
    );
    assert_eq!(found, counts(&[("card_number", 1), ("iban", 1), ("one_time_code", 1), ("password", 1)]));
}

#[test]
fn what_a_secret_hid_does_not_change_a_second_pass() {
    let redactor = default_redactor();
    for text in ["password: error code 500123", "my PIN is zip code 94107", "4242 4242 4242 4242 26 0000000000"] {
        let (once, _) = redacted(&redactor, text);
        let (twice, counted) = redacted(&redactor, &once);
        assert_eq!(twice, once, "{text}");
        assert!(counted.is_empty(), "{text}: {counted:?}");
    }
}

#[test]
fn each_class_can_be_turned_off() {
    let text = "4242 4242 4242 4242 DE89370400440532013000 password: hunter2 code: 482913";
    let settings = RedactionSettings {
        card_numbers: false,
        ibans: false,
        passwords: false,
        one_time_codes: false,
        patterns: Vec::new(),
    };
    let (out, found) = redacted(&Redactor::new(&settings).0, text);
    assert_eq!(out, text);
    assert!(found.is_empty());
}

#[test]
fn a_bots_own_pattern_masks_letters_and_digits_and_is_counted_by_name() {
    let settings = RedactionSettings {
        patterns: vec![CustomPattern { name: "employee_id".into(), regex: r"EMP-\d{4}".into() }],
        ..RedactionSettings::default()
    };
    let (redactor, skipped) = Redactor::new(&settings);
    assert!(skipped.is_empty());
    let (out, found) = redacted(&redactor, "I am EMP-1234, and EMP-9876 too");
    assert_eq!(out, "I am ***-****, and ***-**** too");
    assert_eq!(found, counts(&[("pattern:employee_id", 2)]));
}

#[test]
fn a_stored_pattern_that_no_longer_compiles_is_left_out_and_named() {
    let settings = RedactionSettings {
        patterns: vec![CustomPattern { name: "broken".into(), regex: "(".into() }],
        ..RedactionSettings::default()
    };
    let (redactor, skipped) = Redactor::new(&settings);
    assert_eq!(skipped, ["broken"]);
    assert_eq!(redacted(&redactor, "card 4242424242424242").0, "card ************4242");
}

#[test]
fn validation_names_each_bad_pattern() {
    let settings = RedactionSettings {
        patterns: vec![
            CustomPattern { name: "ok".into(), regex: r"\d{3}-\d{2}-\d{4}".into() },
            CustomPattern { name: "Bad Name".into(), regex: "(a+)+$".into() },
            CustomPattern { name: "ok".into(), regex: "x".into() },
        ],
        ..RedactionSettings::default()
    };
    let fields: Vec<_> = validate(&settings).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["redaction.patterns[1].name", "redaction.patterns[1].regex", "redaction.patterns[2].name"]);
}

/// A 12-digit number that fails the Luhn check.
fn order_number() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 12)
        .prop_map(|digits| digits.iter().map(|d| char::from(b'0' + d)).collect::<String>())
        .prop_filter("fails Luhn", |n| !numbers_luhn(n))
}

fn numbers_luhn(number: &str) -> bool {
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 { if d > 4 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Text made of words, digits, separators, card-like runs and keywords, so the detectors fire.
fn chat_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Zçéñü]{1,8}",
        "[0-9]{1,6}",
        Just(" ".to_owned()),
        Just("-".to_owned()),
        Just(": ".to_owned()),
        Just("4242 4242 4242 4242".to_owned()),
        Just("DE89 3704 0044 0532 0130 00".to_owned()),
        Just("password is ".to_owned()),
        Just("código: ".to_owned()),
        Just("*".to_owned()),
        "\\PC{1,4}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn never_masks_an_order_number_that_fails_luhn(number in order_number(), before in "[a-z ]{0,10}", after in "[a-z .]{0,10}") {
        let text = format!("{before} {number}{after}");
        let (out, found) = redacted(&default_redactor(), &text);
        prop_assert_eq!(out, text);
        prop_assert!(found.is_empty());
    }

    #[test]
    fn never_grows_a_text(text in chat_text()) {
        let (out, _) = redacted(&default_redactor(), &text);
        prop_assert!(out.len() <= text.len());
        prop_assert!(out.chars().count() <= text.chars().count());
    }

    #[test]
    fn is_idempotent(text in chat_text()) {
        let redactor = default_redactor();
        let (once, _) = redacted(&redactor, &text);
        let (twice, found) = redacted(&redactor, &once);
        prop_assert_eq!(&twice, &once);
        prop_assert!(found.is_empty(), "a second pass counted {:?} in {:?}", found, once);
    }
}

#[test]
fn digits_are_counted_in_texts_of_any_length() {
    for len in [0, 1, 254, 255, 256, 600] {
        let text: String = (0..len).map(|i| if i % 3 == 0 { '7' } else { 'x' }).collect();
        assert_eq!(super::count_digits(text.as_bytes()), text.bytes().filter(u8::is_ascii_digit).count(), "{len}");
    }
    assert_eq!(super::count_digits("٣ 3 ３".as_bytes()), 1, "ASCII digits only");
}
