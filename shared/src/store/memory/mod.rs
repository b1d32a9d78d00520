//! In-process adapters: the same semantics as DynamoDB and Secrets Manager (conditional writes,
//! claim rules), held in memory. Used by unit tests and as the core of the local runner.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;

mod bots;
mod conversations;
mod outbox;
mod secrets;
mod visitors;

pub use secrets::{MemorySecrets, SecretsJournal, SecretsSnapshot};

/// Told of each change to a bot, a conversation or the audit trail (erasures included), after it is made and while it
/// is still held exclusively, so a journal sees the changes in the order they happened. The local
/// runner's embedded database is one (a save-on-change layer: the rules stay this store's); the
/// memory store never reads from it.
pub trait Journal: Send + Sync {
    fn bot_changed(&self, bot_id: &str, profile: &BotProfile) -> Result<(), StoreError>;
    fn conversation_changed(&self, record: &ConversationRecord) -> Result<(), StoreError>;
    fn audit_appended(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// A conversation was erased (a visitor's erasure).
    fn conversation_removed(&self, bot_id: &str, conversation_id: &str) -> Result<(), StoreError>;
    /// The bot's audit trail was rewritten (an erasure scrubbed an email): `entries` is all of it.
    fn audit_rewritten(&self, bot_id: &str, entries: &[AuditEntry]) -> Result<(), StoreError>;
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
