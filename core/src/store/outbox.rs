//! Work that leaves Handoff after Zendesk told it something: callbacks to the bot, and the
//! periodic check that Zendesk still has the bot's webhook. Both are written down before they
//! are attempted, so a crash, a timeout or a receiver that is down loses nothing: the sweeper
//! finds what is due through the sparse due index.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::StoreError;

/// Where a callback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackState {
    /// Not delivered yet; `due_at_ms` says when to try again.
    Pending,
    Delivered,
    /// Every attempt failed (or there is nowhere to deliver it); an audit entry says why.
    Failed,
}

/// One delivery to the bot's callback URL, kept on the webhook event's seen marker
/// (`BOT#{bot}` / `EVENT#{event_id}`), so deduplicating the event and recording the work it
/// causes is one conditional write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCallback {
    pub bot_id: String,
    /// The Zendesk event id; also the delivery id the bot can deduplicate on.
    pub event_id: String,
    pub conversation_id: String,
    pub ticket_id: u64,
    /// The JSON body sent to the bot; it is signed anew on every attempt.
    #[serde(rename = "callback_body")]
    pub body: String,
    /// Attempts started so far (the inline attempt counts as the first).
    pub attempts: u32,
    /// Unix milliseconds when the next attempt is due; None once settled.
    #[serde(default)]
    pub due_at_ms: Option<i64>,
    #[serde(rename = "callback_state")]
    pub state: CallbackState,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[async_trait]
pub trait CallbackOutbox: Send + Sync {
    /// Remembers a webhook event id for 7 days, together with the callback it causes (if any):
    /// true the first time, false for a repeat (then nothing is written).
    async fn mark_event_seen(
        &self,
        bot_id: &str,
        event_id: &str,
        now_s: i64,
        callback: Option<&PendingCallback>,
    ) -> Result<bool, StoreError>;

    /// Pending callbacks whose due time has passed, oldest first (sparse index, no scan).
    async fn list_due_callbacks(&self, now_ms: i64, limit: usize) -> Result<Vec<PendingCallback>, StoreError>;

    /// Takes a due callback for one attempt: its due time moves to `next_due_at_ms` and its
    /// attempts go up by one, only if it is still pending and due at `expected_due_at_ms` (so two
    /// sweepers never both attempt it). The updated callback, or None when someone else took it.
    async fn claim_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<Option<PendingCallback>, StoreError>;

    /// Ends a callback: delivered, or failed with the reason. It leaves the due index.
    async fn settle_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        state: CallbackState,
        last_error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Schedules the bot's next webhook health check (replacing any earlier schedule).
    async fn schedule_webhook_check(&self, bot_id: &str, due_at_ms: i64) -> Result<(), StoreError>;

    /// Drops the bot's webhook health check (the bot disconnected).
    async fn remove_webhook_check(&self, bot_id: &str) -> Result<(), StoreError>;

    /// Bots whose webhook check is due, with the due time each was read at.
    async fn list_webhook_checks_due(&self, now_ms: i64, limit: usize) -> Result<Vec<(String, i64)>, StoreError>;

    /// Moves a due check to `next_due_at_ms` if it is still due at `expected_due_at_ms`: true
    /// when this caller took it.
    async fn claim_webhook_check(
        &self,
        bot_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<bool, StoreError>;
}
