//! What a visitor may learn about tickets: one ticket's status in a sentence, and a returning
//! visitor's recent tickets as context for the bot. Pure parts (`summary`, `visibility`,
//! `context`) decide and phrase; `service` talks to Zendesk, with a short cache.

pub mod context;
pub mod service;
pub mod summary;
pub mod visibility;

pub use service::{Lookup, LookupCache, StatusError};
