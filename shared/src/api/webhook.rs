//! `POST /webhooks/zendesk/{bot_id}`: Zendesk's signed ticket events. Verify on the raw body,
//! deduplicate on the event id, find the conversation, apply the status in event order, 200.
//! At most two DynamoDB operations per event (the seen marker and the conditional status write)
//! when the ticket carries its `external_id`; no Zendesk call.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use tracing::{info, warn};

use crate::app::App;
use crate::http::{Problem, json_response, path_param, valid_id};
use crate::webhook::event::{self, EventKind};
use crate::webhook::signature;

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
    let bot_id = path_param(&request, ROUTE, "bot_id").unwrap_or_default();
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
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let secret = match app.stores.secrets.get_bot_secret(&bot_id).await {
        Ok(Some(secret)) => secret.webhook_signing_secret,
        Ok(None) => None,
        Err(e) => {
            warn!(bot_id, error = %e, "could not read the bot's secret");
            return Err(Problem::unavailable("Try the delivery again.", 5));
        }
    };
    let Some(secret) = secret else {
        warn!(bot_id, "webhook for a bot with no signing secret");
        return Err(unauthenticated());
    };
    let now = time::OffsetDateTime::now_utc();
    let verified = signature::verify(
        secret.expose_secret().as_bytes(),
        header("x-zendesk-webhook-signature"),
        header("x-zendesk-webhook-signature-timestamp"),
        body,
        now,
    );
    if let Err(reason) = verified {
        warn!(bot_id, %reason, "webhook rejected");
        return Err(unauthenticated());
    }
    let event = event::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let span = tracing::info_span!("webhook", bot_id = %bot_id, ticket_id = event.ticket_id, event_id = %event.id);
    let _entered = span.enter();
    let stores = &app.stores;
    let first =
        stores.conversations.mark_event_seen(&bot_id, &event.id, now.unix_timestamp()).await.map_err(unavailable)?;
    if !first {
        info!("duplicate delivery");
        return Ok(json_response(StatusCode::OK, &json!({"duplicate": true})));
    }
    let outcome = apply(app, &bot_id, &event).await;
    match outcome {
        Ok(answer) => Ok(json_response(StatusCode::OK, &answer)),
        Err(problem) => {
            // Zendesk retries a failed delivery: it must not be taken for a duplicate then.
            if let Err(e) = stores.conversations.forget_event(&bot_id, &event.id).await {
                warn!(error = %e, "could not forget the failed event");
            }
            Err(problem)
        }
    }
}

async fn apply(app: &App, bot_id: &str, event: &event::TicketEvent) -> Result<serde_json::Value, Problem> {
    let stores = &app.stores;
    let conversation = match &event.external_id {
        Some(conversation) => Some(conversation.clone()),
        None => stores.conversations.conversation_for_ticket(bot_id, event.ticket_id).await.map_err(unavailable)?,
    };
    let Some(conversation) = conversation else {
        info!("not a Handoff ticket; ignored");
        return Ok(json!({"ignored": "not a ticket Handoff created"}));
    };
    let applied = match event.status {
        Some(status) => {
            let at_ms = (event.time.unix_timestamp_nanos() / 1_000_000) as i64;
            stores
                .conversations
                .apply_ticket_status(bot_id, &conversation, event.ticket_id, status, at_ms)
                .await
                .map_err(unavailable)?
        }
        None => false,
    };
    let kind = match &event.kind {
        EventKind::StatusChanged => "status_changed",
        EventKind::CommentAdded(_) => "comment_added",
        EventKind::Other(_) => "other",
    };
    info!(applied, kind, "webhook handled");
    Ok(json!({"applied": applied, "kind": kind}))
}

fn unavailable(e: crate::store::StoreError) -> Problem {
    warn!(error = %e, "storage failed while handling a webhook");
    Problem::unavailable("Storage is unavailable; the delivery can be retried.", 5)
}
