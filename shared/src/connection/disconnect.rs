//! Disconnecting: under the refresh lease, remove the webhook at Zendesk, revoke an OAuth token,
//! delete the secrets and mark the connection disconnected.
use std::time::Duration;

use tracing::{info, warn};

use super::service::*;
use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::{Account, Credentials, ZendeskError};

impl Connector<'_> {
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
    pub(super) async fn remove_webhook(&self, subdomain: &str, secret: &BotSecret, webhook_id: &str) -> &'static str {
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
    pub(super) async fn revoke(&self, subdomain: &str, secret: BotSecret) -> &'static str {
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

    /// Takes the connection's refresh lease for a reconnect, whoever holds it; None when there
    /// is no connection yet. Retries when the version moved between the read and the take.
    pub(super) async fn take_lease(&self, bot_id: &str, holder: &str) -> Result<Option<Connection>, ConnectError> {
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
}
