//! Talking to Zendesk for a claim: create the ticket at most once (look up by `external_id`
//! first), and settle what the claim leaves behind: recorded, pending with a due time, failed,
//! or the episode ended.

use std::time::Duration;

use tracing::{info, warn};

use super::service::*;
use crate::backoff::RetryPolicy;
use crate::connection::accounts::BotAccount;
use crate::deadline::{Deadline, now_ms};
use crate::mapping::{self};
use crate::settings::BotSettings;
use crate::store::*;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::{Ticket, TicketCreateInput, TicketStatus};

impl Escalator<'_> {
    /// Creates the ticket; returns it and whether Zendesk replayed an earlier create. An answer
    /// that leaves open whether the ticket was made is resolved by looking it up; if it is not
    /// there yet, the create is not sent again in this request (see `ZendeskError::maybe_done`).
    pub(super) async fn create_once(
        &self,
        bot: &BotAccount,
        record: &ConversationRecord,
        ticket: &TicketCreateInput,
        key: &str,
        deadline: Deadline,
    ) -> Result<(Ticket, bool), ZendeskError> {
        let mut last_error = ZendeskError::Timeout;
        for attempt in 1..=3 {
            match self.zendesk.create_ticket(&bot.account, ticket, key, deadline).await {
                Ok(created) => {
                    info!(ticket_id = created.ticket.id, replayed = created.replayed, "ticket created");
                    return Ok((created.ticket, created.replayed));
                }
                Err(e) if e.is_ambiguous() || e == ZendeskError::IdempotencyConflict => {
                    warn!(attempt, error = %e, "ticket creation answer lost; looking for the ticket");
                    if let Some(found) = self.find_existing(bot, record, deadline).await? {
                        return Ok((found, true));
                    }
                    // Zendesk may still be creating the ticket (a timeout, a dropped connection,
                    // a gateway's 502/503/504): sending again now could race it. Leave it
                    // pending; the next attempt (its claim sets `resume`) looks first. Only a
                    // finished failure (a 500) is sent again at once.
                    if e.maybe_done() || e == ZendeskError::IdempotencyConflict {
                        return Err(e);
                    }
                    // Honour a Retry-After before sending again, if the deadline allows.
                    let wait = e.retry_after().unwrap_or_default();
                    last_error = e;
                    if wait + Duration::from_millis(500) >= deadline.remaining() {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    /// A ticket this episode already created: same `external_id`, tagged `handoff` and with this
    /// bot's tag (so another integration's ticket is never adopted), newer than the previous
    /// episode's ticket; the oldest such one if several exist.
    pub(super) async fn find_existing(
        &self,
        bot: &BotAccount,
        record: &ConversationRecord,
        deadline: Deadline,
    ) -> Result<Option<Ticket>, ZendeskError> {
        let floor = record.previous_ticket_id.unwrap_or(0);
        let tickets = self.zendesk.tickets_by_external_id(&bot.account, &record.conversation_id, deadline).await?;
        Ok(tickets
            .into_iter()
            .filter(|t| t.id > floor && t.external_id.as_deref() == Some(record.conversation_id.as_str()))
            .filter(|t| {
                t.tags.iter().any(|tag| tag == mapping::HANDOFF_TAG) && mapping::made_by_bot(&record.bot_id, &t.tags)
            })
            .min_by_key(|t| t.id))
    }

    /// Decides what a Zendesk error means for a claimed episode: credentials Zendesk rejects need
    /// a reconnect; a passing failure leaves the work for later (202) until the give-up window
    /// has passed; a 429 always does; anything else fails it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle(
        &self,
        bot: &BotAccount,
        settings: &BotSettings,
        record: &ConversationRecord,
        ticket_id: Option<u64>,
        notes_written: u32,
        error: ZendeskError,
        locale: Option<&str>,
    ) -> Result<Step, EscalationError> {
        if error == ZendeskError::Unauthorized {
            // Credentials that stay rejected past the window give up like any other failure
            // (a refresh that never gets its chance must not keep the work forever).
            if self.past_window(record, now_ms()) {
                warn!(error = %error, "escalation failed: credentials rejected past the give-up window");
                self.fail(record, &error.to_string()).await?;
                return Err(EscalationError::Rejected(error));
            }
            let update = PendingUpdate {
                ticket_id,
                account: record.account.clone(),
                notes_written,
                attempts: record.attempts,
                due_at_ms: now_ms() + self.config.reconnect_recheck.as_millis() as i64,
                last_error: error.to_string(),
            };
            self.release(record, &update).await?;
            return Ok(Step::CredentialsRejected);
        }
        let now = now_ms();
        let (attempts, retry_after) = match &error {
            // Rate limited: Zendesk is there and said when to come back. Not a failure: no attempt
            // counted, no backoff on top of its Retry-After, never given up for it.
            ZendeskError::RateLimited { retry_after } => {
                (record.attempts, retry_after.unwrap_or(self.config.retry_delay).min(self.config.max_retry_delay))
            }
            _ => {
                let attempts = record.attempts + 1;
                if !error.is_transient() || self.past_window(record, now) {
                    warn!(attempts, error = %error, "escalation failed");
                    self.fail(record, &error.to_string()).await?;
                    return Err(EscalationError::Rejected(error));
                }
                let backoff = RetryPolicy::new(self.config.retry_delay, self.config.max_retry_delay).delay(attempts);
                (attempts, error.retry_after().unwrap_or_default().max(backoff))
            }
        };
        let update = PendingUpdate {
            ticket_id,
            account: record.account.clone(),
            notes_written,
            attempts,
            due_at_ms: now + retry_after.as_millis() as i64,
            last_error: error.to_string(),
        };
        warn!(attempts, error = %error, retry_in_s = retry_after.as_secs(), "Zendesk unavailable; escalation left pending");
        self.release(record, &update).await?;
        Ok(Step::Done(Outcome::Pending {
            ticket: ticket_id.map(|id| ticket_ref(bot, id, None)),
            reason: format!("Zendesk could not be reached in time ({error}); the escalation will be finished"),
            retry_after,
            handoff_message: settings.handoff_message(locale, ticket_id),
            deduplicated: false,
        }))
    }

    /// True when the episode's work started longer ago than the give-up window (a record from
    /// before the start was stored gets it at its next claim).
    pub(super) fn past_window(&self, record: &ConversationRecord, now_ms: i64) -> bool {
        record
            .work_started_at_ms
            .is_some_and(|started| now_ms - started >= self.config.give_up_after.as_millis() as i64)
    }

    /// Leaves the claimed work pending for later; a lost claim means another worker has it.
    pub(super) async fn release(
        &self,
        record: &ConversationRecord,
        update: &PendingUpdate,
    ) -> Result<(), EscalationError> {
        let marked = self.stores.conversations.mark_pending(
            &record.bot_id,
            &record.conversation_id,
            &record.claim_token,
            update,
        );
        Ok(done_unless_failed(marked.await)?)
    }

    /// The claimed episode's ticket is closed or gone: record that, so the next claim starts a new one.
    pub(super) async fn end_episode(
        &self,
        record: &ConversationRecord,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<Step, EscalationError> {
        info!(ticket_id, status = status.as_str(), "the episode's ticket is finished; starting a new episode");
        let recorded = RecordedTicket {
            ticket_id,
            account: record.account.clone(),
            status,
            notes_written: record.notes_written,
            last_synced_fingerprint: record.last_synced_fingerprint.clone(),
            requester_id: record.requester_id,
        };
        match self
            .stores
            .conversations
            .record_ticket(&record.bot_id, &record.conversation_id, &record.claim_token, &recorded)
            .await
        {
            Ok(()) | Err(StoreError::Conflict) => Ok(Step::EpisodeEnded),
            Err(e) => Err(e.into()),
        }
    }

    /// A created episode's ticket is finished: store its status, so the next claim starts a new
    /// episode. A Conflict means the record already moved on to another ticket.
    pub(super) async fn record_ended(
        &self,
        record: &ConversationRecord,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<Step, EscalationError> {
        match self.stores.conversations.record_status(&record.bot_id, &record.conversation_id, ticket_id, status).await
        {
            Ok(_) | Err(StoreError::Conflict) => Ok(Step::EpisodeEnded),
            Err(e) => Err(e.into()),
        }
    }
}
