//! Storage ports (small traits) and their records. The adapters (DynamoDB, Secrets Manager,
//! in-process) live in `handoff::store`; the same conformance suite (tests/e2e) runs against
//! all of them.

pub mod error;
pub mod outbox;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::rules::RuleKind;
use crate::settings::BotSettings;
use crate::zendesk::types::TicketStatus;

pub use error::StoreError;
pub use outbox::{CallbackOutbox, CallbackState, PendingCallback};

/// How a bot signs in to Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMode {
    Oauth,
    ClientCredentials,
    ApiToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connected,
    ReconnectRequired,
    Disconnected,
}

/// A bot's link to its Zendesk account (no secrets: those live in the secret store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub bot_id: String,
    pub subdomain: String,
    pub mode: ConnectionMode,
    pub state: ConnectionState,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Unix seconds.
    #[serde(default)]
    pub access_token_expires_at: Option<i64>,
    /// Unix seconds (OAuth with refresh tokens).
    #[serde(default)]
    pub refresh_token_expires_at: Option<i64>,
    /// Unix seconds of the last successful token refresh.
    #[serde(default)]
    pub last_refresh_at: Option<i64>,
    /// The Zendesk user Handoff acts as (verified with users/me).
    #[serde(default)]
    pub zendesk_user_id: Option<u64>,
    /// Who holds the refresh lease (one refresher per connection: refresh tokens are single use).
    #[serde(default)]
    pub refresh_lease_holder: Option<String>,
    /// Unix milliseconds until which the lease is held.
    #[serde(default)]
    pub refresh_lease_until_ms: Option<i64>,
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// Unix seconds of the last webhook delivery that verified (noted at most once a minute).
    #[serde(default)]
    pub last_webhook_at: Option<i64>,
    #[serde(default)]
    pub version: u64,
}

impl Connection {
    /// A fresh, connected connection (version 1) with nothing else known yet.
    pub fn new(bot_id: &str, subdomain: &str, mode: ConnectionMode) -> Self {
        Self {
            bot_id: bot_id.to_owned(),
            subdomain: subdomain.to_owned(),
            mode,
            state: ConnectionState::Connected,
            scopes: Vec::new(),
            access_token_expires_at: None,
            refresh_token_expires_at: None,
            last_refresh_at: None,
            zendesk_user_id: None,
            refresh_lease_holder: None,
            refresh_lease_until_ms: None,
            webhook_id: None,
            last_webhook_at: None,
            version: 1,
        }
    }

    /// When the token refresher should look at this connection (unix ms): 10 minutes before the
    /// access token expires, or 3 days before the refresh token does, whichever is first. None
    /// for connections that need no refreshing (API tokens, not connected).
    pub fn refresh_due_at_ms(&self) -> Option<i64> {
        if self.state != ConnectionState::Connected || self.mode == ConnectionMode::ApiToken {
            return None;
        }
        let access = self.access_token_expires_at.map(|t| t - 600);
        let refresh = self.refresh_token_expires_at.map(|t| t - 3 * 86_400);
        [access, refresh].into_iter().flatten().min().map(|t| t * 1000)
    }
}

/// What a finished refresh records on the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshedTokens {
    pub access_token_expires_at: Option<i64>,
    pub refresh_token_expires_at: Option<i64>,
    pub refreshed_at: i64,
}

/// A bot's connection and settings, read together (one round trip).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotProfile {
    pub connection: Option<Connection>,
    pub settings: Option<BotSettings>,
}

#[async_trait]
pub trait BotStore: Send + Sync {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError>;
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError>;
    /// Saves settings only if the stored ones are still at `expected_version` (0: none saved
    /// yet); Conflict otherwise. The settings route's `If-Match`, enforced where it is written.
    async fn put_settings_if(
        &self,
        bot_id: &str,
        settings: &BotSettings,
        expected_version: u64,
    ) -> Result<(), StoreError>;
    /// Moves the connection to `state` if it is still at `expected_version` (a reconnect that
    /// landed meanwhile wins); Conflict otherwise.
    async fn set_connection_state(
        &self,
        bot_id: &str,
        expected_version: u64,
        state: ConnectionState,
    ) -> Result<(), StoreError>;

    /// Notes when the bot's webhook last delivered (for the diagnostics); no version change, no
    /// condition beyond the connection existing.
    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError>;

    /// Records the bot's webhook id (re-registered by the health check) if the connection is
    /// still at `expected_version`; Conflict otherwise.
    async fn set_webhook_id(&self, bot_id: &str, expected_version: u64, webhook_id: &str) -> Result<(), StoreError>;

    /// Marks the connection disconnected, clearing its lease and due time, if it is still at
    /// `expected_version` and no refresher holds a live lease at `now_ms` (Conflict otherwise).
    /// Once disconnected no refresher can start, so nothing writes tokens back afterwards.
    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError>;

    /// Takes the refresh lease of a connected connection for `holder` until `until_ms`, if no
    /// one else holds a live one at `now_ms`: the connection as it is now, or None when taken.
    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError>;

    /// Takes the refresh lease for `holder` until `until_ms` whoever holds it now, if the
    /// connection is still at `expected_version` (Conflict otherwise), and moves the version on:
    /// a reconnect's fence. A refresher that read the old version stores nothing afterwards.
    /// The connection as it is now.
    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError>;

    /// Records a refresh and releases the lease; Conflict when `holder` no longer holds it.
    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError>;

    /// Releases the lease without a refresh (a failure); harmless when no longer held.
    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError>;

    /// Connected connections due for a refresh at `now_ms`, soonest first (sparse index, no scan).
    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError>;
}

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
    pub version: u64,
}

impl ConversationRecord {
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
}

/// A follow-up's request for the sync lease (see `ConversationStore::acquire_sync_lease`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncLease {
    pub holder: String,
    /// The episode's ticket, as the follow-up read it.
    pub ticket_id: u64,
    /// The last synced fingerprint the follow-up read (its new messages are computed from it).
    pub synced: Option<String>,
    pub now_ms: i64,
    pub until_ms: i64,
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

    /// Claims the conversation with one conditional write (the rule is `memory::next_claim`).
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
    /// `lease.synced` (nothing was synced since the caller read it) and no other lease is live at
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

    /// Ends the sync lease at once without recording anything (the notes could not all be added),
    /// keeping `holder` on the record as a mark that some of its notes may be on the ticket: the
    /// next follow-up checks the ticket before adding. Harmless when `holder` no longer holds it.
    async fn release_sync_lease(&self, bot_id: &str, conversation_id: &str, holder: &str) -> Result<(), StoreError>;

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

    /// The bot's escalations still pending (for the diagnostics), oldest due first; reads at
    /// most `limit` conversations.
    async fn pending_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError>;

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

/// A pending OAuth authorization: what the callback needs, keyed by its single-use `state`.
#[derive(Clone, Serialize, Deserialize)]
pub struct OAuthState {
    pub state: String,
    pub bot_id: String,
    pub subdomain: String,
    /// The PKCE code verifier (short-lived: the item expires with the state).
    #[serde(serialize_with = "expose")]
    pub verifier: SecretString,
    pub return_url: String,
    /// Unix seconds; also the item's TTL.
    pub expires_at: i64,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("bot_id", &self.bot_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait OAuthStateStore: Send + Sync {
    /// Stores a new state (Conflict if it exists: states are random, so that is a bug).
    async fn put_state(&self, state: &OAuthState) -> Result<(), StoreError>;
    /// Removes and returns the state in one step, so it can be used once only; None when it is
    /// unknown, already used or expired at `now` (unix seconds).
    async fn take_state(&self, state: &str, now: i64) -> Result<Option<OAuthState>, StoreError>;
}

/// One line of a bot's audit trail. Never holds a secret or transcript text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub bot_id: String,
    /// RFC 3339, UTC; entries sort by it.
    pub at: String,
    /// `connect_started`, `oauth_callback`, `connected`, `disconnected`, `refresh_failed`, …
    pub action: String,
    /// `ok`, or a short reason (`access_denied`, `invalid_state`, …).
    pub outcome: String,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub detail: std::collections::BTreeMap<String, String>,
}

/// A page of audit entries, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    async fn list(&self, bot_id: &str, limit: usize, cursor: Option<&str>) -> Result<AuditPage, StoreError>;
}

/// What the bot's credentials secret (`{prefix}bots/{bot}/zendesk`) holds: what Zendesk
/// accepts. Only functions that call Zendesk may read it.
#[derive(Clone, Serialize, Deserialize)]
pub struct BotSecret {
    pub credentials: StoredCredentials,
    /// Written before the webhook secret existed: the signing and callback secrets sat here.
    /// Read only to move them into the [`WebhookSecret`] (`connection::secret_edit`), which
    /// empties them; whoever rewrites the credentials carries them over until then.
    #[serde(
        default,
        rename = "webhook_signing_secret",
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_opt"
    )]
    pub legacy_signing_secret: Option<SecretString>,
    #[serde(
        default,
        rename = "callback_secret",
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_opt"
    )]
    pub legacy_callback_secret: Option<SecretString>,
}

impl BotSecret {
    /// Just the credentials (nothing left to move).
    pub fn new(credentials: StoredCredentials) -> Self {
        Self { credentials, legacy_signing_secret: None, legacy_callback_secret: None }
    }

    /// True while a signing or callback secret still waits to be moved out.
    pub fn holds_legacy(&self) -> bool {
        self.legacy_signing_secret.is_some() || self.legacy_callback_secret.is_some()
    }
}

impl std::fmt::Debug for BotSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSecret").field("credentials", &self.credentials).finish_non_exhaustive()
    }
}

/// What the bot's webhook secret (`{prefix}bots/{bot}/webhook`) holds: all the public webhook
/// function may read, so a flaw there cannot reach the Zendesk credentials.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct WebhookSecret {
    /// Verifies Zendesk's deliveries (read from Zendesk when the webhook is registered).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
    pub webhook_signing_secret: Option<SecretString>,
    /// Signs callbacks to the bot (set and rotated through the settings route; kept across
    /// reconnects, forgotten on disconnect).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
    pub callback_secret: Option<SecretString>,
    /// The Zendesk account (subdomain) whose webhook the signing secret belongs to: an event that
    /// verifies with it is about that account's ticket, even in a Lambda that cached it before the
    /// bot moved to another account. None when stored by an older version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("webhook_signing_secret", &self.webhook_signing_secret.as_ref().map(|_| "[redacted]"))
            .field("callback_secret", &self.callback_secret.as_ref().map(|_| "[redacted]"))
            .field("account", &self.account)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoredCredentials {
    ApiToken {
        email: String,
        #[serde(serialize_with = "expose")]
        api_token: SecretString,
    },
    Oauth {
        #[serde(serialize_with = "expose")]
        access_token: SecretString,
        #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
        refresh_token: Option<SecretString>,
        #[serde(default)]
        access_token_expires_at: Option<i64>,
    },
    /// The client credentials grant: the bot's own confidential client, kept to grant again.
    ClientCredentials {
        client_id: String,
        #[serde(serialize_with = "expose")]
        client_secret: SecretString,
        #[serde(serialize_with = "expose")]
        access_token: SecretString,
        #[serde(default)]
        access_token_expires_at: Option<i64>,
    },
}

impl StoredCredentials {
    /// True when both hold the same kind and values (a refresher checks that no one else wrote
    /// the secret since it read it).
    pub fn same_as(&self, other: &Self) -> bool {
        use secrecy::ExposeSecret;
        let opt = |s: &Option<SecretString>| s.as_ref().map(|v| v.expose_secret().to_owned());
        match (self, other) {
            (Self::ApiToken { email: a, api_token: t }, Self::ApiToken { email: b, api_token: u }) => {
                a == b && t.expose_secret() == u.expose_secret()
            }
            (
                Self::Oauth { access_token: a, refresh_token: r, .. },
                Self::Oauth { access_token: b, refresh_token: s, .. },
            ) => a.expose_secret() == b.expose_secret() && opt(r) == opt(s),
            (
                Self::ClientCredentials { client_id: i, client_secret: c, access_token: a, .. },
                Self::ClientCredentials { client_id: j, client_secret: d, access_token: b, .. },
            ) => i == j && c.expose_secret() == d.expose_secret() && a.expose_secret() == b.expose_secret(),
            _ => false,
        }
    }

    /// What a Zendesk API request authenticates with.
    pub fn for_requests(&self) -> crate::zendesk::Credentials {
        use crate::zendesk::Credentials;
        match self {
            Self::ApiToken { email, api_token } => {
                Credentials::ApiToken { email: email.clone(), token: api_token.clone() }
            }
            Self::Oauth { access_token, .. } | Self::ClientCredentials { access_token, .. } => {
                Credentials::Bearer { access_token: access_token.clone() }
            }
        }
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiToken { email, .. } => f.debug_struct("ApiToken").field("email", email).finish_non_exhaustive(),
            Self::Oauth { access_token_expires_at, .. } => f
                .debug_struct("Oauth")
                .field("access_token_expires_at", access_token_expires_at)
                .finish_non_exhaustive(),
            Self::ClientCredentials { client_id, access_token_expires_at, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("access_token_expires_at", access_token_expires_at)
                .finish_non_exhaustive(),
        }
    }
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    s.serialize_str(secret.expose_secret())
}

fn expose_opt<S: serde::Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    match secret {
        Some(v) => s.serialize_some(v.expose_secret()),
        None => s.serialize_none(),
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The bot's credentials secret, from the warm cache when present.
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError>;
    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError>;
    /// Deletes both of the bot's secrets (credentials and webhook); harmless when absent.
    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError>;
    /// The bot's webhook secret (signing and callback secrets), from the warm cache when present.
    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError>;
    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError>;
    /// Drops the cached copies of both of the bot's secrets so the next read goes to the service
    /// (after a 401 from Zendesk, a signature that did not verify).
    fn invalidate(&self, bot_id: &str);
    /// Drops the cached app OAuth client (after Zendesk refused it: it may have been rotated).
    fn invalidate_oauth_client(&self) {}
    /// The app's OAuth client at `{prefix}app/zendesk-oauth`.
    async fn get_oauth_client(&self) -> Result<Option<crate::zendesk::OAuthClient>, StoreError>;
    async fn put_oauth_client(&self, client: &crate::zendesk::OAuthClient) -> Result<(), StoreError>;
}

/// Counts of calls made to a backing service, for the per-operation budgets the tests assert.
#[derive(Debug, Default)]
pub struct CallCounter {
    pub reads: std::sync::atomic::AtomicU64,
    pub writes: std::sync::atomic::AtomicU64,
}

impl CallCounter {
    pub fn read(&self) {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn write(&self) {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    /// (reads, writes) so far.
    pub fn snapshot(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.reads.load(Relaxed), self.writes.load(Relaxed))
    }
}

/// The stores a function needs, shared behind `Arc`s.
#[derive(Clone)]
pub struct Stores {
    pub bots: std::sync::Arc<dyn BotStore>,
    pub conversations: std::sync::Arc<dyn ConversationStore>,
    pub secrets: std::sync::Arc<dyn SecretStore>,
    pub oauth_states: std::sync::Arc<dyn OAuthStateStore>,
    pub audit: std::sync::Arc<dyn AuditLog>,
    pub outbox: std::sync::Arc<dyn CallbackOutbox>,
}

impl Stores {
    /// Every table-backed port served by one adapter (DynamoDB, or the in-process store), with
    /// the secrets next to it.
    pub fn backed_by<S>(store: std::sync::Arc<S>, secrets: std::sync::Arc<dyn SecretStore>) -> Self
    where
        S: BotStore + ConversationStore + OAuthStateStore + AuditLog + CallbackOutbox + 'static,
    {
        Self {
            bots: store.clone(),
            conversations: store.clone(),
            oauth_states: store.clone(),
            audit: store.clone(),
            outbox: store,
            secrets,
        }
    }
}

/// The app's OAuth client as stored in its secret (JSON); the secret store adapters read and
/// write it.
#[derive(Serialize, Deserialize)]
pub struct StoredOAuthClient {
    pub client_id: String,
    #[serde(serialize_with = "expose")]
    pub client_secret: SecretString,
}
