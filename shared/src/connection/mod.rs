//! Connecting a bot to its Zendesk account: OAuth (authorization code with PKCE), client
//! credentials, legacy API tokens; connection status and disconnect.

pub mod accounts;
mod connect_oauth;
mod disconnect;
mod establish;
pub mod oauth_flow;
pub mod refresh;
pub mod secret_edit;
pub mod service;
pub mod webhook_health;

pub use service::{CallbackOutcome, CallbackQuery, ConnectConfig, ConnectError, ConnectionStatus, Connector};
