//! Handoff's domain crate, shared by every Lambda function.
//!
//! The pure modules (`rules`, `settings`, `mapping`, `transcript`, `text`, the request and
//! record models, the store ports) live in `handoff-core`, which can do no I/O, and are
//! re-exported here under their old paths. Everything that talks to
//! the outside world sits behind the traits of `store` and the typed client in `zendesk`, so each
//! use case runs the same against in-process adapters and against DynamoDB, Secrets Manager and
//! Zendesk (or its simulator) over HTTP.

/// The pure modules, from `handoff-core`, under the paths the rest of the crate uses.
pub use handoff_core::{address, backoff, error, identity, mapping, rules, settings, text, transcript};

pub mod api;
pub mod app;
pub mod audit;
pub mod bot_settings;
pub mod callback;
pub mod connection;
pub mod deadline;
pub mod diagnostics;
pub mod escalation;
pub mod http;
pub mod metrics;
pub mod status;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod ticket_fields;
pub mod webhook;
pub mod zendesk;
