//! Handoff's domain crate, shared by every Lambda function.
//!
//! Pure modules (`rules`, `mapping`, `transcript`, `text`) do no I/O. Everything that talks to
//! the outside world sits behind the traits of `store` and the typed client in `zendesk`, so each
//! use case runs the same against in-process adapters and against DynamoDB, Secrets Manager and
//! Zendesk (or its simulator) over HTTP.

pub mod address;
pub mod api;
pub mod app;
pub mod audit;
pub mod callback;
pub mod connection;
pub mod deadline;
pub mod diagnostics;
pub mod error;
pub mod escalation;
pub mod http;
pub mod identity;
pub mod mapping;
pub mod metrics;
pub mod rules;
pub mod settings;
pub mod status;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod text;
pub mod ticket_fields;
pub mod transcript;
pub mod webhook;
pub mod zendesk;
