//! `POST /v1/bots/{bot_id}/conversations/{conversation_id}/escalations`.

use std::time::Duration;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::app::App;
use crate::deadline::Deadline;
use crate::error::FieldError;
use crate::escalation::pending::PayloadError;
use crate::escalation::request::{EscalationRequest, MAX_BODY_BYTES};
use crate::escalation::{EscalateCommand, EscalationError, Escalator, Outcome};
use crate::http::{Problem, authorized_conversation, json_body, json_response, scopes};
use crate::rules::RulesError;
use crate::store::StoreError;

pub const ROUTE: &str = "/v1/bots/{bot_id}/conversations/{conversation_id}/escalations";
/// Time kept back from the Lambda's deadline to record unfinished work.
const RESERVE: Duration = Duration::from_millis(1500);
/// Most time one request spends on Zendesk, even when the Lambda allows more.
const BUDGET: Duration = Duration::from_secs(20);

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    match handle_checked(app, request).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, conversation_id, caller) = authorized_conversation(&request, scopes::CREATE_TICKET)?;
    let body = json_body(&request, MAX_BODY_BYTES)?;
    let parsed = EscalationRequest::parse(body).map_err(Problem::from)?;
    let deadline = match request.lambda_context_ref() {
        Some(context) if context.deadline > 0 => Deadline::from_lambda(context.deadline, RESERVE, BUDGET),
        _ => Deadline::after(BUDGET),
    };
    let command = EscalateCommand {
        bot_id,
        conversation_id,
        request: parsed,
        token_subject: caller.subject.clone(),
        visitor_claim: caller.visitor_email.clone(),
        deadline,
        refresh_deadline: deadline,
    };
    let escalator = Escalator { stores: &app.stores, zendesk: &app.zendesk, config: &app.escalation };
    let outcome = escalator.escalate(command).await.map_err(problem_for)?;
    Ok(answer(outcome))
}

fn answer(outcome: Outcome) -> Response<Body> {
    match outcome {
        Outcome::NotEscalated { reason } => {
            json_response(StatusCode::OK, &json!({"escalated": false, "reason": reason}))
        }
        Outcome::Created { ticket, rule, reason, handoff_message } => json_response(
            StatusCode::CREATED,
            &json!({
                "escalated": true, "deduplicated": false, "state": "created",
                "rule": rule, "reason": reason, "ticket": ticket, "handoff_message": handoff_message,
            }),
        ),
        Outcome::Deduplicated { ticket, notes_added, handoff_message } => json_response(
            StatusCode::OK,
            &json!({
                "escalated": true, "deduplicated": true, "state": "created",
                "ticket": ticket, "notes_added": notes_added, "handoff_message": handoff_message,
            }),
        ),
        Outcome::Pending { ticket, reason, retry_after, handoff_message, deduplicated } => {
            let seconds = retry_after.as_secs().max(1);
            let mut response = json_response(
                StatusCode::ACCEPTED,
                &json!({
                    "escalated": true, "deduplicated": deduplicated, "state": "pending", "ticket": ticket,
                    "reason": reason, "retry_after_seconds": seconds, "handoff_message": handoff_message,
                }),
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
    }
}

fn problem_for(error: EscalationError) -> Problem {
    match error {
        EscalationError::NotConnected => Problem::not_connected(),
        EscalationError::ReconnectRequired => Problem::reconnect_required(),
        EscalationError::VisitorMismatch(_) => crate::http::Problem::visitor_mismatch(),
        EscalationError::Rules(RulesError::NoRuleEnabled) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-rule-enabled",
            "No escalation rule is enabled",
            RulesError::NoRuleEnabled.to_string(),
        ),
        EscalationError::Rules(e @ RulesError::MissingSignal { field, .. }) => {
            Problem::invalid(vec![FieldError::new(field, e.to_string())])
        }
        EscalationError::Payload(PayloadError::TooLarge(bytes)) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The conversation is too large",
            format!(
                "The conversation compresses to {bytes} bytes, more than can be held for a retry; send fewer messages."
            ),
        ),
        EscalationError::Store(StoreError::Conflict) => {
            Problem::unavailable("The conversation changed while this request worked on it; repeat the request.", 1)
        }
        EscalationError::Store(StoreError::TooLarge(bytes)) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The conversation is too large",
            format!("The conversation needs {bytes} bytes of storage; send fewer messages."),
        ),
        EscalationError::Store(StoreError::Unavailable(detail)) => {
            tracing::error!(%detail, "storage unavailable");
            Problem::unavailable("Storage is unavailable; nothing was created. Retry the request.", 2)
        }
        EscalationError::FollowUpFailed { ticket_id, error } => {
            tracing::warn!(ticket_id, %error, "follow-up notes not added");
            Problem::unavailable(
                format!(
                    "Ticket {ticket_id} exists but the new messages could not be added yet ({error}); repeat the request."
                ),
                error.retry_after().map(|d| d.as_secs()).unwrap_or(5),
            )
        }
        EscalationError::RefreshDeferred(error) => {
            tracing::warn!(%error, "token not renewed");
            Problem::unavailable("The bot's Zendesk token is being renewed; repeat the request shortly.", 5)
        }
        EscalationError::Rejected(error) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "zendesk-rejected",
            "Zendesk refused the ticket",
            format!("{error}. Check the bot's field mapping and the connected Zendesk user's role."),
        ),
        other => {
            tracing::error!(error = %other, "escalation failed");
            Problem::internal("The escalation could not be completed; it has been logged.")
        }
    }
}
