//! A bot's connection to Zendesk and its settings, read together, and the port that stores them
//! (conditional writes on the connection's version; the refresh lease).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::settings::BotSettings;

/// How a bot signs in to Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMode {
    Oauth,
    ClientCredentials,
    ApiToken,
}

impl ConnectionMode {
    /// The name the API, the audit trail and the logs use (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oauth => "oauth",
            Self::ClientCredentials => "client_credentials",
            Self::ApiToken => "api_token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connected,
    ReconnectRequired,
    Disconnected,
}

/// A bot's link to its Zendesk account (no secrets: those live in the secret store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub bot_id: String,
    pub subdomain: String,
    pub mode: ConnectionMode,
    pub state: ConnectionState,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Unix seconds.
    #[serde(default)]
    pub access_token_expires_at: Option<i64>,
    /// Unix seconds (OAuth with refresh tokens).
    #[serde(default)]
    pub refresh_token_expires_at: Option<i64>,
    /// Unix seconds of the last successful token refresh.
    #[serde(default)]
    pub last_refresh_at: Option<i64>,
    /// The Zendesk user Handoff acts as (verified with users/me).
    #[serde(default)]
    pub zendesk_user_id: Option<u64>,
    /// That user's name and email as Zendesk gave them when the bot connected (the console shows
    /// who the bot acts as).
    #[serde(default)]
    pub zendesk_user_name: Option<String>,
    #[serde(default)]
    pub zendesk_user_email: Option<String>,
    /// Who holds the refresh lease (one refresher per connection: refresh tokens are single use).
    #[serde(default)]
    pub refresh_lease_holder: Option<String>,
    /// Unix milliseconds until which the lease is held.
    #[serde(default)]
    pub refresh_lease_until_ms: Option<i64>,
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// Unix seconds of the last webhook delivery that verified (noted at most once a minute).
    #[serde(default)]
    pub last_webhook_at: Option<i64>,
    #[serde(default)]
    pub version: u64,
}

impl Connection {
    /// A fresh, connected connection (version 1) with nothing else known yet.
    pub fn new(bot_id: &str, subdomain: &str, mode: ConnectionMode) -> Self {
        Self {
            bot_id: bot_id.to_owned(),
            subdomain: subdomain.to_owned(),
            mode,
            state: ConnectionState::Connected,
            scopes: Vec::new(),
            access_token_expires_at: None,
            refresh_token_expires_at: None,
            last_refresh_at: None,
            zendesk_user_id: None,
            zendesk_user_name: None,
            zendesk_user_email: None,
            refresh_lease_holder: None,
            refresh_lease_until_ms: None,
            webhook_id: None,
            last_webhook_at: None,
            version: 1,
        }
    }

    /// When the token refresher should look at this connection (unix ms): 10 minutes before the
    /// access token expires, or 3 days before the refresh token does, whichever is first. None
    /// for connections that need no refreshing (API tokens, not connected).
    pub fn refresh_due_at_ms(&self) -> Option<i64> {
        if self.state != ConnectionState::Connected || self.mode == ConnectionMode::ApiToken {
            return None;
        }
        let access = self.access_token_expires_at.map(|t| t - 600);
        let refresh = self.refresh_token_expires_at.map(|t| t - 3 * 86_400);
        [access, refresh].into_iter().flatten().min().map(|t| t * 1000)
    }
}

/// What a finished refresh records on the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshedTokens {
    pub access_token_expires_at: Option<i64>,
    pub refresh_token_expires_at: Option<i64>,
    pub refreshed_at: i64,
}

/// A bot's connection and settings, read together (one round trip).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotProfile {
    pub connection: Option<Connection>,
    pub settings: Option<BotSettings>,
}

#[async_trait]
pub trait BotStore: Send + Sync {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError>;
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError>;
    /// Saves settings only if the stored ones are still at `expected_version` (0: none saved
    /// yet); Conflict otherwise. The settings route's `If-Match`, enforced where it is written.
    async fn put_settings_if(
        &self,
        bot_id: &str,
        settings: &BotSettings,
        expected_version: u64,
    ) -> Result<(), StoreError>;
    /// Moves the connection to `state` if it is still at `expected_version` (a reconnect that
    /// landed meanwhile wins); Conflict otherwise.
    async fn set_connection_state(
        &self,
        bot_id: &str,
        expected_version: u64,
        state: ConnectionState,
    ) -> Result<(), StoreError>;

    /// Notes when the bot's webhook last delivered (for the diagnostics); no version change, no
    /// condition beyond the connection existing.
    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError>;

    /// Records the bot's webhook id (re-registered by the health check) if the connection is
    /// still at `expected_version`; Conflict otherwise.
    async fn set_webhook_id(&self, bot_id: &str, expected_version: u64, webhook_id: &str) -> Result<(), StoreError>;

    /// Marks the connection disconnected, clearing its lease and due time, if it is still at
    /// `expected_version` and no refresher holds a live lease at `now_ms` (Conflict otherwise).
    /// Once disconnected no refresher can start, so nothing writes tokens back afterwards.
    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError>;

    /// Takes the refresh lease of a connected connection for `holder` until `until_ms`, if no
    /// one else holds a live one at `now_ms`: the connection as it is now, or None when taken.
    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError>;

    /// Takes the refresh lease for `holder` until `until_ms` whoever holds it now, if the
    /// connection is still at `expected_version` (Conflict otherwise), and moves the version on:
    /// a reconnect's fence. A refresher that read the old version stores nothing afterwards.
    /// The connection as it is now.
    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError>;

    /// Records a refresh and releases the lease; Conflict when `holder` no longer holds it.
    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError>;

    /// Releases the lease without a refresh (a failure); harmless when no longer held.
    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError>;

    /// Connected connections due for a refresh at `now_ms`, soonest first (sparse index, no scan).
    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_modes_name_is_its_serde_name() {
        for mode in [ConnectionMode::Oauth, ConnectionMode::ClientCredentials, ConnectionMode::ApiToken] {
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
        }
    }
}
