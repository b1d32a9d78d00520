//! In-process adapters: the same semantics as DynamoDB and Secrets Manager (conditional writes,
//! claim rules), held in memory. Used by unit tests and as the core of the local runner.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;

/// Told of each change to a bot, a conversation or the audit trail, after it is made and while it
/// is still held exclusively, so a journal sees the changes in the order they happened. The local
/// runner's embedded database is one (a save-on-change layer: the rules stay this store's); the
/// memory store never reads from it.
pub trait Journal: Send + Sync {
    fn bot_changed(&self, bot_id: &str, profile: &BotProfile) -> Result<(), StoreError>;
    fn conversation_changed(&self, record: &ConversationRecord) -> Result<(), StoreError>;
    fn audit_appended(&self, entry: &AuditEntry) -> Result<(), StoreError>;
}

#[derive(Default)]
pub struct MemoryStore {
    bots: Mutex<HashMap<String, BotProfile>>,
    conversations: Mutex<HashMap<(String, String), ConversationRecord>>,
    states: Mutex<HashMap<String, OAuthState>>,
    /// Seen webhook events, with the callback each caused (if any).
    seen: Mutex<HashMap<(String, String), Option<PendingCallback>>>,
    visitors: Mutex<HashMap<(String, String), VisitorRecord>>,
    /// Bot → when its webhook health check is due.
    webhook_checks: Mutex<HashMap<String, i64>>,
    audit: Mutex<Vec<AuditEntry>>,
    journal: Option<Box<dyn Journal>>,
    pub calls: CallCounter,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that tells `journal` of every change (what `restore_*` loads is not told).
    pub fn with_journal(journal: Box<dyn Journal>) -> Self {
        Self { journal: Some(journal), ..Self::default() }
    }

    fn journal_bot(&self, bot_id: &str, profile: &BotProfile) -> Result<(), StoreError> {
        self.journal.as_ref().map_or(Ok(()), |j| j.bot_changed(bot_id, profile))
    }

    fn journal_conversation(&self, record: &ConversationRecord) -> Result<(), StoreError> {
        self.journal.as_ref().map_or(Ok(()), |j| j.conversation_changed(record))
    }

    /// Loads a bot as stored elsewhere (the local runner's embedded database), uncounted.
    pub fn restore_bot(&self, bot_id: &str, profile: BotProfile) {
        self.bots.lock().expect("store lock").insert(bot_id.to_owned(), profile);
    }

    /// Loads a conversation as stored elsewhere, uncounted (its ticket index is the record itself,
    /// as on DynamoDB, where the index is an attribute of the conversation item).
    pub fn restore_conversation(&self, record: ConversationRecord) {
        self.conversations
            .lock()
            .expect("store lock")
            .insert((record.bot_id.clone(), record.conversation_id.clone()), record);
    }

    /// Loads an audit entry as stored elsewhere, uncounted.
    pub fn restore_audit(&self, entry: AuditEntry) {
        self.audit.lock().expect("store lock").push(entry);
    }

    fn update<T>(
        &self,
        bot_id: &str,
        conversation_id: &str,
        check: impl FnOnce(&ConversationRecord) -> bool,
        change: impl FnOnce(&mut ConversationRecord) -> T,
    ) -> Result<T, StoreError> {
        self.calls.write();
        let mut map = self.conversations.lock().expect("store lock");
        let record = map.get_mut(&(bot_id.to_owned(), conversation_id.to_owned())).ok_or(StoreError::Conflict)?;
        if !check(record) {
            return Err(StoreError::Conflict);
        }
        record.version += 1;
        let changed = change(record);
        self.journal_conversation(record)?;
        Ok(changed)
    }
}

#[async_trait]
impl BotStore for MemoryStore {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError> {
        self.calls.read();
        Ok(self.bots.lock().expect("store lock").get(bot_id).cloned().unwrap_or_default())
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(connection.bot_id.clone()).or_default();
        profile.connection = Some(connection.clone());
        self.journal_bot(&connection.bot_id, profile)
    }

    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(bot_id.to_owned()).or_default();
        profile.settings = Some(settings.clone());
        self.journal_bot(bot_id, profile)
    }

    async fn put_settings_if(
        &self,
        bot_id: &str,
        settings: &BotSettings,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(bot_id.to_owned()).or_default();
        if profile.settings.as_ref().map_or(0, |s| s.version) != expected_version {
            return Err(StoreError::Conflict);
        }
        profile.settings = Some(settings.clone());
        self.journal_bot(bot_id, profile)
    }

    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            let leased = c.refresh_lease_until_ms.is_some_and(|t| t >= now_ms);
            if c.version != expected_version || leased {
                return Err(StoreError::Conflict);
            }
            c.state = ConnectionState::Disconnected;
            c.refresh_lease_holder = None;
            c.refresh_lease_until_ms = None;
            c.access_token_expires_at = None;
            c.refresh_token_expires_at = None;
            c.version += 1;
            Ok(())
        })
    }

    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError> {
        self.with_connection(bot_id, |c| {
            let free = c.refresh_lease_until_ms.is_none_or(|t| t < now_ms);
            if c.state != ConnectionState::Connected || !free {
                return Ok(None);
            }
            c.refresh_lease_holder = Some(holder.to_owned());
            c.refresh_lease_until_ms = Some(until_ms);
            Ok(Some(c.clone()))
        })
        .or_else(|e| if matches!(e, StoreError::Conflict) { Ok(None) } else { Err(e) })
    }

    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError> {
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.refresh_lease_holder = Some(holder.to_owned());
            c.refresh_lease_until_ms = Some(until_ms);
            c.version += 1;
            Ok(c.clone())
        })
    }

    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.refresh_lease_holder.as_deref() != Some(holder) {
                return Err(StoreError::Conflict);
            }
            c.access_token_expires_at = refreshed.access_token_expires_at;
            c.refresh_token_expires_at = refreshed.refresh_token_expires_at.or(c.refresh_token_expires_at);
            c.last_refresh_at = Some(refreshed.refreshed_at);
            c.refresh_lease_holder = None;
            c.refresh_lease_until_ms = None;
            Ok(())
        })
    }

    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.refresh_lease_holder.as_deref() == Some(holder) {
                c.refresh_lease_holder = None;
                c.refresh_lease_until_ms = None;
            }
            Ok(())
        })
        .or_else(|e| if matches!(e, StoreError::Conflict) { Ok(()) } else { Err(e) })
    }

    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        self.calls.read();
        let bots = self.bots.lock().expect("store lock");
        let mut due: Vec<Connection> = bots
            .values()
            .filter_map(|p| p.connection.clone())
            .filter(|c| c.refresh_due_at_ms().is_some_and(|d| d <= now_ms))
            .collect();
        due.sort_by_key(|c| c.refresh_due_at_ms());
        due.truncate(limit);
        Ok(due)
    }

    async fn set_connection_state(
        &self,
        bot_id: &str,
        expected_version: u64,
        state: ConnectionState,
    ) -> Result<(), StoreError> {
        self.calls.write();
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.state = state;
            c.version += 1;
            Ok(())
        })
    }

    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError> {
        let touched = self.with_connection(bot_id, |c| {
            c.last_webhook_at = Some(at_s);
            Ok(())
        });
        match touched {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_webhook_id(&self, bot_id: &str, expected_version: u64, webhook_id: &str) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.webhook_id = Some(webhook_id.to_owned());
            c.version += 1;
            Ok(())
        })
    }
}

impl MemoryStore {
    fn with_connection<T>(
        &self,
        bot_id: &str,
        change: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.get_mut(bot_id).filter(|p| p.connection.is_some()).ok_or(StoreError::Conflict)?;
        let changed = change(profile.connection.as_mut().expect("checked above"))?;
        self.journal_bot(bot_id, profile)?;
        Ok(changed)
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn get_conversation(
        &self,
        bot_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        self.calls.read();
        Ok(self
            .conversations
            .lock()
            .expect("store lock")
            .get(&(bot_id.to_owned(), conversation_id.to_owned()))
            .cloned())
    }

    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StoreError> {
        self.calls.write();
        let mut map = self.conversations.lock().expect("store lock");
        let key = (claim.bot_id.clone(), claim.conversation_id.clone());
        let existing = map.get(&key);
        match next_claim(existing, claim) {
            Some(record) => {
                self.journal_conversation(&record)?;
                map.insert(key, record.clone());
                Ok(ClaimOutcome::Claimed(record))
            }
            None => Ok(ClaimOutcome::Held(existing.cloned().expect("held implies a record"))),
        }
    }

    async fn record_ticket(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        ticket: &RecordedTicket,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.claim_token == claim_token,
            |r| {
                r.state = EscalationState::Created;
                r.ticket_id = Some(ticket.ticket_id);
                r.account = ticket.account.clone().or(r.account.take());
                r.ticket_status = Some(ticket.status);
                r.notes_written = ticket.notes_written;
                r.last_synced_fingerprint = ticket.last_synced_fingerprint.clone();
                r.pending_payload = None;
                r.due_at_ms = None;
                r.lease_until_ms = 0;
                r.last_error = None;
            },
        )?;
        Ok(())
    }

    async fn mark_pending(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        update: &PendingUpdate,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.claim_token == claim_token && r.state == EscalationState::Pending,
            |r| {
                r.ticket_id = update.ticket_id.or(r.ticket_id);
                if update.ticket_id.is_some() {
                    r.account = update.account.clone().or(r.account.take());
                }
                r.notes_written = update.notes_written;
                r.attempts = update.attempts;
                r.due_at_ms = Some(update.due_at_ms);
                r.last_error = Some(update.last_error.clone());
                r.lease_until_ms = 0;
            },
        )?;
        Ok(())
    }

    async fn mark_failed(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.claim_token == claim_token,
            |r| {
                r.state = EscalationState::Failed;
                r.due_at_ms = None;
                r.lease_until_ms = 0;
                r.last_error = Some(error.to_owned());
            },
        )
    }

    async fn acquire_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        lease: &SyncLease,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| {
                r.state == EscalationState::Created
                    && r.ticket_id == Some(lease.ticket_id)
                    && r.last_synced_fingerprint == lease.synced
                    && !r.sync_leased(lease.now_ms)
            },
            |r| {
                r.sync_holder = Some(lease.holder.clone());
                r.sync_lease_until_ms = Some(lease.until_ms);
            },
        )
    }

    async fn record_synced(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.sync_holder.as_deref() == Some(holder),
            |r| {
                r.last_synced_fingerprint = Some(fingerprint.to_owned());
                r.sync_holder = None;
                r.sync_lease_until_ms = None;
            },
        )
    }

    async fn release_sync_lease(&self, bot_id: &str, conversation_id: &str, holder: &str) -> Result<(), StoreError> {
        let released = self.update(
            bot_id,
            conversation_id,
            |r| r.sync_holder.as_deref() == Some(holder),
            // The holder stays as a mark that its notes may be partly on the ticket.
            |r| r.sync_lease_until_ms = Some(0),
        );
        match released {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn record_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<ConversationRecord, StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.state == EscalationState::Created && r.ticket_id == Some(ticket_id),
            |r| {
                r.ticket_status = Some(status);
                r.clone()
            },
        )
    }

    async fn apply_ticket_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        status: TicketStatus,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let applied = self.update(
            bot_id,
            conversation_id,
            |r| r.ticket_id == Some(ticket_id) && r.in_account(account) && r.status_at_ms.is_none_or(|t| t <= at_ms),
            |r| {
                r.ticket_status = Some(status);
                r.status_at_ms = Some(at_ms);
            },
        );
        match applied {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn list_due(&self, now_ms: i64, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.calls.read();
        let map = self.conversations.lock().expect("store lock");
        let mut due: Vec<_> = map.values().filter(|r| r.due_at_ms.is_some_and(|d| d <= now_ms)).cloned().collect();
        due.sort_by_key(|r| r.due_at_ms);
        due.truncate(limit);
        Ok(due)
    }

    async fn conversation_for_ticket(
        &self,
        bot_id: &str,
        account: &str,
        ticket_id: u64,
    ) -> Result<Option<String>, StoreError> {
        self.calls.read();
        let map = self.conversations.lock().expect("store lock");
        // The account's own entry first, then one from before accounts were kept (as DynamoDB
        // queries the account's key, then the legacy one).
        let matching: Vec<&ConversationRecord> = map
            .values()
            .filter(|r| r.bot_id == bot_id && r.ticket_id == Some(ticket_id) && r.in_account(account))
            .collect();
        let chosen = matching.iter().find(|r| r.account.is_some()).or(matching.first());
        Ok(chosen.map(|r| r.conversation_id.clone()))
    }

    async fn assign_account(&self, bot_id: &str, account: &str) -> Result<usize, StoreError> {
        let mut map = self.conversations.lock().expect("store lock");
        let mut stamped = 0;
        for record in map.values_mut().filter(|r| r.bot_id == bot_id && r.account.is_none()) {
            self.calls.write();
            record.account = Some(account.to_owned());
            record.version += 1;
            self.journal_conversation(record)?;
            stamped += 1;
        }
        Ok(stamped)
    }

    async fn pending_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.calls.read();
        let map = self.conversations.lock().expect("store lock");
        let mut pending: Vec<ConversationRecord> = map
            .values()
            .filter(|r| r.bot_id == bot_id && r.state == EscalationState::Pending)
            .take(limit)
            .cloned()
            .collect();
        pending.sort_by_key(|r| r.due_at_ms);
        Ok(pending)
    }

    async fn put_visitor(&self, visitor: &VisitorRecord) -> Result<(), StoreError> {
        self.calls.write();
        let key = (visitor.bot_id.clone(), visitor.conversation_id.clone());
        self.visitors.lock().expect("store lock").insert(key, visitor.clone());
        Ok(())
    }

    async fn get_visitor(&self, bot_id: &str, conversation_id: &str) -> Result<Option<VisitorRecord>, StoreError> {
        self.calls.read();
        Ok(self.visitors.lock().expect("store lock").get(&(bot_id.to_owned(), conversation_id.to_owned())).cloned())
    }
}

#[async_trait]
impl CallbackOutbox for MemoryStore {
    async fn mark_event_seen(
        &self,
        bot_id: &str,
        event_id: &str,
        _now_s: i64,
        callback: Option<&PendingCallback>,
    ) -> Result<bool, StoreError> {
        self.calls.write();
        let mut seen = self.seen.lock().expect("store lock");
        let key = (bot_id.to_owned(), event_id.to_owned());
        if seen.contains_key(&key) {
            return Ok(false);
        }
        seen.insert(key, callback.cloned());
        Ok(true)
    }

    async fn list_due_callbacks(&self, now_ms: i64, limit: usize) -> Result<Vec<PendingCallback>, StoreError> {
        self.calls.read();
        let seen = self.seen.lock().expect("store lock");
        let mut due: Vec<PendingCallback> = seen
            .values()
            .flatten()
            .filter(|c| c.state == CallbackState::Pending && c.due_at_ms.is_some_and(|d| d <= now_ms))
            .cloned()
            .collect();
        due.sort_by_key(|c| c.due_at_ms);
        due.truncate(limit);
        Ok(due)
    }

    async fn claim_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<Option<PendingCallback>, StoreError> {
        self.calls.write();
        let mut seen = self.seen.lock().expect("store lock");
        let Some(Some(callback)) = seen.get_mut(&(bot_id.to_owned(), event_id.to_owned())) else {
            return Ok(None);
        };
        if callback.state != CallbackState::Pending || callback.due_at_ms != Some(expected_due_at_ms) {
            return Ok(None);
        }
        callback.due_at_ms = Some(next_due_at_ms);
        callback.attempts += 1;
        Ok(Some(callback.clone()))
    }

    async fn settle_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        state: CallbackState,
        last_error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.calls.write();
        let mut seen = self.seen.lock().expect("store lock");
        if let Some(Some(callback)) = seen.get_mut(&(bot_id.to_owned(), event_id.to_owned())) {
            callback.state = state;
            callback.due_at_ms = None;
            callback.last_error = last_error.map(str::to_owned);
        }
        Ok(())
    }

    async fn schedule_webhook_check(&self, bot_id: &str, due_at_ms: i64) -> Result<(), StoreError> {
        self.calls.write();
        self.webhook_checks.lock().expect("store lock").insert(bot_id.to_owned(), due_at_ms);
        Ok(())
    }

    async fn remove_webhook_check(&self, bot_id: &str) -> Result<(), StoreError> {
        self.calls.write();
        self.webhook_checks.lock().expect("store lock").remove(bot_id);
        Ok(())
    }

    async fn list_webhook_checks_due(&self, now_ms: i64, limit: usize) -> Result<Vec<(String, i64)>, StoreError> {
        self.calls.read();
        let checks = self.webhook_checks.lock().expect("store lock");
        let mut due: Vec<(String, i64)> =
            checks.iter().filter(|(_, d)| **d <= now_ms).map(|(b, d)| (b.clone(), *d)).collect();
        due.sort_by_key(|(_, d)| *d);
        due.truncate(limit);
        Ok(due)
    }

    async fn claim_webhook_check(
        &self,
        bot_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<bool, StoreError> {
        self.calls.write();
        let mut checks = self.webhook_checks.lock().expect("store lock");
        match checks.get_mut(bot_id) {
            Some(due) if *due == expected_due_at_ms => {
                *due = next_due_at_ms;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl OAuthStateStore for MemoryStore {
    async fn put_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        self.calls.write();
        let mut states = self.states.lock().expect("store lock");
        if states.contains_key(&state.state) {
            return Err(StoreError::Conflict);
        }
        states.insert(state.state.clone(), state.clone());
        Ok(())
    }

    async fn take_state(&self, state: &str, now: i64) -> Result<Option<OAuthState>, StoreError> {
        self.calls.write();
        Ok(self.states.lock().expect("store lock").remove(state).filter(|s| s.expires_at > now))
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.calls.write();
        let mut audit = self.audit.lock().expect("store lock");
        if let Some(journal) = &self.journal {
            journal.audit_appended(entry)?;
        }
        audit.push(entry.clone());
        Ok(())
    }

    async fn list(&self, bot_id: &str, limit: usize, cursor: Option<&str>) -> Result<AuditPage, StoreError> {
        self.calls.read();
        let audit = self.audit.lock().expect("store lock");
        let mut entries: Vec<(usize, &AuditEntry)> =
            audit.iter().enumerate().filter(|(_, e)| e.bot_id == bot_id).collect();
        // Newest first; entries appended in the same instant keep their order of arrival.
        entries.sort_by(|a, b| (b.1.at.as_str(), b.0).cmp(&(a.1.at.as_str(), a.0)));
        // Cursors look like DynamoDB's (`AUDIT#…`), so the route checks one shape for both.
        let start = cursor.and_then(|c| c.strip_prefix("AUDIT#")).and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
        let page: Vec<AuditEntry> = entries.iter().skip(start).take(limit).map(|(_, e)| (*e).clone()).collect();
        let next = (start + page.len() < entries.len()).then(|| format!("AUDIT#{}", start + page.len()));
        Ok(AuditPage { entries: page, cursor: next })
    }
}

/// Everything `MemorySecrets` holds, as one value.
pub struct SecretsSnapshot {
    pub bots: HashMap<String, BotSecret>,
    pub webhooks: HashMap<String, WebhookSecret>,
    pub oauth_client: Option<crate::zendesk::oauth::OAuthClient>,
}

/// What `MemorySecrets::change` may change.
struct SecretsSnapshotMut<'a> {
    bots: &'a mut HashMap<String, BotSecret>,
    webhooks: &'a mut HashMap<String, WebhookSecret>,
    oauth_client: &'a mut Option<crate::zendesk::oauth::OAuthClient>,
}

/// Told of every change to the secrets held, with all of them, one change at a time (the local
/// runner's 0600 file is one).
pub trait SecretsJournal: Send + Sync {
    fn secrets_changed(&self, all: &SecretsSnapshot) -> Result<(), StoreError>;
}

/// Secrets held in memory (tests, and the local runner writes them through to a file).
#[derive(Default)]
pub struct MemorySecrets {
    secrets: Mutex<HashMap<String, BotSecret>>,
    webhook_secrets: Mutex<HashMap<String, WebhookSecret>>,
    oauth_client: Mutex<Option<crate::zendesk::oauth::OAuthClient>>,
    journal: Option<Box<dyn SecretsJournal>>,
    pub calls: CallCounter,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Secrets that tell `journal` of every change (what `restore*` loads is not told).
    pub fn with_journal(journal: Box<dyn SecretsJournal>) -> Self {
        Self { journal: Some(journal), ..Self::default() }
    }

    /// Changes what is held under all three locks (always taken in this order), then tells the
    /// journal while still holding them, so the journal's last word is the newest state.
    fn change(&self, change: impl FnOnce(&mut SecretsSnapshotMut<'_>)) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.secrets.lock().expect("secret lock");
        let mut webhooks = self.webhook_secrets.lock().expect("secret lock");
        let mut oauth_client = self.oauth_client.lock().expect("secret lock");
        change(&mut SecretsSnapshotMut { bots: &mut bots, webhooks: &mut webhooks, oauth_client: &mut oauth_client });
        match &self.journal {
            Some(journal) => journal.secrets_changed(&SecretsSnapshot {
                bots: bots.clone(),
                webhooks: webhooks.clone(),
                oauth_client: oauth_client.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Replaces everything held with `secrets` (loaded from the local runner's file).
    pub fn restore(&self, secrets: HashMap<String, BotSecret>) {
        *self.secrets.lock().expect("secret lock") = secrets;
    }

    /// Replaces every webhook secret held (loaded from the local runner's file).
    pub fn restore_webhook_secrets(&self, secrets: HashMap<String, WebhookSecret>) {
        *self.webhook_secrets.lock().expect("secret lock") = secrets;
    }

    pub fn restore_oauth_client(&self, client: crate::zendesk::oauth::OAuthClient) {
        *self.oauth_client.lock().expect("secret lock") = Some(client);
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        self.calls.read();
        Ok(self.secrets.lock().expect("secret lock").get(bot_id).cloned())
    }

    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError> {
        self.change(|all| {
            all.bots.insert(bot_id.to_owned(), secret.clone());
        })
    }

    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError> {
        self.change(|all| {
            all.webhooks.remove(bot_id);
            all.bots.remove(bot_id);
        })
    }

    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
        self.calls.read();
        Ok(self.webhook_secrets.lock().expect("secret lock").get(bot_id).cloned())
    }

    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError> {
        self.change(|all| {
            all.webhooks.insert(bot_id.to_owned(), secret.clone());
        })
    }

    fn invalidate(&self, _bot_id: &str) {}

    async fn get_oauth_client(&self) -> Result<Option<crate::zendesk::oauth::OAuthClient>, StoreError> {
        self.calls.read();
        Ok(self.oauth_client.lock().expect("secret lock").clone())
    }

    async fn put_oauth_client(&self, client: &crate::zendesk::oauth::OAuthClient) -> Result<(), StoreError> {
        self.change(|all| *all.oauth_client = Some(client.clone()))
    }
}
