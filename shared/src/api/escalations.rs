//! `GET /v1/bots/{bot_id}/escalations`: the bot's unfinished escalations, pending or failed,
//! with their age and last error (the console's activity).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::error::FieldError;
use crate::http::{Problem, authorized_bot, json_response, query_param, scopes};
use crate::rules::RuleKind;
use crate::store::{ConversationRecord, EscalationState};

pub const ROUTE: &str = "/v1/bots/{bot_id}/escalations";
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// One unfinished escalation; nothing of the conversation's content.
#[derive(Serialize)]
struct Unfinished {
    conversation_id: String,
    episode: u32,
    state: EscalationState,
    rule: Option<RuleKind>,
    /// When the episode's work started (RFC 3339).
    started_at: Option<String>,
    attempts: u32,
    last_error: Option<String>,
    /// When the sweeper tries again (RFC 3339; pending only).
    due_at: Option<String>,
    ticket_id: Option<u64>,
}

impl From<ConversationRecord> for Unfinished {
    fn from(r: ConversationRecord) -> Self {
        let due = (r.state == EscalationState::Pending).then_some(r.due_at_ms).flatten();
        Self {
            conversation_id: r.conversation_id,
            episode: r.episode,
            state: r.state,
            rule: r.rule,
            started_at: r.work_started_at_ms.and_then(rfc3339_ms),
            attempts: r.attempts,
            last_error: r.last_error,
            due_at: due.and_then(rfc3339_ms),
            ticket_id: r.ticket_id,
        }
    }
}

fn rfc3339_ms(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    listed(app, &request).await.unwrap_or_else(Problem::into_response)
}

async fn listed(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(request, scopes::READ_INTEGRATIONS)?;
    let limit = match query_param(request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                let message = format!("must be a whole number from 1 to {MAX_LIMIT}");
                return Err(Problem::invalid(vec![FieldError::new("limit", message)]));
            }
        },
    };
    let records = app.stores.conversations.unfinished_for_bot(&bot_id, limit).await.map_err(Problem::storage)?;
    let escalations: Vec<Unfinished> = records.into_iter().map(Unfinished::from).collect();
    Ok(json_response(StatusCode::OK, &serde_json::json!({ "escalations": escalations })))
}
