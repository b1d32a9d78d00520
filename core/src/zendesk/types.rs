//! Request and response bodies of the Zendesk Support API, named after the schemas of Zendesk's
//! OpenAPI description (`TicketCreateRequest`, `TicketCreateInput`, `TicketCommentObject`, …) and
//! limited to the fields Handoff reads or writes. The simulator validates what these serialise to
//! against that description, so a field added here that Zendesk does not know fails a test.

use serde::{Deserialize, Serialize};

use crate::settings::Priority;

/// `POST /api/v2/tickets.json` body (`TicketCreateRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCreateRequest {
    pub ticket: TicketCreateInput,
}

/// `TicketCreateInput`, plus `requester`, which Zendesk documents for creation ("creates or
/// matches the end user") but its OpenAPI description leaves out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCreateInput {
    pub subject: String,
    pub comment: TicketComment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<Requester>,
    /// The requester by user id (instead of `requester`), when Handoff knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<u64>,
    /// Who submitted the ticket: the author of its first comment. Absent, Zendesk takes the
    /// authenticated (connected) user, and the visitor's words would be the integration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
}

impl TicketCreateInput {
    /// The ticket as the visitor's own: requester, submitter and the first comment's author are
    /// the visitor's Zendesk user (Zendesk credits the first comment to the submitter).
    pub fn submitted_by(mut self, user_id: u64) -> Self {
        self.requester = None;
        self.requester_id = Some(user_id);
        self.submitter_id = Some(user_id);
        self.comment.author_id = Some(user_id);
        self
    }
}

/// `POST /api/v2/users.json` body: a new end user (the default role of a new user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreateRequest {
    pub user: NewUser,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    /// No verification email: the visitor came from a chat, not a sign-up.
    pub skip_verify_email: bool,
}

/// `POST /api/v2/uploads.json` answer: the token a comment's `uploads` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub upload: Upload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub token: String,
}

/// Zendesk's ticket types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    Question,
    Incident,
    Problem,
    Task,
}

/// `TicketCommentObject` as written: `public` is always sent, never left to Zendesk's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketComment {
    pub body: String,
    pub public: bool,
    /// Who the comment is by; absent, Zendesk credits the authenticated (connected) user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<u64>,
    /// Tokens of uploaded files to attach (`POST /api/v2/uploads`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<String>,
}

impl TicketComment {
    /// A comment by the connected user.
    pub fn new(body: impl Into<String>, public: bool) -> Self {
        Self { body: body.into(), public, author_id: None, uploads: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requester {
    pub name: String,
    pub email: String,
}

/// One entry of `custom_fields` on a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    pub id: u64,
    pub value: serde_json::Value,
}

/// `PUT /api/v2/tickets/{id}.json` body (`TicketUpdateRequest`) carrying one comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketUpdateRequest {
    pub ticket: TicketUpdateInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketUpdateInput {
    pub comment: TicketComment,
}

/// `PUT /api/v2/users/{id}.json` body setting the user's phone (a ticket's `requester` object
/// takes only name, email and locale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPhoneUpdateRequest {
    pub user: UserPhone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPhone {
    pub phone: String,
}

/// The fields of `TicketObject` Handoff uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: u64,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    pub status: TicketStatus,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub requester_id: Option<u64>,
    #[serde(default)]
    pub assignee_id: Option<u64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Zendesk's status categories; custom statuses map onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    New,
    Open,
    Pending,
    Hold,
    Solved,
    Closed,
}

impl TicketStatus {
    /// Solved and closed tickets end an escalation episode: the next escalation opens a new ticket.
    pub fn ends_episode(self) -> bool {
        matches!(self, Self::Solved | Self::Closed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Hold => "hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }
}

/// `TicketResponse` and `TicketUpdateResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketResponse {
    pub ticket: Ticket,
}

/// `TicketsResponse` (offset or cursor paginated; Handoff reads the first page only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsResponse {
    pub tickets: Vec<Ticket>,
}

/// `TicketCommentsResponse`, for recovering notes whose answer was lost; with cursor pagination,
/// `meta` says whether more pages follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCommentsResponse {
    pub comments: Vec<TicketCommentObject>,
    #[serde(default)]
    pub meta: Option<CursorMeta>,
}

/// Cursor pagination's `meta`: `has_more`, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorMeta {
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub after_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCommentObject {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub author_id: Option<u64>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The fields of `UserObject` Handoff uses; `id` is null for an anonymous caller of `users/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// False for a user deleted but not permanently yet.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserResponse {
    pub user: User,
}

/// `GET /api/v2/deleted_users/{id}.json` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedUserResponse {
    pub deleted_user: User,
}

impl User {
    /// Agents and admins answer for the support team; everyone else is an end user.
    pub fn is_agent(&self) -> bool {
        matches!(self.role.as_deref(), Some("agent" | "admin"))
    }
}

/// `TicketResponse` with the `users` sideload (`?include=users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketWithUsers {
    pub ticket: Ticket,
    #[serde(default)]
    pub users: Vec<User>,
}

/// The fields of `TicketAuditObject` Handoff uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketAudit {
    #[serde(default)]
    pub id: Option<u64>,
    /// Zendesk writes -1 for changes made by Zendesk itself (automations, triggers).
    #[serde(default)]
    pub author_id: Option<i64>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `TicketAuditsResponseNoneCursor` (first page only), with any users sideloaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketAuditsResponse {
    pub audits: Vec<TicketAudit>,
    #[serde(default)]
    pub users: Vec<User>,
}

/// `UsersResponse` of a users search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersResponse {
    pub users: Vec<User>,
}

/// Zendesk's error body (`{"error": …, "description": …, "details": …}`); shapes vary by endpoint.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// OAuth errors carry `error_description` instead.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl ErrorBody {
    /// A short code such as `RecordInvalid` or `IdempotentRequestError`, when Zendesk sent one.
    pub fn code(&self) -> Option<String> {
        match &self.error {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Object(o)) => o.get("title").and_then(|t| t.as_str()).map(str::to_owned),
            _ => None,
        }
    }
}

/// The fields of `TicketFieldObject` Handoff uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketField {
    pub id: u64,
    #[serde(default)]
    pub title: Option<String>,
    /// `text`, `integer`, `tagger`…, or a system field's own (`subject`, `status`…).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    /// False for Zendesk's own (system) fields.
    #[serde(default)]
    pub removable: Option<bool>,
}

/// Types of Zendesk's own ticket fields, which a ticket sets through its own properties, never
/// through `custom_fields`.
pub const SYSTEM_FIELD_TYPES: [&str; 8] =
    ["subject", "description", "status", "custom_status", "tickettype", "priority", "group", "assignee"];

impl TicketField {
    /// A field the mapping may write: one of the account's own (custom) fields.
    pub fn is_custom(&self) -> bool {
        self.removable != Some(false) && !self.kind.as_deref().is_some_and(|kind| SYSTEM_FIELD_TYPES.contains(&kind))
    }
}

/// `TicketFieldsResponse` (offset pagination: `next_page` is the next page's URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketFieldsResponse {
    pub ticket_fields: Vec<TicketField>,
    #[serde(default)]
    pub next_page: Option<String>,
}
