//! The simulator's in-memory Zendesk: users, tickets with comments, ticket fields.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: String,
    #[serde(default)]
    pub phone: Option<String>,
}

impl User {
    pub fn new(id: u64, name: String, email: String, role: &str) -> Self {
        Self { id, name, email, role: role.to_owned(), phone: None }
    }

    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "email": self.email, "role": self.role, "phone": self.phone})
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    pub id: u64,
    /// Plain text: as sent, or derived from `html_body` when only that was sent (as Zendesk does).
    pub body: String,
    /// The HTML as sent (`comment.html_body`), if the comment was written as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_body: Option<String>,
    pub public: bool,
    pub author_id: u64,
    pub created_at: String,
    /// Files attached through `uploads`.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A file on a comment (Zendesk's attachment object, the fields Handoff reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: u64,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub content_url: String,
}

impl Attachment {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "file_name": self.file_name, "content_type": self.content_type, "size": self.size,
            "content_url": self.content_url, "inline": false, "deleted": false, "thumbnails": [],
        })
    }
}

impl Comment {
    /// The comment's text as stored: the HTML when it was written as HTML, else the plain body.
    pub fn stored_body(&self) -> &str {
        self.html_body.as_deref().unwrap_or(&self.body)
    }

    pub fn to_json(&self) -> Value {
        let html_body = self.html_body.clone().unwrap_or_else(|| format!("<p>{}</p>", escape_html(&self.body)));
        json!({
            "id": self.id, "type": "Comment", "body": self.body, "html_body": html_body, "plain_body": self.body,
            "public": self.public, "author_id": self.author_id, "created_at": self.created_at,
            "attachments": self.attachments.iter().map(Attachment::to_json).collect::<Vec<_>>(),
        })
    }
}

/// `text` safe to place in HTML (element content or a quoted attribute).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A rough plain-text rendition of comment HTML (tags dropped, line breaks kept, common entities
/// decoded): enough for `body` / `plain_body`, which Zendesk derives from `html_body`.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end].trim_start_matches('/').to_ascii_lowercase();
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
        if matches!(name, "br" | "p" | "div" | "li" | "tr") && !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.trim().to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ticket {
    pub id: u64,
    pub subject: String,
    pub status: String,
    pub priority: Option<String>,
    /// `question`, `incident`, `problem` or `task`.
    #[serde(default)]
    pub ticket_type: Option<String>,
    pub requester_id: u64,
    pub submitter_id: u64,
    pub assignee_id: Option<u64>,
    pub external_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<Value>,
    pub comments: Vec<Comment>,
    /// One per change (see `Audit`); absent from files saved before audits were kept.
    #[serde(default)]
    pub audits: Vec<Audit>,
    pub created_at: String,
    pub updated_at: String,
}

impl Ticket {
    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/tickets/{}.json", self.id),
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.comments.first().map(|c| c.body.clone()).unwrap_or_default(),
            "status": self.status,
            "priority": self.priority,
            "type": self.ticket_type,
            "requester_id": self.requester_id,
            "submitter_id": self.submitter_id,
            "assignee_id": self.assignee_id,
            "external_id": self.external_id,
            "tags": self.tags,
            "custom_fields": self.custom_fields,
            "is_public": self.comments.first().is_some_and(|c| c.public),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// One recorded change to a ticket. Zendesk has no "last updated by" field: a client reads the
/// newest audit's `author_id` (`GET /api/v2/tickets/{id}/audits.json`) to learn who changed it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub id: u64,
    pub author_id: u64,
    pub created_at: String,
}

impl Audit {
    /// The audit as Zendesk lists it (events are not modelled: nothing here reads them).
    pub fn to_json(&self, ticket_id: u64) -> Value {
        json!({
            "id": self.id, "ticket_id": ticket_id, "author_id": self.author_id, "created_at": self.created_at,
            "via": {"channel": "api"}, "events": [],
        })
    }
}

/// A ticket field as `GET /api/v2/ticket_fields` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketField {
    pub id: u64,
    pub title: String,
    pub kind: String,
}

impl TicketField {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "type": self.kind, "title": self.title, "active": true, "removable": true})
    }
}

/// Zendesk's own ticket fields, as every account lists them (set through a ticket's properties,
/// never through `custom_fields`).
pub fn system_fields() -> impl Iterator<Item = Value> {
    let fields = [
        ("Subject", "subject"),
        ("Description", "description"),
        ("Status", "status"),
        ("Type", "tickettype"),
        ("Priority", "priority"),
        ("Group", "group"),
        ("Assignee", "assignee"),
    ];
    fields.into_iter().zip(1u64..).map(|((title, kind), n)| {
        json!({"id": 360_000_000_000u64 + n, "type": kind, "title": title, "active": true, "removable": false})
    })
}

/// The current time as Zendesk writes it: RFC 3339, UTC, whole seconds (so strings sort by time).
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// `time` (as `now` writes it) moved `seconds` into the past; an unreadable time is kept as is.
pub fn earlier(time: &str, seconds: i64) -> String {
    match OffsetDateTime::parse(time, &Rfc3339) {
        Ok(t) => format(t - time::Duration::seconds(seconds)),
        Err(_) => time.to_owned(),
    }
}

fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t).format(&Rfc3339).unwrap_or_default()
}
