//! Changing the bot's webhook secret (the callback secret, the webhook signing secret) under the
//! connection's refresh lease, on the secret as stored now, so two edits (a rotation, the health
//! check storing a new signing secret, a reconnect) never write older copies over each other.
//!
//! Also the move out of the combined secret: bots connected before the webhook secret existed
//! keep their signing and callback secrets in the credentials secret, which the public webhook
//! function may not read. Whoever may read both (the sweeper's health check, any edit here)
//! copies them into the webhook secret, then drops them from the credentials secret.

use std::time::Duration;

use crate::deadline::{Deadline, now_ms};
use crate::store::{StoreError, Stores, WebhookSecret};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The bot is not connected (no connection, not `connected`, or no secret).
    #[error("the bot is not connected")]
    NotConnected,
    /// A refresh held the lease the whole time allowed.
    #[error("a token refresh for this bot is in progress")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `change` to the bot's webhook secret under the refresh lease (waiting up to 5 s for a
/// refresher to finish), moving anything still in the combined secret first.
pub async fn edit_webhook_secret(
    stores: &Stores,
    bot_id: &str,
    holder: &str,
    change: impl FnOnce(&mut WebhookSecret),
) -> Result<WebhookSecret, EditError> {
    acquire(stores, bot_id, holder).await?;
    let result = async {
        let (mut secret, _) = move_legacy(stores, bot_id, holder).await?;
        change(&mut secret);
        ensure_holder(stores, bot_id, holder).await?;
        stores.secrets.put_webhook_secret(bot_id, &secret).await?;
        Ok(secret)
    }
    .await;
    release(stores, bot_id, holder).await;
    result
}

/// Moves a signing or callback secret left in the combined secret into the webhook secret (the
/// health check calls it for every bot). Idempotent: with nothing to move it reads one secret
/// and writes nothing. True when something moved.
pub async fn move_legacy_secrets(stores: &Stores, bot_id: &str) -> Result<bool, EditError> {
    stores.secrets.invalidate(bot_id);
    if !stores.secrets.get_bot_secret(bot_id).await?.ok_or(EditError::NotConnected)?.holds_legacy() {
        return Ok(false);
    }
    let holder = format!("secret-move-{:016x}", fastrand::u64(..));
    acquire(stores, bot_id, &holder).await?;
    let result = move_legacy(stores, bot_id, &holder).await.map(|(_, moved)| moved);
    release(stores, bot_id, &holder).await;
    result
}

/// Under the lease: the webhook secret as stored now, completed with what the combined secret
/// still holds (a value already in the webhook secret is newer and wins), written; only then is
/// the combined secret, read again, written without them. True when something moved.
async fn move_legacy(stores: &Stores, bot_id: &str, holder: &str) -> Result<(WebhookSecret, bool), EditError> {
    stores.secrets.invalidate(bot_id);
    let mut combined = stores.secrets.get_bot_secret(bot_id).await?.ok_or(EditError::NotConnected)?;
    let mut webhook = stores.secrets.get_webhook_secret(bot_id).await?.unwrap_or_default();
    if !combined.holds_legacy() {
        return Ok((webhook, false));
    }
    if webhook.webhook_signing_secret.is_none() {
        webhook.webhook_signing_secret = combined.legacy_signing_secret.take();
    }
    if webhook.callback_secret.is_none() {
        webhook.callback_secret = combined.legacy_callback_secret.take();
    }
    ensure_holder(stores, bot_id, holder).await?;
    stores.secrets.put_webhook_secret(bot_id, &webhook).await?;
    // The credentials as stored now, not as read above: a refresher's late write may have
    // rotated the pair meanwhile, and writing the older copy back would lose its refresh token.
    stores.secrets.invalidate(bot_id);
    let Some(mut combined) = stores.secrets.get_bot_secret(bot_id).await? else {
        return Ok((webhook, true));
    };
    if combined.holds_legacy() {
        combined.legacy_signing_secret = None;
        combined.legacy_callback_secret = None;
        // Checked again just before: a reconnect's new credentials must not be written over (one
        // that takes the lease after this check reads its secret back, as against a refresher).
        ensure_holder(stores, bot_id, holder).await?;
        stores.secrets.put_bot_secret(bot_id, &combined).await?;
    }
    tracing::info!(bot_id, "moved the webhook and callback secrets out of the credentials secret");
    Ok((webhook, true))
}

/// Takes the refresh lease, waiting up to 5 s for a refresher to finish.
async fn acquire(stores: &Stores, bot_id: &str, holder: &str) -> Result<(), EditError> {
    let waited = Deadline::after(Duration::from_secs(5));
    loop {
        let now = now_ms();
        if stores.bots.acquire_refresh_lease(bot_id, holder, now, now + 15_000).await?.is_some() {
            return Ok(());
        }
        let connected = stores
            .bots
            .load_profile(bot_id)
            .await?
            .connection
            .is_some_and(|c| c.state == crate::store::ConnectionState::Connected);
        if !connected {
            return Err(EditError::NotConnected);
        }
        if waited.expired() {
            return Err(EditError::Busy);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// A reconnect may have taken the lease meanwhile: its secrets win, this edit waits.
async fn ensure_holder(stores: &Stores, bot_id: &str, holder: &str) -> Result<(), EditError> {
    let ours = stores.bots.load_profile(bot_id).await?.connection;
    if ours.is_none_or(|c| c.refresh_lease_holder.as_deref() != Some(holder)) {
        return Err(EditError::Busy);
    }
    Ok(())
}

async fn release(stores: &Stores, bot_id: &str, holder: &str) {
    if let Err(e) = stores.bots.release_refresh_lease(bot_id, holder).await {
        tracing::warn!(bot_id, error = %e, "could not release the lease after a secret edit");
    }
}
