//! Changing part of a bot's secret (the callback secret, the webhook signing secret) without
//! racing the token refresher: the change is made under the connection's refresh lease, on the
//! secret as stored now, so a refresh never writes an older copy back over it and the change
//! never writes back a refresh token that was just used up.

use std::time::Duration;

use crate::deadline::{Deadline, now_ms};
use crate::store::{BotSecret, StoreError, Stores};

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

/// Applies `change` to the bot's stored secret under the refresh lease (waiting up to 5 s for a
/// refresher to finish).
pub async fn edit_bot_secret(
    stores: &Stores,
    bot_id: &str,
    holder: &str,
    change: impl FnOnce(&mut BotSecret),
) -> Result<BotSecret, EditError> {
    let waited = Deadline::after(Duration::from_secs(5));
    loop {
        let now = now_ms();
        match stores.bots.acquire_refresh_lease(bot_id, holder, now, now + 15_000).await? {
            Some(_) => break,
            None => {
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
    }
    let result = async {
        stores.secrets.invalidate(bot_id);
        let mut secret = stores.secrets.get_bot_secret(bot_id).await?.ok_or(EditError::NotConnected)?;
        change(&mut secret);
        // A reconnect may have taken the lease meanwhile: its credentials win, this edit waits.
        let ours = stores.bots.load_profile(bot_id).await?.connection;
        if ours.is_none_or(|c| c.refresh_lease_holder.as_deref() != Some(holder)) {
            return Err(EditError::Busy);
        }
        stores.secrets.put_bot_secret(bot_id, &secret).await?;
        Ok(secret)
    }
    .await;
    if let Err(e) = stores.bots.release_refresh_lease(bot_id, holder).await {
        tracing::warn!(bot_id, error = %e, "could not release the lease after a secret edit");
    }
    result
}
