//! The webhook health check (run by the sweeper): Zendesk deactivates webhooks that keep
//! failing, and an admin may delete or switch one off by hand; either way status and agent
//! replies would stop reaching the bot without anyone noticing. A deactivated webhook is
//! switched back on; a missing one is registered again and its new signing secret stored.
//! Each repair leaves an audit entry. The check also moves a signing or callback secret left in
//! the combined secret by an older version into the webhook secret (see `secret_edit`).

use std::time::Duration;

use tracing::{info, warn};

use super::accounts::{AccountError, Accounts, CallError};
use super::secret_edit::{EditError, edit_webhook_secret, move_legacy_secrets};
use super::service::Connector;
use crate::deadline::Deadline;
use crate::store::{ConnectionState, StoreError};

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

/// Why a check failed when Zendesk refused the stored credentials.
const RECONNECT: &str = "Zendesk refused the stored credentials: the bot must be reconnected";

impl Connector<'_> {
    /// Checks the bot's webhook at Zendesk and repairs it when needed. `run` is the sweeper
    /// run's own time, which bounds a refresh of an expiring token (it needs a whole lease).
    pub async fn check_webhook(&self, bot_id: &str, run: Deadline) -> WebhookHealth {
        match self.check_webhook_inner(bot_id, run).await {
            Ok(health) => health,
            Err(e) => {
                warn!(bot_id, error = %e, "webhook health check failed");
                WebhookHealth::Failed(e.to_string())
            }
        }
    }

    async fn check_webhook_inner(&self, bot_id: &str, run: Deadline) -> Result<WebhookHealth, super::ConnectError> {
        let deadline = Deadline::after(BUDGET);
        let profile = self.stores.bots.load_profile(bot_id).await?;
        let Some(connection) = profile.connection.filter(|c| c.state == ConnectionState::Connected) else {
            return Ok(WebhookHealth::NotConnected);
        };
        // What is stored now: a refresher elsewhere may have rotated the token this Lambda cached.
        self.stores.secrets.invalidate(bot_id);
        let Some(secret) = self.stores.secrets.get_bot_secret(bot_id).await? else {
            return Ok(WebhookHealth::NotConnected);
        };
        if secret.holds_legacy() {
            move_legacy_secrets(self.stores, bot_id).await.map_err(edit_error)?;
        }
        let signing_known =
            self.stores.secrets.get_webhook_secret(bot_id).await?.is_some_and(|w| w.webhook_signing_secret.is_some());
        let accounts = Accounts {
            stores: self.stores,
            zendesk: self.zendesk,
            zendesk_base_url: self.config.zendesk_base_url.as_ref(),
        };
        let mut bot = match accounts.resolve(&connection, run).await {
            Ok(bot) => bot,
            Err(AccountError::NotConnected) => return Ok(WebhookHealth::NotConnected),
            // Kept scheduled: a reconnect landing now schedules its own check, which must stay; the
            // next run drops it if the bot is still not connected.
            Err(AccountError::ReconnectRequired) => return Ok(WebhookHealth::Failed(RECONNECT.into())),
            Err(AccountError::RefreshDeferred(e)) => return Ok(WebhookHealth::Failed(e.to_string())),
            Err(AccountError::Store(e)) => return Err(e.into()),
        };
        let zendesk = |e| super::ConnectError::Zendesk(e);
        // The first call retries once after a 401 with credentials read again; the rest use
        // whatever it settled on.
        let status = match &connection.webhook_id {
            Some(id) => {
                let status = accounts
                    .call(&mut bot, "sweeper", run, |account| async move {
                        self.zendesk.webhook_state(&account, id, deadline).await
                    })
                    .await;
                match status {
                    Ok(status) => status,
                    Err(CallError::Zendesk(e)) => return Err(zendesk(e)),
                    Err(CallError::Account(AccountError::Store(e))) => return Err(e.into()),
                    Err(CallError::Account(AccountError::RefreshDeferred(e))) => {
                        return Ok(WebhookHealth::Failed(e.to_string()));
                    }
                    Err(CallError::Account(AccountError::NotConnected)) => return Ok(WebhookHealth::NotConnected),
                    Err(CallError::Account(AccountError::ReconnectRequired)) => {
                        return Ok(WebhookHealth::Failed(RECONNECT.into()));
                    }
                }
            }
            None => None,
        };
        let account = bot.account;
        if let Some(id) = &connection.webhook_id {
            match status {
                // Registered, on and subscribed to every event; without its signing secret no
                // delivery would verify.
                Some(state) if state.status == "active" && state.subscribed && signing_known => {
                    return Ok(WebhookHealth::Healthy);
                }
                Some(state) => {
                    let status = state.status;
                    if !state.subscribed {
                        // Registered by an earlier version, before the handoff's life events.
                        self.zendesk.subscribe_webhook(&account, id, deadline).await.map_err(zendesk)?;
                        info!(bot_id, webhook_id = %id, "webhook subscribed to every event Handoff needs");
                    }
                    if status != "active" {
                        self.zendesk.activate_webhook(&account, id, deadline).await.map_err(zendesk)?;
                        info!(bot_id, webhook_id = %id, previous = %status, "webhook reactivated");
                    }
                    if !signing_known {
                        let signing =
                            self.zendesk.webhook_signing_secret(&account, id, deadline).await.map_err(zendesk)?;
                        self.store_signing_secret(bot_id, &connection.subdomain, signing).await?;
                        info!(bot_id, webhook_id = %id, "webhook signing secret stored");
                    }
                    self.audit_repair(bot_id, "webhook_reactivated", id).await;
                    return Ok(WebhookHealth::Reactivated);
                }
                None => {}
            }
        }
        // Gone, or never registered: register it again (ensure_webhook sees it missing too).
        let (Some(id), signing) = self.ensure_webhook(bot_id, &account).await? else {
            return Ok(WebhookHealth::Failed("Zendesk did not register the webhook".into()));
        };
        // Record the id even without its secret (the next check reads the secret), so a webhook
        // is never left at Zendesk unaccounted for.
        let recorded = async {
            if let Some(signing) = signing.clone() {
                // The signing secret before the id: a delivery signed with it must verify.
                self.store_signing_secret(bot_id, &connection.subdomain, signing).await?;
            }
            self.record_webhook_id(bot_id, connection.version, &id).await
        }
        .await;
        if let Err(e) = recorded {
            // Disconnected meanwhile (or storage failed): do not leave the new webhook behind.
            if let Err(delete) = self.zendesk.delete_webhook(&account, &id, deadline).await {
                warn!(bot_id, error = %delete, "could not delete the webhook just registered");
            }
            return Err(e);
        }
        if signing.is_none() {
            return Ok(WebhookHealth::Failed("the new webhook's signing secret could not be read".into()));
        }
        info!(bot_id, webhook_id = %id, "webhook registered again");
        self.audit_repair(bot_id, "webhook_reregistered", &id).await;
        Ok(WebhookHealth::Reregistered { webhook_id: id })
    }

    /// Stores a webhook signing secret under the refresh lease (see `secret_edit`).
    async fn store_signing_secret(
        &self,
        bot_id: &str,
        account: &str,
        signing: secrecy::SecretString,
    ) -> Result<(), super::ConnectError> {
        let holder = format!("webhook-check-{}", fastrand::u64(..));
        edit_webhook_secret(self.stores, bot_id, &holder, |stored| {
            stored.webhook_signing_secret = Some(signing);
            stored.account = Some(account.to_owned());
        })
        .await
        .map(|_| ())
        .map_err(edit_error)
    }

    /// Records the webhook id on the connection, on whatever version it has now.
    async fn record_webhook_id(&self, bot_id: &str, read_version: u64, id: &str) -> Result<(), super::ConnectError> {
        match self.stores.bots.set_webhook_id(bot_id, read_version, id).await {
            Ok(()) => Ok(()),
            // A refresh or reconnect moved the version on: record the id on what is there now.
            Err(StoreError::Conflict) => {
                let now = self.stores.bots.load_profile(bot_id).await?.connection;
                let now = now.filter(|c| c.state == ConnectionState::Connected).ok_or(StoreError::Conflict)?;
                Ok(self.stores.bots.set_webhook_id(bot_id, now.version, id).await?)
            }
            Err(e) => Err(e.into()),
        }
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

fn edit_error(e: EditError) -> super::ConnectError {
    match e {
        EditError::Store(e) => super::ConnectError::Store(e),
        EditError::Busy => super::ConnectError::Busy,
        EditError::NotConnected => super::ConnectError::Store(StoreError::Conflict),
    }
}
