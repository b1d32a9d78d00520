//! The JSON a bot's callback URL receives (schema in README "Two-way sync"), and which webhook
//! events produce one. Pure: no I/O.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::text::html_to_text;
use crate::webhook::event::{Comment, EventKind, TicketEvent};
use crate::zendesk::types::TicketStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackKind {
    /// A support agent answered the visitor publicly.
    AgentReply,
    /// The ticket's status category changed.
    StatusChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The agent's display name in Zendesk.
    pub name: String,
}

/// One callback: a self-contained message the bot can show or act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackBody {
    #[serde(rename = "type")]
    pub kind: CallbackKind,
    /// Zendesk's event id: the same on every retry of this callback, so the bot can deduplicate.
    pub delivery_id: String,
    pub bot_id: String,
    pub conversation_id: String,
    pub ticket_id: u64,
    /// When it happened in Zendesk (RFC 3339, UTC).
    pub at: String,
    /// The ticket's status category after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// Who replied (agent replies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// The reply as plain text (agent replies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Whether a comment is a support agent's public reply: not a private note, not an end user's
/// message, not one Handoff wrote itself (it acts as the connected Zendesk user), not empty.
pub fn is_agent_reply(comment: &Comment, handoff_user_id: Option<u64>) -> bool {
    comment.is_public
        && comment.author_is_staff
        && !(handoff_user_id.is_some() && comment.author_id == handoff_user_id)
        && !comment.body.trim().is_empty()
}

/// The callback a webhook event produces, if any. `status_is_current` says whether the event's
/// status is the newest the conversation has seen (an older, reordered one is not forwarded).
pub fn for_event(
    bot_id: &str,
    conversation_id: &str,
    event: &TicketEvent,
    handoff_user_id: Option<u64>,
    status_is_current: bool,
) -> Option<CallbackBody> {
    let base = |kind| CallbackBody {
        kind,
        delivery_id: event.id.clone(),
        bot_id: bot_id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        ticket_id: event.ticket_id,
        at: event.time.format(&Rfc3339).unwrap_or_default(),
        status: event.status,
        author: None,
        text: None,
    };
    match &event.kind {
        EventKind::StatusChanged if status_is_current && event.status.is_some() => {
            Some(base(CallbackKind::StatusChanged))
        }
        EventKind::CommentAdded(comment) if is_agent_reply(comment, handoff_user_id) => {
            let text = html_to_text(&comment.body);
            if text.is_empty() {
                return None;
            }
            Some(CallbackBody {
                author: Some(Author { name: comment.author_name.clone().unwrap_or_else(|| "Support".to_owned()) }),
                text: Some(text),
                ..base(CallbackKind::AgentReply)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn event(kind: EventKind, status: Option<TicketStatus>) -> TicketEvent {
        TicketEvent {
            id: "evt-9".into(),
            time: datetime!(2026-11-21 10:00:00 UTC),
            ticket_id: 42,
            external_id: Some("conv-1".into()),
            status,
            kind,
        }
    }

    fn comment(public: bool, staff: bool, author: u64) -> Comment {
        Comment {
            id: Some(7),
            body: "<p>Hi Ana &amp; team</p>".into(),
            is_public: public,
            author_id: Some(author),
            author_name: Some("Carla".into()),
            author_is_staff: staff,
        }
    }

    #[test]
    fn a_public_agent_reply_is_forwarded_as_text() {
        let e = event(EventKind::CommentAdded(comment(true, true, 5)), Some(TicketStatus::Open));
        let body = for_event("bot", "conv-1", &e, Some(1), true).expect("forwarded");
        assert_eq!(body.kind, CallbackKind::AgentReply);
        assert_eq!(body.text.as_deref(), Some("Hi Ana & team"));
        assert_eq!(body.author, Some(Author { name: "Carla".into() }));
        assert_eq!((body.ticket_id, body.at.as_str()), (42, "2026-11-21T10:00:00Z"));
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["type"], "agent_reply");
        assert_eq!(json["status"], "open");
    }

    #[test]
    fn private_notes_end_user_comments_and_handoffs_own_are_not() {
        for (c, why) in [
            (comment(false, true, 5), "private note"),
            (comment(true, false, 5), "end user"),
            (comment(true, true, 1), "Handoff's own"),
        ] {
            let e = event(EventKind::CommentAdded(c), Some(TicketStatus::Open));
            assert_eq!(for_event("bot", "conv-1", &e, Some(1), true), None, "{why}");
        }
    }

    #[test]
    fn only_current_status_changes_are_forwarded() {
        let e = event(EventKind::StatusChanged, Some(TicketStatus::Solved));
        assert_eq!(for_event("bot", "c", &e, None, true).unwrap().kind, CallbackKind::StatusChanged);
        assert_eq!(for_event("bot", "c", &e, None, false), None);
        assert_eq!(for_event("bot", "c", &event(EventKind::Other("x".into()), None), None, true), None);
    }
}
