//! One visitor's data in memory: found and erased through the core's `VisitorMatcher`, in the
//! order it asks for.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::*;

impl MemoryStore {
    /// The visitor's data, walked in the matcher's order.
    fn find_visitor(&self, bot_id: &str, email: &str) -> (VisitorMatcher, VisitorData) {
        let mut matcher = VisitorMatcher::new(email);
        let mut data = VisitorData::default();
        {
            let conversations = self.conversations.lock().expect("store lock");
            let mut of_bot: Vec<&ConversationRecord> = conversations.values().filter(|r| r.bot_id == bot_id).collect();
            of_bot.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
            data.conversations = of_bot.iter().filter(|r| matcher.conversation(r)).map(|r| (*r).clone()).collect();
            let visitors = self.visitors.lock().expect("store lock");
            let mut sessions: Vec<&VisitorRecord> = visitors.values().filter(|v| v.bot_id == bot_id).collect();
            sessions.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
            data.sessions = sessions.into_iter().filter(|v| matcher.session(v)).cloned().collect();
            for conversation_id in matcher.unseen() {
                if let Some(record) = conversations.get(&(bot_id.to_owned(), conversation_id))
                    && matcher.conversation(record)
                {
                    data.conversations.push(record.clone());
                }
            }
        }
        let seen = self.seen.lock().expect("store lock");
        let mut callbacks: Vec<&PendingCallback> =
            seen.iter().filter(|((bot, _), _)| bot == bot_id).filter_map(|(_, callback)| callback.as_ref()).collect();
        callbacks.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        data.callbacks = callbacks.into_iter().filter(|c| matcher.callback(c)).cloned().collect();
        drop(seen);
        let audit = self.audit.lock().expect("store lock");
        data.audit = audit.iter().filter(|e| e.bot_id == bot_id && matcher.audit(e)).cloned().collect();
        (matcher, data)
    }

    /// Removes the session if it is still the one judged: true when removed.
    fn remove_session(&self, session: &VisitorRecord) -> bool {
        self.calls.write();
        let key = (session.bot_id.clone(), session.conversation_id.clone());
        let mut visitors = self.visitors.lock().expect("store lock");
        if visitors.get(&key) == Some(session) {
            visitors.remove(&key);
            return true;
        }
        false
    }
}

#[async_trait]
impl VisitorStore for MemoryStore {
    async fn visitor_data(&self, bot_id: &str, email: &str) -> Result<VisitorData, StoreError> {
        self.calls.read();
        Ok(self.find_visitor(bot_id, email).1)
    }

    async fn erase_visitor(&self, bot_id: &str, email: &str) -> Result<Erased, StoreError> {
        self.calls.read();
        let (mut matcher, data) = self.find_visitor(bot_id, email);
        let mut erased = Erased::default();
        // Conversations go last: they are what finds the rest again if this stops part-way.
        let mut audit = self.audit.lock().expect("store lock");
        let mut scrubbed: Vec<AuditEntry> = audit.clone();
        for entry in scrubbed.iter_mut().filter(|e| e.bot_id == bot_id && matcher.mentions(e)) {
            *entry = matcher.scrub(entry);
            erased.audit_entries_scrubbed += 1;
        }
        if erased.audit_entries_scrubbed > 0 {
            self.calls.write();
            if let Some(journal) = &self.journal {
                let of_bot: Vec<AuditEntry> = scrubbed.iter().filter(|e| e.bot_id == bot_id).cloned().collect();
                journal.audit_rewritten(bot_id, &of_bot)?;
            }
            *audit = scrubbed;
        }
        drop(audit);
        for callback in &data.callbacks {
            self.calls.write();
            let key = (bot_id.to_owned(), callback.event_id.clone());
            // The event stays seen (a redelivery must not cause the callback again); its callback goes.
            if let Some(slot) = self.seen.lock().expect("store lock").get_mut(&key) {
                erased.callbacks += u32::from(slot.take().is_some());
            }
        }
        // Sessions naming nobody are found through their conversation: they go before it.
        // Sessions naming the visitor find the conversations their escalation named nobody on:
        // they go after them. Each only as it was judged (a rewritten one is someone's new data).
        let (named, unnamed): (Vec<&VisitorRecord>, Vec<&VisitorRecord>) =
            data.sessions.iter().partition(|s| s.email.is_some());
        for session in unnamed {
            erased.sessions += u32::from(self.remove_session(session));
        }
        for record in &data.conversations {
            self.calls.write();
            let key = (bot_id.to_owned(), record.conversation_id.clone());
            let mut conversations = self.conversations.lock().expect("store lock");
            // Only what was judged: a record that changed since is judged again.
            let still_theirs = match conversations.get(&key) {
                Some(now) if now.version == record.version => true,
                Some(now) => matcher.conversation(&now.clone()),
                None => false,
            };
            if still_theirs {
                if let Some(journal) = &self.journal {
                    journal.conversation_removed(bot_id, &record.conversation_id)?;
                }
                if let Some(removed) = conversations.remove(&key) {
                    erased.conversation(&removed);
                }
            }
        }
        for session in named {
            erased.sessions += u32::from(self.remove_session(session));
        }
        Ok(erased)
    }
}
