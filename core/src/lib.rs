//! Handoff's pure core: what an escalation, a setting, a ticket, a transcript and a stored record
//! are, and the rules between them. Values in, values out: no I/O, no clock, no randomness. The
//! store ports are traits here; their adapters (DynamoDB, Secrets Manager, in-process) live in the
//! `handoff` crate with everything else that talks to the outside world.
//!
//! Purity is a dependency rule, not a convention: this crate's `Cargo.toml` lists no AWS SDK, no
//! HTTP client, no Lambda crate, no async runtime,.

pub mod address;
pub mod error;
pub mod escalation;
pub mod identity;
pub mod mapping;
pub mod rules;
pub mod settings;
pub mod status;
pub mod store;
pub mod text;
pub mod transcript;
pub mod zendesk;
