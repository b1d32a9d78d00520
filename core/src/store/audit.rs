//! OAuth states (the authorize round trip's CSRF values) and the audit trail, with their ports.

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::secrets::expose;

/// A pending OAuth authorization: what the callback needs, keyed by its single-use `state`.
#[derive(Clone, Serialize, Deserialize)]
pub struct OAuthState {
    pub state: String,
    pub bot_id: String,
    pub subdomain: String,
    /// The PKCE code verifier (short-lived: the item expires with the state).
    #[serde(serialize_with = "expose")]
    pub verifier: SecretString,
    pub return_url: String,
    /// Unix seconds; also the item's TTL.
    pub expires_at: i64,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("bot_id", &self.bot_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait OAuthStateStore: Send + Sync {
    /// Stores a new state (Conflict if it exists: states are random, so that is a bug).
    async fn put_state(&self, state: &OAuthState) -> Result<(), StoreError>;
    /// Removes and returns the state in one step, so it can be used once only; None when it is
    /// unknown, already used or expired at `now` (unix seconds).
    async fn take_state(&self, state: &str, now: i64) -> Result<Option<OAuthState>, StoreError>;
}

/// One line of a bot's audit trail. Never holds a secret or transcript text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub bot_id: String,
    /// RFC 3339, UTC; entries sort by it.
    pub at: String,
    /// `connect_started`, `oauth_callback`, `connected`, `disconnected`, `refresh_failed`, …
    pub action: String,
    /// `ok`, or a short reason (`access_denied`, `invalid_state`, …).
    pub outcome: String,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub detail: std::collections::BTreeMap<String, String>,
}

/// A page of audit entries, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    async fn list(&self, bot_id: &str, limit: usize, cursor: Option<&str>) -> Result<AuditPage, StoreError>;
}
