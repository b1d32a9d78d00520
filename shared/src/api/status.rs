//! The status function's routes: `GET …/tickets/{ticket_id}` (a ticket's status for the
//! visitor), `GET …/customers/context?email=` (a returning visitor's recent tickets), and
//! `POST …/conversations/{conversation_id}/session` (who the visitor is, with context on demand).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::app::App;
use crate::error::FieldError;
use crate::http::{
    Caller, Problem, checked_id, json_body, json_response, parse_json_scrubbed, path_param, query_param, scopes,
};
use crate::status::service::WhoAsks;
use crate::status::summary::Language;
use crate::status::view::CustomerContext;
use crate::status::{Lookup, StatusError};
use crate::store::VisitorRecord;
use crate::text::looks_like_email;

pub const TICKET_ROUTE: &str = "/v1/bots/{bot_id}/tickets/{ticket_id}";
pub const CONTEXT_ROUTE: &str = "/v1/bots/{bot_id}/customers/context";
pub const SESSION_ROUTE: &str = "/v1/bots/{bot_id}/conversations/{conversation_id}/session";
const MAX_SESSION_BYTES: usize = 16 * 1024;

/// `GET …/tickets/{ticket_id}`.
pub async fn ticket_route(app: &App, request: Request) -> Response<Body> {
    ticket(app, &request).await.unwrap_or_else(Problem::into_response)
}

/// `GET …/customers/context`.
pub async fn context_route(app: &App, request: Request) -> Response<Body> {
    context(app, &request).await.unwrap_or_else(Problem::into_response)
}

/// `POST …/conversations/{conversation_id}/session`.
pub async fn session_route(app: &App, request: Request) -> Response<Body> {
    session(app, &request).await.unwrap_or_else(Problem::into_response)
}

fn lookup(app: &App) -> Lookup<'_> {
    Lookup { stores: &app.stores, zendesk: &app.zendesk, config: &app.escalation, cache: &app.lookups }
}

fn bot_of(request: &Request) -> Result<String, Problem> {
    let bot_id = path_param(request, "bot_id").unwrap_or_default();
    checked_id("bot_id", &bot_id)?;
    Ok(bot_id)
}

/// `?locale=` first, then `Accept-Language`, then English (a locale Handoff does not speak falls
/// through to the next).
fn language(request: &Request) -> Language {
    let header = request.headers().get("accept-language").and_then(|v| v.to_str().ok()).map(str::to_owned);
    query_param(request, "locale")
        .and_then(|l| Language::supported(&l))
        .or_else(|| header.and_then(|h| Language::supported(&h)))
        .unwrap_or(Language::En)
}

/// Unknown tickets and tickets the caller may not see read exactly the same.
fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "ticket-not-found",
        "No such ticket",
        "There is no ticket with this number that you can see.",
    )
}

fn problem_for(error: StatusError) -> Problem {
    match error {
        StatusError::NotFound => not_found(),
        StatusError::NotConnected => Problem::not_connected(),
        StatusError::ReconnectRequired => Problem::reconnect_required(),
        StatusError::VisitorMismatch => Problem::visitor_mismatch(),
        StatusError::Zendesk(e) => Problem::zendesk_read_failed(&e, "a lookup", ""),
        StatusError::RefreshDeferred => {
            Problem::unavailable("The bot's Zendesk token is being renewed; try again after Retry-After.", 5)
        }
        StatusError::Store(e) => Problem::storage(e),
    }
}

async fn ticket(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let bot_id = bot_of(request)?;
    let caller = Caller::from_request(request)?;
    caller.authorize(&bot_id, scopes::READ_TICKET_STATUS)?;
    let raw = path_param(request, "ticket_id").unwrap_or_default();
    let ticket_id = raw.trim_start_matches('#').parse::<u64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        Problem::bad_request("The ticket id must be a positive whole number, such as 1234.")
            .with_errors(vec![FieldError::new("ticket_id", "must be a positive integer")])
    })?;
    let conversation_id = query_param(request, "conversation_id");
    if let Some(conversation) = &conversation_id {
        checked_id("conversation_id", conversation)?;
    }
    let who = WhoAsks { visitor_email: caller.visitor_email.clone(), conversation_id };
    let span = tracing::info_span!("status", bot_id = %bot_id, ticket_id);
    let _entered = span.enter();
    let view = lookup(app)
        .ticket_status(&bot_id, ticket_id, &who, language(request), OffsetDateTime::now_utc())
        .await
        .map_err(problem_for)?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `?email=` checked and `?limit=` (1–10, default the bot's setting) read.
fn context_query(request: &Request) -> Result<(String, Option<u8>), Problem> {
    let email = query_param(request, "email").unwrap_or_default();
    let mut errors = Vec::new();
    if !looks_like_email(email.trim()) || email.contains(['"', '\\']) {
        errors.push(FieldError::new("email", "is not an email address"));
    }
    let limit = match query_param(request, "limit") {
        None => None,
        Some(raw) => match raw.parse::<u8>() {
            Ok(n) if (1..=10).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new("limit", "must be a whole number from 1 to 10"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    Ok((email.trim().to_owned(), limit))
}

async fn context(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let bot_id = bot_of(request)?;
    let caller = Caller::from_request(request)?;
    caller.authorize(&bot_id, scopes::READ_CUSTOMER_CONTEXT)?;
    let (email, limit) = context_query(request)?;
    let who = WhoAsks { visitor_email: caller.visitor_email.clone(), conversation_id: None };
    let answer: CustomerContext = lookup(app)
        .customer_context(&bot_id, &email, limit, &who, OffsetDateTime::now_utc())
        .await
        .map_err(problem_for)?;
    Ok(json_response(StatusCode::OK, &answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    #[serde(default)]
    visitor: SessionVisitor,
    #[serde(default)]
    locale: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SessionVisitor {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

async fn session(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let bot_id = bot_of(request)?;
    let conversation_id = path_param(request, "conversation_id").unwrap_or_default();
    checked_id("conversation_id", &conversation_id)?;
    let caller = Caller::from_request(request)?;
    caller.authorize(&bot_id, scopes::CREATE_TICKET)?;
    let body: SessionBody = parse_json_scrubbed(json_body(request, MAX_SESSION_BYTES)?)?;
    let email = body.visitor.email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if email.as_deref().is_some_and(|e| !looks_like_email(e)) {
        return Err(Problem::invalid(vec![FieldError::new("visitor.email", "is not an email address")]));
    }
    let visitor = VisitorRecord {
        bot_id: bot_id.clone(),
        conversation_id: conversation_id.clone(),
        name: body.visitor.name.map(|n| crate::text::one_line(&n)).filter(|n| !n.is_empty()),
        email,
        phone: body.visitor.phone.map(|p| crate::text::one_line(&p)).filter(|p| !p.is_empty()),
        locale: body.locale,
        // Set from the token's claim by the use case, never from the body.
        email_verified: false,
        recorded_at: crate::audit::now(),
    };
    let may_read_context = caller.scopes.iter().any(|s| s == scopes::READ_CUSTOMER_CONTEXT);
    let who = WhoAsks { visitor_email: caller.visitor_email.clone(), conversation_id: None };
    let (wanted, context) = lookup(app)
        .start_session(&visitor, &who, may_read_context, OffsetDateTime::now_utc())
        .await
        .map_err(problem_for)?;
    let mut answer = json!({"conversation_id": conversation_id, "recorded": true});
    match context {
        Some(Ok(context)) => answer["customer_context"] = json!(context),
        Some(Err(e)) => {
            // The session is recorded either way; the context is a bonus the bot can ask for again.
            tracing::warn!(error = %e, "customer context unavailable at session start");
            answer["customer_context"] = serde_json::Value::Null;
            answer["customer_context_unavailable"] = json!(e.to_string());
        }
        None if wanted && visitor.email.is_some() => {
            answer["customer_context_unavailable"] =
                json!(format!("the token lacks the scope {}", scopes::READ_CUSTOMER_CONTEXT));
        }
        None => {}
    }
    Ok(json_response(StatusCode::OK, &answer))
}
