//! The JSON a bot's callback URL receives (schema in README "Two-way sync"), and which webhook
//! events produce one. Pure: no I/O.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::text::html_to_text;
use crate::webhook::event::{Comment, EventAttachment, EventKind, TicketEvent};
use crate::zendesk::types::TicketStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackKind {
    /// The ticket exists: a person will take the conversation (the bot should stay quiet).
    HandoffStarted,
    /// An agent took the ticket for the first time this handoff (assigned, or a first public
    /// reply): a person is on it now.
    AgentJoined,
    /// A support agent answered the visitor publicly.
    AgentReply,
    /// The ticket's status category changed (open, pending, on hold).
    StatusChanged,
    /// The ticket is solved or closed: the bot takes the conversation back.
    HandoffEnded,
    /// A solved ticket was opened again: a person has the conversation again.
    HandoffReopened,
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
    /// The reply's files (agent replies only): name, type, size and Zendesk's URL for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<EventAttachment>,
}

/// Whether a comment is a support agent's public reply: not a private note, not an end user's
/// message, not one Handoff wrote itself (it acts as the connected Zendesk user), not empty
/// (text or files).
pub fn is_agent_reply(comment: &Comment, handoff_user_id: Option<u64>) -> bool {
    comment.is_public
        && comment.author_is_staff
        && !(handoff_user_id.is_some() && comment.author_id == handoff_user_id)
        && (!comment.body.trim().is_empty() || !comment.attachments.is_empty())
}

/// What Handoff knows about an event of a conversation's ticket besides the event itself.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    pub bot_id: &'a str,
    pub conversation_id: &'a str,
    /// The connected Zendesk user (Handoff's own comments are not forwarded).
    pub handoff_user_id: Option<u64>,
    /// The event's status is the newest the conversation has seen (an older, reordered one is not
    /// forwarded).
    pub status_is_current: bool,
    /// This event is the first sign of an agent on the ticket this handoff.
    pub agent_joined: bool,
}

fn base(context: &EventContext<'_>, event: &TicketEvent, kind: CallbackKind, delivery_id: String) -> CallbackBody {
    CallbackBody {
        kind,
        delivery_id,
        bot_id: context.bot_id.to_owned(),
        conversation_id: context.conversation_id.to_owned(),
        ticket_id: event.ticket_id,
        at: event.time.format(&Rfc3339).unwrap_or_default(),
        status: event.status,
        author: None,
        text: None,
        attachments: Vec::new(),
    }
}

/// The `agent_joined` callback of an agent's first public reply, which is also forwarded as the
/// reply itself: its own delivery id, derived from the event's.
pub fn agent_joined_by_reply(context: &EventContext<'_>, event: &TicketEvent) -> Option<CallbackBody> {
    let EventKind::CommentAdded(comment) = &event.kind else { return None };
    let name = comment.author_name.clone().unwrap_or_else(|| "Support".to_owned());
    let body = base(context, event, CallbackKind::AgentJoined, format!("{}:agent_joined", event.id));
    Some(CallbackBody { author: Some(Author { name }), ..body })
}

/// The callback a webhook event of the conversation's ticket produces, if any.
pub fn for_event(context: &EventContext<'_>, event: &TicketEvent) -> Option<CallbackBody> {
    let base = |kind| base(context, event, kind, event.id.clone());
    match &event.kind {
        EventKind::Created => Some(base(CallbackKind::HandoffStarted)),
        EventKind::StatusChanged { previous } if context.status_is_current => {
            let status = event.status?;
            let kind = if status.ends_episode() {
                CallbackKind::HandoffEnded
            } else if previous.is_some_and(TicketStatus::ends_episode) {
                CallbackKind::HandoffReopened
            } else {
                CallbackKind::StatusChanged
            };
            Some(base(kind))
        }
        EventKind::AssigneeChanged { agent_name } if context.agent_joined => Some(CallbackBody {
            author: agent_name.clone().map(|name| Author { name }),
            ..base(CallbackKind::AgentJoined)
        }),
        EventKind::CommentAdded(comment) if is_agent_reply(comment, context.handoff_user_id) => {
            let text = html_to_text(&comment.body);
            if text.is_empty() && comment.attachments.is_empty() {
                return None;
            }
            Some(CallbackBody {
                author: Some(Author { name: comment.author_name.clone().unwrap_or_else(|| "Support".to_owned()) }),
                text: Some(text),
                attachments: comment.attachments.clone(),
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
            assignee_id: None,
            kind,
        }
    }

    fn context(handoff_user_id: Option<u64>, status_is_current: bool) -> EventContext<'static> {
        EventContext {
            bot_id: "bot",
            conversation_id: "conv-1",
            handoff_user_id,
            status_is_current,
            agent_joined: false,
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
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_public_agent_reply_is_forwarded_as_text() {
        let e = event(EventKind::CommentAdded(comment(true, true, 5)), Some(TicketStatus::Open));
        let body = for_event(&context(Some(1), true), &e).expect("forwarded");
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
            assert_eq!(for_event(&context(Some(1), true), &e), None, "{why}");
        }
    }

    #[test]
    fn only_current_status_changes_are_forwarded_named_by_what_they_mean_for_the_handoff() {
        let changed = |previous, status| event(EventKind::StatusChanged { previous }, Some(status));
        let kind = |e: &TicketEvent| for_event(&context(None, true), e).map(|b| b.kind);
        let solved = changed(Some(TicketStatus::Open), TicketStatus::Solved);
        assert_eq!(kind(&solved), Some(CallbackKind::HandoffEnded));
        assert_eq!(kind(&changed(Some(TicketStatus::Solved), TicketStatus::Closed)), Some(CallbackKind::HandoffEnded));
        assert_eq!(kind(&changed(Some(TicketStatus::Solved), TicketStatus::Open)), Some(CallbackKind::HandoffReopened));
        assert_eq!(kind(&changed(Some(TicketStatus::Open), TicketStatus::Pending)), Some(CallbackKind::StatusChanged));
        assert_eq!(kind(&changed(None, TicketStatus::Open)), Some(CallbackKind::StatusChanged));
        assert_eq!(for_event(&context(None, false), &solved), None, "an older status is not forwarded");
        assert_eq!(kind(&event(EventKind::Other("x".into()), None)), None);
    }

    #[test]
    fn the_handoff_starts_with_the_ticket_and_an_agent_joins_once() {
        let created = event(EventKind::Created, Some(TicketStatus::New));
        let body = for_event(&context(None, false), &created).unwrap();
        assert_eq!(
            (body.kind, serde_json::to_value(&body).unwrap()["type"].clone()),
            (CallbackKind::HandoffStarted, "handoff_started".into())
        );
        let assigned = event(EventKind::AssigneeChanged { agent_name: Some("Carla".into()) }, Some(TicketStatus::Open));
        assert_eq!(for_event(&context(None, true), &assigned), None, "not the first agent");
        let first = EventContext { agent_joined: true, ..context(None, true) };
        let body = for_event(&first, &assigned).unwrap();
        assert_eq!((body.kind, body.author), (CallbackKind::AgentJoined, Some(Author { name: "Carla".into() })));
        let reply = event(EventKind::CommentAdded(comment(true, true, 5)), Some(TicketStatus::Open));
        let joined = agent_joined_by_reply(&first, &reply).unwrap();
        assert_eq!((joined.kind, joined.delivery_id.as_str()), (CallbackKind::AgentJoined, "evt-9:agent_joined"));
    }
}
