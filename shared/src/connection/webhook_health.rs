//! The webhook health check (run by the sweeper): Zendesk deactivates webhooks that keep
//! failing, and an admin may delete or switch one off by hand; either way status and agent
//! replies would stop reaching the bot without anyone noticing. A deactivated webhook is
//! switched back on; a missing one is registered again and its new signing secret stored.
//! Each repair leaves an audit entry.

use std::time::Duration;

use tracing::{info, warn};

use super::service::Connector;
use crate::deadline::Deadline;
use crate::store::{ConnectionState, StoreError};
use crate::zendesk::Account;

/// What one check found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookHealth {
    Healthy,
    /// It was inactive and is active again.
    Reactivated,
    /// It was gone (or never registered) and is registered again.
    Reregistered {
        webhook_id: String,
    },
    /// The bot is not connected: nothing to check (the caller drops the schedule).
    NotConnected,
    /// Zendesk or storage failed; the next check tries again.
    Failed(String),
}

const BUDGET: Duration = Duration::from_secs(10);

impl Connector<'_> {
    /// Checks the bot's webhook at Zendesk and repairs it when needed.
    pub async fn check_webhook(&self, bot_id: &str) -> WebhookHealth {
        match self.check_webhook_inner(bot_id).await {
            Ok(health) => health,
            Err(e) => {
                warn!(bot_id, error = %e, "webhook health check failed");
                WebhookHealth::Failed(e.to_string())
            }
        }
    }

    async fn check_webhook_inner(&self, bot_id: &str) -> Result<WebhookHealth, super::ConnectError> {
        let deadline = Deadline::after(BUDGET);
        let profile = self.stores.bots.load_profile(bot_id).await?;
        let Some(connection) = profile.connection.filter(|c| c.state == ConnectionState::Connected) else {
            return Ok(WebhookHealth::NotConnected);
        };
        let Some(secret) = self.stores.secrets.get_bot_secret(bot_id).await? else {
            return Ok(WebhookHealth::NotConnected);
        };
        let base_url = self.config.account_base(&connection.subdomain)?;
        let account = Account { base_url, credentials: secret.credentials.for_requests() };
        if let Some(id) = &connection.webhook_id {
            match self.zendesk.webhook_status(&account, id, deadline).await.map_err(super::ConnectError::Zendesk)? {
                Some(status) if status == "active" => return Ok(WebhookHealth::Healthy),
                Some(status) => {
                    self.zendesk
                        .activate_webhook(&account, id, deadline)
                        .await
                        .map_err(super::ConnectError::Zendesk)?;
                    info!(bot_id, webhook_id = %id, previous = %status, "webhook reactivated");
                    self.audit_repair(bot_id, "webhook_reactivated", id).await;
                    return Ok(WebhookHealth::Reactivated);
                }
                None => {}
            }
        }
        // Gone, or never registered: register it again (ensure_webhook sees it missing too).
        let (Some(id), Some(signing_secret)) = self.ensure_webhook(bot_id, &account).await? else {
            return Ok(WebhookHealth::Failed("Zendesk did not register the webhook".into()));
        };
        // Store the signing secret before the id: a delivery signed with the new secret must verify.
        self.stores.secrets.invalidate(bot_id);
        let mut current = self.stores.secrets.get_bot_secret(bot_id).await?.ok_or(StoreError::Conflict)?;
        current.webhook_signing_secret = Some(signing_secret);
        self.stores.secrets.put_bot_secret(bot_id, &current).await?;
        match self.stores.bots.set_webhook_id(bot_id, connection.version, &id).await {
            Ok(()) => {}
            // A refresh or reconnect moved the version on: record the id on what is there now.
            Err(StoreError::Conflict) => {
                let now = self.stores.bots.load_profile(bot_id).await?.connection.ok_or(StoreError::Conflict)?;
                self.stores.bots.set_webhook_id(bot_id, now.version, &id).await?;
            }
            Err(e) => return Err(e.into()),
        }
        info!(bot_id, webhook_id = %id, "webhook registered again");
        self.audit_repair(bot_id, "webhook_reregistered", &id).await;
        Ok(WebhookHealth::Reregistered { webhook_id: id })
    }

    async fn audit_repair(&self, bot_id: &str, action: &str, webhook_id: &str) {
        crate::audit::record(
            self.stores.audit.as_ref(),
            bot_id,
            action,
            "ok",
            Some("sweeper"),
            &[("webhook_id", webhook_id)],
        )
        .await;
    }
}
