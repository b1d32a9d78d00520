//! `POST /v1/bots/{bot_id}/conversations/{conversation_id}/messages`: the visitor's messages
//! after the handoff, relayed to the ticket as the requester's comment (`live::relay`).

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::app::App;
use crate::connection::accounts::AccountError;
use crate::deadline::Deadline;
use crate::http::{Problem, authorized_conversation, json_body, json_response, scopes};
use crate::live::relay::{RelayCommand, RelayError, Relayed};
use crate::live::{MAX_BODY_BYTES, VisitorMessages};
use crate::store::StoreError;
use crate::zendesk::ZendeskError;

pub const ROUTE: &str = "/v1/bots/{bot_id}/conversations/{conversation_id}/messages";
/// Time kept back from the Lambda's deadline to release the lease.
const RESERVE: Duration = Duration::from_millis(1000);
/// Most time one request spends on files and Zendesk.
const BUDGET: Duration = Duration::from_secs(20);

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    handle_checked(app, request).await.unwrap_or_else(Problem::into_response)
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, conversation_id, caller) = authorized_conversation(&request, scopes::CREATE_TICKET)?;
    let messages = VisitorMessages::parse(json_body(&request, MAX_BODY_BYTES)?).map_err(Problem::from)?;
    let deadline = match request.lambda_context_ref() {
        Some(context) if context.deadline > 0 => Deadline::from_lambda(context.deadline, RESERVE, BUDGET),
        _ => Deadline::after(BUDGET),
    };
    let command = RelayCommand { bot_id, conversation_id, messages, visitor_claim: caller.visitor_email, deadline };
    match app.relay().relay(command).await.map_err(problem_for)? {
        Relayed::Added { ticket, added, duplicates } => Ok(json_response(
            StatusCode::OK,
            &json!({"state": "relayed", "ticket": ticket, "added": added, "duplicates": duplicates}),
        )),
        Relayed::Ended { ticket } => Ok(json_response(
            StatusCode::OK,
            &json!({
                "state": "ended", "ticket": ticket, "added": [], "bot_resumes": true,
                "detail": "The ticket is solved or closed: nothing was added. The bot takes the conversation back; escalate again to open a new ticket.",
            }),
        )),
    }
}

fn problem_for(error: RelayError) -> Problem {
    match error {
        RelayError::NoOpenTicket => Problem::new(
            StatusCode::CONFLICT,
            "no-open-ticket",
            "The conversation has no ticket",
            "This conversation was not handed over to Zendesk: escalate it first (POST …/escalations), then send its messages here.",
        ),
        RelayError::TicketNotReady => Problem::unavailable(
            "The conversation's ticket is still being created; send the messages again after Retry-After.",
            5,
        ),
        RelayError::Busy { retry_after } => Problem::unavailable(
            "Another request for this conversation is adding its messages; send these again after Retry-After.",
            (retry_after.as_millis() as u64).div_ceil(1000).max(1),
        ),
        RelayError::VisitorMismatch(_) => Problem::visitor_mismatch(),
        RelayError::Account(AccountError::NotConnected) => Problem::not_connected(),
        RelayError::Account(AccountError::ReconnectRequired) => Problem::reconnect_required(),
        RelayError::Account(AccountError::RefreshDeferred(error)) => {
            tracing::warn!(%error, "token not renewed");
            Problem::unavailable("The bot's Zendesk token is being renewed; send the messages again shortly.", 5)
        }
        RelayError::Account(AccountError::Store(e)) | RelayError::Store(e) => match e {
            StoreError::Conflict => {
                Problem::unavailable("The conversation changed meanwhile; send the messages again.", 1)
            }
            other => Problem::storage(other),
        },
        RelayError::File { field, error } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "attachment-unavailable",
            "A file could not be had",
            format!("{field}: {error}. Nothing was added; fix or drop the file and send the messages again."),
        )
        .with_errors(vec![crate::error::FieldError::new(field, error.to_string())]),
        RelayError::Zendesk(ZendeskError::Rejected { status: 422, description, .. }) => {
            tracing::warn!(%description, "Zendesk refused the visitor's comment");
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "zendesk-refused-comment",
                "Zendesk refused the comment",
                format!(
                    "Zendesk did not take the messages as a comment ({description}); change them (a file type the account blocks, text over its limits) and send again."
                ),
            )
        }
        RelayError::Zendesk(e) if e.is_transient() => {
            tracing::warn!(error = %e, "Zendesk did not take the visitor's messages");
            Problem::unavailable(
                "Zendesk could not take the messages now; send them again after Retry-After (nothing is added twice).",
                e.retry_after().map(|d| d.as_secs().max(1)).unwrap_or(5),
            )
        }
        RelayError::Zendesk(e) => {
            tracing::warn!(error = %e, "Zendesk refused the visitor's messages");
            Problem::new(
                StatusCode::BAD_GATEWAY,
                "zendesk-rejected",
                "Zendesk refused the messages",
                format!("{e}. Check the connected Zendesk user's role; the diagnostics route can help."),
            )
        }
    }
}
