//! The live conversation after the handoff: what the visitor types once a person has the ticket.
//! The platform forwards those messages (`POST …/conversations/{id}/messages`); each request
//! becomes one public comment authored by the requester, so Zendesk treats it as the customer's
//! reply. Pure: the request model and its validation, which messages are new, the comment's text.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{BodyError, FieldError};
use crate::store::{ConversationRecord, EscalationState};
use crate::zendesk::types::TicketStatus;

/// Largest body accepted, in bytes: room for inline files under Lambda's 6 MB request limit.
pub const MAX_BODY_BYTES: usize = 6_000_000;
/// Largest file sent inline (base64 `data`), decoded.
pub const MAX_INLINE_FILE_BYTES: usize = 3_000_000;
/// Most bytes of inline files in one request, decoded.
pub const MAX_INLINE_REQUEST_BYTES: usize = 4_000_000;
/// Largest file fetched from the platform's URL.
pub const MAX_URL_FILE_BYTES: usize = 20_000_000;
/// Most bytes of files, fetched and inline, in one request (one comment).
pub const MAX_REQUEST_FILE_BYTES: usize = 40_000_000;
/// Most files on one message, and in one request (each is one upload call to Zendesk).
pub const MAX_FILES_PER_MESSAGE: usize = 10;
pub const MAX_FILES_PER_REQUEST: usize = 10;
/// Most messages one request may carry.
pub const MAX_MESSAGES: usize = 50;
/// Most bytes of text one request may carry: the messages of one request become one comment, and
/// Zendesk caps a comment at about 64 KB.
pub const MAX_TEXT_BYTES: usize = 60_000;
/// Longest message id, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// How many forwarded message ids a conversation remembers, newest kept: a retry of any of them
/// adds nothing.
pub const REMEMBERED_IDS: usize = 200;

/// `{"messages": [...]}`: one or more visitor messages, in the order they were written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VisitorMessages {
    pub messages: Vec<VisitorMessage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VisitorMessage {
    /// The platform's own id for the message: a retry with the same id adds nothing.
    pub id: String,
    #[serde(default)]
    pub text: String,
    /// When the visitor wrote it (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
    /// Files the visitor sent with it.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A file from the visitor: at a URL the platform hosts, or inline (base64).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Attachment {
    /// The file's name as the agent sees it.
    pub name: String,
    #[serde(default)]
    pub content_type: Option<String>,
    /// An absolute `https://` URL Handoff fetches it from (public addresses only).
    #[serde(default)]
    pub url: Option<String>,
    /// The file itself, base64 (standard alphabet, padded).
    #[serde(default)]
    pub data: Option<String>,
}

impl Attachment {
    /// The inline file, decoded (None for a file by URL or data that is not base64).
    pub fn decoded(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(self.data.as_deref()?.trim()).ok()
    }

    /// What to send as the upload's type: the given one when it looks like a media type.
    pub fn media_type(&self) -> &str {
        self.content_type
            .as_deref()
            .filter(|t| t.contains('/') && t.len() <= 127 && t.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or("application/octet-stream")
    }

    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > 255
            || name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
        {
            problems.push(("name", "must be 1 to 255 characters, without control characters or slashes".to_owned()));
        }
        match (&self.url, &self.data) {
            (Some(url), None) => {
                let parsed = url::Url::parse(url).ok();
                let fit = |u: &url::Url| {
                    matches!(u.scheme(), "https" | "http")
                        && u.host().is_some()
                        && u.username().is_empty()
                        && u.password().is_none()
                };
                if !parsed.as_ref().is_some_and(fit) {
                    problems.push(("url", "must be an absolute https:// URL without a user or password".to_owned()));
                }
            }
            (None, Some(_)) => match self.decoded() {
                None => problems.push(("data", "must be base64".to_owned())),
                Some(bytes) if bytes.is_empty() || bytes.len() > MAX_INLINE_FILE_BYTES => {
                    problems.push(("data", format!("must hold 1 to {MAX_INLINE_FILE_BYTES} bytes")));
                }
                Some(_) => {}
            },
            _ => problems.push(("url", "give exactly one of `url` and `data`".to_owned())),
        }
        problems
    }
}

impl VisitorMessages {
    /// Parses and validates a JSON body (400 not JSON, 422 naming each bad field).
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        let parsed: Self = crate::error::parse_json_object(body)?;
        let errors = parsed.validate();
        if errors.is_empty() { Ok(parsed) } else { Err(BodyError::Invalid(errors)) }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.messages.is_empty() || self.messages.len() > MAX_MESSAGES {
            errors.push(FieldError::new("messages", format!("must hold 1 to {MAX_MESSAGES} messages")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, message) in self.messages.iter().enumerate() {
            let id = message.id.trim();
            if id.is_empty() || message.id.chars().count() > MAX_ID_CHARS || message.id.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    format!("messages[{i}].id"),
                    format!("must be 1 to {MAX_ID_CHARS} characters, without control characters"),
                ));
            } else if !seen.insert(id) {
                errors.push(FieldError::new(format!("messages[{i}].id"), "appears twice in the request"));
            }
            if message.text.trim().is_empty() && message.attachments.is_empty() {
                errors.push(FieldError::new(format!("messages[{i}].text"), "must not be empty without attachments"));
            }
            if message.attachments.len() > MAX_FILES_PER_MESSAGE {
                errors.push(FieldError::new(
                    format!("messages[{i}].attachments"),
                    format!("at most {MAX_FILES_PER_MESSAGE} files"),
                ));
            }
            for (j, attachment) in message.attachments.iter().enumerate() {
                for (field, problem) in attachment.problems() {
                    errors.push(FieldError::new(format!("messages[{i}].attachments[{j}].{field}"), problem));
                }
            }
            if message.at.as_deref().is_some_and(|at| OffsetDateTime::parse(at, &Rfc3339).is_err()) {
                errors.push(FieldError::new(format!("messages[{i}].at"), "must be an RFC 3339 time"));
            }
        }
        let inline: usize = self.attachments().filter_map(|(_, _, a)| a.decoded()).map(|b| b.len()).sum();
        if inline > MAX_INLINE_REQUEST_BYTES {
            errors.push(FieldError::new(
                "messages",
                format!(
                    "at most {MAX_INLINE_REQUEST_BYTES} bytes of inline files in one request; send larger ones by URL"
                ),
            ));
        }
        if self.attachments().count() > MAX_FILES_PER_REQUEST {
            errors.push(FieldError::new("messages", format!("at most {MAX_FILES_PER_REQUEST} files in one request")));
        }
        // What the comment will hold (a message of files only is named by its files).
        let all: Vec<&VisitorMessage> = self.messages.iter().collect();
        if comment_body(&all).len() > MAX_TEXT_BYTES {
            errors.push(FieldError::new("messages", format!("at most {MAX_TEXT_BYTES} bytes of text in one request")));
        }
        errors
    }

    /// Masks what the bot's redaction finds in the messages' text.
    pub fn redact(&mut self, redactor: &crate::redaction::Redactor) -> crate::redaction::RedactionCounts {
        let mut counts = crate::redaction::RedactionCounts::default();
        for message in &mut self.messages {
            redactor.redact(&mut message.text, &mut counts);
        }
        counts
    }

    /// The messages' ids as the platform sent them (trimmed), in order.
    pub fn ids(&self) -> Vec<String> {
        self.messages.iter().map(|m| m.id.trim().to_owned()).collect()
    }

    /// Every attachment with the indexes that name it (`messages[i].attachments[j]`).
    pub fn attachments(&self) -> impl Iterator<Item = (usize, usize, &Attachment)> {
        self.messages
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.attachments.iter().enumerate().map(move |(j, a)| (i, j, a)))
    }

    /// The messages not forwarded yet (their ids are not in `forwarded`), in order.
    pub fn new_since<'a>(&'a self, forwarded: &[String]) -> Vec<&'a VisitorMessage> {
        self.messages.iter().filter(|m| !forwarded.iter().any(|f| f == m.id.trim())).collect()
    }
}

/// The public comment that carries `messages`: the visitor's words as written, one paragraph
/// each; a message of files only is named by its files (Zendesk wants a comment body).
pub fn comment_body(messages: &[&VisitorMessage]) -> String {
    let paragraph = |m: &&VisitorMessage| match m.text.trim() {
        "" => {
            let names: Vec<&str> = m.attachments.iter().map(|a| a.name.trim()).collect();
            format!("[{}: {}]", if names.len() == 1 { "file" } else { "files" }, names.join(", "))
        }
        text => text.to_owned(),
    };
    messages.iter().map(paragraph).collect::<Vec<_>>().join("\n\n")
}

/// The ids a conversation remembers after `added` were forwarded: the newest `REMEMBERED_IDS`.
pub fn remember(forwarded: &[String], added: &[&VisitorMessage]) -> Vec<String> {
    let mut ids: Vec<String> = forwarded.to_vec();
    ids.extend(added.iter().map(|m| m.id.trim().to_owned()));
    let excess = ids.len().saturating_sub(REMEMBERED_IDS);
    ids.drain(..excess);
    ids
}

/// Where a conversation's handoff stands, for a bot that needs to know who is talking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffPhase {
    /// Never escalated: the bot has the conversation.
    NotEscalated,
    /// Escalated; the ticket is still being made (the sweeper finishes it).
    Pending,
    /// The ticket is there and no agent has taken it yet.
    WaitingForAgent,
    /// An agent took the ticket (assigned, or replied publicly).
    WithAgent,
    /// The ticket is solved or closed: the bot has the conversation back.
    Ended,
    /// The escalation was given up; escalating again starts over.
    Failed,
}

impl HandoffPhase {
    /// The phase of a conversation's record (None: never escalated).
    pub fn of(record: Option<&ConversationRecord>) -> Self {
        let Some(record) = record else { return Self::NotEscalated };
        match record.state {
            EscalationState::Pending => Self::Pending,
            EscalationState::Failed => Self::Failed,
            EscalationState::Created if record.ticket_status.is_some_and(TicketStatus::ends_episode) => Self::Ended,
            EscalationState::Created if record.agent_joined_at_ms.is_some() => Self::WithAgent,
            EscalationState::Created => Self::WaitingForAgent,
        }
    }

    /// Whether a person has (or is about to have) the conversation: the bot stays quiet.
    pub fn person_has_it(self) -> bool {
        matches!(self, Self::Pending | Self::WaitingForAgent | Self::WithAgent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_fields(body: &str) -> Vec<String> {
        match VisitorMessages::parse(body.as_bytes()) {
            Err(BodyError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn parses_messages_in_order() {
        let parsed = VisitorMessages::parse(
            br#"{"messages": [{"id": "m1", "text": "still broken", "at": "2026-12-01T10:00:00Z"}, {"id": "m2", "text": "hello?"}]}"#,
        )
        .unwrap();
        let ids: Vec<_> = parsed.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"]);
        assert_eq!(comment_body(&parsed.new_since(&[])), "still broken\n\nhello?");
    }

    #[test]
    fn names_each_bad_field() {
        assert_eq!(invalid_fields(r#"{"messages": []}"#), ["messages"]);
        assert_eq!(
            invalid_fields(
                r#"{"messages": [{"id": "", "text": "x"}, {"id": "a", "text": " "}, {"id": "a", "text": "y", "at": "yesterday"}]}"#
            ),
            ["messages[0].id", "messages[1].text", "messages[2].id", "messages[2].at"]
        );
        assert_eq!(invalid_fields(r#"{"messages": [{"text": "x"}]}"#), ["messages[0].id"]);
        let long = "x".repeat(MAX_TEXT_BYTES / 2);
        assert_eq!(
            invalid_fields(&format!(
                r#"{{"messages": [{{"id": "a", "text": "{long}"}}, {{"id": "b", "text": "{long}"}}]}}"#
            )),
            ["messages"]
        );
        assert!(matches!(VisitorMessages::parse(b"{nope"), Err(BodyError::Malformed(_))));
    }

    #[test]
    fn attachments_are_by_url_or_inline_and_named_when_alone() {
        let body = br#"{"messages": [{"id": "m1", "attachments": [
            {"name": "receipt.pdf", "content_type": "application/pdf", "url": "https://files.example.com/r.pdf"},
            {"name": "photo.jpg", "data": "aGVsbG8="}]}]}"#;
        let parsed = VisitorMessages::parse(body).unwrap();
        assert_eq!(comment_body(&parsed.new_since(&[])), "[files: receipt.pdf, photo.jpg]");
        assert_eq!(parsed.messages[0].attachments[1].decoded().unwrap(), b"hello");
        assert_eq!(parsed.messages[0].attachments[1].media_type(), "application/octet-stream");
        let many: Vec<String> = (0..11)
            .map(|i| format!(r#"{{"id": "m{i}", "attachments": [{{"name": "f{i}", "data": "aGk="}}]}}"#))
            .collect();
        assert_eq!(
            invalid_fields(&format!(r#"{{"messages": [{}]}}"#, many.join(","))),
            ["messages"],
            "10 files a request"
        );
        let long_name = "n".repeat(250);
        let named: Vec<String> = (0..50)
            .map(|i| {
                format!(r#"{{"id": "m{i}", "text": "{long_name} {long_name} {long_name} {long_name} {long_name}"}}"#)
            })
            .collect();
        assert_eq!(
            invalid_fields(&format!(r#"{{"messages": [{}]}}"#, named.join(","))),
            ["messages"],
            "the comment's size"
        );
        assert_eq!(
            invalid_fields(
                r#"{"messages": [{"id": "m1", "attachments": [{"name": "u", "url": "https://user:pw@files.example.com/f"}]}]}"#
            ),
            ["messages[0].attachments[0].url"]
        );
        assert_eq!(
            invalid_fields(
                r#"{"messages": [{"id": "m1", "attachments": [{"name": "a/b", "url": "ftp://x/y"}, {"name": "x", "data": "%%%"}, {"name": "y"}]}]}"#
            ),
            [
                "messages[0].attachments[0].name",
                "messages[0].attachments[0].url",
                "messages[0].attachments[1].data",
                "messages[0].attachments[2].url"
            ]
        );
    }

    #[test]
    fn only_new_messages_are_forwarded_and_the_newest_ids_are_kept() {
        let parsed =
            VisitorMessages::parse(br#"{"messages": [{"id": "m1", "text": "a"}, {"id": "m2", "text": "b"}]}"#).unwrap();
        let new = parsed.new_since(&["m1".to_owned()]);
        assert_eq!(new.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m2"]);
        let old: Vec<String> = (0..REMEMBERED_IDS).map(|i| format!("old-{i}")).collect();
        let kept = remember(&old, &new);
        assert_eq!(kept.len(), REMEMBERED_IDS);
        assert_eq!((kept[0].as_str(), kept.last().unwrap().as_str()), ("old-1", "m2"));
    }
}
