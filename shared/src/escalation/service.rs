//! The escalate use case: rules → claim → create the ticket → transcript notes → record.
//!
//! Exactly one ticket per conversation episode rests on three things, none trusted alone:
//! 1. the claim, a conditional write that only one caller wins (concurrent duplicates see it);
//! 2. before any create that might repeat an earlier one, a lookup by `external_id`, adopting only
//!    tickets tagged `handoff` and with this bot's tag;
//! 3. the `Idempotency-Key` derived from bot + conversation + episode.
//!
//! Work that cannot finish in time is left `pending` with everything needed to finish it, and
//! the caller gets 202; a repeated request or the sweeper picks it up where it stopped.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tracing::{Instrument, info, warn};
use url::Url;

use super::pending::{PayloadError, PendingEscalation};
use super::request::{EscalationRequest, Message, Visitor};
use crate::backoff::RetryPolicy;
use crate::connection::accounts::{AccountError, Accounts, BotAccount};
use crate::connection::refresh::RefreshError;
use crate::deadline::{Deadline, now_ms};
use crate::identity::{self, VisitorMismatch};
use crate::mapping::{self, MappingInput};
use crate::rules::{self, Decision, Firing, RuleKind, RulesError};
use crate::settings::BotSettings;
use crate::store::*;
use crate::transcript;
use crate::zendesk::types::{Ticket, TicketCreateInput, TicketStatus};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// Tunables of the use case.
#[derive(Debug, Clone)]
pub struct EscalationConfig {
    /// How long a claim stays exclusive beyond the request's own deadline.
    pub lease_margin: Duration,
    /// How long pending work is tried before it is marked failed, counted from when the
    /// episode's work started (`HANDOFF_ESCALATION_GIVE_UP_HOURS`; a day by default, so an
    /// outage of Zendesk for hours loses nothing).
    pub give_up_after: Duration,
    /// First retry delay for pending work; doubles per failed attempt, capped at
    /// `max_retry_delay` so work is still retried often through the day. A 429 waits only what
    /// Zendesk's `Retry-After` asks.
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// When pending work of a bot whose credentials Zendesk rejects is looked at again.
    pub reconnect_recheck: Duration,
    /// `HANDOFF_ZENDESK_BASE_URL`: talk to this instead of `https://{subdomain}.zendesk.com`.
    pub zendesk_base_url: Option<Url>,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        Self {
            lease_margin: Duration::from_secs(5),
            give_up_after: Duration::from_secs(24 * 3600),
            retry_delay: Duration::from_secs(30),
            max_retry_delay: Duration::from_secs(30 * 60),
            reconnect_recheck: Duration::from_secs(15 * 60),
            zendesk_base_url: None,
        }
    }
}

pub struct EscalateCommand {
    pub bot_id: String,
    pub conversation_id: String,
    pub request: EscalationRequest,
    /// The caller's `sub` claim, recorded as who escalated by hand when the body does not say.
    pub token_subject: Option<String>,
    /// The token's `visitor_email` claim: the only verified identity. It becomes the requester and
    /// binds the conversation (see `identity`).
    pub visitor_claim: Option<String>,
    /// Until when Zendesk may be called for this escalation.
    pub deadline: Deadline,
    /// Until when a token refresh may run: the invocation's own time, which can be longer than
    /// the escalation's budget (the sweeper gives each resume 10 s, a refresh needs a whole lease).
    pub refresh_deadline: Deadline,
}

/// The ticket as the chatbot sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TicketRef {
    pub id: u64,
    pub url: String,
    /// Zendesk's status as last seen; absent when this request did not see it (a 202).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No enabled rule fired.
    NotEscalated { reason: String },
    /// A new ticket carries the conversation.
    Created { ticket: TicketRef, rule: RuleKind, reason: String, handoff_message: String },
    /// The conversation already has an open ticket; new messages were added to it.
    Deduplicated { ticket: Option<TicketRef>, notes_added: usize, handoff_message: String },
    /// Zendesk could not be reached in time, or another request is creating the ticket; the work
    /// is recorded and will be finished.
    Pending {
        ticket: Option<TicketRef>,
        reason: String,
        retry_after: Duration,
        handoff_message: String,
        deduplicated: bool,
    },
}

/// What the sweeper's resume of a pending escalation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// The ticket is there and recorded.
    Finished,
    /// Still pending (Zendesk still down, the bot not connected): due again later.
    StillPending,
    /// Given up (past the give-up window, or refused for good), with an audit entry.
    Failed,
    /// Nothing to do any more: finished, taken or ended meanwhile.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    #[error("this bot is not connected to Zendesk")]
    NotConnected,
    #[error("this bot's Zendesk connection must be reconnected")]
    ReconnectRequired,
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The token's visitor is not the one the body or the conversation names.
    #[error(transparent)]
    VisitorMismatch(#[from] VisitorMismatch),
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Zendesk refused the ticket for a reason retrying will not fix (a bad field id, a role),
    /// or the last attempt failed.
    #[error("Zendesk refused the ticket: {0}")]
    Rejected(ZendeskError),
    /// New messages for an open ticket could not be added; the caller should repeat the request.
    #[error("the new messages could not be added to ticket {ticket_id} yet: {error}")]
    FollowUpFailed { ticket_id: u64, error: ZendeskError },
    /// Zendesk refused the token and it could not be renewed just now (too little time left,
    /// another refresher still at work, Zendesk or storage failing): not a reason to reconnect.
    #[error("the bot's Zendesk token could not be renewed just now: {0}")]
    RefreshDeferred(RefreshError),
}

pub struct Escalator<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    pub config: &'a EscalationConfig,
}

impl From<AccountError> for EscalationError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotConnected => Self::NotConnected,
            AccountError::ReconnectRequired => Self::ReconnectRequired,
            AccountError::RefreshDeferred(e) => Self::RefreshDeferred(e),
            AccountError::Store(e) => Self::Store(e),
        }
    }
}

/// Where one round of work on a conversation ended.
enum Step {
    Done(Outcome),
    /// The episode's ticket turned out solved, closed or deleted: claim the next episode.
    EpisodeEnded,
    /// Zendesk answered 401; any claimed work was left pending. Read the secret again and retry
    /// the round if it changed, else the bot must reconnect.
    CredentialsRejected,
}

/// Pages of a ticket's comments read when looking for notes already written (100 a page; Zendesk
/// keeps at most 5,000 comments on a ticket).
const MAX_COMMENT_PAGES: usize = 50;

/// `Idempotency-Key` for one conversation episode: the same on every retry, different per episode.
pub fn idempotency_key(bot_id: &str, conversation_id: &str, episode: u32) -> String {
    let digest = Sha256::digest(format!("{bot_id}\u{0}{conversation_id}\u{0}{episode}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("handoff-{hex}")
}

/// Identifies a message for "what is new since the last sync".
pub fn fingerprint(message: &Message) -> String {
    let at = message.at.map(|t| t.unix_timestamp_nanos().to_string()).unwrap_or_default();
    let digest = Sha256::digest(format!("{:?}\u{0}{at}\u{0}{}", message.role, message.text).as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Messages after the last one already on the ticket; all of them when that one is not among
/// them (a windowed history): a repeated message is better than a lost one.
pub fn messages_after<'m>(messages: &'m [Message], last_synced: Option<&str>) -> &'m [Message] {
    let Some(last) = last_synced else { return messages };
    match messages.iter().rposition(|m| fingerprint(m) == last) {
        Some(idx) => &messages[idx + 1..],
        None => messages,
    }
}

impl Escalator<'_> {
    pub async fn escalate(&self, command: EscalateCommand) -> Result<Outcome, EscalationError> {
        let span = tracing::info_span!(
            "escalate",
            bot_id = %command.bot_id,
            conversation_id = %command.conversation_id,
            ticket_id = tracing::field::Empty,
        );
        self.escalate_inner(command).instrument(span).await
    }

    async fn escalate_inner(&self, mut command: EscalateCommand) -> Result<Outcome, EscalationError> {
        let (connection, settings) = self.accounts().connected(&command.bot_id).await?;
        command.request.visitor = self.requester(&command).await?;
        let request = &command.request;
        let signals = request.signals(command.token_subject.as_deref());
        let firing = match rules::evaluate(&settings.rules, request.trigger, &signals)? {
            Decision::Escalate(firing) => firing,
            Decision::Stay { reason } => {
                info!(%reason, "not escalated");
                return Ok(Outcome::NotEscalated { reason });
            }
        };
        info!(rule = firing.rule.as_str(), reason = %firing.reason, "escalation rule fired");
        // Everything that can refuse the request is settled before the first write.
        let bot = self.accounts().resolve(&connection, command.refresh_deadline).await?;
        let pending = PendingEscalation::new(request, &firing);
        let payload = pending.encode()?;
        self.rounds(&command, &settings, bot, &pending, &payload, None).await
    }

    /// Who the ticket is for (`identity::requester`): the claim, the body, the visitor recorded at
    /// session start. The conversation's binding is checked for every caller (its record and the
    /// session's, read at once): a claim must match them, and a conversation a claim bound refuses
    /// callers without one.
    async fn requester(&self, command: &EscalateCommand) -> Result<Visitor, EscalationError> {
        let (bot_id, conversation_id) = (&command.bot_id, &command.conversation_id);
        let claim = command.visitor_claim.as_deref();
        let conversations = &self.stores.conversations;
        let (session, record) = tokio::join!(
            conversations.get_visitor(bot_id, conversation_id),
            conversations.get_conversation(bot_id, conversation_id)
        );
        let (session, record) = (session?, record?);
        let verified =
            session.as_ref().is_some_and(|s| s.email_verified) || record.as_ref().is_some_and(|r| r.requester_verified);
        identity::check_binding(
            claim,
            [
                session.as_ref().and_then(|s| s.email.as_deref()),
                record.as_ref().and_then(|r| r.requester_email.as_deref()),
            ],
            verified,
        )?;
        let session = session.map(|v| Visitor { name: v.name, email: v.email, phone: v.phone });
        Ok(identity::requester(claim, &command.request.visitor, session.as_ref())?)
    }

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

    async fn resume_inner(
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
        match self.rounds(&command, &settings, bot, &pending, &stored, Some(listed.episode)).await {
            Ok(Outcome::Pending { .. }) => Ok(Resumed::StillPending),
            Ok(_) => Ok(Resumed::Finished),
            Err(EscalationError::Rejected(_)) => Ok(Resumed::Failed),
            Err(e) => Err(e),
        }
    }

    /// Counts an attempt on pending work that cannot proceed: later again (in
    /// `reconnect_recheck`), or failed with an audit entry once past the give-up window (at once
    /// when `give_up`).
    async fn postpone(
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
    async fn fail(&self, record: &ConversationRecord, error: &str) -> Result<(), EscalationError> {
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

    /// Claims and works on the conversation until the escalation is done or must wait.
    async fn rounds(
        &self,
        command: &EscalateCommand,
        settings: &BotSettings,
        mut bot: BotAccount,
        pending: &PendingEscalation,
        payload: &str,
        resuming: Option<u32>,
    ) -> Result<Outcome, EscalationError> {
        let request = &command.request;
        let firing = &pending.firing();
        // A round can end the episode (its ticket is finished: the next round opens a new one) or
        // find the cached credentials rejected (the next round uses the stored ones): three at most.
        for _ in 0..3 {
            let claim = self.claim_request(command, &bot, firing, payload);
            let step = match self.stores.conversations.claim(&claim).await? {
                // The sweeper works on the listed episode only, never a new one.
                ClaimOutcome::Claimed(record) if resuming.is_some_and(|episode| episode != record.episode) => {
                    self.fail(&record, "superseded: the pending episode had ended").await?;
                    return Ok(Outcome::NotEscalated { reason: "the pending episode had ended".into() });
                }
                ClaimOutcome::Held(record) if resuming.is_some() && record.state == EscalationState::Created => {
                    return Ok(Outcome::NotEscalated { reason: "finished meanwhile".into() });
                }
                ClaimOutcome::Claimed(record) => {
                    let first = match &record.pending_payload {
                        Some(stored) if stored != payload => PendingEscalation::decode(stored)?,
                        _ => pending.clone(),
                    };
                    self.finish(&bot, settings, record, &first, Some(request), command.deadline).await?
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
                ClaimOutcome::Held(record) => {
                    info!("another request holds this conversation; answering pending");
                    let wait = (record.lease_until_ms - now_ms()).clamp(1000, 30_000) as u64;
                    Step::Done(Outcome::Pending {
                        ticket: None,
                        reason: "another request for this conversation is creating the ticket".into(),
                        retry_after: Duration::from_millis(wait),
                        handoff_message: settings.handoff_message(request.locale.as_deref(), record.ticket_id),
                        deduplicated: true,
                    })
                }
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::EpisodeEnded if resuming.is_some() => {
                    return Ok(Outcome::NotEscalated { reason: "the episode's ticket was finished".into() });
                }
                Step::EpisodeEnded => {}
                Step::CredentialsRejected => match self.accounts().reload(&bot, command.refresh_deadline).await? {
                    Some(fresh) => {
                        info!("Zendesk rejected the cached credentials; retrying with the stored ones");
                        bot = fresh;
                    }
                    None => return Err(self.accounts().reconnect_required(&bot, "escalate").await.into()),
                },
            }
        }
        Err(StoreError::Conflict.into())
    }

    fn claim_request(
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
    async fn finish(
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
        let ticket = match ticket {
            Some(t) => t,
            None => {
                let key = idempotency_key(&record.bot_id, &record.conversation_id, record.episode);
                match self.create_once(bot, &record, &plan.ticket, &key, deadline).await {
                    Ok((t, replayed)) => {
                        check_notes |= replayed;
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
            crate::audit::record(
                self.stores.audit.as_ref(),
                &record.bot_id,
                "escalated",
                "ok",
                firing.escalated_by.as_deref(),
                &[
                    ("conversation_id", record.conversation_id.as_str()),
                    ("rule", firing.rule.as_str()),
                    ("ticket_id", ticket_text.as_str()),
                ],
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
    async fn phone_onto_requester(&self, bot: &BotAccount, ticket: &Ticket, phone: Option<&str>, deadline: Deadline) {
        let (Some(phone), Some(user_id)) =
            (phone.map(crate::text::one_line).filter(|p| !p.is_empty()), ticket.requester_id)
        else {
            return;
        };
        if let Err(error) = self.zendesk.set_user_phone(&bot.account, user_id, &phone, deadline).await {
            warn!(ticket_id = ticket.id, %error, "could not put the visitor's phone on their Zendesk user");
        }
    }

    /// The conversation has a ticket: if it is still open, add only the new messages; if it was
    /// solved, closed or deleted, end the episode so the next round opens a new ticket.
    async fn follow_up(
        &self,
        bot: &BotAccount,
        settings: &BotSettings,
        record: ConversationRecord,
        command: &EscalateCommand,
    ) -> Result<Step, EscalationError> {
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        tracing::Span::current().record("ticket_id", ticket_id);
        let request = &command.request;
        let ticket = match self.zendesk.show_ticket(&bot.account, ticket_id, command.deadline).await {
            Ok(t) => t,
            Err(ZendeskError::NotFound) => return self.record_ended(&record, ticket_id, TicketStatus::Closed).await,
            Err(e) => return follow_up_error(ticket_id, e),
        };
        if ticket.status.ends_episode() {
            info!(status = ticket.status.as_str(), "previous ticket is finished; opening a new one");
            return self.record_ended(&record, ticket_id, ticket.status).await;
        }
        // The new messages are added only under the sync lease, taken on the fingerprint read:
        // concurrent follow-ups (or one that read before another synced) never add them twice.
        let mut record = record;
        let holder = claim_token();
        let (mut leased, mut wait_ms) = (None, 1000);
        for _ in 0..3 {
            let newer = messages_after(&request.messages, record.last_synced_fingerprint.as_deref());
            if newer.is_empty() {
                leased = Some(newer);
                break;
            }
            let now = now_ms();
            let lease = SyncLease {
                holder: holder.clone(),
                ticket_id,
                synced: record.last_synced_fingerprint.clone(),
                now_ms: now,
                until_ms: now + (command.deadline.remaining() + self.config.lease_margin).as_millis() as i64,
            };
            match self.stores.conversations.acquire_sync_lease(&record.bot_id, &record.conversation_id, &lease).await {
                Ok(()) => {
                    leased = Some(newer);
                    break;
                }
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            // Someone else holds the lease, or synced meanwhile: read what they left.
            match self.stores.conversations.get_conversation(&record.bot_id, &record.conversation_id).await? {
                // This request's own write, whose answer was lost: the lease is ours.
                Some(fresh) if fresh.sync_holder.as_deref() == Some(holder.as_str()) && fresh.sync_leased(now_ms()) => {
                    leased = Some(newer);
                    break;
                }
                Some(fresh) if fresh.state == EscalationState::Created && fresh.ticket_id == Some(ticket_id) => {
                    if let Some(until) = fresh.sync_lease_until_ms.filter(|_| fresh.sync_leased(now_ms())) {
                        wait_ms = until - now_ms();
                        break;
                    }
                    record = fresh;
                }
                _ => break,
            }
        }
        let Some(newer) = leased else {
            info!("another request for this conversation is adding its new messages; answering pending");
            return Ok(Step::Done(Outcome::Pending {
                ticket: Some(ticket_ref(bot, ticket_id, Some(ticket.status))),
                reason: "another request for this conversation is adding its new messages".into(),
                retry_after: Duration::from_millis(wait_ms.clamp(1000, 30_000) as u64),
                handoff_message: settings.handoff_message(request.locale.as_deref(), Some(ticket_id)),
                deduplicated: true,
            }));
        };
        let mut notes = mapping::follow_up_notes(&record.conversation_id, newer);
        // A holder left on the record never recorded its sync (it failed, or its answers were
        // lost, after Zendesk may have taken some notes): skip the notes already on the ticket.
        if record.sync_holder.as_deref().is_some_and(|previous| previous != holder) && !notes.is_empty() {
            match self.notes_present(bot, ticket_id, &notes, command.deadline).await {
                Ok(present) => {
                    info!(present, "an earlier follow-up left notes on the ticket; not adding them again");
                    notes.drain(..present);
                }
                Err(e) => {
                    let conversations = &self.stores.conversations;
                    if let Err(error) =
                        conversations.release_sync_lease(&record.bot_id, &record.conversation_id, &holder).await
                    {
                        warn!(%error, "could not release the sync lease; it expires on its own");
                    }
                    return follow_up_error(ticket_id, e);
                }
            }
        }
        let mut status = ticket.status;
        for note in &notes {
            match self.zendesk.add_internal_note(&bot.account, ticket_id, note, command.deadline).await {
                Ok(updated) => status = updated.status,
                Err(e) => {
                    let conversations = &self.stores.conversations;
                    if let Err(error) =
                        conversations.release_sync_lease(&record.bot_id, &record.conversation_id, &holder).await
                    {
                        warn!(%error, "could not release the sync lease; it expires on its own");
                    }
                    return follow_up_error(ticket_id, e);
                }
            }
        }
        if let Some(last) = newer.last() {
            match self
                .stores
                .conversations
                .record_synced(&record.bot_id, &record.conversation_id, &holder, &fingerprint(last))
                .await
            {
                Ok(()) => {}
                // The lease ran out before the write: the next follow-up may add these again.
                Err(StoreError::Conflict) => warn!("sync lease lost before recording the new messages"),
                Err(e) => return Err(e.into()),
            }
        }
        info!(notes = notes.len(), "added new messages to the open ticket");
        Ok(Step::Done(Outcome::Deduplicated {
            ticket: Some(ticket_ref(bot, ticket_id, Some(status))),
            notes_added: notes.len(),
            handoff_message: settings.handoff_message(request.locale.as_deref(), Some(ticket_id)),
        }))
    }

    /// Creates the ticket; returns it and whether Zendesk replayed an earlier create. An answer
    /// that leaves open whether the ticket was made is resolved by looking it up; if it is not
    /// there yet, the create is not sent again in this request (see `ZendeskError::maybe_done`).
    async fn create_once(
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
    async fn find_existing(
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

    /// How many of `notes`, in order, are already on the ticket (matched by their title line,
    /// which carries a digest of the note's body). Zendesk pages a ticket's comments, so every
    /// page is read (oldest first, stopping once all notes are seen), at most
    /// `MAX_COMMENT_PAGES`: Zendesk keeps at most 5,000 comments on a ticket.
    async fn notes_present(
        &self,
        bot: &BotAccount,
        ticket_id: u64,
        notes: &[String],
        deadline: Deadline,
    ) -> Result<usize, ZendeskError> {
        let wanted: Vec<&str> = notes.iter().map(|n| transcript::note_title(n)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_COMMENT_PAGES {
            let (comments, next) =
                self.zendesk.ticket_comments_page(&bot.account, ticket_id, after.as_deref(), deadline).await?;
            for comment in comments.iter().filter(|c| !c.public) {
                let title = transcript::note_title(&comment.body);
                if let Some(note) = wanted.iter().find(|w| **w == title) {
                    seen.insert(*note);
                }
            }
            match next {
                Some(cursor) if seen.len() < wanted.len() => after = Some(cursor),
                _ => break,
            }
        }
        Ok(wanted.iter().take_while(|w| seen.contains(*w)).count())
    }

    /// Decides what a Zendesk error means for a claimed episode: credentials Zendesk rejects need
    /// a reconnect; a passing failure leaves the work for later (202) until the give-up window
    /// has passed; a 429 always does; anything else fails it.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
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
    fn past_window(&self, record: &ConversationRecord, now_ms: i64) -> bool {
        record
            .work_started_at_ms
            .is_some_and(|started| now_ms - started >= self.config.give_up_after.as_millis() as i64)
    }

    /// Leaves the claimed work pending for later; a lost claim means another worker has it.
    async fn release(&self, record: &ConversationRecord, update: &PendingUpdate) -> Result<(), EscalationError> {
        match self
            .stores
            .conversations
            .mark_pending(&record.bot_id, &record.conversation_id, &record.claim_token, update)
            .await
        {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The claimed episode's ticket is closed or gone: record that, so the next claim starts a new one.
    async fn end_episode(
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
    async fn record_ended(
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

    fn accounts(&self) -> Accounts<'_> {
        Accounts { stores: self.stores, zendesk: self.zendesk, zendesk_base_url: self.config.zendesk_base_url.as_ref() }
    }
}

/// What a Zendesk error means for a follow-up (no claim is held, so nothing is left pending):
/// a 401 retries the round with a fresh secret; a passing failure asks the caller to repeat; one
/// that retrying will not fix (a role, the comment limit) is a rejection.
fn follow_up_error(ticket_id: u64, error: ZendeskError) -> Result<Step, EscalationError> {
    match error {
        ZendeskError::Unauthorized => Ok(Step::CredentialsRejected),
        e if e.is_transient() => Err(EscalationError::FollowUpFailed { ticket_id, error: e }),
        e => Err(EscalationError::Rejected(e)),
    }
}

/// The ticket's page in the agent workspace.
fn ticket_ref(bot: &BotAccount, id: u64, status: Option<TicketStatus>) -> TicketRef {
    let url = bot.account.base_url.join(&format!("/agent/tickets/{id}")).map(|u| u.to_string()).unwrap_or_default();
    TicketRef { id, url, status }
}

fn claim_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::request::Role;

    fn msg(text: &str) -> Message {
        Message { role: Role::Visitor, text: text.into(), at: None }
    }

    #[test]
    fn idempotency_key_is_stable_per_episode() {
        assert_eq!(idempotency_key("b", "c", 1), idempotency_key("b", "c", 1));
        assert_ne!(idempotency_key("b", "c", 1), idempotency_key("b", "c", 2));
        assert_ne!(idempotency_key("b", "c", 1), idempotency_key("b2", "c", 1));
    }

    #[test]
    fn messages_after_the_last_synced_one() {
        let all = vec![msg("a"), msg("b"), msg("c")];
        assert_eq!(messages_after(&all, None).len(), 3);
        assert_eq!(messages_after(&all, Some(&fingerprint(&all[1]))), &all[2..]);
        assert!(messages_after(&all, Some(&fingerprint(&all[2]))).is_empty());
        assert_eq!(messages_after(&all, Some("unknown")).len(), 3);
    }
}
