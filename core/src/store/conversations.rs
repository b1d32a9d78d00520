//! A conversation's link to its ticket, episode by episode (the claim, pending work, the sync
//! lease, the ticket's status), the visitor recorded at session start, and the port that stores
//! them. What a claim writes is decided in `claim`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::rules::RuleKind;
use crate::zendesk::types::TicketStatus;

/// Where a conversation's current escalation episode stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Claimed: being worked on (lease live) or waiting for the sweeper (lease released).
    Pending,
    /// The ticket exists and the transcript is on it.
    Created,
    /// Given up (past the give-up window, or refused for good); a new request starts over.
    Failed,
}

/// The `BOT#{bot}` / `CONV#{conversation}` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    pub bot_id: String,
    pub conversation_id: String,
    /// 1 for the first ticket; +1 each time a solved/closed ticket is followed by a new escalation.
    pub episode: u32,
    pub state: EscalationState,
    #[serde(default)]
    pub ticket_id: Option<u64>,
    #[serde(default)]
    pub ticket_status: Option<TicketStatus>,
    /// The previous episode's ticket: a recovery lookup ignores it and anything older.
    #[serde(default)]
    pub previous_ticket_id: Option<u64>,
    /// The Zendesk account (subdomain) the episode's ticket lives in: ticket ids are per account,
    /// so every reference to a ticket is read with it. None on records written before accounts
    /// were kept (they belong to the bot's current account until it moves, see
    /// `ConversationStore::assign_account`).
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub rule: Option<RuleKind>,
    #[serde(default)]
    pub requester_email: Option<String>,
    /// The requester came from a token's `visitor_email` claim: the conversation is bound to that
    /// visitor, and callers without a claim may not read, append to or re-record it.
    #[serde(default)]
    pub requester_verified: bool,
    /// Identifies the current worker; conditional writes check it so a stale worker cannot win.
    pub claim_token: String,
    /// An earlier attempt of this episode may have reached Zendesk: look for its ticket before
    /// creating one.
    #[serde(default)]
    pub resume: bool,
    /// Unix milliseconds until which the claim is held by a live worker.
    #[serde(default)]
    pub lease_until_ms: i64,
    #[serde(default)]
    pub attempts: u32,
    /// Unix milliseconds when the episode's work started (its first claim, or the claim that
    /// restarted it after a failure): pending work is given up a fixed time after it.
    #[serde(default)]
    pub work_started_at_ms: Option<i64>,
    /// Unix milliseconds when unfinished work is due again (absent when nothing is due).
    #[serde(default)]
    pub due_at_ms: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Everything needed to finish the escalation, compressed (see `escalation::pending`).
    #[serde(default)]
    pub pending_payload: Option<String>,
    /// Unix milliseconds of the newest webhook event whose status was applied (older events never
    /// move the status backwards).
    #[serde(default)]
    pub status_at_ms: Option<i64>,
    /// How many transcript notes are already on the ticket for this episode.
    #[serde(default)]
    pub notes_written: u32,
    /// Fingerprint of the last message already on the ticket, to add only newer ones.
    #[serde(default)]
    pub last_synced_fingerprint: Option<String>,
    /// Who holds the follow-up sync lease: one follow-up at a time adds new messages to the open
    /// ticket, so concurrent requests never add the same ones twice.
    #[serde(default)]
    pub sync_holder: Option<String>,
    /// Unix milliseconds until which the sync lease is held.
    #[serde(default)]
    pub sync_lease_until_ms: Option<i64>,
    /// Unix milliseconds when the current (or last unfinished) sync lease was taken: a comment an
    /// unfinished relay may have left is looked for only from then on.
    #[serde(default)]
    pub sync_started_at_ms: Option<i64>,
    /// The Zendesk user id of the ticket's requester: the author of the visitor's comments.
    #[serde(default)]
    pub requester_id: Option<u64>,
    /// The ids of the newest visitor messages forwarded to the ticket (`live::REMEMBERED_IDS`).
    #[serde(default)]
    pub forwarded_ids: Vec<String>,
    /// How many visitor messages were ever forwarded this episode: a forward takes the sync lease
    /// only while it is still the count it read, so two never forward the same message.
    #[serde(default)]
    pub forwarded_count: u64,
    /// Unix milliseconds when an agent first took the episode's ticket (assigned, or a first
    /// public reply), and the webhook event that said so: retries of that event say it again.
    #[serde(default)]
    pub agent_joined_at_ms: Option<i64>,
    #[serde(default)]
    pub agent_joined_event: Option<String>,
    /// Unix milliseconds of the newest public agent reply on the episode's ticket.
    #[serde(default)]
    pub last_agent_reply_at_ms: Option<i64>,
    pub version: u64,
}

impl ConversationRecord {
    /// The order unfinished escalations are listed in: the longest-running work first (records
    /// without a start time last), then by conversation id.
    pub fn unfinished_order(&self) -> (i64, String) {
        (self.work_started_at_ms.unwrap_or(i64::MAX), self.conversation_id.clone())
    }

    /// True while a worker holds the claim.
    pub fn lease_live(&self, now_ms: i64) -> bool {
        self.state == EscalationState::Pending && self.lease_until_ms > now_ms
    }

    /// True while a follow-up holds the sync lease.
    pub fn sync_leased(&self, now_ms: i64) -> bool {
        self.sync_lease_until_ms.is_some_and(|until| until > now_ms)
    }

    /// True when the record's ticket lives in `account` (a record from before accounts were kept
    /// counts as the current account's).
    pub fn in_account(&self, account: &str) -> bool {
        self.account.as_deref().is_none_or(|a| a == account)
    }

    /// True when a new claim may replace this record (see `ConversationStore::claim`).
    pub fn claimable(&self, now_ms: i64) -> bool {
        match self.state {
            EscalationState::Pending => !self.lease_live(now_ms),
            EscalationState::Failed => true,
            EscalationState::Created => self.ticket_status.is_some_and(TicketStatus::ends_episode),
        }
    }

    /// True when a claim continues this episode rather than starting the next: work in progress,
    /// or a failure that already has its ticket.
    pub fn continues_episode(&self) -> bool {
        match self.state {
            EscalationState::Pending => true,
            EscalationState::Failed => self.ticket_id.is_some(),
            EscalationState::Created => false,
        }
    }
}

/// What a claim attempt wants to write.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub bot_id: String,
    pub conversation_id: String,
    pub claim_token: String,
    pub now_ms: i64,
    pub lease_until_ms: i64,
    pub rule: RuleKind,
    pub requester_email: Option<String>,
    /// `requester_email` is the token's claim (see `ConversationRecord::requester_verified`).
    pub requester_verified: bool,
    pub pending_payload: String,
    /// The bot's Zendesk account now (its subdomain); None when not known (the bot is not
    /// connected). A record of another account is ended by the claim: a new episode starts.
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// This caller holds the conversation now; `record` is what it wrote.
    Claimed(ConversationRecord),
    /// Someone else holds it, or it has a live ticket: `record` is what is stored.
    Held(ConversationRecord),
}

/// The ticket a finished escalation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedTicket {
    pub ticket_id: u64,
    /// The account the ticket lives in (the claimed record's): it keys the ticket index.
    pub account: Option<String>,
    pub status: TicketStatus,
    pub notes_written: u32,
    pub last_synced_fingerprint: Option<String>,
    /// The ticket's requester, as Zendesk answered the create.
    pub requester_id: Option<u64>,
}

/// A follow-up's request for the sync lease (see `ConversationStore::acquire_sync_lease`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncLease {
    pub holder: String,
    /// The episode's ticket, as the follow-up read it.
    pub ticket_id: u64,
    /// The last synced fingerprint the follow-up read (its new messages are computed from it).
    pub synced: Option<String>,
    /// The forwarded-message count the caller read (`ConversationRecord::forwarded_count`).
    pub forwarded_count: u64,
    pub now_ms: i64,
    pub until_ms: i64,
}

/// What a forward of visitor messages leaves on the record (see `ConversationStore::record_forwarded`).
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    pub ids: Vec<String>,
    pub count: u64,
    pub requester_id: Option<u64>,
}

/// An agent seen on a ticket (see `ConversationStore::note_agent`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentActivity {
    pub event_id: String,
    pub at_ms: i64,
    /// A public reply (else an assignment).
    pub reply: bool,
}

/// Unfinished work to retry later.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpdate {
    pub ticket_id: Option<u64>,
    /// The account of `ticket_id` (the claimed record's): it keys the ticket index.
    pub account: Option<String>,
    pub notes_written: u32,
    pub attempts: u32,
    pub due_at_ms: i64,
    pub last_error: String,
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn get_conversation(
        &self,
        bot_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// Claims the conversation with one conditional write (the rule is `claim::next_claim`).
    /// Succeeds when there is no record or the record is `claimable` (lease expired, failed, or
    /// its ticket solved/closed). The claim is due again when its lease ends, so work abandoned by
    /// a crashed worker is on the due index for the sweeper.
    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StoreError>;

    /// Marks the episode created and indexes the ticket (ticket → conversation) in one write.
    /// Conflict when `claim_token` no longer holds the record.
    async fn record_ticket(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        ticket: &RecordedTicket,
    ) -> Result<(), StoreError>;

    /// Releases the claim and leaves the work for later.
    async fn mark_pending(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        update: &PendingUpdate,
    ) -> Result<(), StoreError>;

    /// Gives up on the episode (past the give-up window, or when Zendesk refused it for good).
    async fn mark_failed(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        error: &str,
    ) -> Result<(), StoreError>;

    /// Takes the follow-up sync lease with one conditional write: only while the record is
    /// `created` with ticket `lease.ticket_id`, its last synced fingerprint is still
    /// `lease.synced` (nothing was synced since the caller read it), its forwarded count is still
    /// `lease.forwarded_count`, and no other lease is live at
    /// `lease.now_ms`. Conflict otherwise. Only the holder adds notes, so concurrent follow-ups
    /// never add the same messages twice. (The condition is the fingerprint rather than the
    /// version so that a webhook's status write does not turn a follow-up away.)
    async fn acquire_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        lease: &SyncLease,
    ) -> Result<(), StoreError>;

    /// Records the last message now on the ticket and releases the sync lease in one write;
    /// Conflict when `holder` no longer holds it.
    async fn record_synced(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError>;

    /// Records the visitor messages now on the ticket (the whole remembered list, the new count,
    /// the requester's user id when learnt) and releases the sync lease in one write; Conflict
    /// when `holder` no longer holds it.
    async fn record_forwarded(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        forwarded: &Forwarded,
    ) -> Result<(), StoreError>;

    /// Ends the sync lease at `until_ms` (0: at once) without recording anything (the notes or the
    /// comment could not all be added), keeping `holder` on the record as a mark that some of them
    /// may be on the ticket: the next holder checks the ticket before adding. A later `until_ms`
    /// gives Zendesk time to finish a request whose answer was lost. Harmless when `holder` no
    /// longer holds it.
    async fn release_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        until_ms: i64,
    ) -> Result<(), StoreError>;

    /// Records the latest status of the episode's ticket `ticket_id`; Conflict when the record
    /// has moved on to another ticket or is not `created`.
    async fn record_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<ConversationRecord, StoreError>;

    /// Applies a webhook's ticket status if the record's ticket is `ticket_id` of `account` and no
    /// newer event was applied (`at_ms`): true when applied, false when the event is not this
    /// record's or older.
    async fn apply_ticket_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        status: TicketStatus,
        at_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Notes an agent on the record's ticket `ticket_id` of `account` (webhook events): the first
    /// one this episode is kept with its event, a public reply moves `last_agent_reply_at_ms`
    /// forward (never back). Some(true) when `activity.event_id` is the event that made the agent
    /// join (also on its retries), Some(false) for a later one, None when the ticket is not the
    /// record's.
    async fn note_agent(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        activity: &AgentActivity,
    ) -> Result<Option<bool>, StoreError>;

    /// Pending records whose `due_at_ms` has passed, oldest first (a sparse index, no scan).
    async fn list_due(&self, now_ms: i64, limit: usize) -> Result<Vec<ConversationRecord>, StoreError>;

    /// The conversation whose ticket `ticket_id` of `account` is, via the ticket index (keyed by
    /// bot, account and ticket; a record from before accounts were kept is found by bot and
    /// ticket, and counts as the current account's).
    async fn conversation_for_ticket(
        &self,
        bot_id: &str,
        account: &str,
        ticket_id: u64,
    ) -> Result<Option<String>, StoreError>;

    /// The bot is moving away from `account`: records written before accounts were kept are
    /// stamped with it (and their ticket index entries keyed by it), so none of them can be taken
    /// for the next account's ticket with the same number. Returns how many were stamped.
    async fn assign_account(&self, bot_id: &str, account: &str) -> Result<usize, StoreError>;

    /// The bot's unfinished escalations, pending or failed (the diagnostics and the console's
    /// activity), the longest-running work first; at most `limit` of them.
    async fn unfinished_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError>;

    /// Records who the visitor of a conversation is (session start), replacing what was there;
    /// kept 90 days.
    async fn put_visitor(&self, visitor: &VisitorRecord) -> Result<(), StoreError>;

    async fn get_visitor(&self, bot_id: &str, conversation_id: &str) -> Result<Option<VisitorRecord>, StoreError>;
}

/// The `BOT#{bot}` / `VISITOR#{conversation}` item: the visitor's details as the chat platform
/// gave them at session start. Its email counts as verified by that platform (it holds a token
/// for this bot), so status lookups for this conversation may match tickets by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorRecord {
    pub bot_id: String,
    pub conversation_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    /// The email is a token's `visitor_email` claim: the conversation is bound to that visitor.
    #[serde(default)]
    pub email_verified: bool,
    /// RFC 3339.
    pub recorded_at: String,
}
