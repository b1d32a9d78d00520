//! What a visitor may learn about tickets: one ticket's status in a sentence, and a returning
//! visitor's recent tickets as context for the bot. Pure parts (`summary`, `visibility`,
//! `context`, in `handoff-core`) decide and phrase; `service` talks to Zendesk, with a short cache.

mod cache;
pub mod service;
pub mod view;

/// The pure parts live in `handoff-core`.
pub use handoff_core::status::{context, summary, visibility};

pub use cache::LookupCache;
pub use service::{Lookup, StatusError};
