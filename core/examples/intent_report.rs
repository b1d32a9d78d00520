//! Precision and recall of explicit-request detection on the labeled corpus, per language:
//! `cargo run -p handoff-core --example intent_report` (the README's table comes from here).
//! `-- --dev-errors` lists the development parts' misses and false fires, to tune on; the
//! validation and held-out parts' are never listed. `-- --dev-only` prints the development tables alone (what
//! tuning looks at; the held-out table is read once a pass is done). `-- --explain "text" …`
//! says what the detector matched in each text and the model's probability; `-- --time` a rough cost per message;
//! `-- --families` the validation part's mistakes counted per family (counts, never messages).

use handoff_core::rules::corpus::{self, Score};
use handoff_core::rules::intent;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--families") {
        // Per family, the validation part's counts only (never its messages): where to look next.
        let mut by_family = std::collections::BTreeMap::<String, (usize, usize)>::new();
        for sample in corpus::samples(corpus::VALIDATION) {
            let fired = intent::detect(&sample.text, &intent::BotPhrases::default()).is_some();
            let entry = by_family.entry(sample.family.clone()).or_default();
            entry.0 += usize::from(fired != sample.human);
            entry.1 += 1;
        }
        for (family, (wrong, all)) in by_family {
            println!("{family}: {wrong} wrong of {all}");
        }
        return;
    }
    if args.iter().any(|a| a == "--time") {
        // A rough figure while tuning; the criterion bench (`scripts/bench`) is the measure.
        let samples = corpus::DEVELOPMENT.into_iter().flat_map(|(_, part)| corpus::samples(part)).collect::<Vec<_>>();
        let phrases = intent::BotPhrases::default();
        let first = std::time::Instant::now();
        std::hint::black_box(intent::detect("hello", &phrases));
        println!("{:.0} µs for the first message (reads the lexicon)", first.elapsed().as_secs_f64() * 1e6);
        let started = std::time::Instant::now();
        let rounds = 20;
        for _ in 0..rounds {
            for sample in &samples {
                std::hint::black_box(intent::detect(&sample.text, &phrases));
            }
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / (rounds * samples.len()) as f64;
        println!("{per:.1} µs per message over {} development messages", samples.len());
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--explain") {
        for text in &args[at + 1..] {
            let found = intent::detect(text, &intent::BotPhrases::default());
            println!("{found:?} (model {:.2}) ← {text}", intent::model::probability(text));
        }
        return;
    }
    if std::env::args().any(|a| a == "--dev-errors") {
        let development = corpus::DEVELOPMENT.into_iter().flat_map(|(_, part)| corpus::samples(part));
        for sample in development {
            let found = intent::detect(&sample.text, &intent::BotPhrases::default());
            if found.is_some() != sample.human {
                let why = found.map(|m| format!(" (matched {:?})", m.matched)).unwrap_or_default();
                let kind = if sample.human { "missed" } else { "false fire" };
                println!("{kind} {} [{}] {}{why}", sample.lang, sample.family, sample.text);
            }
        }
        return;
    }
    let dev_only = std::env::args().any(|a| a == "--dev-only");
    let parts = [
        ("held-out", corpus::HELD_OUT),
        ("development", corpus::DEV),
        ("second development", corpus::DEV2),
        ("third development", corpus::DEV3),
        ("fourth development", corpus::DEV4),
        ("fifth development", corpus::DEV5),
        ("sixth development", corpus::DEV6),
        ("seventh development", corpus::DEV7),
        ("eighth development", corpus::DEV8),
        ("validation", corpus::VALIDATION),
    ];
    for (name, part) in parts.into_iter().skip(usize::from(dev_only)) {
        let samples = corpus::samples(part);
        let scores = corpus::score(&samples, |text| intent::detect(text, &intent::BotPhrases::default()).is_some());
        println!("{name} part, {} messages", samples.len());
        println!("| language | precision | recall | messages |");
        println!("| --- | ---: | ---: | ---: |");
        for (lang, score) in &scores {
            let Score { true_positives, false_positives, false_negatives, true_negatives } = *score;
            let total = true_positives + false_positives + false_negatives + true_negatives;
            // A language with nothing detected has no precision to speak of.
            let precision = match true_positives + false_positives {
                0 => "—".to_owned(),
                _ => format!("{:.3}", score.precision()),
            };
            println!("| {lang} | {precision} | {:.3} | {total} |", score.recall());
        }
        println!();
    }
}
