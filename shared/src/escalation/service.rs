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
//!
//! This file holds the use case's types and its entry (`escalate`: who the requester is, the
//! rules); the work is split by job: `rounds` (claim, create, record), `settle` (Zendesk's side of
//! a claim and what it leaves behind), `follow_up` (new messages for an open ticket), `resume`
//! (the sweeper's finish-later). The episode's keys are pure (`handoff_core::escalation::episode`).

use std::time::Duration;

use tracing::{Instrument, info};
use url::Url;

use super::pending::{PayloadError, PendingEscalation};
use super::request::{EscalationRequest, Visitor};
use crate::binding::BindingError;
use crate::connection::accounts::{AccountError, Accounts, BotAccount};
use crate::connection::refresh::RefreshError;
use crate::deadline::Deadline;
use crate::identity::{self, VisitorMismatch};
use crate::rules::{self, Decision, RuleKind, RulesError};
use crate::store::*;
use crate::zendesk::types::TicketStatus;
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
pub(super) enum Step {
    Done(Outcome),
    /// The episode's ticket turned out solved, closed or deleted: claim the next episode.
    EpisodeEnded,
    /// Zendesk answered 401; any claimed work was left pending. Read the secret again and retry
    /// the round if it changed, else the bot must reconnect.
    CredentialsRejected,
}

/// Pages of a ticket's comments read when looking for notes already written (100 a page; Zendesk
/// keeps at most 5,000 comments on a ticket).
pub(super) const MAX_COMMENT_PAGES: usize = 50;

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
        // Three independent reads at once: the secret (cached in a warm Lambda, so it costs a
        // round trip only after a cold start), the bot's profile, and the conversation's binding.
        let accounts = self.accounts();
        let (secret, connected, requester) = tokio::join!(
            accounts.secret(&command.bot_id),
            accounts.connected(&command.bot_id),
            self.requester(&command)
        );
        let (connection, settings) = connected?;
        command.request.visitor = requester?;
        // Masked before the rules, the stored payload and Zendesk see any of it.
        let redacted = command.request.redact(&crate::privacy::redactor(&command.bot_id, &settings.redaction));
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
        let bot = accounts.resolve_read(&connection, secret, command.refresh_deadline).await?;
        let mut pending = PendingEscalation::new(request, &firing);
        pending.redacted = redacted;
        let payload = pending.encode()?;
        self.rounds(&command, &settings, bot, &pending, &payload).await
    }

    /// Who the ticket is for (`identity::requester`): the claim, the body, the visitor recorded at
    /// session start. The conversation's binding is checked for every caller (its record and the
    /// session's, read at once): a claim must match them, and a conversation a claim bound refuses
    /// callers without one.
    async fn requester(&self, command: &EscalateCommand) -> Result<Visitor, EscalationError> {
        let claim = command.visitor_claim.as_deref();
        let checked = crate::binding::checked(self.stores, &command.bot_id, &command.conversation_id, claim).await;
        let (session, _) = checked.map_err(|e| match e {
            BindingError::VisitorMismatch(e) => EscalationError::VisitorMismatch(e),
            BindingError::Store(e) => EscalationError::Store(e),
        })?;
        let session = session.map(|v| Visitor { name: v.name, email: v.email, phone: v.phone });
        Ok(identity::requester(claim, &command.request.visitor, session.as_ref())?)
    }

    pub(super) fn accounts(&self) -> Accounts<'_> {
        Accounts { stores: self.stores, zendesk: self.zendesk, zendesk_base_url: self.config.zendesk_base_url.as_ref() }
    }
}

/// What a Zendesk error means for a follow-up (no claim is held, so nothing is left pending):
/// a 401 retries the round with a fresh secret; a passing failure asks the caller to repeat; one
/// that retrying will not fix (a role, the comment limit) is a rejection.
pub(super) fn follow_up_error(ticket_id: u64, error: ZendeskError) -> Result<Step, EscalationError> {
    match error {
        ZendeskError::Unauthorized => Ok(Step::CredentialsRejected),
        e if e.is_transient() => Err(EscalationError::FollowUpFailed { ticket_id, error: e }),
        e => Err(EscalationError::Rejected(e)),
    }
}

/// The ticket, with its page in the agent workspace of the bot's account.
pub(crate) fn ticket_ref(bot: &BotAccount, id: u64, status: Option<TicketStatus>) -> TicketRef {
    ticket_at(&bot.account.base_url, id, status)
}

/// The ticket, with its page in the agent workspace at `base_url` (the account's address).
pub(crate) fn ticket_at(base_url: &Url, id: u64, status: Option<TicketStatus>) -> TicketRef {
    let url = base_url.join(&format!("/agent/tickets/{id}")).map(|u| u.to_string()).unwrap_or_default();
    TicketRef { id, url, status }
}

pub(crate) fn claim_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}
