//! Token refresh under a per-connection lease. Zendesk's refresh tokens are single use and
//! rotate: two refreshers racing with the same one lose the grant. So one refresher at a time
//! holds the connection's lease (a conditional write), re-reads the secret, refreshes, writes
//! the new pair to the secret store, and only then releases the lease. Anyone else who needs a
//! fresh token waits for the holder and reads what it wrote.

use std::time::Duration;

use tracing::{info, warn};
use url::Url;

use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::oauth::{OAuthClient, TokenGrant};
use crate::zendesk::{Account, ZendeskClient, ZendeskError};

/// How long a lease is held at most (longer than one token call with its timeouts).
const LEASE: Duration = Duration::from_secs(60);
/// How long a caller waits for another refresher before giving up.
const WAIT: Duration = Duration::from_secs(8);
/// A request path refreshes a token that expires sooner than this.
pub const REQUEST_MARGIN_SECONDS: i64 = 60;
/// A refresh this recent makes a forced refresh unnecessary (the 401 came from an older token).
const RECENT_SECONDS: i64 = 60;

/// Why a refresh is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The schedule, or a request path that saw the token near its expiry: refresh only if still needed.
    Expiring,
    /// Zendesk answered 401 to the stored token: refresh unless someone just did.
    Rejected,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("Zendesk refused the refresh: the bot must be reconnected")]
    ReconnectRequired,
    #[error("this connection has no token to refresh")]
    NotRefreshable,
    #[error("another refresher did not finish in time")]
    Busy,
    #[error("Zendesk is unavailable: {0}")]
    Zendesk(ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one scheduled run did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct RefreshSummary {
    pub refreshed: usize,
    pub reconnect_required: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub struct Refresher<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    pub zendesk_base_url: Option<&'a Url>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn holder() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn needs_refresh(connection: &Connection, reason: Reason, now: i64) -> bool {
    match reason {
        Reason::Rejected => connection.last_refresh_at.is_none_or(|at| at < now - RECENT_SECONDS),
        Reason::Expiring => connection.refresh_due_at_ms().is_some_and(|due| due <= now * 1000),
    }
}

impl Refresher<'_> {
    /// Makes sure the bot holds a usable token and returns its secret.
    pub async fn refresh(&self, bot_id: &str, reason: Reason, deadline: Deadline) -> Result<BotSecret, RefreshError> {
        let holder = holder();
        let start = now();
        let lease_until = (start * 1000) + LEASE.as_millis() as i64;
        match self.stores.bots.acquire_refresh_lease(bot_id, &holder, start * 1000, lease_until).await? {
            Some(connection) => {
                let outcome = self.refresh_held(&connection, &holder, reason, deadline).await;
                if outcome.is_err() {
                    self.stores.bots.release_refresh_lease(bot_id, &holder).await?;
                }
                outcome
            }
            None => self.wait_for_holder(bot_id).await,
        }
    }

    async fn refresh_held(
        &self,
        connection: &Connection,
        holder: &str,
        reason: Reason,
        deadline: Deadline,
    ) -> Result<BotSecret, RefreshError> {
        let bot_id = &connection.bot_id;
        // What the last holder wrote, not what this Lambda cached.
        self.stores.secrets.invalidate(bot_id);
        let secret = self.stores.secrets.get_bot_secret(bot_id).await?.ok_or(RefreshError::NotRefreshable)?;
        if !needs_refresh(connection, reason, now()) {
            self.stores.bots.release_refresh_lease(bot_id, holder).await?;
            return Ok(secret);
        }
        let base = Account::base_url(&connection.subdomain, self.zendesk_base_url).map_err(RefreshError::Zendesk)?;
        let granted = match &secret.credentials {
            StoredCredentials::Oauth { refresh_token: Some(refresh_token), .. } => {
                let client = self.stores.secrets.get_oauth_client().await?.ok_or(RefreshError::NotRefreshable)?;
                self.zendesk.refresh(&base, &client, refresh_token, deadline).await
            }
            StoredCredentials::ClientCredentials { client_id, client_secret, .. } => {
                let client = OAuthClient { client_id: client_id.clone(), client_secret: client_secret.clone() };
                self.zendesk.client_credentials(&base, &client, deadline).await
            }
            StoredCredentials::Oauth { refresh_token: None, .. } => {
                return Err(self.give_up(connection, "no_refresh_token").await);
            }
            StoredCredentials::ApiToken { .. } => return Err(RefreshError::NotRefreshable),
        };
        let own_client = matches!(secret.credentials, StoredCredentials::ClientCredentials { .. });
        let grant = match granted {
            Ok(grant) => grant,
            // The grant itself is dead (revoked, expired unused): only a reconnect helps.
            Err(ZendeskError::OAuth { error, .. }) if error == "invalid_grant" => {
                return Err(self.give_up(connection, &error).await);
            }
            // The bot's own client (client credentials) was refused: its settings are wrong.
            Err(e @ (ZendeskError::OAuth { .. } | ZendeskError::Unauthorized)) if own_client => {
                return Err(self.give_up(connection, &e.to_string()).await);
            }
            // The app's client was refused (rotated secret?): a deployment problem, not the bot's.
            // Keep the connection; read the client again next time.
            Err(e @ (ZendeskError::OAuth { .. } | ZendeskError::Unauthorized)) => {
                self.stores.secrets.invalidate_oauth_client();
                tracing::error!(bot_id = %bot_id, error = %e, "Zendesk refused the app's OAuth client; check {{prefix}}app/zendesk-oauth");
                self.audit(bot_id, "refresh_failed", "app_client_rejected", &e.to_string()).await;
                return Err(RefreshError::Zendesk(e));
            }
            Err(e) => {
                warn!(bot_id = %bot_id, error = %e, "token refresh failed; the next run retries");
                self.audit(bot_id, "refresh_failed", "transient", &e.to_string()).await;
                return Err(RefreshError::Zendesk(e));
            }
        };
        // Keep what other writers changed meanwhile (they edit under this lease, but a reconnect
        // or an older writer may not have): only the credentials are this refresh's to write.
        self.stores.secrets.invalidate(bot_id);
        let current = match self.stores.secrets.get_bot_secret(bot_id).await {
            Ok(Some(current)) => current,
            _ => secret.clone(),
        };
        let mut refreshed = renewed(&secret, &grant);
        refreshed.webhook_signing_secret = current.webhook_signing_secret;
        refreshed.callback_secret = current.callback_secret;
        // The new pair is stored before the lease is released: the old refresh token is dead now,
        // so losing this write would lose the grant. Try it a few times.
        let mut stored = self.stores.secrets.put_bot_secret(bot_id, &refreshed).await;
        for _ in 0..2 {
            if stored.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            stored = self.stores.secrets.put_bot_secret(bot_id, &refreshed).await;
        }
        stored?;
        let at = now();
        let record = RefreshedTokens {
            access_token_expires_at: grant.expires_in.map(|s| at + s),
            refresh_token_expires_at: grant.refresh_token_expires_in.map(|s| at + s),
            refreshed_at: at,
        };
        match self.stores.bots.finish_refresh(bot_id, holder, &record).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                warn!(bot_id = %bot_id, "refresh lease expired before the refresh was recorded")
            }
            Err(e) => return Err(e.into()),
        }
        info!(bot_id = %bot_id, "tokens refreshed");
        Ok(refreshed)
    }

    /// Zendesk refused the grant for good: the connection needs a reconnect.
    async fn give_up(&self, connection: &Connection, reason: &str) -> RefreshError {
        crate::audit::reconnect_required(self.stores, connection, "refresh_failed", reason, "token-refresh").await;
        RefreshError::ReconnectRequired
    }

    /// Another refresher holds the lease: wait until it is done, then read what it stored.
    async fn wait_for_holder(&self, bot_id: &str) -> Result<BotSecret, RefreshError> {
        let waited = Deadline::after(WAIT);
        loop {
            let connection = self.stores.bots.load_profile(bot_id).await?.connection;
            match connection {
                Some(c) if c.state == ConnectionState::ReconnectRequired => {
                    return Err(RefreshError::ReconnectRequired);
                }
                Some(c) if c.state == ConnectionState::Connected => {
                    let held = c.refresh_lease_until_ms.is_some_and(|until| until >= now() * 1000);
                    if !held {
                        self.stores.secrets.invalidate(bot_id);
                        return self.stores.secrets.get_bot_secret(bot_id).await?.ok_or(RefreshError::NotRefreshable);
                    }
                }
                _ => return Err(RefreshError::NotRefreshable),
            }
            if waited.expired() {
                return Err(RefreshError::Busy);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The scheduled run: every connection due, each under its lease.
    pub async fn refresh_due(&self, limit: usize) -> Result<RefreshSummary, StoreError> {
        let due = self.stores.bots.list_refresh_due(now() * 1000, limit).await?;
        let mut summary = RefreshSummary::default();
        for connection in due {
            match self.refresh(&connection.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(15))).await {
                Ok(_) => summary.refreshed += 1,
                Err(RefreshError::ReconnectRequired) => summary.reconnect_required += 1,
                Err(RefreshError::Busy | RefreshError::NotRefreshable) => summary.skipped += 1,
                Err(_) => summary.failed += 1,
            }
        }
        Ok(summary)
    }

    async fn audit(&self, bot_id: &str, action: &str, outcome: &str, note: &str) {
        crate::audit::record(
            self.stores.audit.as_ref(),
            bot_id,
            action,
            outcome,
            Some("token-refresh"),
            &[("note", note)],
        )
        .await;
    }
}

/// The secret after a grant: the new access token, and the new refresh token (rotation), keeping
/// the old one only when Zendesk sent none.
fn renewed(secret: &BotSecret, grant: &TokenGrant) -> BotSecret {
    let expires_at = grant.expires_in.map(|s| now() + s);
    let credentials = match &secret.credentials {
        StoredCredentials::ClientCredentials { client_id, client_secret, .. } => StoredCredentials::ClientCredentials {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            access_token: grant.access_token.clone(),
            access_token_expires_at: expires_at,
        },
        StoredCredentials::Oauth { refresh_token, .. } => StoredCredentials::Oauth {
            access_token: grant.access_token.clone(),
            refresh_token: grant.refresh_token.clone().or_else(|| refresh_token.clone()),
            access_token_expires_at: expires_at,
        },
        other => other.clone(),
    };
    BotSecret {
        credentials,
        webhook_signing_secret: secret.webhook_signing_secret.clone(),
        callback_secret: secret.callback_secret.clone(),
    }
}
