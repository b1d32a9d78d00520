//! Privacy in the use cases: a bot's redaction made ready from its settings, so the escalation
//! and the relay mask the same way (the masking itself is the core's `redaction`), and a
//! visitor's export and erasure (`visitors`).

pub mod visitors;

use crate::redaction::{RedactionSettings, Redactor};

/// The bot's redaction. A stored pattern this build cannot compile is left out with a warning
/// naming it (never its text): the handoff goes on with the built-in classes and the others.
pub fn redactor(bot_id: &str, settings: &RedactionSettings) -> Redactor {
    let (redactor, skipped) = Redactor::new(settings);
    if !skipped.is_empty() {
        tracing::warn!(bot_id, patterns = ?skipped, "redaction patterns that do not compile were left out");
    }
    redactor
}
