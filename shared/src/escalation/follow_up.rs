//! Follow-ups: new messages for a conversation whose ticket is open become notes on it, under the
//! sync lease, skipping notes a lost answer already left there.

use std::time::Duration;

use tracing::{info, warn};

use super::episode::{fingerprint, messages_after};
use super::service::*;
use crate::connection::accounts::BotAccount;
use crate::deadline::{Deadline, now_ms};
use crate::mapping::{self};
use crate::settings::BotSettings;
use crate::store::*;
use crate::transcript;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::TicketStatus;

impl Escalator<'_> {
    /// The conversation has a ticket: if it is still open, add only the new messages; if it was
    /// solved, closed or deleted, end the episode so the next round opens a new ticket.
    pub(super) async fn follow_up(
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
                forwarded_count: record.forwarded_count,
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
                        conversations.release_sync_lease(&record.bot_id, &record.conversation_id, &holder, 0).await
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
                        conversations.release_sync_lease(&record.bot_id, &record.conversation_id, &holder, 0).await
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

    /// How many of `notes`, in order, are already on the ticket (matched by their title line,
    /// which carries a digest of the note's body). Zendesk pages a ticket's comments, so every
    /// page is read (oldest first, stopping once all notes are seen), at most
    /// `MAX_COMMENT_PAGES`: Zendesk keeps at most 5,000 comments on a ticket.
    pub(super) async fn notes_present(
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
}
