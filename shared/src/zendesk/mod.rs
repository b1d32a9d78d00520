//! Zendesk Support API: typed bodies, errors and the HTTP client.

pub mod client;
pub mod error;
pub mod oauth;
pub mod reads;
pub mod subdomain;
pub mod users;
pub mod webhooks;

pub use client::{Account, ClientConfig, Created, Credentials, ZendeskClient};
pub use error::ZendeskError;
/// The bodies are plain values, in `handoff-core`.
pub use handoff_core::zendesk::types;
