//! The features of each message the model is trained on (`corpus::training_samples`) and of the
//! validation part, for the training script (`core/corpus/intent/tools/train_model.py`): one line
//! per message, `part id label bucket,bucket,…`. Computed here so training and detection hash
//! alike. The held-out part is never written.

use handoff_core::rules::{corpus, intent::model};

fn main() {
    let validation = corpus::samples(corpus::VALIDATION).into_iter().map(|s| ("validation", s));
    for (part, sample) in corpus::training_samples().into_iter().chain(validation) {
        let features: Vec<String> = model::features(&sample.text).iter().map(u32::to_string).collect();
        println!("{part}\t{}\t{}\t{}", sample.id, u8::from(sample.human), features.join(","));
    }
}
