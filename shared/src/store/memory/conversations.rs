//! The conversations' port in memory: claims (the core's claim rule under the lock), recorded
//! tickets, pending work, the sync lease, statuses, visitors.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::*;

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
                r.requester_id = ticket.requester_id.or(r.requester_id);
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
                    && r.forwarded_count == lease.forwarded_count
                    && !r.sync_leased(lease.now_ms)
            },
            |r| {
                r.sync_holder = Some(lease.holder.clone());
                r.sync_lease_until_ms = Some(lease.until_ms);
                r.sync_started_at_ms = Some(lease.now_ms);
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
                r.sync_started_at_ms = None;
            },
        )
    }

    async fn record_forwarded(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        forwarded: &Forwarded,
    ) -> Result<(), StoreError> {
        self.update(
            bot_id,
            conversation_id,
            |r| r.sync_holder.as_deref() == Some(holder),
            |r| {
                r.forwarded_ids = forwarded.ids.clone();
                r.forwarded_count = forwarded.count;
                r.requester_id = forwarded.requester_id.or(r.requester_id);
                r.sync_holder = None;
                r.sync_lease_until_ms = None;
                r.sync_started_at_ms = None;
            },
        )
    }

    async fn note_agent(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        activity: &AgentActivity,
    ) -> Result<Option<bool>, StoreError> {
        let noted = self.update(
            bot_id,
            conversation_id,
            |r| r.ticket_id == Some(ticket_id) && r.in_account(account),
            |r| {
                if r.agent_joined_at_ms.is_none() {
                    r.agent_joined_at_ms = Some(activity.at_ms);
                    r.agent_joined_event = Some(activity.event_id.clone());
                }
                if activity.reply && r.last_agent_reply_at_ms.is_none_or(|t| t < activity.at_ms) {
                    r.last_agent_reply_at_ms = Some(activity.at_ms);
                }
                r.agent_joined_event.as_deref() == Some(activity.event_id.as_str())
            },
        );
        match noted {
            Ok(joined) => Ok(Some(joined)),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn release_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        until_ms: i64,
    ) -> Result<(), StoreError> {
        done_unless_failed(self.update(
            bot_id,
            conversation_id,
            |r| r.sync_holder.as_deref() == Some(holder),
            // The holder stays as a mark that its notes may be partly on the ticket.
            |r| r.sync_lease_until_ms = Some(until_ms),
        ))
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

    async fn unfinished_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.calls.read();
        let map = self.conversations.lock().expect("store lock");
        let mut unfinished: Vec<ConversationRecord> =
            map.values().filter(|r| r.bot_id == bot_id && r.state != EscalationState::Created).cloned().collect();
        unfinished.sort_by_key(ConversationRecord::unfinished_order);
        unfinished.truncate(limit);
        Ok(unfinished)
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
