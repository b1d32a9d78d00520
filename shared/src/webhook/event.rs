//! Zendesk's event-subscribed webhook payloads, read leniently: the fields Handoff acts on are
//! taken out, anything else is ignored (Zendesk adds fields over time). Status strings are
//! compared without regard to case; custom statuses count by their category (`detail.status`).

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::zendesk::types::TicketStatus;

pub const STATUS_CHANGED: &str = "zen:event-type:ticket.status_changed";
pub const COMMENT_ADDED: &str = "zen:event-type:ticket.comment_added";
pub const TICKET_CREATED: &str = "zen:event-type:ticket.created";
pub const ASSIGNMENT_CHANGED: &str = "zen:event-type:ticket.agent_assignment_changed";

/// One delivery, as far as Handoff cares.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    /// Zendesk's event id: deliveries are deduplicated on it.
    pub id: String,
    pub time: OffsetDateTime,
    pub ticket_id: u64,
    pub external_id: Option<String>,
    /// The ticket's status category after the event.
    pub status: Option<TicketStatus>,
    /// The agent assigned after the event (`detail.assignee_id`).
    pub assignee_id: Option<u64>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The ticket was made (Handoff made it: the handoff has started).
    Created,
    /// The status changed; `previous` is the category before, when the event says.
    StatusChanged {
        previous: Option<TicketStatus>,
    },
    CommentAdded(Comment),
    /// Another agent (or none) is assigned; the new one's name when the event gives it.
    AssigneeChanged {
        agent_name: Option<String>,
    },
    /// Another subscribed event type (kept for dedupe and logs, otherwise ignored).
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: Option<u64>,
    pub body: String,
    pub is_public: bool,
    pub author_id: Option<u64>,
    pub author_name: Option<String>,
    pub author_is_staff: bool,
    /// The comment's files, when the event lists them.
    pub attachments: Vec<EventAttachment>,
}

/// A file on a comment, as the event gives it (Zendesk's attachment object; the name is read
/// from `file_name` or `filename`, the size as a number or a string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventAttachment {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub url: String,
}

fn attachments(value: &Value) -> Vec<EventAttachment> {
    let Some(list) = value.pointer("/event/comment/attachments").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|a| {
            let name = text(a, "/file_name").or_else(|| text(a, "/filename"))?.to_owned();
            let url = text(a, "/content_url").filter(|u| u.starts_with("https://") || u.starts_with("http://"))?;
            Some(EventAttachment {
                name,
                content_type: text(a, "/content_type").map(str::to_owned),
                size: number(a, "/size"),
                url: url.to_owned(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the body is not JSON")]
    NotJson,
    /// JSON, but not the object every Zendesk event is.
    #[error("the body is not a JSON object")]
    NotObject,
    #[error("the event lacks `{0}`")]
    Missing(&'static str),
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Ids arrive as strings (`detail.id`) or numbers.
fn number(value: &Value, pointer: &str) -> Option<u64> {
    match value.pointer(pointer)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A status string (`OPEN`, `solved`, …) as its category; None for anything unknown.
pub fn status_category(raw: &str) -> Option<TicketStatus> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "new" => Some(TicketStatus::New),
        "open" => Some(TicketStatus::Open),
        "pending" => Some(TicketStatus::Pending),
        "hold" | "on-hold" | "on_hold" => Some(TicketStatus::Hold),
        "solved" => Some(TicketStatus::Solved),
        "closed" => Some(TicketStatus::Closed),
        _ => None,
    }
}

/// Parses a delivery's raw body.
pub fn parse(body: &[u8]) -> Result<TicketEvent, EventError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EventError::NotJson)?;
    if !value.is_object() {
        return Err(EventError::NotObject);
    }
    let id = text(&value, "/id").ok_or(EventError::Missing("id"))?.to_owned();
    let kind = text(&value, "/type").ok_or(EventError::Missing("type"))?;
    let time = text(&value, "/time")
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .ok_or(EventError::Missing("time"))?;
    let ticket_id = number(&value, "/detail/id")
        .or_else(|| text(&value, "/subject").and_then(|s| s.rsplit(':').next()).and_then(|n| n.parse().ok()))
        .ok_or(EventError::Missing("detail.id"))?;
    let kind = match kind {
        TICKET_CREATED => EventKind::Created,
        STATUS_CHANGED => {
            EventKind::StatusChanged { previous: text(&value, "/event/previous").and_then(status_category) }
        }
        ASSIGNMENT_CHANGED => {
            EventKind::AssigneeChanged { agent_name: text(&value, "/event/current/name").map(str::to_owned) }
        }
        COMMENT_ADDED => EventKind::CommentAdded(Comment {
            id: number(&value, "/event/comment/id"),
            body: text(&value, "/event/comment/body").unwrap_or_default().to_owned(),
            is_public: value.pointer("/event/comment/is_public").and_then(Value::as_bool).unwrap_or(false),
            author_id: number(&value, "/event/comment/author/id"),
            author_name: text(&value, "/event/comment/author/name").map(str::to_owned),
            author_is_staff: value.pointer("/event/comment/author/is_staff").and_then(Value::as_bool).unwrap_or(false),
            attachments: attachments(&value),
        }),
        other => EventKind::Other(other.to_owned()),
    };
    Ok(TicketEvent {
        id,
        time,
        ticket_id,
        external_id: text(&value, "/detail/external_id").filter(|e| !e.is_empty()).map(str::to_owned),
        status: text(&value, "/detail/status").and_then(status_category),
        assignee_id: number(&value, "/detail/assignee_id"),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status_event(current: &str, category: &str) -> Vec<u8> {
        json!({
            "type": STATUS_CHANGED, "id": "evt-1", "time": "2026-11-21T10:00:00Z", "account_id": 123,
            "subject": "zen:ticket:35436",
            "detail": {"id": "35436", "status": category, "external_id": "conv-1", "updated_at": "2026-11-21T10:00:00Z"},
            "event": {"current": current, "previous": "OPEN"}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn status_changes_are_read_by_category() {
        let event = parse(&status_event("Waiting on customer (custom)", "PENDING")).unwrap();
        assert_eq!(
            (event.ticket_id, event.status, event.kind),
            (35436, Some(TicketStatus::Pending), EventKind::StatusChanged { previous: Some(TicketStatus::Open) })
        );
        assert_eq!(event.external_id.as_deref(), Some("conv-1"));
        assert_eq!(parse(&status_event("SOLVED", "Solved")).unwrap().status, Some(TicketStatus::Solved));
    }

    #[test]
    fn comments_carry_author_and_visibility() {
        let body = json!({
            "type": COMMENT_ADDED, "id": "evt-2", "time": "2026-11-21T10:01:00Z", "subject": "zen:ticket:7",
            "detail": {"id": "7", "status": "OPEN"},
            "event": {"comment": {"id": "991", "body": "<p>Hi Ana!</p>", "is_public": true,
                                  "author": {"id": "55", "name": "Carla", "is_staff": true}}}
        });
        let event = parse(body.to_string().as_bytes()).unwrap();
        let EventKind::CommentAdded(comment) = event.kind else { panic!("a comment") };
        assert_eq!((comment.id, comment.is_public, comment.author_is_staff), (Some(991), true, true));
        assert!(comment.attachments.is_empty());
        assert_eq!((comment.author_name.as_deref(), comment.body.as_str()), (Some("Carla"), "<p>Hi Ana!</p>"));
    }

    #[test]
    fn a_comments_files_are_read_whichever_name_field_zendesk_uses() {
        let body = json!({
            "type": COMMENT_ADDED, "id": "evt-3", "time": "2026-11-21T10:01:00Z", "subject": "zen:ticket:7",
            "detail": {"id": "7", "status": "OPEN"},
            "event": {"comment": {"id": "992", "body": "See attached", "is_public": true,
                "author": {"id": "55", "name": "Carla", "is_staff": true},
                "attachments": [
                    {"file_name": "label.pdf", "content_type": "application/pdf", "size": 2532,
                     "content_url": "https://acme.zendesk.com/attachments/token/abc/?name=label.pdf"},
                    {"filename": "map.png", "size": "10", "content_url": "https://acme.zendesk.com/attachments/token/def/?name=map.png"},
                    {"file_name": "no-url.txt"}
                ]}}
        });
        let EventKind::CommentAdded(comment) = parse(body.to_string().as_bytes()).unwrap().kind else { panic!() };
        let names: Vec<_> = comment.attachments.iter().map(|a| (a.name.as_str(), a.size)).collect();
        assert_eq!(names, [("label.pdf", Some(2532)), ("map.png", Some(10))]);
    }

    #[test]
    fn the_ticket_id_falls_back_to_the_subject_and_bad_bodies_are_named() {
        let body = json!({"type": "zen:event-type:ticket.priority_changed", "id": "e", "time": "2026-11-21T10:00:00Z", "subject": "zen:ticket:42"});
        let event = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            (event.ticket_id, event.kind),
            (42, EventKind::Other("zen:event-type:ticket.priority_changed".into()))
        );
        assert_eq!(parse(b"not json"), Err(EventError::NotJson));
        assert_eq!(parse(br#"{"type": "x", "time": "2026-11-21T10:00:00Z"}"#), Err(EventError::Missing("id")));
        assert_eq!(
            parse(br#"{"id": "e", "type": "x", "time": "2026-11-21T10:00:00Z"}"#),
            Err(EventError::Missing("detail.id"))
        );
    }
}
