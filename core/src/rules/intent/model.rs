//! A second opinion on a message: a logistic regression over hashed word and letter n-grams,
//! trained on the development parts of the corpus (`core/corpus/intent/tools/train_model.py`).
//! The lexicon's rules decide what matched; the model takes back a match it is sure is not a
//! request and hears one the rules missed when it is sure it is. Deterministic and local: the
//! weights are a file in the binary, a message costs one pass over its n-grams.

use std::sync::LazyLock;

use crate::text;

/// Feature buckets: n-grams are hashed into this many weights.
pub const BUCKETS: u32 = 1 << 18;
/// The model takes back what the rules matched when the whole message is below this probability
/// and the sentence that matched is below `SENTENCE_DOUBT` too: what the visitor told before a
/// request ("tracking says delivered, nothing arrived. Ho bisogno di una persona.") cannot take
/// it back.
pub const TAKE_BACK_BELOW: f32 = 0.1;
pub const SENTENCE_DOUBT: f32 = 0.1;
/// Above this probability the model hears a request the rules missed.
pub const HEAR_ABOVE: f32 = 0.85;
/// The shortest and longest letter n-gram, read inside " word ".
const LETTERS: std::ops::RangeInclusive<usize> = 3..=5;

/// The weights as trained: a scale, a bias and one weight per bucket, quantized to a byte (the
/// validation figures are the same as with 16 bits, and the file is a quarter of a megabyte).
struct Weights {
    scale: f32,
    bias: f32,
    weights: &'static [u8],
}

static WEIGHTS: LazyLock<Weights> = LazyLock::new(|| Weights::read(include_bytes!("model.bin")));

impl Weights {
    /// Panics on a malformed file: it is the repository's own, and a test reads it.
    fn read(bytes: &'static [u8]) -> Self {
        assert_eq!(&bytes[..4], b"HOI2", "intent model: unknown format");
        let f32_at = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
        let count = u32::from_le_bytes(bytes[12..16].try_into().expect("four bytes"));
        assert_eq!(count, BUCKETS, "intent model: bucket count");
        let weights = &bytes[16..];
        assert_eq!(weights.len(), BUCKETS as usize, "intent model: truncated");
        Self { scale: f32_at(4), bias: f32_at(8), weights }
    }

    fn weight(&self, bucket: u32) -> f32 {
        f32::from(self.weights[bucket as usize] as i8) * self.scale
    }
}

/// FNV-1a, 64 bits: a hash fixed by its definition, so features computed here and in training
/// agree on every platform and compiler version. Parts are joined by a 0x1f byte.
struct Fnv(u64);

impl Fnv {
    const PRIME: u64 = 0x100_0000_01b3;

    fn new(kind: &str) -> Self {
        let mut hash = Self(0xcbf2_9ce4_8422_2325);
        hash.write(kind.as_bytes());
        hash
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn part(mut self, text: &str) -> Self {
        self.write(&[0x1f]);
        self.write(text.as_bytes());
        self
    }

    fn bucket(&self) -> u32 {
        (self.0 % u64::from(BUCKETS)) as u32
    }
}

/// The message's features, each once, sorted: words, pairs of words and letter n-grams of each
/// word with its boundaries (" hu", "uman "), hashed into buckets.
pub fn features(message: &str) -> Vec<u32> {
    features_of(&text::tokens(message))
}

/// The features of a message's folded words (`text::tokens`).
pub fn features_of(words: &[String]) -> Vec<u32> {
    let mut out = Vec::with_capacity(words.len() * 12);
    let mut padded = String::new();
    let mut starts: Vec<usize> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        out.push(Fnv::new("w").part(word).bucket());
        if let Some(next) = words.get(i + 1) {
            out.push(Fnv::new("b").part(word).part(next).bucket());
        }
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        starts.clear();
        starts.extend(padded.char_indices().map(|(at, _)| at).chain([padded.len()]));
        for n in LETTERS {
            for window in starts.windows(n + 1) {
                out.push(Fnv::new("c").part(&padded[window[0]..window[n]]).bucket());
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The model's probability that `message` asks for a person. Its cost grows with the message:
/// callers bound it (the detector reads at most 4,000 characters).
pub fn probability(message: &str) -> f32 {
    probability_of(&text::tokens(message))
}

/// Up to three of `words` that `telling` accepts, those that weigh most towards a request first,
/// for the explanation ("billing", "revise").
pub(crate) fn strongest_words(words: &[String], telling: impl Fn(&str) -> bool) -> Vec<String> {
    let mut weighed: Vec<(f32, &String)> = words
        .iter()
        .filter(|w| telling(w))
        .map(|w| (WEIGHTS.weight(Fnv::new("w").part(w).bucket()), w))
        .filter(|(w, _)| *w > 0.0)
        .collect();
    weighed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut strongest: Vec<String> = Vec::new();
    for (_, word) in weighed {
        if !strongest.contains(word) && strongest.len() < 3 {
            strongest.push(word.clone());
        }
    }
    if strongest.is_empty() {
        // None weighs towards a request on its own: name the telling words as they come.
        strongest.extend(words.iter().filter(|w| telling(w)).take(3).cloned());
    }
    strongest
}

/// The model's probability that a message of these folded words asks for a person.
pub fn probability_of(words: &[String]) -> f32 {
    let features = features_of(words);
    if features.is_empty() {
        return 1.0 / (1.0 + (-WEIGHTS.bias).exp());
    }
    let weights = &*WEIGHTS;
    let sum: f32 = features.iter().map(|b| weights.weight(*b)).sum();
    let z = weights.bias + sum / (features.len() as f32).sqrt();
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::corpus;

    #[test]
    fn probabilities_match_the_training_scripts_for_the_same_messages() {
        // `train_model.py` wrote the probability its own arithmetic gives six messages of each
        // language from the features this code computed; the weights file and this code must agree.
        let samples: Vec<corpus::Sample> = corpus::training_samples().into_iter().map(|(_, s)| s).collect();
        let golden = include_str!("model_golden.tsv");
        let languages: std::collections::BTreeSet<&str> =
            golden.lines().map(|l| l.split('-').next().expect("a language")).collect();
        assert_eq!(languages.len(), 7, "every language: {languages:?}");
        for line in golden.lines() {
            let (id, expected) = line.split_once('\t').expect("id and probability");
            let sample = samples.iter().find(|s| s.id == id).expect("a training message");
            let expected: f32 = expected.parse().expect("a probability");
            let got = probability(&sample.text);
            assert!((got - expected).abs() < 1e-4, "{id}: {got} against the script's {expected}");
        }
    }

    #[test]
    fn the_model_was_trained_on_the_features_this_code_computes() {
        // A change to how a message is read (folding, tokens, n-grams, hashing) changes the
        // features; the weights were trained on the old ones. Retrain (README) to update this.
        use sha2::{Digest, Sha256};
        let mut digest = Sha256::new();
        for (_, sample) in corpus::training_samples() {
            let features: Vec<String> = features(&sample.text).iter().map(u32::to_string).collect();
            digest.update(format!("{}\t{}\n", sample.id, features.join(",")).as_bytes());
        }
        let got: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, include_str!("model_features.sha256").trim(), "the model must be retrained");
    }

    #[test]
    fn features_are_the_same_however_often_and_a_word_and_its_pair_count_once() {
        let once = features("talk to a human");
        assert_eq!(once, features("talk to a human"));
        assert!(once.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
        // Words, pairs of words, letter n-grams: "human" alone gives 1 + 5 + 4 + 3 features.
        assert!(features("human").len() <= 13 && features("human").len() >= 10);
        assert!(features("").is_empty());
    }

    #[test]
    fn the_model_hears_a_plain_request_and_not_a_plain_question() {
        assert!(probability("I want to talk to a human") > HEAR_ABOVE);
        assert!(probability("where is my order") < 0.5);
    }
}
