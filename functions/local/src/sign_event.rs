//! `handoff-local sign-event`: the sample webhook deliveries in `events/` are signed at a fixed
//! time, so the handler refuses them as stale; this signs one again now (with Zendesk's test
//! secret, or the bot's own), optionally naming your ticket, for `cargo lambda invoke
//! --data-file` and for tests.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Re-signs the API Gateway event in place: fresh timestamp, signature over timestamp + body,
/// and the ticket id in the body replaced when given.
pub fn resign(event: &mut Value, secret: &str, ticket_id: Option<u64>, now: OffsetDateTime) -> Result<(), String> {
    let mut body = event["body"].as_str().ok_or("the event has no string `body`")?.to_owned();
    if let Some(id) = ticket_id {
        let mut payload: Value = serde_json::from_str(&body).map_err(|e| format!("the body is not JSON: {e}"))?;
        payload["detail"]["id"] = Value::String(id.to_string());
        payload["subject"] = Value::String(format!("zen:ticket:{id}"));
        body = payload.to_string();
    }
    let timestamp =
        now.replace_nanosecond(0).map_err(|e| e.to_string())?.format(&Rfc3339).map_err(|e| e.to_string())?;
    let signature = handoff::webhook::signature::sign(secret.as_bytes(), &timestamp, body.as_bytes());
    let headers = event["headers"].as_object_mut().ok_or("the event has no `headers` object")?;
    headers.insert("x-zendesk-webhook-signature-timestamp".into(), Value::String(timestamp));
    headers.insert("x-zendesk-webhook-signature".into(), Value::String(signature));
    event["body"] = Value::String(body);
    Ok(())
}
