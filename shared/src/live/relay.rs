//! The visitor's messages after the handoff, relayed to the ticket: each request's new messages
//! become one public comment authored by the requester, exactly once.
//!
//! Exactly once rests on the conversation's sync lease (the one follow-up notes take): a relay
//! takes it only while the record's forwarded count is the one it read, so two relays never pick
//! the same new messages, and the write that records the forwarded ids releases it. A relay that
//! failed after Zendesk may have taken its comment keeps the lease a moment longer (time for
//! Zendesk to finish) and leaves its holder on the record; the next one then looks among the ticket's comments made since that
//! lease began for the messages it covered before adding them again. Zendesk's side is in
//! `comment`.

use std::time::Duration;

use tracing::{Instrument, info, warn};

use super::files::{FileError, FileFetcher};
use super::{BindingError, VisitorMessages, remember};
use crate::connection::accounts::{AccountError, Accounts, BotAccount, CallError};
use crate::deadline::{Deadline, now_ms};
use crate::escalation::{TicketRef, ticket_at, ticket_ref};
use crate::identity::VisitorMismatch;
use crate::store::*;
use crate::zendesk::types::TicketStatus;
use crate::zendesk::{Account, ZendeskClient, ZendeskError};

pub struct RelayCommand {
    pub bot_id: String,
    pub conversation_id: String,
    pub messages: VisitorMessages,
    /// The token's `visitor_email` claim (see `identity`).
    pub visitor_claim: Option<String>,
    pub deadline: Deadline,
}

/// What a relay came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Relayed {
    /// The new messages are on the ticket as one comment (`added`); `duplicates` were already.
    Added { ticket: TicketRef, added: Vec<String>, duplicates: Vec<String> },
    /// The ticket is solved or closed: nothing was added, and the bot takes the conversation back.
    Ended { ticket: TicketRef },
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The conversation has no ticket: escalate first.
    #[error("the conversation has no open ticket")]
    NoOpenTicket,
    /// The escalation is still creating the ticket.
    #[error("the conversation's ticket is still being created")]
    TicketNotReady,
    /// Another request for this conversation is adding its messages.
    #[error("another request for this conversation is adding its messages")]
    Busy { retry_after: Duration },
    #[error(transparent)]
    VisitorMismatch(#[from] VisitorMismatch),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Zendesk did not take the comment; `transient` says whether repeating can help.
    #[error("Zendesk did not take the messages: {0}")]
    Zendesk(ZendeskError),
    /// A visitor's file could not be had (`field` names it: `messages[i].attachments[j]`).
    #[error("{field}: {error}")]
    File { field: String, error: FileError },
}

impl RelayError {
    /// Zendesk may have carried out the call although no answer said so (see `ZendeskError::maybe_done`).
    pub fn maybe_done(&self) -> bool {
        matches!(self, Self::Zendesk(e) if e.maybe_done())
    }
}

pub struct Relay<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    pub accounts: Accounts<'a>,
    pub files: &'a FileFetcher,
}

/// How long a relay holds the sync lease beyond its own deadline.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// How long the lease stays after a call whose answer was lost: time for Zendesk to finish it.
const SETTLE: Duration = Duration::from_secs(3);

impl Relay<'_> {
    pub async fn relay(&self, command: RelayCommand) -> Result<Relayed, RelayError> {
        let span = tracing::info_span!(
            "relay",
            bot_id = %command.bot_id,
            conversation_id = %command.conversation_id,
            ticket_id = tracing::field::Empty,
        );
        self.relay_inner(command).instrument(span).await
    }

    async fn relay_inner(&self, mut command: RelayCommand) -> Result<Relayed, RelayError> {
        // The profile and the conversation at once; the secret only once there is something to
        // send (a retry of relayed messages reads no credentials).
        let (connected, record) = tokio::join!(self.accounts.connected(&command.bot_id), self.bound_record(&command));
        let (connection, settings) = connected?;
        let record = record?;
        // Masked before anything is compared with the ticket or sent to it.
        let redacted = command.messages.redact(&crate::privacy::redactor(&command.bot_id, &settings.redaction));
        if !redacted.is_empty() {
            info!(redacted = ?redacted.0, "masked in the visitor's messages");
        }
        let command = &command;
        let (bot_id, conversation_id) = (command.bot_id.as_str(), command.conversation_id.as_str());
        let ticket_id = match (&record, connection.subdomain.as_str()) {
            (Some(r), account) if r.state == EscalationState::Created && r.in_account(account) => {
                r.ticket_id.ok_or(RelayError::NoOpenTicket)?
            }
            (Some(r), account) if r.state == EscalationState::Pending && r.in_account(account) => {
                return Err(RelayError::TicketNotReady);
            }
            _ => return Err(RelayError::NoOpenTicket),
        };
        tracing::Span::current().record("ticket_id", ticket_id);
        let mut record = record.expect("matched above");
        // The ticket's page needs only the account's address; the credentials are read (and an
        // expiring token renewed) only once Zendesk is to be called.
        let base_url = Account::base_url(&connection.subdomain, self.accounts.zendesk_base_url)
            .map_err(|_| RelayError::Account(AccountError::ReconnectRequired))?;
        if let Some(status) = record.ticket_status.filter(|s| s.ends_episode()) {
            info!(status = status.as_str(), "the ticket is finished; nothing relayed");
            return Ok(Relayed::Ended { ticket: ticket_at(&base_url, ticket_id, Some(status)) });
        }
        let holder = crate::escalation::claim_token();
        for _ in 0..3 {
            let new = command.messages.new_since(&record.forwarded_ids);
            if new.is_empty() {
                info!("every message was relayed before");
                return Ok(Relayed::Added {
                    ticket: ticket_at(&base_url, ticket_id, record.ticket_status),
                    added: Vec::new(),
                    duplicates: command.messages.ids(),
                });
            }
            let now = now_ms();
            let lease = SyncLease {
                holder: holder.clone(),
                ticket_id,
                synced: record.last_synced_fingerprint.clone(),
                forwarded_count: record.forwarded_count,
                now_ms: now,
                until_ms: now + (command.deadline.remaining() + LEASE_MARGIN).as_millis() as i64,
            };
            match self.stores.conversations.acquire_sync_lease(bot_id, conversation_id, &lease).await {
                Ok(()) => return self.relay_leased(&connection, &record, &holder, command).await,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            match self.stores.conversations.get_conversation(bot_id, conversation_id).await? {
                Some(fresh) if fresh.sync_holder.as_deref() == Some(holder.as_str()) && fresh.sync_leased(now_ms()) => {
                    // Our own write, whose answer was lost: the lease is ours.
                    return self.relay_leased(&connection, &record, &holder, command).await;
                }
                Some(fresh) if fresh.state == EscalationState::Created && fresh.ticket_id == Some(ticket_id) => {
                    if let Some(until) = fresh.sync_lease_until_ms.filter(|_| fresh.sync_leased(now_ms())) {
                        let wait = (until - now_ms()).clamp(1000, 30_000) as u64;
                        return Err(RelayError::Busy { retry_after: Duration::from_millis(wait) });
                    }
                    record = fresh;
                }
                _ => return Err(RelayError::NoOpenTicket),
            }
        }
        Err(RelayError::Busy { retry_after: Duration::from_secs(1) })
    }

    /// Under the sync lease: adds the new messages (`comment`), then records them with the
    /// lease's release. A failure that Zendesk may still have carried out keeps the lease (and the
    /// mark) a moment (`SETTLE`), so a retry looks for the comment once Zendesk is done; any other
    /// failure releases the lease and clears the mark (nothing was added).
    async fn relay_leased(
        &self,
        connection: &Connection,
        record: &ConversationRecord,
        holder: &str,
        command: &RelayCommand,
    ) -> Result<Relayed, RelayError> {
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        let new = command.messages.new_since(&record.forwarded_ids);
        let conversations = &self.stores.conversations;
        let mut bot = match self.accounts.resolve(connection, command.deadline).await {
            Ok(bot) => bot,
            Err(e) => {
                self.release_unused(record, holder).await;
                return Err(e.into());
            }
        };
        let commented = match self.add_comment(&mut bot, record, &new, command).await {
            Ok(commented) => commented,
            Err(error) if error.maybe_done() => {
                // Zendesk may still be adding the comment: the next relay waits a moment, then
                // looks for it (the mark stays).
                warn!(%error, "Zendesk may have taken the comment; the lease is kept a moment");
                let until = now_ms() + SETTLE.as_millis() as i64;
                let kept = conversations.release_sync_lease(&record.bot_id, &record.conversation_id, holder, until);
                if let Err(e) = kept.await {
                    warn!(error = %e, "could not shorten the sync lease; it expires on its own");
                }
                return self.after_failure(&mut bot, record, error, command).await;
            }
            Err(error) => {
                self.release_unused(record, holder).await;
                return self.after_failure(&mut bot, record, error, command).await;
            }
        };
        let forwarded = Forwarded {
            ids: remember(&record.forwarded_ids, &new),
            count: record.forwarded_count + new.len() as u64,
            requester_id: commented.requester_id,
        };
        match conversations.record_forwarded(&record.bot_id, &record.conversation_id, holder, &forwarded).await {
            Ok(()) => {}
            // The lease ran out before the write: a retry finds the comment and adds nothing.
            Err(StoreError::Conflict) => warn!("sync lease lost before recording the relayed messages"),
            Err(e) => return Err(e.into()),
        }
        let added: Vec<String> = new.iter().map(|m| m.id.trim().to_owned()).collect();
        let duplicates = command.messages.ids().into_iter().filter(|id| !added.contains(id)).collect();
        info!(added = added.len(), "relayed the visitor's messages to the ticket");
        Ok(Relayed::Added { ticket: ticket_ref(&bot, ticket_id, commented.status), added, duplicates })
    }

    /// Releases the lease of a relay that reached nothing at Zendesk, clearing its mark (the
    /// record's ids and count written back as they were): the next relay has nothing to look for.
    async fn release_unused(&self, record: &ConversationRecord, holder: &str) {
        let unchanged =
            Forwarded { ids: record.forwarded_ids.clone(), count: record.forwarded_count, requester_id: None };
        let released =
            self.stores.conversations.record_forwarded(&record.bot_id, &record.conversation_id, holder, &unchanged);
        if let Err(e) = released.await {
            warn!(error = %e, "could not release the sync lease; it expires on its own");
        }
    }

    /// A deleted ticket, or one Zendesk refuses a comment on because it is closed, ends the
    /// handoff; anything else is the caller's error.
    async fn after_failure(
        &self,
        bot: &mut BotAccount,
        record: &ConversationRecord,
        error: RelayError,
        command: &RelayCommand,
    ) -> Result<Relayed, RelayError> {
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        match error {
            RelayError::Zendesk(ZendeskError::NotFound) => self.ended(bot, record, TicketStatus::Closed).await,
            // Zendesk refuses comments on a closed ticket with a 422 (as it does a comment it will
            // not take): one read tells which.
            RelayError::Zendesk(ZendeskError::Rejected { status: 422, .. }) => {
                let (zendesk, deadline) = (self.zendesk, command.deadline);
                let shown =
                    self.call(bot, deadline, |account| async move {
                        zendesk.show_ticket(&account, ticket_id, deadline).await
                    })
                    .await;
                match shown {
                    Ok(ticket) if ticket.status == TicketStatus::Closed => {
                        self.ended(bot, record, TicketStatus::Closed).await
                    }
                    _ => Err(error),
                }
            }
            other => Err(other),
        }
    }

    pub(super) async fn call<T, F, Fut>(
        &self,
        bot: &mut BotAccount,
        deadline: Deadline,
        call: F,
    ) -> Result<T, RelayError>
    where
        F: Fn(crate::zendesk::Account) -> Fut,
        Fut: std::future::Future<Output = Result<T, ZendeskError>>,
    {
        self.accounts.call(bot, "escalate", deadline, call).await.map_err(|e| match e {
            CallError::Account(e) => RelayError::Account(e),
            CallError::Zendesk(e) => RelayError::Zendesk(e),
        })
    }

    /// The ticket turned out deleted or closed: noted on the record, answered as ended.
    async fn ended(
        &self,
        bot: &BotAccount,
        record: &ConversationRecord,
        status: TicketStatus,
    ) -> Result<Relayed, RelayError> {
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        match self.stores.conversations.record_status(&record.bot_id, &record.conversation_id, ticket_id, status).await
        {
            Ok(_) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Relayed::Ended { ticket: ticket_ref(bot, ticket_id, Some(status)) })
    }

    async fn bound_record(&self, command: &RelayCommand) -> Result<Option<ConversationRecord>, RelayError> {
        let claim = command.visitor_claim.as_deref();
        super::bound_record(self.stores, &command.bot_id, &command.conversation_id, claim).await.map_err(|e| match e {
            BindingError::VisitorMismatch(e) => RelayError::VisitorMismatch(e),
            BindingError::Store(e) => RelayError::Store(e),
        })
    }
}
