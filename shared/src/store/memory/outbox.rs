//! The outbox, OAuth states and the audit trail in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::*;

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
