//! The sweeper's side of an escalation: finish pending work where it stopped, put it off
//! again (with the one retry policy) or fail it for good with an audit entry.

use tracing::{Instrument, info, warn};

use super::pending::PendingEscalation;
use super::rounds::{ROUNDS, held};
use super::service::*;
use crate::connection::accounts::BotAccount;
use crate::deadline::{Deadline, now_ms};
use crate::rules::RuleKind;
use crate::settings::BotSettings;
use crate::store::*;

impl Escalator<'_> {
    /// Finishes an escalation left pending (a 202: Zendesk was down, or the worker stopped), for
    /// the sweeper: the request and rule stored with the claim are used as they are (the rules
    /// are not evaluated again, so a settings change cannot strand it). Only the episode that was
    /// listed is worked on: if it moved on meanwhile (finished by a repeated request, its ticket
    /// solved), nothing is done, and never a new episode. Work that cannot proceed (the bot not
    /// connected, a payload that cannot be read) counts an attempt and is failed, with an audit
    /// entry, once past the give-up window.
    pub async fn resume(
        &self,
        listed: &ConversationRecord,
        deadline: Deadline,
        run: Deadline,
    ) -> Result<Resumed, EscalationError> {
        let span = tracing::info_span!(
            "resume",
            bot_id = %listed.bot_id,
            conversation_id = %listed.conversation_id,
            ticket_id = tracing::field::Empty,
        );
        self.resume_inner(listed, deadline, run).instrument(span).await
    }

    pub(super) async fn resume_inner(
        &self,
        listed: &ConversationRecord,
        deadline: Deadline,
        run: Deadline,
    ) -> Result<Resumed, EscalationError> {
        let current = self.stores.conversations.get_conversation(&listed.bot_id, &listed.conversation_id).await?;
        let still_due = current.as_ref().is_some_and(|c| {
            c.state == EscalationState::Pending
                && c.episode == listed.episode
                && !c.lease_live(now_ms())
                && c.due_at_ms.is_some_and(|d| d <= listed.due_at_ms.unwrap_or(i64::MAX).max(now_ms()))
        });
        if !still_due {
            info!("no longer due (finished or taken meanwhile)");
            return Ok(Resumed::Skipped);
        }
        let stored = listed.pending_payload.clone().unwrap_or_default();
        let pending = match PendingEscalation::decode(&stored) {
            Ok(pending) => pending,
            Err(e) => {
                // It can never be finished: fail it now, with an audit entry.
                warn!(error = %e, "the pending escalation cannot be read");
                let error = EscalationError::Payload(e);
                return self.postpone(listed, &stored, &error, true).await;
            }
        };
        let command = EscalateCommand {
            bot_id: listed.bot_id.clone(),
            conversation_id: listed.conversation_id.clone(),
            request: pending.request.clone(),
            token_subject: None,
            // The stored request already names the requester the claim chose.
            visitor_claim: None,
            deadline,
            refresh_deadline: run,
        };
        let accounts = self.accounts();
        let resolved = match accounts.connected(&listed.bot_id).await {
            Ok((connection, settings)) => accounts.resolve(&connection, run).await.map(|bot| (bot, settings)),
            Err(e) => Err(e),
        };
        let (bot, settings) = match resolved.map_err(EscalationError::from) {
            Ok(resolved) => resolved,
            Err(error @ (EscalationError::NotConnected | EscalationError::ReconnectRequired)) => {
                return self.postpone(listed, &stored, &error, false).await;
            }
            Err(e) => return Err(e),
        };
        // A payload stored before redaction existed (or before a pattern was added) is masked
        // before any of it reaches Zendesk; masking a masked one changes nothing.
        let (mut pending, mut command) = (pending, command);
        let counts = pending.request.redact(&crate::privacy::redactor(&listed.bot_id, &settings.redaction));
        pending.redacted.merge(counts);
        command.request = pending.request.clone();
        match self.resume_rounds(&command, &settings, bot, &pending, &stored, listed.episode).await {
            Ok(Outcome::Pending { .. }) => Ok(Resumed::StillPending),
            Ok(_) => Ok(Resumed::Finished),
            Err(EscalationError::Rejected(_)) => Ok(Resumed::Failed),
            Err(e) => Err(e),
        }
    }

    /// Counts an attempt on pending work that cannot proceed: later again (in
    /// `reconnect_recheck`), or failed with an audit entry once past the give-up window (at once
    /// when `give_up`).
    pub(super) async fn postpone(
        &self,
        listed: &ConversationRecord,
        payload: &str,
        error: &EscalationError,
        give_up: bool,
    ) -> Result<Resumed, EscalationError> {
        let now = now_ms();
        let claim = ClaimRequest {
            bot_id: listed.bot_id.clone(),
            conversation_id: listed.conversation_id.clone(),
            claim_token: claim_token(),
            now_ms: now,
            lease_until_ms: now + self.config.lease_margin.as_millis() as i64,
            rule: listed.rule.unwrap_or(RuleKind::Manual),
            requester_email: listed.requester_email.clone(),
            requester_verified: listed.requester_verified,
            pending_payload: payload.to_owned(),
            // No account to judge by here: the listed episode's stays as it is.
            account: None,
        };
        let ClaimOutcome::Claimed(claimed) = self.stores.conversations.claim(&claim).await? else {
            return Ok(Resumed::Skipped);
        };
        if claimed.episode != listed.episode {
            // The listed episode ended in the meantime: this claim opened a new one. Give it back
            // as failed-without-ticket, which the next escalation restarts (looking first).
            self.fail(&claimed, "superseded: the pending episode had ended").await?;
            return Ok(Resumed::Skipped);
        }
        let attempts = claimed.attempts + 1;
        if give_up || self.past_window(&claimed, now) {
            warn!(attempts, error = %error, "pending escalation given up");
            self.fail(&claimed, &error.to_string()).await?;
            return Ok(Resumed::Failed);
        }
        let update = PendingUpdate {
            ticket_id: claimed.ticket_id,
            account: claimed.account.clone(),
            notes_written: claimed.notes_written,
            attempts,
            due_at_ms: now + self.config.reconnect_recheck.as_millis() as i64,
            last_error: error.to_string(),
        };
        self.release(&claimed, &update).await?;
        Ok(Resumed::StillPending)
    }

    /// Marks the claimed escalation failed, with an audit entry: nothing is dropped silently.
    pub(super) async fn fail(&self, record: &ConversationRecord, error: &str) -> Result<(), EscalationError> {
        match self
            .stores
            .conversations
            .mark_failed(&record.bot_id, &record.conversation_id, &record.claim_token, error)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let attempts = (record.attempts + 1).to_string();
        let rule = record.rule.map(|r| r.as_str()).unwrap_or_default();
        let ticket = record.ticket_id.map(|t| t.to_string()).unwrap_or_default();
        crate::audit::record(
            self.stores.audit.as_ref(),
            &record.bot_id,
            "escalation_failed",
            "failed",
            None,
            &[
                ("conversation_id", record.conversation_id.as_str()),
                ("rule", rule),
                ("ticket_id", ticket.as_str()),
                ("attempts", attempts.as_str()),
                ("error", error),
            ],
        )
        .await;
        Ok(())
    }

    /// The listed episode's work, and only it: a claim of a newer episode fails the pending work
    /// (superseded), a ticket finished or recorded meanwhile ends it; otherwise as a request.
    async fn resume_rounds(
        &self,
        command: &EscalateCommand,
        settings: &BotSettings,
        mut bot: BotAccount,
        pending: &PendingEscalation,
        payload: &str,
        episode: u32,
    ) -> Result<Outcome, EscalationError> {
        for _ in 0..ROUNDS {
            let step = match self.claim(command, &bot, pending, payload).await? {
                ClaimOutcome::Claimed(record) if record.episode != episode => {
                    self.fail(&record, "superseded: the pending episode had ended").await?;
                    return Ok(Outcome::NotEscalated { reason: "the pending episode had ended".into() });
                }
                ClaimOutcome::Claimed(record) => {
                    self.finish_claimed(command, settings, &bot, record, pending, payload).await?
                }
                ClaimOutcome::Held(record) if record.state == EscalationState::Created => {
                    return Ok(Outcome::NotEscalated { reason: "finished meanwhile".into() });
                }
                ClaimOutcome::Held(record) => Step::Done(held(settings, &command.request, &record)),
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::EpisodeEnded => {
                    return Ok(Outcome::NotEscalated { reason: "the episode's ticket was finished".into() });
                }
                Step::CredentialsRejected => bot = self.credentials_again(&bot, command.refresh_deadline).await?,
            }
        }
        Err(StoreError::Conflict.into())
    }
}
