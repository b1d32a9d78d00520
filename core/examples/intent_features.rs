//! The features of each message of the corpus's development and validation parts, for the
//! model's training script (`core/corpus/intent/tools/train_model.py`): one line per message,
//! `part id label bucket,bucket,…`. Computed here so training and detection hash alike. The
//! held-out part is never written.

use handoff_core::rules::{corpus, intent::model};

fn main() {
    let parts = [
        ("dev", corpus::DEV),
        ("dev2", corpus::DEV2),
        ("dev3", corpus::DEV3),
        ("dev4", corpus::DEV4),
        ("dev5", corpus::DEV5),
        ("dev6", corpus::DEV6),
        ("dev7", corpus::DEV7),
        ("validation", corpus::VALIDATION),
    ];
    for (part, text) in parts {
        for sample in corpus::samples(text) {
            let features: Vec<String> = model::features(&sample.text).iter().map(u32::to_string).collect();
            println!("{part}\t{}\t{}\t{}", sample.id, u8::from(sample.human), features.join(","));
        }
    }
}
