//! Connect, verify, report and disconnect a bot's Zendesk account.
//!
//! Every way in ends the same: the credentials are verified against `users/me` (a real user id
//! and an agent or admin role, since Zendesk answers anonymous callers too), stored in the bot's
//! secret, the connection recorded, and an audit entry written. No code, token, verifier or
//! client secret leaves this module except into the secret store.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use tracing::{info, warn};
use url::Url;

use super::oauth_flow::{self, STATE_TTL_SECONDS};
use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::oauth::{OAuthClient, TokenGrant};
use crate::zendesk::subdomain::{InvalidSubdomain, normalize_subdomain};
use crate::zendesk::types::User;
use crate::zendesk::{Account, Credentials, ZendeskClient, ZendeskError};

/// The date Zendesk switches every API token off.
pub const API_TOKEN_END: &str = "2027-04-30";
/// How long one Zendesk exchange may take inside a request.
const BUDGET: Duration = Duration::from_secs(15);
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
    pub warnings: Vec<String>,
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

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn random(e: getrandom::Error) -> ConnectError {
    ConnectError::Random(e.to_string())
}

impl Connector<'_> {
    /// `POST /v1/bots/{bot}/zendesk/connect`: state + PKCE stored for ten minutes.
    pub async fn start_oauth(
        &self,
        bot_id: &str,
        subdomain: &str,
        return_url: &str,
        actor: Option<&str>,
    ) -> Result<OAuthStart, ConnectError> {
        let subdomain = normalize_subdomain(subdomain)?;
        if !oauth_flow::return_url_allowed(return_url, &self.config.allowed_return_urls) {
            return Err(ConnectError::ReturnUrlNotAllowed);
        }
        let client = self.stores.secrets.get_oauth_client().await?.ok_or(ConnectError::OAuthNotConfigured)?;
        let state = oauth_flow::new_state().map_err(random)?;
        let (verifier, challenge) = oauth_flow::new_pkce().map_err(random)?;
        let expires_at = now() + STATE_TTL_SECONDS;
        let base = self.config.account_base(&subdomain)?;
        let url = oauth_flow::authorize_url(&base, &client.client_id, &self.config.redirect_uri(), &state, &challenge)
            .map_err(|_| ConnectError::InvalidSubdomain(InvalidSubdomain(subdomain.clone())))?;
        self.stores
            .oauth_states
            .put_state(&OAuthState {
                state,
                bot_id: bot_id.to_owned(),
                subdomain: subdomain.clone(),
                verifier: SecretString::from(verifier),
                return_url: return_url.to_owned(),
                expires_at,
            })
            .await?;
        self.audit(bot_id, "connect_started", "ok", actor, [("subdomain", subdomain.as_str())]).await;
        Ok(OAuthStart { authorize_url: url.to_string(), expires_at: rfc3339(expires_at) })
    }

    /// `GET /oauth/zendesk/callback`: consumes the state once, exchanges the code, verifies the
    /// user, stores the tokens, and sends the browser back with the outcome.
    pub async fn finish_oauth(&self, query: CallbackQuery) -> CallbackOutcome {
        let taken = match query.state.as_deref() {
            Some(state) if !state.is_empty() => self.stores.oauth_states.take_state(state, now()).await,
            _ => Ok(None),
        };
        let pending = match taken {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                warn!("OAuth callback with an unknown, used or expired state");
                return CallbackOutcome::InvalidState;
            }
            Err(e) => {
                warn!(error = %e, "could not read the OAuth state");
                return CallbackOutcome::InvalidState;
            }
        };
        let bot_id = pending.bot_id.clone();
        let outcome = match (query.error, query.code) {
            (Some(error), _) => Err(if error == "access_denied" { "access_denied" } else { "authorization_failed" }),
            (None, None) => Err("missing_code"),
            (None, Some(code)) => self.complete_oauth(&pending, &code).await,
        };
        let reason = match outcome {
            Ok(()) => "ok",
            Err(reason) => reason,
        };
        self.audit(&bot_id, "oauth_callback", reason, None, [("subdomain", pending.subdomain.as_str())]).await;
        CallbackOutcome::Redirect(oauth_flow::outcome_url(&pending.return_url, outcome))
    }

    async fn complete_oauth(&self, pending: &OAuthState, code: &SecretString) -> Result<(), &'static str> {
        let deadline = Deadline::after(BUDGET);
        let client = match self.stores.secrets.get_oauth_client().await {
            Ok(Some(client)) => client,
            _ => return Err("oauth_not_configured"),
        };
        let base = self.config.account_base(&pending.subdomain).map_err(|_| "invalid_subdomain")?;
        let grant = self
            .zendesk
            .exchange_code(&base, &client, code, &self.config.redirect_uri(), &pending.verifier, deadline)
            .await
            .map_err(|e| {
                warn!(error = %e, "OAuth code exchange failed");
                "exchange_failed"
            })?;
        let account =
            Account { base_url: base, credentials: Credentials::Bearer { access_token: grant.access_token.clone() } };
        let verified = self.verify(&account, deadline).await.map_err(|e| match e {
            ConnectError::NotAgent(_) => "not_agent",
            _ => "verification_failed",
        });
        let saved = match verified {
            Ok(user) => {
                let secret = oauth_secret(&grant);
                self.save(
                    &pending.bot_id,
                    &pending.subdomain,
                    ConnectionMode::Oauth,
                    &grant,
                    &user,
                    &account,
                    secret,
                    None,
                )
                .await
                .map(|_| ())
                .map_err(|_| "storage_failed")
            }
            Err(reason) => Err(reason),
        };
        if saved.is_err() {
            // Tokens that will not be used must not stay valid at Zendesk.
            self.revoke(&pending.subdomain, oauth_secret(&grant)).await;
        }
        saved
    }

    /// `PUT …/zendesk/connection` with `mode: api_token` (legacy).
    pub async fn connect_api_token(
        &self,
        bot_id: &str,
        subdomain: &str,
        email: &str,
        api_token: SecretString,
        actor: Option<&str>,
    ) -> Result<ConnectionStatus, ConnectError> {
        let subdomain = normalize_subdomain(subdomain)?;
        let base = self.config.account_base(&subdomain)?;
        let credentials = Credentials::ApiToken { email: email.to_owned(), token: api_token.clone() };
        let account = Account { base_url: base, credentials };
        let user = self.verify(&account, Deadline::after(BUDGET)).await?;
        let (webhook_id, webhook_signing_secret) = self.ensure_webhook(bot_id, &account).await?;
        let secret = BotSecret::new(StoredCredentials::ApiToken { email: email.to_owned(), api_token });
        let mut connection = Connection::new(bot_id, &subdomain, ConnectionMode::ApiToken);
        connection.zendesk_user_id = user.id;
        connection.webhook_id = webhook_id;
        self.store_connection(connection, secret, webhook_signing_secret, actor).await
    }

    /// `PUT …/zendesk/connection` with `mode: client_credentials`.
    pub async fn connect_client_credentials(
        &self,
        bot_id: &str,
        subdomain: &str,
        client: OAuthClient,
        actor: Option<&str>,
    ) -> Result<ConnectionStatus, ConnectError> {
        let subdomain = normalize_subdomain(subdomain)?;
        let base = self.config.account_base(&subdomain)?;
        let deadline = Deadline::after(BUDGET);
        let grant = self.zendesk.client_credentials(&base, &client, deadline).await.map_err(grant_error)?;
        let account =
            Account { base_url: base, credentials: Credentials::Bearer { access_token: grant.access_token.clone() } };
        let user = match self.verify(&account, deadline).await {
            Ok(user) => user,
            Err(e) => {
                self.revoke(&subdomain, oauth_secret(&grant)).await;
                return Err(e);
            }
        };
        let expires_at = grant.expires_in.map(|s| now() + s);
        let secret = BotSecret::new(StoredCredentials::ClientCredentials {
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone(),
            access_token: grant.access_token.clone(),
            access_token_expires_at: expires_at,
        });
        self.save(bot_id, &subdomain, ConnectionMode::ClientCredentials, &grant, &user, &account, secret, actor).await
    }

    /// `GET …/zendesk/connection`.
    pub async fn status(&self, bot_id: &str) -> Result<ConnectionStatus, ConnectError> {
        let profile = self.stores.bots.load_profile(bot_id).await?;
        Ok(status_of(profile.connection.as_ref()))
    }

    /// `DELETE …/zendesk/connection`: mark disconnected (once no refresher is at work, so none
    /// writes tokens back afterwards), revoke the stored token at Zendesk (best effort, outcome
    /// recorded), and always delete both secrets. Tickets in Zendesk stay. Harmless when repeated.
    pub async fn disconnect(&self, bot_id: &str, actor: Option<&str>) -> Result<ConnectionStatus, ConnectError> {
        let previous = self
            .settle_connection(bot_id, |connection, now_ms| async move {
                match connection.state {
                    ConnectionState::Disconnected => Ok(()),
                    _ => self.stores.bots.mark_disconnected(bot_id, connection.version, now_ms).await,
                }
            })
            .await?;
        // What is stored now, not a copy this Lambda cached before a refresh elsewhere.
        self.stores.secrets.invalidate(bot_id);
        let stored = self.stores.secrets.get_bot_secret(bot_id).await;
        // The webhook goes first, while the credentials still work.
        let webhook = match (&stored, &previous) {
            (Ok(Some(secret)), Some(Connection { webhook_id: Some(id), subdomain, .. })) => {
                self.remove_webhook(subdomain, secret, id).await
            }
            _ => "none",
        };
        let revoke = match (stored, &previous) {
            (Ok(Some(BotSecret { credentials: StoredCredentials::ApiToken { .. }, .. })), _) => "not_applicable",
            (Ok(Some(secret)), Some(connection)) => self.revoke(&connection.subdomain, secret).await,
            (Ok(Some(_)), None) => "no_connection",
            (Ok(None), _) => "no_secret",
            (Err(e), _) => {
                warn!(error = %e, "the bot's secret could not be read; deleting it regardless");
                "unreadable_secret"
            }
        };
        self.stores.secrets.delete_bot_secret(bot_id).await?;
        self.stores.outbox.remove_webhook_check(bot_id).await?;
        let changed =
            previous.as_ref().is_some_and(|c| c.state != ConnectionState::Disconnected) || revoke != "no_secret";
        if changed {
            info!(bot_id, revoke, "disconnected");
            let subdomain = previous.as_ref().map(|c| c.subdomain.clone()).unwrap_or_default();
            let detail = [("revoke", revoke), ("webhook", webhook), ("subdomain", subdomain.as_str())];
            self.audit(bot_id, "disconnected", "ok", actor, detail).await;
        }
        Ok(status_of(self.stores.bots.load_profile(bot_id).await?.connection.as_ref()))
    }

    /// Deletes the bot's webhook at Zendesk; the outcome for the audit trail.
    async fn remove_webhook(&self, subdomain: &str, secret: &BotSecret, webhook_id: &str) -> &'static str {
        let credentials = secret.credentials.for_requests();
        let Ok(base_url) = self.config.account_base(subdomain) else { return "failed" };
        match self.zendesk.delete_webhook(&Account { base_url, credentials }, webhook_id, Deadline::after(BUDGET)).await
        {
            Ok(()) => "deleted",
            Err(e) => {
                warn!(error = %e, "could not delete the webhook");
                "failed"
            }
        }
    }

    /// Revokes the access token in `secret` at Zendesk; the outcome for the audit trail.
    async fn revoke(&self, subdomain: &str, secret: BotSecret) -> &'static str {
        let access_token = match secret.credentials {
            StoredCredentials::Oauth { access_token, .. }
            | StoredCredentials::ClientCredentials { access_token, .. } => access_token,
            StoredCredentials::ApiToken { .. } => return "not_applicable",
        };
        let Ok(base) = self.config.account_base(subdomain) else { return "failed" };
        let account = Account { base_url: base, credentials: Credentials::Bearer { access_token } };
        match self.zendesk.revoke_current(&account, Deadline::after(BUDGET)).await {
            Ok(()) => "revoked",
            Err(ZendeskError::Unauthorized) => "already_invalid",
            Err(e) => {
                warn!(error = %e, "token revocation failed; the secret is deleted regardless");
                "failed"
            }
        }
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

    /// Takes the connection's refresh lease for a reconnect, whoever holds it; None when there
    /// is no connection yet. Retries when the version moved between the read and the take.
    async fn take_lease(&self, bot_id: &str, holder: &str) -> Result<Option<Connection>, ConnectError> {
        for _ in 0..5 {
            let Some(current) = self.stores.bots.load_profile(bot_id).await?.connection else { return Ok(None) };
            let until = (now() * 1000) + crate::connection::refresh::LEASE.as_millis() as i64;
            match self.stores.bots.take_refresh_lease(bot_id, holder, current.version, until).await {
                Ok(taken) => return Ok(Some(taken)),
                Err(StoreError::Conflict) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ConnectError::Busy)
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

    /// `users/me` must name a real agent or admin (it answers anonymous callers too).
    async fn verify(&self, account: &Account, deadline: Deadline) -> Result<User, ConnectError> {
        let user = self.zendesk.me(account, deadline).await.map_err(|e| match e {
            ZendeskError::Unauthorized | ZendeskError::Forbidden(_) => ConnectError::CredentialsRejected,
            ZendeskError::NotFound => ConnectError::UnknownSubdomain,
            ZendeskError::Transport(ref m) if m.starts_with("connection failed") => ConnectError::UnknownSubdomain,
            e => ConnectError::Zendesk(e),
        })?;
        match (user.id, user.role.as_deref()) {
            (Some(_), Some("agent" | "admin")) => Ok(user),
            (None, _) => Err(ConnectError::CredentialsRejected),
            (Some(_), role) => Err(ConnectError::NotAgent(role.unwrap_or("unknown").to_owned())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn save(
        &self,
        bot_id: &str,
        subdomain: &str,
        mode: ConnectionMode,
        grant: &TokenGrant,
        user: &User,
        account: &Account,
        secret: BotSecret,
        actor: Option<&str>,
    ) -> Result<ConnectionStatus, ConnectError> {
        let (webhook_id, webhook_signing_secret) = self.ensure_webhook(bot_id, account).await?;
        let now = now();
        let mut connection = Connection::new(bot_id, subdomain, mode);
        connection.webhook_id = webhook_id;
        connection.scopes = grant.scope.as_deref().unwrap_or("").split_whitespace().map(str::to_owned).collect();
        connection.access_token_expires_at = grant.expires_in.map(|s| now + s);
        connection.refresh_token_expires_at = grant.refresh_token_expires_in.map(|s| now + s);
        connection.zendesk_user_id = user.id;
        self.store_connection(connection, secret, webhook_signing_secret, actor).await
    }

    /// Takes the refresh lease (whoever holds it), writes the webhook secret (the new signing
    /// secret, the callback secret kept), then the credentials secret, then the connection (which
    /// keeps its version history and frees the lease), then audits. Taking rather than waiting
    /// means a slow refresh of the old grant never holds a reconnect up, and the version it moves
    /// on fences that refresh out: it stores nothing (see `refresh::store_grant`).
    async fn store_connection(
        &self,
        mut connection: Connection,
        secret: BotSecret,
        signing_secret: Option<SecretString>,
        actor: Option<&str>,
    ) -> Result<ConnectionStatus, ConnectError> {
        let bot_id = connection.bot_id.clone();
        let holder = format!("reconnect-{:016x}", fastrand::u64(..));
        let taken = self.take_lease(&bot_id, &holder).await?;
        connection.version = taken.as_ref().map_or(1, |p| p.version + 1);
        let written = async {
            // Moving to another Zendesk account: ticket ids there name other tickets, so records
            // from before accounts were kept are stamped with the old one first (the claim ends
            // the old account's episodes as each conversation comes back).
            if let Some(previous) = taken.as_ref().filter(|p| p.subdomain != connection.subdomain) {
                let stamped = self.stores.conversations.assign_account(&bot_id, &previous.subdomain).await?;
                info!(bot_id = %bot_id, from = %previous.subdomain, to = %connection.subdomain, stamped, "moving to another Zendesk account");
            }
            // A reconnect keeps the callback secret the bot already verifies with, wherever it
            // is kept now: the webhook secret, or (written by an older version) the credentials
            // secret, which this write then leaves without it.
            self.stores.secrets.invalidate(&bot_id);
            let mut callback_secret =
                self.stores.secrets.get_webhook_secret(&bot_id).await?.and_then(|w| w.callback_secret);
            if callback_secret.is_none() {
                callback_secret =
                    self.stores.secrets.get_bot_secret(&bot_id).await?.and_then(|old| old.legacy_callback_secret);
            }
            let webhook = WebhookSecret {
                webhook_signing_secret: signing_secret,
                callback_secret,
                account: Some(connection.subdomain.clone()),
            };
            self.stores.secrets.put_webhook_secret(&bot_id, &webhook).await?;
            self.stores.secrets.put_bot_secret(&bot_id, &secret).await?;
            self.stores.bots.put_connection(&connection).await
        }
        .await;
        if let Err(e) = written {
            if taken.is_some() {
                let _ = self.stores.bots.release_refresh_lease(&bot_id, &holder).await;
            }
            return Err(e.into());
        }
        // A refresher that passed its last check just before the lease was taken may have
        // written the old account's tokens over these: read back, and write again if so.
        self.stores.secrets.invalidate(&bot_id);
        let stored = self.stores.secrets.get_bot_secret(&bot_id).await?;
        if !stored.is_some_and(|s| s.credentials.same_as(&secret.credentials)) {
            warn!(bot_id = %bot_id, "a refresh wrote over the new credentials; writing them again");
            self.stores.secrets.put_bot_secret(&bot_id, &secret).await?;
        }
        let first_check = (now() + WEBHOOK_CHECK_INTERVAL.as_secs() as i64) * 1000;
        if let Err(e) = self.stores.outbox.schedule_webhook_check(&bot_id, first_check).await {
            warn!(error = %e, "could not schedule the webhook health check");
        }
        let mode =
            serde_json::to_value(connection.mode).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        info!(bot_id = %bot_id, mode = %mode, subdomain = %connection.subdomain, "connected");
        self.audit(
            &bot_id,
            "connected",
            "ok",
            actor,
            [("mode", mode.as_str()), ("subdomain", connection.subdomain.as_str())],
        )
        .await;
        Ok(status_of(Some(&connection)))
    }

    /// Appends to the audit trail; a failure is logged, never fatal to the action audited.
    async fn audit<const N: usize>(
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

fn grant_error(e: ZendeskError) -> ConnectError {
    match e {
        ZendeskError::OAuth { .. } | ZendeskError::Unauthorized => ConnectError::CredentialsRejected,
        ZendeskError::NotFound => ConnectError::UnknownSubdomain,
        ZendeskError::Transport(ref m) if m.starts_with("connection failed") => ConnectError::UnknownSubdomain,
        e => ConnectError::Zendesk(e),
    }
}

fn oauth_secret(grant: &TokenGrant) -> BotSecret {
    BotSecret::new(StoredCredentials::Oauth {
        access_token: grant.access_token.clone(),
        refresh_token: grant.refresh_token.clone(),
        access_token_expires_at: grant.expires_in.map(|s| now() + s),
    })
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
        warnings,
    }
}
