//! `POST /webhooks/zendesk/{bot_id}`: Zendesk's signed ticket events. Verify on the raw body,
//! find the conversation, apply the status in event order, deduplicate on the event id, forward
//! agent replies and status changes to the bot, 200. Two DynamoDB writes per event (the
//! conditional status write and the seen marker, which also records any callback) when the
//! ticket carries its `external_id` and the bot's profile is cached; a third settles a delivered
//! callback. No Zendesk call.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use tracing::{info, warn};

use crate::app::App;
use crate::callback::{forward, payload};
use crate::error::FieldError;
use crate::http::{Problem, json_response, path_param, valid_id};
use crate::webhook::event::{self, EventKind};
use crate::webhook::signature;

pub const ROUTE: &str = "/webhooks/zendesk/{bot_id}";
/// Larger deliveries are refused.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Verified against (and always refused) for a bot that has no webhook, so that refusing an
/// unknown bot costs what refusing a bad signature costs.
const DECOY_SECRET: &str = "handoff-decoy-signing-secret-for-unknown-bots";

/// A bot that may receive deliveries: it has a connection that is not disconnected (a
/// disconnected bot's secrets are deleted; an unknown bot has no profile at all).
fn has_webhook(profile: &crate::store::BotProfile) -> bool {
    profile.connection.as_ref().is_some_and(|c| c.state != crate::store::ConnectionState::Disconnected)
}

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
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc();
    let verify = |secret: &secrecy::SecretString| {
        signature::verify(
            secret.expose_secret().as_bytes(),
            header("x-zendesk-webhook-signature"),
            header("x-zendesk-webhook-signature-timestamp"),
            body,
            now,
        )
    };
    // A bot with no live connection has no webhook: refused from the cached profile (an unknown
    // id's empty profile is cached too), with the same signature work and the same answer as a
    // bad signature for a known bot, and no Secrets Manager call.
    let profile = app.profiles.get(app.stores.bots.as_ref(), &bot_id).await.map_err(unavailable)?;
    if !has_webhook(&profile) {
        let _ = verify(&secrecy::SecretString::from(DECOY_SECRET));
        return Err(unauthenticated());
    }
    let mut known = signing_secret(app, &bot_id).await?;
    let mut verified = match &known {
        Some((secret, _)) => verify(secret),
        None => Err(signature::SignatureError::Mismatch),
    };
    // The secret may have changed in another Lambda (the health check registered the webhook
    // again): for a known bot whose signature did not match, read it once more, at most every
    // 30 s per bot.
    if known.is_some() && verified == Err(signature::SignatureError::Mismatch) && app.secret_rechecks.allow(&bot_id) {
        app.stores.secrets.invalidate(&bot_id);
        if let Some(reread) = signing_secret(app, &bot_id).await? {
            verified = verify(&reread.0);
            known = Some(reread);
        }
    }
    if let Err(reason) = verified {
        warn!(bot_id, %reason, "webhook rejected");
        // Audited for known bots, at most once a minute per bot and Lambda: a flood of forged
        // deliveries must not turn into a flood of writes.
        if known.is_some() && app.rejection_audits.allow(&bot_id) {
            let reason = reason.to_string();
            crate::audit::record(
                app.stores.audit.as_ref(),
                &bot_id,
                "webhook_rejected",
                "unauthenticated",
                None,
                &[("reason", reason.as_str())],
            )
            .await;
        }
        return Err(unauthenticated());
    }
    // Read before anything is written: a delivery that is not an event changes nothing.
    let event = event::parse(body).map_err(|e| match e {
        event::EventError::NotJson => Problem::bad_request(e.to_string()),
        event::EventError::NotObject => Problem::invalid(vec![FieldError::new("body", "must be a JSON object")]),
        event::EventError::Missing(field) => Problem::invalid(vec![FieldError::new(field, "is missing or not valid")]),
    })?;
    // For the diagnostics' "last webhook received", at most once a minute per bot and Lambda.
    if app.webhook_touches.allow(&bot_id)
        && let Err(e) = app.stores.bots.touch_last_webhook(&bot_id, now.unix_timestamp()).await
    {
        warn!(bot_id, error = %e, "could not note the webhook's arrival");
    }
    let span = tracing::info_span!(
        "webhook",
        bot_id = %bot_id,
        ticket_id = event.ticket_id,
        event_id = %event.id,
        conversation_id = tracing::field::Empty,
    );
    let _entered = span.enter();
    // The account whose webhook signed it (kept with its secret), else the connected one.
    let signed_for = known.and_then(|(_, account)| account);
    let answer = handle_event(app, &bot_id, signed_for, &event, now).await?;
    Ok(json_response(StatusCode::OK, &answer))
}

/// Everything after authentication. Order matters for "nothing lost": the status is applied
/// before the event is marked seen (applying is idempotent, so a crash in between is repaired
/// by Zendesk's retry), and a callback is written down with the seen marker before it is tried.
async fn handle_event(
    app: &App,
    bot_id: &str,
    signed_for: Option<String>,
    event: &event::TicketEvent,
    now: time::OffsetDateTime,
) -> Result<serde_json::Value, Problem> {
    let stores = &app.stores;
    let profile = app.profiles.get(stores.bots.as_ref(), bot_id).await.map_err(unavailable)?;
    // Ticket ids are per Zendesk account: the event is about a ticket of the account whose
    // webhook signed it (a Lambda may still hold the previous account's secret for a few minutes
    // after the bot moved), never a ticket another account numbered alike.
    let Some(account) = signed_for.or_else(|| profile.connection.as_ref().map(|c| c.subdomain.clone())) else {
        return Ok(json!({"ignored": "the bot is not connected"}));
    };
    let conversation = match &event.external_id {
        Some(conversation) => Some(conversation.clone()),
        None => stores
            .conversations
            .conversation_for_ticket(bot_id, &account, event.ticket_id)
            .await
            .map_err(unavailable)?,
    };
    let Some(conversation) = conversation else {
        info!("not a Handoff ticket; ignored");
        return Ok(json!({"ignored": "not a ticket Handoff created"}));
    };
    tracing::Span::current().record("conversation_id", conversation.as_str());
    let status_is_current = match event.status {
        Some(status) => {
            let at_ms = (event.time.unix_timestamp_nanos() / 1_000_000) as i64;
            stores
                .conversations
                .apply_ticket_status(bot_id, &conversation, &account, event.ticket_id, status, at_ms)
                .await
                .map_err(unavailable)?
        }
        None => false,
    };
    if !status_is_current && event.external_id.is_some() {
        // Not applied: stale, or a ticket that only carries this conversation's id (another
        // integration's, or an earlier episode's). Only the conversation's own ticket goes on.
        let record = stores.conversations.get_conversation(bot_id, &conversation).await.map_err(unavailable)?;
        if record.as_ref().is_some_and(|r| r.state == crate::store::EscalationState::Pending && r.ticket_id.is_none()) {
            // The ticket was made but its answer was lost: until the record knows it, ask Zendesk
            // to deliver again later (it retries a 503) rather than drop an agent's reply.
            info!("the conversation does not know its ticket yet; asking for a retry");
            return Err(Problem::unavailable("The ticket is being recorded; deliver again shortly.", 10));
        }
        if !record.is_some_and(|r| r.ticket_id == Some(event.ticket_id) && r.in_account(&account)) {
            info!("not the conversation's current ticket; ignored");
            return Ok(json!({"ignored": "not the conversation's current ticket"}));
        }
    }
    // The callback secret is read at delivery time (a warm Lambda's cached copy may predate it).
    let forwarding = profile.settings.as_ref().is_some_and(|s| s.callback_url.is_some());
    let handoff_user = profile.connection.as_ref().and_then(|c| c.zendesk_user_id);
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let callback = payload::for_event(bot_id, &conversation, event, handoff_user, status_is_current)
        .filter(|_| forwarding)
        .map(|body| forward::pending(bot_id, &body, now_ms))
        .transpose()
        .map_err(|e| Problem::internal(format!("callback not serialisable: {e}")))?;
    let first = stores
        .outbox
        .mark_event_seen(bot_id, &event.id, now.unix_timestamp(), callback.as_ref())
        .await
        .map_err(unavailable)?;
    if !first {
        info!("duplicate delivery");
        return Ok(json!({"duplicate": true}));
    }
    let forwarded = match &callback {
        Some(callback) => {
            if app.forwarder().deliver_now(callback).await {
                "delivered"
            } else {
                "pending"
            }
        }
        None => "no",
    };
    let kind = match &event.kind {
        EventKind::StatusChanged => "status_changed",
        EventKind::CommentAdded(_) => "comment_added",
        EventKind::Other(_) => "other",
    };
    info!(status_is_current, kind, forwarded, "webhook handled");
    Ok(json!({"applied": status_is_current, "kind": kind, "forwarded": forwarded}))
}

/// The bot's webhook signing secret and the account its webhook belongs to (None for an unknown
/// bot or one without a webhook), from
/// the bot's webhook secret: the only secret this public function's role may read.
///
/// A connected bot with a registered webhook but no signing secret here is waiting for the
/// health check: its secrets are still in the credentials secret (written before the webhook
/// secret existed), or the secret could not be read when the webhook was registered. Its
/// deliveries answer 503, which Zendesk retries (a 401 it drops), and the check is brought
/// forward to now, at most once per 30 s per bot.
async fn signing_secret(app: &App, bot_id: &str) -> Result<Option<(secrecy::SecretString, Option<String>)>, Problem> {
    let signing = match app.stores.secrets.get_webhook_secret(bot_id).await {
        Ok(secret) => secret.and_then(|s| Some((s.webhook_signing_secret?, s.account))),
        Err(e) => {
            warn!(bot_id, error = %e, "could not read the bot's secret");
            return Err(Problem::unavailable("Try the delivery again.", 5));
        }
    };
    if signing.is_some() {
        return Ok(signing);
    }
    let profile = app.profiles.get(app.stores.bots.as_ref(), bot_id).await.map_err(unavailable)?;
    let awaited = profile
        .connection
        .as_ref()
        .is_some_and(|c| c.state == crate::store::ConnectionState::Connected && c.webhook_id.is_some());
    if !awaited {
        return Ok(None);
    }
    if app.secret_rechecks.allow(bot_id) {
        app.stores.secrets.invalidate(bot_id);
        if let Ok(Some(signing)) = app
            .stores
            .secrets
            .get_webhook_secret(bot_id)
            .await
            .map(|s| s.and_then(|s| Some((s.webhook_signing_secret?, s.account))))
        {
            return Ok(Some(signing));
        }
        let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        if let Err(e) = app.stores.outbox.schedule_webhook_check(bot_id, now_ms).await {
            warn!(bot_id, error = %e, "could not bring the webhook health check forward");
        }
        info!(bot_id, "no webhook signing secret stored yet; the health check is due now");
    }
    Err(Problem::unavailable("The webhook's signing secret is being stored; deliver again shortly.", 30))
}

fn unavailable(e: crate::store::StoreError) -> Problem {
    warn!(error = %e, "storage failed while handling a webhook");
    Problem::unavailable("Storage is unavailable; the delivery can be retried.", 5)
}
