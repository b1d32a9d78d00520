//! The labeled corpus of visitor messages that explicit-request detection is measured on
//! (`core/corpus/intent/`): a development part to tune on and a held-out part, split before any
//! tuning and never edited since (its digest is pinned by a test). Loading and scoring only: the
//! figures are reported by `cargo run -p handoff-core --example intent_report`, not asserted on a
//! clock.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One labeled message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Sample {
    pub id: String,
    pub lang: String,
    pub text: String,
    /// The visitor asks for a person (or a team of people) to take over or contact them.
    pub human: bool,
    /// Which kind of message it is (`team`, `verb`, `elliptic`, … `compound`, `negation`, …).
    pub family: String,
}

/// The development part, as committed.
pub const DEV: &str = include_str!("../../corpus/intent/dev.jsonl");
/// The second development part: 1,042 more messages by seven other writers, written after the
/// split without sight of either part, so tuning sees more than one writer's wording.
pub const DEV2: &str = include_str!("../../corpus/intent/dev2.jsonl");
/// The third development part: 689 messages by seven more writers, each line in the voice of
/// one of ten kinds of visitor (as the validation part was written).
pub const DEV3: &str = include_str!("../../corpus/intent/dev3.jsonl");
/// The fourth development part: 419 messages of the five families the validation part's counts
/// showed weakest (teams, frustrated questions, comparisons, negations, unrelated clauses).
pub const DEV4: &str = include_str!("../../corpus/intent/dev4.jsonl");
/// The fifth development part: 427 messages, mostly hard negatives, written in the style of the
/// first development part by writers who read that part only.
pub const DEV5: &str = include_str!("../../corpus/intent/dev5.jsonl");
/// The sixth development part: 576 messages in the style of the first development part, mostly
/// hard negatives (and German requests), whose figures as written were read before tuning on it.
pub const DEV6: &str = include_str!("../../corpus/intent/dev6.jsonl");
/// The seventh development part: 560 messages, mostly requests (teams, frustrated questions) in
/// the voices of ten kinds of visitor, whose figures as written were read before tuning on it.
pub const DEV7: &str = include_str!("../../corpus/intent/dev7.jsonl");
/// The eighth development part: 296 messages in Dutch, German, English and French in the style of
/// the first development part (Dutch and English and French negatives, German requests), scored as
/// written before tuning on it.
pub const DEV8: &str = include_str!("../../corpus/intent/dev8.jsonl");
/// The validation part: 700 messages by seven more writers, written after the split without
/// sight of the corpus or the detector. Only its figures are read while tuning (never its
/// messages), to see whether a pass generalises before the held-out part is read.
pub const VALIDATION: &str = include_str!("../../corpus/intent/validation.jsonl");
/// The held-out part, as committed (never edited after the split).
pub const HELD_OUT: &str = include_str!("../../corpus/intent/heldout.jsonl");

/// The development parts by name, in order: what the detector is tuned and the model trained on.
pub const DEVELOPMENT: [(&str, &str); 8] = [
    ("dev", DEV),
    ("dev2", DEV2),
    ("dev3", DEV3),
    ("dev4", DEV4),
    ("dev5", DEV5),
    ("dev6", DEV6),
    ("dev7", DEV7),
    ("dev8", DEV8),
];

/// What the model is trained on: the development parts' samples with their part's name, without
/// any message written exactly as a held-out or validation one ("human please" recurs), so the
/// model cannot learn those parts.
pub fn training_samples() -> Vec<(&'static str, Sample)> {
    let key = |text: &str| text.trim().to_lowercase();
    let unseen: std::collections::HashSet<String> =
        [HELD_OUT, VALIDATION].into_iter().flat_map(samples).map(|s| key(&s.text)).collect();
    DEVELOPMENT
        .into_iter()
        .flat_map(|(part, text)| samples(text).into_iter().map(move |s| (part, s)))
        .filter(|(_, s)| !unseen.contains(&key(&s.text)))
        .collect()
}

/// The samples of a part; panics on a malformed line (the files are the repository's own).
pub fn samples(part: &str) -> Vec<Sample> {
    part.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("a corpus line")).collect()
}

/// True and false positives and negatives of a detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

impl Score {
    pub fn add(&mut self, expected: bool, detected: bool) {
        match (expected, detected) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 { 1.0 } else { part as f64 / whole as f64 }
}

/// `detect` scored on `samples`, per language and overall (key `all`).
pub fn score(samples: &[Sample], detect: impl Fn(&str) -> bool) -> BTreeMap<String, Score> {
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    for sample in samples {
        let detected = detect(&sample.text);
        scores.entry(sample.lang.clone()).or_default().add(sample.human, detected);
        scores.entry("all".to_owned()).or_default().add(sample.human, detected);
    }
    scores
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use sha2::{Digest, Sha256};

    use super::*;

    /// The held-out part as split on 2026-12-01, before any tuning: a change to it fails here.
    const HELD_OUT_SHA256: &str = "453c7ce8a49608505ba6a3a56d588133445b83c6df5f9cee52f34144082149c5";

    #[test]
    fn the_held_out_part_is_the_one_split_before_tuning() {
        let digest: String = Sha256::digest(HELD_OUT.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(digest, HELD_OUT_SHA256, "core/corpus/intent/heldout.jsonl was edited after the split");
    }

    /// The validation part as written: its messages are never read while tuning, nor edited.
    const VALIDATION_SHA256: &str = "69807a8351d2713c8a496ca625e419cf571c0ddff12aea4a391f63be63ca8a61";

    #[test]
    fn the_validation_part_is_the_one_written_before_it_was_scored() {
        let digest: String = Sha256::digest(VALIDATION.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(digest, VALIDATION_SHA256, "core/corpus/intent/validation.jsonl was edited");
    }

    #[test]
    fn the_corpus_is_balanced_and_every_family_is_in_both_parts_of_every_language() {
        let (dev, held) = (samples(DEV), samples(HELD_OUT));
        assert!(dev.len() + held.len() >= 800);
        let (dev2, validation) = (samples(DEV2), samples(VALIDATION));
        let ids: HashSet<&str> =
            dev.iter().chain(&held).chain(&dev2).chain(&validation).map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            dev.len() + held.len() + dev2.len() + validation.len(),
            "ids are unique across the parts"
        );
        let languages: BTreeSet<&str> = dev.iter().map(|s| s.lang.as_str()).collect();
        assert_eq!(languages, BTreeSet::from(["de", "en", "es", "fr", "it", "nl", "pt"]));
        for part in [&dev, &held] {
            for lang in &languages {
                let of_lang: Vec<&Sample> = part.iter().filter(|s| s.lang == *lang).collect();
                let requests = of_lang.iter().filter(|s| s.human).count();
                let share = requests as f64 / of_lang.len() as f64;
                assert!((0.4..=0.6).contains(&share), "{lang}: {requests} of {} are requests", of_lang.len());
            }
        }
        let pairs = |part: &[Sample]| -> BTreeSet<(String, String)> {
            part.iter().map(|s| (s.lang.clone(), s.family.clone())).collect()
        };
        assert_eq!(pairs(&dev), pairs(&held), "every (language, family) in both parts");
        assert_eq!(pairs(&dev).len(), languages.len() * 10, "ten families in every language");
    }

    /// The issue's bars on the held-out part: precision 0.98 and recall 0.95 overall, 0.95 and
    /// 0.90 in each language.
    const BARS: ((f64, f64), (f64, f64)) = ((0.98, 0.95), (0.95, 0.90));

    /// What the detector reaches on the held-out part today (the README's table), which no change
    /// may lower.
    const FLOORS: &[(&str, f64, f64)] = &[
        ("all", 0.980, 0.957),
        ("de", 1.000, 0.906),
        ("en", 0.969, 0.969),
        ("es", 1.000, 1.000),
        ("fr", 0.969, 0.969),
        ("it", 1.000, 0.920),
        ("nl", 0.958, 0.920),
        ("pt", 0.970, 1.000),
    ];

    #[test]
    fn held_out_precision_and_recall_meet_the_bars_and_do_not_fall_below_the_committed_figures() {
        let phrases = crate::rules::intent::BotPhrases::default();
        let scores = score(&samples(HELD_OUT), |text| crate::rules::intent::detect(text, &phrases).is_some());
        assert_eq!(scores.len(), FLOORS.len(), "a floor for every language and overall");
        for (lang, precision, recall) in FLOORS {
            let (bar_precision, bar_recall) = if *lang == "all" { BARS.0 } else { BARS.1 };
            let got = &scores[*lang];
            // The bars exactly; the committed figures to the three places they are printed with.
            assert!(
                got.precision() >= bar_precision && got.recall() >= bar_recall,
                "{lang}: precision {:.4} recall {:.4}, below the bars {bar_precision} / {bar_recall}",
                got.precision(),
                got.recall()
            );
            assert!(
                got.precision() >= precision - 0.0005 && got.recall() >= recall - 0.0005,
                "{lang}: precision {:.3} recall {:.3}, below the committed {precision} / {recall}",
                got.precision(),
                got.recall()
            );
        }
    }

    #[test]
    fn scores_count_what_they_should() {
        let samples = samples(
            r#"{"id": "x-1", "lang": "en", "text": "a", "human": true, "family": "plain"}
{"id": "x-2", "lang": "en", "text": "b", "human": false, "family": "ordinary"}"#,
        );
        let scores = score(&samples, |text| text == "a" || text == "b");
        assert_eq!((scores["en"].precision(), scores["en"].recall()), (0.5, 1.0));
    }
}
