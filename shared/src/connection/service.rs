//! Connect, verify, report and disconnect a bot's Zendesk account.
//!
//! Every way in ends the same: the credentials are verified against `users/me` (a real user id
//! and an agent or admin role, since Zendesk answers anonymous callers too), stored in the bot's
//! secret, the connection recorded, and an audit entry written. No code, token, verifier or
//! client secret leaves this module except into the secret store.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use tracing::warn;
use url::Url;

use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::subdomain::InvalidSubdomain;
use crate::zendesk::{Account, ZendeskClient, ZendeskError};

/// The date Zendesk switches every API token off.
pub const API_TOKEN_END: &str = "2027-04-30";
/// How long one Zendesk exchange may take inside a request.
pub(super) const BUDGET: Duration = Duration::from_secs(15);
/// How often the sweeper checks that Zendesk still has (and runs) each bot's webhook.
pub const WEBHOOK_CHECK_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Where the service lives and where browsers may be sent back to.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// `HANDOFF_PUBLIC_BASE_URL`: the redirect URI is `{base}/oauth/zendesk/callback`.
    pub public_base_url: Url,
    /// `HANDOFF_ALLOWED_RETURN_URLS`: the only places an admin's browser is sent back to.
    pub allowed_return_urls: Vec<Url>,
    /// `HANDOFF_ZENDESK_BASE_URL`, if set.
    pub zendesk_base_url: Option<Url>,
}

impl ConnectConfig {
    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/zendesk/callback", self.public_base_url.as_str().trim_end_matches('/'))
    }

    /// Where an admin's browser may be sent back to after OAuth: the allow-list, and Handoff's
    /// own page that reports the outcome to the console's popup opener (`/console/oauth-done`).
    pub fn return_url_allowed(&self, candidate: &str) -> bool {
        let base = self.public_base_url.as_str().trim_end_matches('/');
        let own = Url::parse(&format!("{base}{}", super::oauth_flow::CONSOLE_OAUTH_LANDING));
        // Exactly the page: a query of the caller's (`?zendesk=connected`) would be read before the outcome.
        let exact_own = own.is_ok_and(|own| {
            Url::parse(candidate).is_ok_and(|c| {
                c.origin() == own.origin() && c.path() == own.path() && c.query().is_none() && c.fragment().is_none()
            })
        });
        exact_own || super::oauth_flow::return_url_allowed(candidate, &self.allowed_return_urls)
    }

    pub(crate) fn account_base(&self, subdomain: &str) -> Result<Url, ConnectError> {
        Account::base_url(subdomain, self.zendesk_base_url.as_ref())
            .map_err(|_| ConnectError::InvalidSubdomain(InvalidSubdomain(subdomain.to_owned())))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    InvalidSubdomain(#[from] InvalidSubdomain),
    #[error("return_url is not on this deployment's allow-list of return URLs")]
    ReturnUrlNotAllowed,
    #[error("the app's Zendesk OAuth client is not configured in Secrets Manager")]
    OAuthNotConfigured,
    #[error("Zendesk did not accept these credentials")]
    CredentialsRejected,
    #[error("the Zendesk user is not an agent or admin (role: {0})")]
    NotAgent(String),
    #[error("no Zendesk account answers at this subdomain")]
    UnknownSubdomain,
    #[error("Zendesk is unavailable: {0}")]
    Zendesk(ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not make a random value: {0}")]
    Random(String),
    #[error("a token refresh for this bot is in progress; try again in a few seconds")]
    Busy,
}

/// What the connection routes report; never a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ConnectionMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refresh_at: Option<String>,
    /// The Zendesk user the bot acts as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ConnectedUser>,
    pub warnings: Vec<String>,
}

/// Who the bot acts as in Zendesk, as Zendesk gave it when the bot connected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectedUser {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The authorize URL to send the admin's browser to.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthStart {
    pub authorize_url: String,
    pub expires_at: String,
}

/// The callback's query parameters.
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<SecretString>,
    pub error: Option<String>,
}

/// Where the callback sends the browser, or why it cannot (no valid `state`: no known return URL).
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    Redirect(String),
    InvalidState,
}

pub struct Connector<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    pub config: &'a ConnectConfig,
}

pub(super) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(super) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub(super) fn random(e: getrandom::Error) -> ConnectError {
    ConnectError::Random(e.to_string())
}

impl Connector<'_> {
    /// `GET …/zendesk/connection`.
    pub async fn status(&self, bot_id: &str) -> Result<ConnectionStatus, ConnectError> {
        let profile = self.stores.bots.load_profile(bot_id).await?;
        Ok(status_of(profile.connection.as_ref()))
    }

    /// Waits (up to a few seconds) until no refresher holds the connection's lease, then runs
    /// `change` on the connection as read; retries when it lost a race. The connection as it was.
    pub(super) async fn settle_connection<F, Fut>(
        &self,
        bot_id: &str,
        change: F,
    ) -> Result<Option<Connection>, ConnectError>
    where
        F: Fn(Connection, i64) -> Fut,
        Fut: std::future::Future<Output = Result<(), StoreError>>,
    {
        let waited = Deadline::after(Duration::from_secs(8));
        loop {
            let Some(connection) = self.stores.bots.load_profile(bot_id).await?.connection else { return Ok(None) };
            let now_ms = now() * 1000;
            let leased = connection.refresh_lease_until_ms.is_some_and(|until| until >= now_ms);
            if !leased {
                match change(connection.clone(), now_ms).await {
                    Ok(()) => return Ok(Some(connection)),
                    Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if waited.expired() {
                return Err(ConnectError::Busy);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The bot's one webhook at this account: the one registered before if Zendesk still has it,
    /// else a new one; with its signing secret. A failure leaves the connection without one (its
    /// status warns) rather than failing the connect.
    pub(super) async fn ensure_webhook(
        &self,
        bot_id: &str,
        account: &Account,
    ) -> Result<(Option<String>, Option<SecretString>), ConnectError> {
        let deadline = Deadline::after(BUDGET);
        let previous = self.stores.bots.load_profile(bot_id).await?.connection.and_then(|c| c.webhook_id);
        let existing = match previous {
            Some(id) => match self.zendesk.webhook_exists(account, &id, deadline).await {
                Ok(true) => Some(id),
                Ok(false) => None,
                Err(e) => {
                    warn!(error = %e, "could not check the registered webhook; registering another");
                    None
                }
            },
            None => None,
        };
        let id = match existing {
            Some(id) => id,
            None => {
                let base = self.config.public_base_url.as_str().trim_end_matches('/').to_owned();
                let endpoint = format!("{base}/webhooks/zendesk/{bot_id}");
                match self.zendesk.create_webhook(account, &endpoint, deadline).await {
                    Ok(id) => id,
                    Err(e) => {
                        warn!(error = %e, "could not register the webhook");
                        return Ok((None, None));
                    }
                }
            }
        };
        match self.zendesk.webhook_signing_secret(account, &id, deadline).await {
            Ok(secret) => Ok((Some(id), Some(secret))),
            Err(e) => {
                warn!(error = %e, "could not read the webhook's signing secret");
                Ok((Some(id), None))
            }
        }
    }

    /// Appends to the audit trail; a failure is logged, never fatal to the action audited.
    pub(super) async fn audit<const N: usize>(
        &self,
        bot_id: &str,
        action: &str,
        outcome: &str,
        actor: Option<&str>,
        detail: [(&str, &str); N],
    ) {
        crate::audit::record(self.stores.audit.as_ref(), bot_id, action, outcome, actor, &detail).await;
    }
}

/// The status answer for a connection (or its absence).
pub fn status_of(connection: Option<&Connection>) -> ConnectionStatus {
    let Some(c) = connection else {
        return ConnectionStatus {
            state: ConnectionState::Disconnected,
            mode: None,
            subdomain: None,
            scopes: Vec::new(),
            access_token_expires_at: None,
            refresh_token_expires_at: None,
            last_refresh_at: None,
            user: None,
            warnings: Vec::new(),
        };
    };
    let mut warnings = Vec::new();
    if c.mode == ConnectionMode::ApiToken && c.state != ConnectionState::Disconnected {
        warnings.push(format!(
            "API tokens are deprecated: Zendesk switches every API token off on {API_TOKEN_END}. Connect with OAuth instead."
        ));
    }
    if c.state == ConnectionState::Connected && c.webhook_id.is_none() {
        warnings.push(
            "No Zendesk webhook is registered: ticket status and agent replies will not reach the bot until it is \
             (reconnect, or check that the connection may manage webhooks)."
                .to_owned(),
        );
    }
    if c.state == ConnectionState::ReconnectRequired {
        warnings.push("Zendesk no longer accepts this connection's authorization: reconnect the bot.".to_owned());
    }
    ConnectionStatus {
        state: c.state,
        mode: Some(c.mode),
        subdomain: Some(c.subdomain.clone()),
        scopes: c.scopes.clone(),
        access_token_expires_at: c.access_token_expires_at.map(rfc3339),
        refresh_token_expires_at: c.refresh_token_expires_at.map(rfc3339),
        last_refresh_at: c.last_refresh_at.map(rfc3339),
        user: c.zendesk_user_id.map(|id| ConnectedUser {
            id,
            name: c.zendesk_user_name.clone(),
            email: c.zendesk_user_email.clone(),
        }),
        warnings,
    }
}
