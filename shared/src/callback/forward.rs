//! Getting a callback to the bot exactly once as far as Handoff can tell: the webhook writes it
//! down with the event's seen marker and tries at once; whatever did not arrive is retried by
//! the sweeper with growing delays; after the last attempt it is marked failed, with an audit
//! entry and a metric. Bots deduplicate on `delivery_id` for the rare case where a delivery
//! arrived but its answer did not.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tracing::{info, warn};

use super::delivery::{CallbackSender, DeliveryError};
use super::payload::CallbackBody;
use crate::backoff::RetryPolicy;
use crate::deadline::{self, Deadline};
use crate::store::cache::ProfileCache;
use crate::store::{CallbackState, PendingCallback, StoreError, Stores};

/// Attempts before a callback is given up (about three hours of retries).
pub const MAX_ATTEMPTS: u32 = 10;
/// The webhook's own attempt must leave it well inside Zendesk's 12-second limit.
pub const INLINE_TIMEOUT: Duration = Duration::from_secs(3);
/// A sweeper attempt may wait longer.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(8);

/// When a callback is tried again: 30 s after the first failed attempt, doubling, at most an hour.
pub const RETRIES: RetryPolicy = RetryPolicy::new(Duration::from_secs(30), Duration::from_secs(3600));

/// Delay before the attempt after `attempts` failed ones (`RETRIES`).
pub fn retry_delay(attempts: u32) -> Duration {
    RETRIES.delay(attempts)
}

/// The outbox entry for a callback about to be attempted inline (that attempt counts as the
/// first; if it fails, the sweeper takes over when the first retry is due).
pub fn pending(bot_id: &str, body: &CallbackBody, now_ms: i64) -> Result<PendingCallback, serde_json::Error> {
    Ok(PendingCallback {
        bot_id: bot_id.to_owned(),
        event_id: body.delivery_id.clone(),
        conversation_id: body.conversation_id.clone(),
        ticket_id: body.ticket_id,
        body: serde_json::to_string(body)?,
        attempts: 1,
        due_at_ms: Some(now_ms + retry_delay(1).as_millis() as i64),
        state: CallbackState::Pending,
        last_error: None,
    })
}

/// What one sweep of the callbacks did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CallbackSweep {
    pub delivered: u32,
    pub retrying: u32,
    pub failed: u32,
}

pub struct Forwarder<'a> {
    pub stores: &'a Stores,
    pub sender: &'a CallbackSender,
    pub profiles: &'a ProfileCache,
}

impl Forwarder<'_> {
    /// The bot's callback secret; read again when this Lambda's copy has none (it may predate it).
    async fn callback_secret(&self, bot_id: &str) -> Result<Option<SecretString>, String> {
        let read = || async { self.stores.secrets.get_webhook_secret(bot_id).await.map_err(|e| e.to_string()) };
        if let Some(secret) = read().await?.and_then(|s| s.callback_secret) {
            return Ok(Some(secret));
        }
        self.stores.secrets.invalidate(bot_id);
        Ok(read().await?.and_then(|s| s.callback_secret))
    }

    /// One attempt: signs with the bot's callback secret and posts to its callback URL. When the
    /// bot refuses the signature (401/403) and the secret changed elsewhere meanwhile, signs
    /// again with the new one at once.
    async fn attempt(&self, callback: &PendingCallback, timeout: Duration) -> Result<(), String> {
        let bot_id = &callback.bot_id;
        let profile = self.profiles.get(self.stores.bots.as_ref(), bot_id).await.map_err(|e| e.to_string())?;
        let url = profile.settings.as_ref().and_then(|s| s.callback_url.clone()).ok_or("no callback URL is set")?;
        let secret = self.callback_secret(bot_id).await?.ok_or("no callback secret is set")?;
        let send = |secret: SecretString| {
            let url = url.clone();
            async move { self.sender.deliver(&url, &secret, &callback.event_id, &callback.body, timeout).await }
        };
        match send(secret.clone()).await {
            Err(DeliveryError::Status(401 | 403)) => {
                self.stores.secrets.invalidate(bot_id);
                match self.callback_secret(bot_id).await? {
                    Some(fresh) if fresh.expose_secret() != secret.expose_secret() => {
                        send(fresh).await.map_err(|e| e.to_string())
                    }
                    _ => Err("the bot refused the callback's signature".to_owned()),
                }
            }
            other => other.map_err(|e| e.to_string()),
        }
    }

    /// The webhook's inline attempt: settles the callback when it arrived; otherwise it stays
    /// due for the sweeper. True when delivered.
    pub async fn deliver_now(&self, callback: &PendingCallback) -> bool {
        match self.attempt(callback, INLINE_TIMEOUT).await {
            Ok(()) => {
                if let Err(e) = self.settle(callback, CallbackState::Delivered, None).await {
                    // Delivered but not recorded: the sweeper may send it again (same delivery id).
                    warn!(error = %e, "callback delivered but not recorded");
                }
                info!(delivery_id = %callback.event_id, "callback delivered");
                true
            }
            Err(error) => {
                warn!(delivery_id = %callback.event_id, %error, "callback not delivered; the sweeper retries it");
                false
            }
        }
    }

    /// Retries every due callback (oldest first) while `deadline` allows.
    pub async fn retry_due(&self, now_ms: i64, limit: usize, deadline: Deadline) -> Result<CallbackSweep, StoreError> {
        let mut sweep = CallbackSweep::default();
        for due in self.stores.outbox.list_due_callbacks(now_ms, limit).await? {
            if deadline.remaining() < RETRY_TIMEOUT {
                break;
            }
            let Some(expected) = due.due_at_ms else { continue };
            // From when this attempt starts (a long run must not leave the next try already due).
            let next = now_ms.max(deadline::now_ms()) + retry_delay(due.attempts + 1).as_millis() as i64;
            let Some(claimed) = self.stores.outbox.claim_callback(&due.bot_id, &due.event_id, expected, next).await?
            else {
                continue;
            };
            let span = tracing::info_span!(
                "callback",
                bot_id = %claimed.bot_id,
                conversation_id = %claimed.conversation_id,
                ticket_id = claimed.ticket_id,
                delivery_id = %claimed.event_id,
                attempt = claimed.attempts,
            );
            let _entered = span.enter();
            match self.attempt(&claimed, RETRY_TIMEOUT).await {
                Ok(()) => {
                    self.settle(&claimed, CallbackState::Delivered, None).await?;
                    info!("callback delivered on retry");
                    sweep.delivered += 1;
                }
                Err(error) if claimed.attempts >= MAX_ATTEMPTS => {
                    warn!(%error, "callback failed for good");
                    self.settle(&claimed, CallbackState::Failed, Some(&error)).await?;
                    self.audit_failure(&claimed, &error).await;
                    sweep.failed += 1;
                }
                Err(error) => {
                    warn!(%error, "callback not delivered; retrying later");
                    sweep.retrying += 1;
                }
            }
        }
        Ok(sweep)
    }

    async fn settle(
        &self,
        callback: &PendingCallback,
        state: CallbackState,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.stores.outbox.settle_callback(&callback.bot_id, &callback.event_id, state, error).await
    }

    async fn audit_failure(&self, callback: &PendingCallback, error: &str) {
        let attempts = callback.attempts.to_string();
        let ticket = callback.ticket_id.to_string();
        crate::audit::record(
            self.stores.audit.as_ref(),
            &callback.bot_id,
            "callback_failed",
            "failed",
            Some("sweeper"),
            &[
                ("conversation_id", callback.conversation_id.as_str()),
                ("ticket_id", ticket.as_str()),
                ("delivery_id", callback.event_id.as_str()),
                ("attempts", attempts.as_str()),
                ("error", error),
            ],
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let delays: Vec<u64> = (1..=MAX_ATTEMPTS).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
