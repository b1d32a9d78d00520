//! `POST /webhooks/zendesk/{bot_id}`: Zendesk's signed ticket events. Verify on the raw body,
//! find the conversation, apply the status in event order, deduplicate on the event id, forward
//! agent replies and status changes to the bot, 200. Two DynamoDB writes per event (the
//! conditional status write and the seen marker, which also records any callback) when the
//! ticket carries its `external_id` and the bot's profile is cached; a third settles a delivered
//! callback. No Zendesk call.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::warn;

use crate::app::App;
use crate::error::FieldError;
use crate::http::{Problem, json_response, path_param, valid_id};
use crate::webhook::event;
use crate::webhook::receive::{Delivery, ReceiveError};

pub const ROUTE: &str = "/webhooks/zendesk/{bot_id}";
/// Larger deliveries are refused.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every authentication failure looks the same from outside: nothing that helps a forger.
fn unauthenticated() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "webhook-unauthenticated",
        "Not authenticated",
        "The delivery could not be authenticated.",
    )
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    match handle_checked(app, request).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let bot_id = path_param(&request, "bot_id").unwrap_or_default();
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The delivery is too large",
            format!("At most {MAX_BODY_BYTES} bytes."),
        ));
    }
    if !valid_id(&bot_id) {
        return Err(unauthenticated());
    }
    let delivery = Delivery {
        signature: header(&request, "x-zendesk-webhook-signature"),
        timestamp: header(&request, "x-zendesk-webhook-signature-timestamp"),
        body,
    };
    let now = time::OffsetDateTime::now_utc();
    let handled = app.receiver().receive(&bot_id, &delivery, now).await.map_err(|e| match e {
        ReceiveError::Unauthenticated => unauthenticated(),
        ReceiveError::Event(e @ event::EventError::NotJson) => Problem::bad_request(e.to_string()),
        ReceiveError::Event(event::EventError::NotObject) => {
            Problem::invalid(vec![FieldError::new("body", "must be a JSON object")])
        }
        ReceiveError::Event(event::EventError::Missing(field)) => {
            Problem::invalid(vec![FieldError::new(field, "is missing or not valid")])
        }
        ReceiveError::SecretUnreadable => Problem::unavailable("Try the delivery again.", 5),
        ReceiveError::SecretPending => {
            Problem::unavailable("The webhook's signing secret is being stored; deliver again shortly.", 30)
        }
        ReceiveError::Store(e) => unavailable(e),
        ReceiveError::TicketNotRecordedYet => {
            Problem::unavailable("The ticket is being recorded; deliver again shortly.", 10)
        }
        ReceiveError::Callback(e) => Problem::internal(format!("callback not serialisable: {e}")),
    })?;
    Ok(json_response(StatusCode::OK, &handled.to_json()))
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn unavailable(e: crate::store::StoreError) -> Problem {
    warn!(error = %e, "storage failed while handling a webhook");
    Problem::unavailable("Storage is unavailable; the delivery can be retried.", 5)
}
