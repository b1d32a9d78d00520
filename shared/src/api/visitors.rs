//! `GET`/`DELETE /v1/bots/{bot_id}/visitors?email=…`: a visitor's data-protection requests. GET
//! answers everything Handoff holds about them (conversations with the tickets they link and any
//! unfinished escalation, sessions, callbacks, audit entries); DELETE erases it, and with
//! `delete_zendesk_user=true` the Zendesk end users Handoff recorded for them first (a Zendesk
//! failure erases nothing: 502), answering what it did.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::FieldError;
use crate::escalation::pending::PendingEscalation;
use crate::http::{Caller, Problem, authorized_bot, json_response, query_param, scopes};
use crate::privacy::visitors::{EraseError, VisitorRequests};
use crate::store::{ConversationRecord, PendingCallback, VisitorData};

pub const ROUTE: &str = "/v1/bots/{bot_id}/visitors";

pub async fn export_route(app: &App, request: Request) -> Response<Body> {
    export(app, request).await.unwrap_or_else(Problem::into_response)
}

pub async fn erase_route(app: &App, request: Request) -> Response<Body> {
    erase(app, request).await.unwrap_or_else(Problem::into_response)
}

fn requests(app: &App) -> VisitorRequests<'_> {
    VisitorRequests { stores: &app.stores, accounts: app.accounts(), zendesk: &app.zendesk }
}

async fn export(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::READ_VISITOR_DATA)?;
    no_visitor_token(&caller)?;
    let email = email_param(&request, &[])?;
    let data = requests(app).export(&bot_id, &email, caller.subject.as_deref()).await.map_err(Problem::storage)?;
    Ok(json_response(StatusCode::OK, &exported(&email, data)))
}

async fn erase(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::DELETE_VISITOR_DATA)?;
    no_visitor_token(&caller)?;
    let mut errors = Vec::new();
    let delete_zendesk_user = match query_param(&request, "delete_zendesk_user").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new("delete_zendesk_user", "must be true or false"));
            false
        }
    };
    let email = email_param(&request, &errors)?;
    let erasure = requests(app)
        .erase(&bot_id, &email, delete_zendesk_user, caller.subject.as_deref())
        .await
        .map_err(erase_problem)?;
    Ok(json_response(StatusCode::OK, &erasure))
}

/// Data requests are the platform's back office's: a token that names a visitor (`visitor_email`)
/// makes none, not even for that visitor, because what matches an email includes what the
/// platform recorded without verifying it (a session's email, an escalation's requester).
fn no_visitor_token(caller: &Caller) -> Result<(), Problem> {
    match caller.visitor_email {
        Some(_) => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "visitor-token",
            "A visitor's token makes no data requests",
            "Export and erasure match records the platform did not verify; send them with a back-office token, without a visitor_email claim.",
        )),
        None => Ok(()),
    }
}

fn erase_problem(error: EraseError) -> Problem {
    match error {
        EraseError::Store(e) => Problem::storage(e),
        EraseError::NotConnected => Problem::not_connected(),
        EraseError::Zendesk { user_id, reason } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "zendesk-user-not-deleted",
            "Zendesk did not delete the visitor's user",
            format!(
                "{reason}{}. Handoff's records were not erased: repeat the request, or send it without delete_zendesk_user to erase Handoff's data alone.",
                user_id.map(|id| format!(" (Zendesk user {id})")).unwrap_or_default()
            ),
        ),
    }
}

/// The `email` parameter, normalized; a 422 naming it (with any `errors` found before) when it
/// is missing or not an address.
fn email_param(request: &Request, errors: &[FieldError]) -> Result<String, Problem> {
    let email = query_param(request, "email").map(|e| crate::identity::normalize_email(&e)).unwrap_or_default();
    let mut errors = errors.to_vec();
    // Quotes and backslashes would escape Zendesk's quoted search term (as in status lookups).
    if !crate::text::looks_like_email(&email) || email.contains(['"', '\\']) {
        errors.push(FieldError::new("email", "must be the visitor's email address"));
    }
    if errors.is_empty() { Ok(email) } else { Err(Problem::invalid(errors)) }
}

/// A ticket a conversation of the visitor links to.
#[derive(Serialize)]
struct LinkedTicket<'a> {
    conversation_id: &'a str,
    /// The Zendesk account (subdomain) it lives in, when known.
    account: Option<&'a str>,
    ticket_id: u64,
    /// The conversation's current ticket, or an earlier episode's.
    current: bool,
}

fn exported(email: &str, data: VisitorData) -> Value {
    let tickets: Vec<LinkedTicket<'_>> = data
        .conversations
        .iter()
        .flat_map(|r| {
            let linked = |ticket_id, current| LinkedTicket {
                conversation_id: &r.conversation_id,
                account: r.account.as_deref(),
                ticket_id,
                current,
            };
            r.ticket_id.map(|t| linked(t, true)).into_iter().chain(r.previous_ticket_id.map(|t| linked(t, false)))
        })
        .collect();
    json!({
        "email": email,
        "conversations": data.conversations.iter().map(conversation).collect::<Vec<_>>(),
        "tickets": tickets,
        "sessions": data.sessions,
        "callbacks": data.callbacks.iter().map(callback).collect::<Vec<_>>(),
        "audit": data.audit,
    })
}

/// A conversation as exported: what it says about the visitor and their handoff, with an
/// unfinished escalation's stored request decoded (its transcript, already redacted), and
/// without the claim and lease bookkeeping.
fn conversation(r: &ConversationRecord) -> Value {
    let pending = r.pending_payload.as_deref().map(|payload| match PendingEscalation::decode(payload) {
        Ok(pending) => json!({"request": pending.request, "rule": pending.rule, "reason": pending.reason}),
        Err(_) => json!({"unreadable": true}),
    });
    json!({
        "conversation_id": r.conversation_id,
        "episode": r.episode,
        "state": r.state,
        "rule": r.rule,
        "requester_email": r.requester_email,
        "requester_verified": r.requester_verified,
        "requester_id": r.requester_id,
        "account": r.account,
        "ticket_id": r.ticket_id,
        "ticket_status": r.ticket_status,
        "previous_ticket_id": r.previous_ticket_id,
        "messages_forwarded": r.forwarded_count,
        "agent_joined_at_ms": r.agent_joined_at_ms,
        "last_agent_reply_at_ms": r.last_agent_reply_at_ms,
        "pending_escalation": pending,
    })
}

fn callback(c: &PendingCallback) -> Value {
    json!({
        "delivery_id": c.event_id,
        "conversation_id": c.conversation_id,
        "ticket_id": c.ticket_id,
        "state": c.state,
        "attempts": c.attempts,
        "body": serde_json::from_str::<Value>(&c.body).unwrap_or(Value::String(c.body.clone())),
    })
}
