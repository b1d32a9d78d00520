//! The rounds of work on one conversation: claim the episode (or see another caller's claim),
//! then create the ticket once, add the transcript notes and record it; a 401 retries the round
//! with credentials read again.

use std::time::Duration;

use tracing::{info, warn};

use super::episode::{fingerprint, idempotency_key, messages_after};
use super::pending::PendingEscalation;
use super::request::EscalationRequest;
use super::service::*;
use super::submitter::Visitor;
use crate::connection::accounts::BotAccount;
use crate::deadline::{Deadline, now_ms};
use crate::identity;
use crate::mapping::{self, MappingInput};
use crate::rules::Firing;
use crate::settings::BotSettings;
use crate::store::*;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::{Ticket, TicketStatus};

/// Rounds of work one command may take: a finished episode or a rejected credential each cost one.
pub(super) const ROUNDS: usize = 3;

/// Another request holds the conversation: answer pending, to be asked again when its lease ends.
pub(super) fn held(settings: &BotSettings, request: &EscalationRequest, record: &ConversationRecord) -> Outcome {
    info!("another request holds this conversation; answering pending");
    let wait = (record.lease_until_ms - now_ms()).clamp(1000, 30_000) as u64;
    Outcome::Pending {
        ticket: None,
        reason: "another request for this conversation is creating the ticket".into(),
        retry_after: Duration::from_millis(wait),
        handoff_message: settings.handoff_message(request.locale.as_deref(), record.ticket_id),
        deduplicated: true,
    }
}

impl Escalator<'_> {
    /// Claims and works on the conversation until the escalation is done or must wait.
    pub(super) async fn rounds(
        &self,
        command: &EscalateCommand,
        settings: &BotSettings,
        mut bot: BotAccount,
        pending: &PendingEscalation,
        payload: &str,
    ) -> Result<Outcome, EscalationError> {
        // A round can end the episode (its ticket is finished: the next round opens a new one) or
        // find the cached credentials rejected (the next round uses the stored ones): three at most.
        for _ in 0..ROUNDS {
            let step = match self.claim(command, &bot, pending, payload).await? {
                ClaimOutcome::Claimed(record) => {
                    self.finish_claimed(command, settings, &bot, record, pending, payload).await?
                }
                ClaimOutcome::Held(record) if record.state == EscalationState::Created => {
                    // Checked again on the record as it is now: another visitor's escalation may
                    // have recorded its ticket since this request's first look.
                    identity::check_binding(
                        command.visitor_claim.as_deref(),
                        [record.requester_email.as_deref()],
                        record.requester_verified,
                    )?;
                    self.follow_up(&bot, settings, record, command).await?
                }
                ClaimOutcome::Held(record) => Step::Done(held(settings, &command.request, &record)),
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::EpisodeEnded => {}
                Step::CredentialsRejected => bot = self.credentials_again(&bot, command.refresh_deadline).await?,
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// One claim of the conversation for this command.
    pub(super) async fn claim(
        &self,
        command: &EscalateCommand,
        bot: &BotAccount,
        pending: &PendingEscalation,
        payload: &str,
    ) -> Result<ClaimOutcome, EscalationError> {
        let claim = self.claim_request(command, bot, &pending.firing(), payload);
        Ok(self.stores.conversations.claim(&claim).await?)
    }

    /// Works on a claimed episode, from the request it was first claimed with (which Zendesk may
    /// already have seen under the episode's key) and this command's newer messages.
    pub(super) async fn finish_claimed(
        &self,
        command: &EscalateCommand,
        settings: &BotSettings,
        bot: &BotAccount,
        record: ConversationRecord,
        pending: &PendingEscalation,
        payload: &str,
    ) -> Result<Step, EscalationError> {
        let first = match &record.pending_payload {
            Some(stored) if stored != payload => {
                // Stored by an earlier request, perhaps before redaction (or a pattern) existed:
                // masked now, as this request's own was.
                let mut first = PendingEscalation::decode(stored)?;
                let counts = first.request.redact(&crate::privacy::redactor(&record.bot_id, &settings.redaction));
                first.redacted.merge(counts);
                first
            }
            _ => pending.clone(),
        };
        self.finish(bot, settings, record, &first, Some(&command.request), command.deadline).await
    }

    /// After a 401: the credentials read (or refreshed) again, or the connection marked
    /// `reconnect_required` when they are what Zendesk refused.
    pub(super) async fn credentials_again(
        &self,
        bot: &BotAccount,
        deadline: Deadline,
    ) -> Result<BotAccount, EscalationError> {
        match self.accounts().reload(bot, deadline).await? {
            Some(fresh) => {
                info!("Zendesk rejected the cached credentials; retrying with the stored ones");
                Ok(fresh)
            }
            None => Err(self.accounts().reconnect_required(bot, "escalate").await.into()),
        }
    }

    pub(super) fn claim_request(
        &self,
        command: &EscalateCommand,
        bot: &BotAccount,
        firing: &Firing,
        payload: &str,
    ) -> ClaimRequest {
        let now = now_ms();
        let lease = command.deadline.remaining() + self.config.lease_margin;
        ClaimRequest {
            bot_id: command.bot_id.clone(),
            conversation_id: command.conversation_id.clone(),
            claim_token: claim_token(),
            now_ms: now,
            lease_until_ms: now + lease.as_millis() as i64,
            rule: firing.rule,
            requester_email: command.request.visitor.email.clone(),
            requester_verified: command.visitor_claim.is_some(),
            pending_payload: payload.to_owned(),
            account: Some(bot.connection.subdomain.clone()),
        }
    }

    /// Finishes a claimed episode: find or create the ticket, add the notes not yet written,
    /// record it. `latest` is the request that claimed, when it may have newer messages than `first`.
    pub(super) async fn finish(
        &self,
        bot: &BotAccount,
        settings: &BotSettings,
        record: ConversationRecord,
        first: &PendingEscalation,
        latest: Option<&EscalationRequest>,
        deadline: Deadline,
    ) -> Result<Step, EscalationError> {
        let locale = latest.unwrap_or(&first.request).locale.as_deref();
        let firing = first.firing();
        let plan = mapping::plan_ticket(&MappingInput {
            bot_id: &record.bot_id,
            conversation_id: &record.conversation_id,
            request: &first.request,
            firing: &firing,
            settings,
        });
        let settle = |ticket_id, notes_written, error| {
            self.settle(bot, settings, &record, ticket_id, notes_written, error, locale)
        };

        // 1. The ticket: known, found again, or created.
        let mut ticket = None;
        if let Some(id) = record.ticket_id {
            match self.zendesk.show_ticket(&bot.account, id, deadline).await {
                Ok(t) => ticket = Some(t),
                Err(ZendeskError::NotFound) => return self.end_episode(&record, id, TicketStatus::Closed).await,
                Err(e) => return settle(Some(id), record.notes_written, e).await,
            }
        } else if record.resume {
            match self.find_existing(bot, &record, deadline).await {
                Ok(found) => ticket = found,
                Err(e) => return settle(None, 0, e).await,
            }
        }
        let mut check_notes = ticket.is_some() || record.notes_written > 0;
        // The visitor's user, when this create named it (the author of relayed messages later).
        let mut named_requester = None;
        let ticket = match ticket {
            Some(t) => t,
            None => {
                let key = idempotency_key(&record.bot_id, &record.conversation_id, record.episode);
                let visitor = Visitor { verified: record.requester_verified, placeholder: plan.placeholder_email };
                let input = match self.as_visitors_ticket(bot, &plan.ticket, visitor, deadline).await {
                    Ok(input) => input,
                    Err(e) => return settle(None, 0, e).await,
                };
                match self.create_once(bot, &record, &input, &key, deadline).await {
                    Ok((t, replayed)) => {
                        check_notes |= replayed;
                        named_requester = input.requester_id.filter(|id| t.requester_id == Some(*id));
                        // Only a verified requester's Zendesk user is written to: an email from a body
                        // may name someone else's existing user.
                        if record.requester_verified {
                            self.phone_onto_requester(bot, &t, first.request.visitor.phone.as_deref(), deadline).await;
                        }
                        t
                    }
                    Err(e) => return settle(None, 0, e).await,
                }
            }
        };
        tracing::Span::current().record("ticket_id", ticket.id);
        // A ticket found again may have been finished by an agent meanwhile: a closed one takes no
        // more notes; a solved one gets its transcript, then the visitor gets a new ticket.
        if ticket.status == TicketStatus::Closed {
            return self.end_episode(&record, ticket.id, TicketStatus::Closed).await;
        }

        // 2. The notes, skipping any already on the ticket (a resumed episode may have written some).
        let mut notes: Vec<String> = plan.notes;
        let mut last_message = first.request.messages.last();
        if let Some(latest) = latest.filter(|l| l.messages != first.request.messages) {
            let newer = messages_after(&latest.messages, last_message.map(fingerprint).as_deref());
            notes.extend(mapping::follow_up_notes(&record.conversation_id, newer));
            last_message = latest.messages.last().or(last_message);
        }
        let mut written = record.notes_written as usize;
        if check_notes {
            match self.notes_present(bot, ticket.id, &notes, deadline).await {
                Ok(present) => written = written.max(present),
                Err(e) => return settle(Some(ticket.id), written as u32, e).await,
            }
        }
        let mut status = ticket.status;
        for note in notes.iter().skip(written) {
            match self.zendesk.add_internal_note(&bot.account, ticket.id, note, deadline).await {
                Ok(updated) => {
                    status = updated.status;
                    written += 1;
                }
                Err(e) => return settle(Some(ticket.id), written as u32, e).await,
            }
        }

        // 3. Record it: one write marks the episode created and indexes the ticket.
        let recorded = RecordedTicket {
            ticket_id: ticket.id,
            account: record.account.clone(),
            status,
            notes_written: written as u32,
            last_synced_fingerprint: last_message.map(fingerprint),
            requester_id: named_requester,
        };
        let result_of_record = self
            .stores
            .conversations
            .record_ticket(&record.bot_id, &record.conversation_id, &record.claim_token, &recorded)
            .await;
        let recorded_here = match result_of_record {
            Ok(()) => true,
            // Our lease ran out and another worker took over: it finds this ticket by external_id
            // (and writes the audit entry when it records it).
            Err(StoreError::Conflict) => {
                warn!("claim lost before recording; the next worker recovers the ticket");
                false
            }
            Err(e) => return Err(e.into()),
        };
        if status.ends_episode() {
            info!(
                ticket_id = ticket.id,
                status = status.as_str(),
                "transcript added to a finished ticket; opening a new one"
            );
            return Ok(Step::EpisodeEnded);
        }
        info!(ticket_id = ticket.id, notes = written, "ticket ready");
        let ticket_text = ticket.id.to_string();
        if recorded_here {
            // How many items of each class were masked (`redacted_card_number`: "1"), never what.
            let redacted: Vec<(String, String)> =
                first.redacted.0.iter().map(|(class, n)| (format!("redacted_{class}"), n.to_string())).collect();
            let mut detail = vec![
                ("conversation_id", record.conversation_id.as_str()),
                ("rule", firing.rule.as_str()),
                ("ticket_id", ticket_text.as_str()),
            ];
            detail.extend(redacted.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            crate::audit::record(
                self.stores.audit.as_ref(),
                &record.bot_id,
                "escalated",
                "ok",
                firing.escalated_by.as_deref(),
                &detail,
            )
            .await;
        }
        Ok(Step::Done(Outcome::Created {
            ticket: ticket_ref(bot, ticket.id, Some(status)),
            rule: firing.rule,
            reason: firing.reason,
            handoff_message: settings.handoff_message(locale, Some(ticket.id)),
        }))
    }

    /// The visitor's phone onto the requester's Zendesk user (the ticket's `requester` cannot carry
    /// it), for a requester the platform verified. Best effort: the phone is in the ticket's first comment either way, so a failure here
    /// is logged and never holds up the handoff.
    pub(super) async fn phone_onto_requester(
        &self,
        bot: &BotAccount,
        ticket: &Ticket,
        phone: Option<&str>,
        deadline: Deadline,
    ) {
        let (Some(phone), Some(user_id)) =
            (phone.map(crate::text::one_line).filter(|p| !p.is_empty()), ticket.requester_id)
        else {
            return;
        };
        if let Err(error) = self.zendesk.set_user_phone(&bot.account, user_id, &phone, deadline).await {
            warn!(ticket_id = ticket.id, %error, "could not put the visitor's phone on their Zendesk user");
        }
    }
}
