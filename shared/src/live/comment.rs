//! Zendesk's side of a relay, under the sync lease: who the comment is by, whether an unfinished
//! relay already left it, the files, and the comment itself.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::{info, warn};

use super::relay::{Relay, RelayCommand, RelayError};
use super::{MAX_REQUEST_FILE_BYTES, MAX_URL_FILE_BYTES, VisitorMessage, comment_body};
use crate::connection::accounts::BotAccount;
use crate::store::ConversationRecord;
use crate::zendesk::types::{TicketComment, TicketStatus};

/// Slack allowed between Handoff's clock and Zendesk's when a comment's creation time is compared
/// with when the lease was taken.
const CLOCK_SLACK_MS: i64 = 2_000;

/// What the comment call came to.
pub(super) struct Commented {
    pub status: Option<TicketStatus>,
    /// The requester, when the comment could be theirs (kept on the record for the next relay).
    pub requester_id: Option<u64>,
}

impl Relay<'_> {
    /// Adds `new` to the ticket once: as a public comment by the requester, or — when the ticket's
    /// requester is staff named by an unverified email — as an internal note, so a visitor never
    /// writes in an agent's name. An unfinished relay's mark on the record means its comment may
    /// be there already: the messages it covered (a prefix of `new`) are not added again.
    pub(super) async fn add_comment(
        &self,
        bot: &mut BotAccount,
        record: &ConversationRecord,
        new: &[&VisitorMessage],
        command: &RelayCommand,
    ) -> Result<Commented, RelayError> {
        let (deadline, zendesk) = (command.deadline, self.zendesk);
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        let requester_id = match record.requester_id {
            Some(id) => Some(id),
            None => self.nameable_requester(bot, record, command).await?,
        };
        let mut new = new;
        if record.sync_holder.is_some() {
            let newest =
                self.call(bot, deadline, |account| async move {
                    zendesk.newest_comments(&account, ticket_id, deadline).await
                })
                .await?;
            let since = record.sync_started_at_ms.unwrap_or(i64::MIN / 2) - CLOCK_SLACK_MS;
            let recent: Vec<&str> = newest
                .iter()
                .filter(|c| c.created_at.as_deref().and_then(millis).is_some_and(|at| at >= since))
                .map(|c| c.body.trim())
                .collect();
            let present =
                (1..=new.len()).rev().find(|k| recent.contains(&comment_body(&new[..*k]).trim())).unwrap_or(0);
            if present > 0 {
                info!(present, "an unfinished relay's comment is on the ticket; not adding those messages again");
            }
            new = &new[present..];
        }
        if new.is_empty() {
            return Ok(Commented { status: record.ticket_status, requester_id });
        }
        let uploads = self.upload_files(bot, new, command).await?;
        let body = comment_body(new);
        let comment = match requester_id {
            Some(id) => TicketComment { author_id: Some(id), uploads, ..TicketComment::new(body, true) },
            None => TicketComment {
                uploads,
                ..TicketComment::new(format!("Chat message from the visitor:\n\n{body}"), false)
            },
        };
        let comment = &comment;
        let updated = self
            .call(bot, deadline, |account| async move {
                zendesk.add_requester_comment(&account, ticket_id, comment, deadline).await
            })
            .await?;
        Ok(Commented { status: Some(updated.status), requester_id })
    }

    /// For a ticket whose requester was not kept when it was made (an earlier version, or a
    /// requester named by email): the requester, if the comment may be theirs — an end user, or
    /// the visitor's verified claim. One call, once per conversation.
    async fn nameable_requester(
        &self,
        bot: &mut BotAccount,
        record: &ConversationRecord,
        command: &RelayCommand,
    ) -> Result<Option<u64>, RelayError> {
        let (deadline, zendesk) = (command.deadline, self.zendesk);
        let ticket_id = record.ticket_id.expect("a created record has a ticket");
        let shown = self
            .call(bot, deadline, |account| async move {
                zendesk.show_ticket_with_users(&account, ticket_id, deadline).await
            })
            .await?;
        let requester = shown.ticket.requester_id;
        let user = shown.users.iter().find(|u| u.id.is_some() && u.id == requester);
        let end_user = user.is_some_and(|u| u.role.as_deref() == Some("end-user"));
        if !end_user && !record.requester_verified {
            warn!("the ticket's requester is not an end user; the visitor's messages go on as internal notes");
            return Ok(None);
        }
        Ok(requester)
    }

    /// `new`'s files, uploaded to Zendesk (one call each): their tokens, in order. A retry uploads
    /// them again; an unused upload expires at Zendesk within the hour.
    async fn upload_files(
        &self,
        bot: &mut BotAccount,
        new: &[&VisitorMessage],
        command: &RelayCommand,
    ) -> Result<Vec<String>, RelayError> {
        let deadline = command.deadline;
        let mut tokens = Vec::new();
        let mut total = 0;
        for (i, j, attachment) in command.messages.attachments() {
            let message = &command.messages.messages[i];
            if !new.iter().any(|m| std::ptr::eq(*m, message)) {
                continue;
            }
            let field = format!("messages[{i}].attachments[{j}]");
            let limit = MAX_URL_FILE_BYTES.min(MAX_REQUEST_FILE_BYTES.saturating_sub(total));
            let bytes = self
                .files
                .bytes(attachment, limit, deadline)
                .await
                .map_err(|error| RelayError::File { field: field.clone(), error })?;
            total += bytes.len();
            let (name, media_type, zendesk) = (attachment.name.trim(), attachment.media_type(), self.zendesk);
            let token = self
                .call(bot, deadline, |account| {
                    // Shared, not copied, on a second try.
                    let bytes = bytes.clone();
                    async move { zendesk.upload(&account, name, media_type, bytes, deadline).await }
                })
                .await?;
            tokens.push(token);
        }
        Ok(tokens)
    }
}

/// Unix milliseconds of an RFC 3339 time.
fn millis(at: &str) -> Option<i64> {
    OffsetDateTime::parse(at, &Rfc3339).ok().map(crate::deadline::millis)
}
