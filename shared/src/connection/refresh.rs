//! Token refresh under a per-connection lease. Zendesk's refresh tokens are single use and
//! rotate: two refreshers racing with the same one lose the grant. So one refresher at a time
//! holds the connection's lease (a conditional write), re-reads the secret, refreshes, writes
//! the new pair to the secret store, and only then releases the lease. Anyone else who needs a
//! fresh token waits for the holder and reads what it wrote.
//!
//! Once Zendesk has answered a refresh, the new pair exists nowhere else: a refresh starts only
//! with a whole lease of time left, waits for the token endpoint as long as the lease allows,
//! and keeps trying to store the answer until shortly before the lease ends (no try outlives
//! it). A try that was stored though its answer was lost counts as stored: the next one finds
//! the new pair in place. It stores it only while the connection is still the one it read (a
//! reconnect takes the lease and wins), and an `invalid_grant` is final only if the stored pair
//! is still the one that was refused.

use std::time::Duration;

use tracing::{error, info, warn};
use url::Url;

use crate::deadline::{Deadline, now_ms};
use crate::store::*;
use crate::zendesk::oauth::{OAuthClient, TokenGrant};
use crate::zendesk::{Account, Credentials, ZendeskClient, ZendeskError};

/// How long a lease is held at most: one token call and the storing of its answer. A refresh
/// starts only when its caller has this much time left, so it is never cut off half-way.
pub const LEASE: Duration = Duration::from_secs(15);
/// The token call's share of the lease; the rest is kept for storing the new pair.
const TOKEN_CALL: Duration = Duration::from_secs(10);
/// The first and the longest wait between tries of the secret write.
const WRITE_BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));
/// Kept free at the end of the lease: a secret write is cut off this long before the lease ends
/// (and not tried again with less left), so it cannot land once someone else holds the lease.
const WRITE_MARGIN: Duration = Duration::from_secs(2);
/// How long a caller waits for another refresher at most.
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
    /// The caller has less than a lease of time left: it keeps the token it has.
    #[error("too little time left to refresh")]
    NoTime,
    /// A reconnect (or another writer) changed the connection meanwhile; this refresh's answer
    /// was discarded.
    #[error("the connection changed during the refresh")]
    Superseded,
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
    pub deferred: usize,
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
    /// Makes sure the bot holds a usable token and returns its secret. `deadline` is the
    /// caller's: without a whole lease of it left, nothing is started (`NoTime`).
    pub async fn refresh(&self, bot_id: &str, reason: Reason, deadline: Deadline) -> Result<BotSecret, RefreshError> {
        if deadline.remaining() < LEASE {
            return Err(RefreshError::NoTime);
        }
        let holder = holder();
        let lease = Deadline::after(LEASE);
        let start = now_ms();
        let lease_until = start + LEASE.as_millis() as i64;
        match self.stores.bots.acquire_refresh_lease(bot_id, &holder, start, lease_until).await? {
            Some(connection) => {
                let outcome = self.refresh_held(&connection, &holder, reason, lease).await;
                if outcome.is_err() {
                    // Harmless when the lease is no longer this holder's (a reconnect took it).
                    self.stores.bots.release_refresh_lease(bot_id, &holder).await?;
                }
                outcome
            }
            None => self.wait_for_holder(bot_id, deadline).await,
        }
    }

    async fn refresh_held(
        &self,
        connection: &Connection,
        holder: &str,
        reason: Reason,
        lease: Deadline,
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
        // The token endpoint may take its time; what is left of the lease after it is for the write.
        let token_call = Deadline::after(TOKEN_CALL.min(lease.remaining()));
        let granted = match &secret.credentials {
            StoredCredentials::Oauth { refresh_token: Some(refresh_token), .. } => {
                let client = self.stores.secrets.get_oauth_client().await?.ok_or(RefreshError::NotRefreshable)?;
                self.zendesk.refresh(&base, &client, refresh_token, token_call).await
            }
            StoredCredentials::ClientCredentials { client_id, client_secret, .. } => {
                let client = OAuthClient { client_id: client_id.clone(), client_secret: client_secret.clone() };
                self.zendesk.client_credentials(&base, &client, token_call).await
            }
            StoredCredentials::Oauth { refresh_token: None, .. } => {
                return Err(self.give_up(connection, "no_refresh_token").await);
            }
            StoredCredentials::ApiToken { .. } => return Err(RefreshError::NotRefreshable),
        };
        let own_client = matches!(secret.credentials, StoredCredentials::ClientCredentials { .. });
        let grant = match granted {
            Ok(grant) => grant,
            // The grant itself is dead (revoked, expired unused) — unless another writer rotated
            // it meanwhile (a refresher whose lease ran out, a reconnect): then its pair stands.
            Err(ZendeskError::OAuth { error, .. }) if error == "invalid_grant" => {
                if !self.fence_holds(connection, holder).await? {
                    return Err(RefreshError::Superseded);
                }
                self.stores.secrets.invalidate(bot_id);
                match self.stores.secrets.get_bot_secret(bot_id).await? {
                    Some(current) if !current.credentials.same_as(&secret.credentials) => {
                        info!(bot_id = %bot_id, "the refresh token was rotated by another writer; using the stored pair");
                        self.stores.bots.release_refresh_lease(bot_id, holder).await?;
                        return Ok(current);
                    }
                    _ => return Err(self.give_up(connection, &error).await),
                }
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
        let refreshed = self.store_grant(connection, holder, &secret, &grant, &base, lease).await?;
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

    /// Stores the new pair. The old refresh token is dead now, so this is the only copy: the
    /// write is tried again (with backoff) while the lease has more than `WRITE_MARGIN` left, and
    /// each try is cut off `WRITE_MARGIN` before the lease ends, so no write of this holder lands
    /// after another one took the lease. Each try first reads the secret as stored now: if it
    /// already holds the new pair, an earlier try was stored and only its answer was lost, and
    /// the write is done. Otherwise the connection and the stored credentials must still be the
    /// ones this refresh read; if a reconnect (or another writer) changed them, the new pair is
    /// discarded and revoked instead. What other writers changed meanwhile beside the credentials
    /// (the webhook and callback secrets) is kept.
    async fn store_grant(
        &self,
        connection: &Connection,
        holder: &str,
        used: &BotSecret,
        grant: &TokenGrant,
        base: &Url,
        lease: Deadline,
    ) -> Result<BotSecret, RefreshError> {
        let bot_id = &connection.bot_id;
        let renewed = renewed(used, grant);
        let mut wait = WRITE_BACKOFF.0;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let attempt = async {
                self.stores.secrets.invalidate(bot_id);
                let current = self.stores.secrets.get_bot_secret(bot_id).await?;
                if let Some(stored) = current.as_ref().filter(|c| c.credentials.same_as(&renewed.credentials)) {
                    return Ok::<_, StoreError>(Stored::Already(stored.clone()));
                }
                if !self.fence_holds(connection, holder).await? {
                    return Ok(Stored::Superseded);
                }
                let Some(current) = current.filter(|c| c.credentials.same_as(&used.credentials)) else {
                    return Ok(Stored::Superseded);
                };
                let mut refreshed = renewed.clone();
                // Until the health check moves them out, an older version's signing and
                // callback secrets ride along untouched (the webhook secret is not this one's).
                refreshed.legacy_signing_secret = current.legacy_signing_secret;
                refreshed.legacy_callback_secret = current.legacy_callback_secret;
                self.stores.secrets.put_bot_secret(bot_id, &refreshed).await?;
                Ok(Stored::Written(refreshed))
            };
            let budget = lease.remaining().saturating_sub(WRITE_MARGIN);
            let outcome = tokio::time::timeout(budget, attempt).await.unwrap_or_else(|_| {
                Err(StoreError::Unavailable("the secret write did not finish within the refresh lease".into()))
            });
            match outcome {
                Ok(Stored::Written(refreshed)) => return Ok(refreshed),
                Ok(Stored::Already(stored)) => {
                    info!(bot_id = %bot_id, tries, "an earlier try stored the new tokens; its answer was lost");
                    return Ok(stored);
                }
                Ok(Stored::Superseded) => {
                    warn!(bot_id = %bot_id, "the connection changed during the refresh; its tokens are discarded");
                    self.discard(base, grant).await;
                    return Err(RefreshError::Superseded);
                }
                Err(e) if lease.remaining() > wait + WRITE_MARGIN => {
                    warn!(bot_id = %bot_id, tries, error = %e, "could not store the new tokens yet; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(WRITE_BACKOFF.1);
                }
                Err(e) => {
                    // Not discarded: the last try may have been stored after all.
                    error!(bot_id = %bot_id, tries, error = %e, "could not store the new tokens before the lease ended");
                    return Err(e.into());
                }
            }
        }
    }

    /// True while the connection is the one this refresh read and its lease is still this holder's.
    async fn fence_holds(&self, read: &Connection, holder: &str) -> Result<bool, StoreError> {
        let now = self.stores.bots.load_profile(&read.bot_id).await?.connection;
        Ok(now.is_some_and(|c| {
            c.version == read.version
                && c.subdomain == read.subdomain
                && c.mode == read.mode
                && c.refresh_lease_holder.as_deref() == Some(holder)
        }))
    }

    /// Revokes tokens a superseded refresh got (best effort: they were never stored, and no one
    /// else has them).
    async fn discard(&self, base: &Url, grant: &TokenGrant) {
        let account = Account {
            base_url: base.clone(),
            credentials: Credentials::Bearer { access_token: grant.access_token.clone() },
        };
        if let Err(e) = self.zendesk.revoke_current(&account, Deadline::after(Duration::from_secs(5))).await {
            warn!(error = %e, "could not revoke the discarded tokens");
        }
    }

    /// Zendesk refused the grant for good: the connection needs a reconnect.
    async fn give_up(&self, connection: &Connection, reason: &str) -> RefreshError {
        crate::audit::reconnect_required(self.stores, connection, "refresh_failed", reason, "token-refresh").await;
        RefreshError::ReconnectRequired
    }

    /// Another refresher holds the lease: wait until it is done (within the caller's deadline),
    /// then read what it stored.
    async fn wait_for_holder(&self, bot_id: &str, deadline: Deadline) -> Result<BotSecret, RefreshError> {
        let waited = Deadline::after(WAIT.min(deadline.remaining()));
        loop {
            let connection = self.stores.bots.load_profile(bot_id).await?.connection;
            match connection {
                Some(c) if c.state == ConnectionState::ReconnectRequired => {
                    return Err(RefreshError::ReconnectRequired);
                }
                Some(c) if c.state == ConnectionState::Connected => {
                    let held = c.refresh_lease_until_ms.is_some_and(|until| until >= now_ms());
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

    /// The scheduled run: every connection due, each under its lease, while `run` (the
    /// function's remaining time) still allows a whole lease; the rest wait for the next run.
    pub async fn refresh_due(&self, limit: usize, run: Deadline) -> Result<RefreshSummary, StoreError> {
        let due = self.stores.bots.list_refresh_due(now_ms(), limit).await?;
        let mut summary = RefreshSummary::default();
        for (index, connection) in due.iter().enumerate() {
            match self.refresh(&connection.bot_id, Reason::Expiring, run).await {
                Ok(_) => summary.refreshed += 1,
                Err(RefreshError::NoTime) => {
                    summary.deferred = due.len() - index;
                    info!(deferred = summary.deferred, "stopping: too little time left for another refresh");
                    break;
                }
                Err(RefreshError::ReconnectRequired) => summary.reconnect_required += 1,
                Err(RefreshError::Busy | RefreshError::NotRefreshable | RefreshError::Superseded) => {
                    summary.skipped += 1
                }
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

/// What one try of the secret write found.
enum Stored {
    /// This try wrote the new pair.
    Written(BotSecret),
    /// The new pair was there already: an earlier try was stored, its answer lost.
    Already(BotSecret),
    /// The connection or its credentials changed: the new pair must not be stored.
    Superseded,
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
        legacy_signing_secret: secret.legacy_signing_secret.clone(),
        legacy_callback_secret: secret.legacy_callback_secret.clone(),
    }
}
