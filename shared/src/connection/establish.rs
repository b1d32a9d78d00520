//! Connecting with an API token or client credentials, and what every way in ends with: verify
//! the user at Zendesk, register the webhook, store the secret and the connection under the
//! lease, audit.

use secrecy::SecretString;
use tracing::{info, warn};

use super::connect_oauth::{grant_error, oauth_secret};
use super::service::*;
use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::oauth::{OAuthClient, TokenGrant};
use crate::zendesk::subdomain::normalize_subdomain;
use crate::zendesk::types::User;
use crate::zendesk::{Account, Credentials, ZendeskError};

impl Connector<'_> {
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
        connection.zendesk_user_name = user.name.clone();
        connection.zendesk_user_email = user.email.clone();
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

    /// `users/me` must name a real agent or admin (it answers anonymous callers too).
    pub(super) async fn verify(&self, account: &Account, deadline: Deadline) -> Result<User, ConnectError> {
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
    pub(super) async fn save(
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
        connection.zendesk_user_name = user.name.clone();
        connection.zendesk_user_email = user.email.clone();
        self.store_connection(connection, secret, webhook_signing_secret, actor).await
    }

    /// Takes the refresh lease (whoever holds it), writes the webhook secret (the new signing
    /// secret, the callback secret kept), then the credentials secret, then the connection (which
    /// keeps its version history and frees the lease), then audits. Taking rather than waiting
    /// means a slow refresh of the old grant never holds a reconnect up, and the version it moves
    /// on fences that refresh out: it stores nothing (see `refresh::store_grant`).
    pub(super) async fn store_connection(
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
        let mode = connection.mode.as_str();
        info!(bot_id = %bot_id, mode = %mode, subdomain = %connection.subdomain, "connected");
        self.audit(&bot_id, "connected", "ok", actor, [("mode", mode), ("subdomain", connection.subdomain.as_str())])
            .await;
        Ok(status_of(Some(&connection)))
    }
}
