//! Zendesk's side as values: request and response bodies named after Zendesk's OpenAPI schemas
//! (`types`), and how a bot signs in (`credentials`). The client is `handoff::zendesk`.

pub mod credentials;
pub mod types;

pub use credentials::{Credentials, OAuthClient};
