//! The one owner of "usable Zendesk credentials for a bot": read the stored secret, refresh an
//! OAuth token about to expire (under the connection's lease), read again and retry once after a
//! 401, and mark the connection `reconnect_required` when Zendesk still refuses. Escalation,
//! status lookups, ticket fields, diagnostics and the webhook health check all reach Zendesk
//! through here, so an expiring or rotated token is handled the same way on every path.

use std::future::Future;

use tracing::warn;
use url::Url;

use super::refresh::{REQUEST_MARGIN_SECONDS, Reason, RefreshError, Refresher};
use crate::deadline::Deadline;
use crate::settings::BotSettings;
use crate::store::{BotSecret, Connection, ConnectionMode, ConnectionState, StoreError, StoredCredentials, Stores};
use crate::zendesk::{Account, ZendeskClient, ZendeskError};

/// The Zendesk side of one bot: where to call and with what, and the connection it came from.
#[derive(Clone)]
pub struct BotAccount {
    pub account: Account,
    pub connection: Connection,
}

/// Why a bot has no usable credentials now.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("this bot is not connected to Zendesk")]
    NotConnected,
    #[error("this bot's Zendesk connection must be reconnected")]
    ReconnectRequired,
    /// Zendesk refused the token and it could not be renewed just now (too little time left,
    /// another refresher still at work, Zendesk or storage failing): not a reason to reconnect.
    #[error("the bot's Zendesk token could not be renewed just now: {0}")]
    RefreshDeferred(RefreshError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A call made through [`Accounts::call`]: the credentials or Zendesk failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Zendesk(ZendeskError),
}

/// Resolves bots' credentials; cheap to build per request (it only borrows).
pub struct Accounts<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    /// `HANDOFF_ZENDESK_BASE_URL`: talk to this instead of `https://{subdomain}.zendesk.com`.
    pub zendesk_base_url: Option<&'a Url>,
}

impl Accounts<'_> {
    /// The bot's connected account and settings: the profile and the secret are read at once
    /// (one round trip, not two, when the secret is not cached yet).
    pub async fn connected_account(
        &self,
        bot_id: &str,
        deadline: Deadline,
    ) -> Result<(BotAccount, BotSettings), AccountError> {
        let (secret, connected) = tokio::join!(self.secret(bot_id), self.connected(bot_id));
        let (connection, settings) = connected?;
        Ok((self.resolve_read(&connection, secret, deadline).await?, settings))
    }

    /// The bot's connection when it is connected, with its settings (defaults when unsaved).
    pub async fn connected(&self, bot_id: &str) -> Result<(Connection, BotSettings), AccountError> {
        let profile = self.stores.bots.load_profile(bot_id).await?;
        let settings = profile.settings.unwrap_or_default();
        match profile.connection {
            Some(c) if c.state == ConnectionState::Connected => Ok((c, settings)),
            Some(c) if c.state == ConnectionState::ReconnectRequired => Err(AccountError::ReconnectRequired),
            _ => Err(AccountError::NotConnected),
        }
    }

    /// The bot's account with usable credentials: an OAuth token about to expire is refreshed
    /// first. `deadline` bounds the refresh: one is started only when it leaves a whole lease.
    pub async fn resolve(&self, connection: &Connection, deadline: Deadline) -> Result<BotAccount, AccountError> {
        let secret = self.secret(&connection.bot_id).await;
        self.resolve_read(connection, secret, deadline).await
    }

    /// The bot's stored credentials (from the warm cache when there): read beside the profile
    /// and the conversation on a cold path, then handed to `resolve_read`.
    pub async fn secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        self.stores.secrets.get_bot_secret(bot_id).await
    }

    /// `resolve` with the secret already read (`secret`), so the first request after a cold
    /// start can read it at the same time as the profile.
    pub async fn resolve_read(
        &self,
        connection: &Connection,
        secret: Result<Option<BotSecret>, StoreError>,
        deadline: Deadline,
    ) -> Result<BotAccount, AccountError> {
        let mut secret = match secret? {
            Some(secret) => secret,
            // The profile says connected, yet no secret: perhaps a miss remembered from before a
            // connect made elsewhere. Read once more before giving up.
            None => {
                self.stores.secrets.invalidate(&connection.bot_id);
                self.secret(&connection.bot_id).await?.ok_or(AccountError::NotConnected)?
            }
        };
        let expires_at = match &secret.credentials {
            StoredCredentials::Oauth { access_token_expires_at, .. }
            | StoredCredentials::ClientCredentials { access_token_expires_at, .. } => *access_token_expires_at,
            StoredCredentials::ApiToken { .. } => None,
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if expires_at.is_some_and(|at| at <= now + REQUEST_MARGIN_SECONDS) {
            match self.refresher().refresh(&connection.bot_id, Reason::Expiring, deadline).await {
                Ok(fresh) => secret = fresh,
                Err(RefreshError::ReconnectRequired) => return Err(AccountError::ReconnectRequired),
                // A passing failure: try with the token we have; a 401 brings us to `reload`.
                Err(e) => warn!(bot_id = %connection.bot_id, error = %e, "could not refresh an expiring token"),
            }
        }
        self.account_from(connection, secret)
    }

    /// After a 401: drop the cached secret and read it again; if it is what was rejected and an
    /// OAuth refresh is possible, refresh under the lease. Some(account) when the credentials
    /// changed, so one more try is worth it; None when they are what Zendesk refused.
    pub async fn reload(&self, bot: &BotAccount, deadline: Deadline) -> Result<Option<BotAccount>, AccountError> {
        let bot_id = &bot.connection.bot_id;
        self.stores.secrets.invalidate(bot_id);
        let mut fresh = self.resolve(&bot.connection, deadline).await?;
        if fresh.account.credentials.same_as(&bot.account.credentials)
            && bot.connection.mode != ConnectionMode::ApiToken
        {
            match self.refresher().refresh(bot_id, Reason::Rejected, deadline).await {
                Ok(secret) => fresh = self.account_from(&bot.connection, secret)?,
                Err(RefreshError::ReconnectRequired) => return Err(AccountError::ReconnectRequired),
                // Refused but not renewed: a passing state, not a reason to reconnect.
                Err(e) => {
                    warn!(bot_id = %bot_id, error = %e, "could not refresh a rejected token");
                    return Err(AccountError::RefreshDeferred(e));
                }
            }
        }
        Ok((!fresh.account.credentials.same_as(&bot.account.credentials)).then_some(fresh))
    }

    /// Zendesk refused the stored credentials for good: marks the connection
    /// `reconnect_required` (conditional on the version read, so a reconnect that landed
    /// meanwhile wins, with an audit entry naming `actor`, the function that met it).
    pub async fn reconnect_required(&self, bot: &BotAccount, actor: &str) -> AccountError {
        crate::audit::reconnect_required(self.stores, &bot.connection, "credentials_rejected", "unauthorized", actor)
            .await;
        AccountError::ReconnectRequired
    }

    /// Runs `call` with the bot's credentials; after a 401, once more with credentials read (or
    /// refreshed) again, which replace `bot`'s for later calls; a second 401, or none to try,
    /// marks the connection `reconnect_required` in `actor`'s name.
    pub async fn call<T, F, Fut>(
        &self,
        bot: &mut BotAccount,
        actor: &str,
        deadline: Deadline,
        call: F,
    ) -> Result<T, CallError>
    where
        F: Fn(Account) -> Fut,
        Fut: Future<Output = Result<T, ZendeskError>>,
    {
        match call(bot.account.clone()).await {
            Err(ZendeskError::Unauthorized) => match self.reload(bot, deadline).await? {
                Some(fresh) => {
                    *bot = fresh;
                    match call(bot.account.clone()).await {
                        Err(ZendeskError::Unauthorized) => Err(self.reconnect_required(bot, actor).await.into()),
                        other => other.map_err(CallError::Zendesk),
                    }
                }
                None => Err(self.reconnect_required(bot, actor).await.into()),
            },
            other => other.map_err(CallError::Zendesk),
        }
    }

    fn account_from(&self, connection: &Connection, secret: BotSecret) -> Result<BotAccount, AccountError> {
        let credentials = secret.credentials.for_requests();
        // A stored subdomain that no longer parses cannot be called: only a reconnect fixes it.
        let base_url = Account::base_url(&connection.subdomain, self.zendesk_base_url)
            .map_err(|_| AccountError::ReconnectRequired)?;
        Ok(BotAccount { account: Account { base_url, credentials }, connection: connection.clone() })
    }

    fn refresher(&self) -> Refresher<'_> {
        Refresher { stores: self.stores, zendesk: self.zendesk, zendesk_base_url: self.zendesk_base_url }
    }
}
