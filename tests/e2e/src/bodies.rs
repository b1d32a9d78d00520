//! Request bodies, on every route of the route table that takes one: a body that is JSON but not
//! an object is refused with 422 naming `body`, before anything is written or Zendesk is asked;
//! a wrong field is named by its exact path; a credential sent in a wrong place is not quoted back.

use handoff::webhook::signature::{TEST_SIGNING_SECRET, sign};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::*;

const ALL_SCOPES: [&str; 6] = [
    "ZENDESK_ACTIONS.CREATE_TICKET",
    "ZENDESK_ACTIONS.READ_TICKET_STATUS",
    "ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT",
    "ZENDESK_ACTIONS.CREATE_OAUTH",
    "ZENDESK_ACTIONS.READ_INTEGRATIONS",
    "ZENDESK_ACTIONS.DELETE_INTEGRATIONS",
];

fn concrete(template: &str, bot: &str) -> String {
    template.replace("{bot_id}", bot).replace("{conversation_id}", "conv-body").replace("{ticket_id}", "123")
}

/// The route's request carrying `body`: JWT routes as the bot with every scope, the webhook
/// signed with the bot's signing secret (so the body itself is what is judged).
fn request(route: &handoff::api::Route, bot: &str, body: &str) -> Value {
    let path = concrete(route.path, bot);
    if route.scope.is_some() {
        return api_event(route.method, &path, "", Some(body), Some((bot, &ALL_SCOPES)));
    }
    let timestamp = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let mut event = api_event(route.method, &path, "", Some(body), None);
    event["headers"]["x-zendesk-webhook-signature"] =
        json!(sign(TEST_SIGNING_SECRET.as_bytes(), &timestamp, body.as_bytes()));
    event["headers"]["x-zendesk-webhook-signature-timestamp"] = json!(timestamp);
    event
}

#[tokio::test]
async fn every_body_route_refuses_a_body_that_is_not_an_object_naming_the_body() {
    let h = Harness::new(Backend::Moto).await;
    let mut secret = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap_or_default();
    secret.webhook_signing_secret = Some(secrecy::SecretString::from(TEST_SIGNING_SECRET));
    h.app.stores.secrets.put_webhook_secret(&h.bot_id, &secret).await.unwrap();
    let body_routes: Vec<_> = handoff::api::ROUTES.iter().filter(|r| matches!(r.method, "POST" | "PUT")).collect();
    assert!(body_routes.len() >= 6, "escalations, connect, connection, settings, session, webhook");
    let mut failures = Vec::new();
    for route in body_routes {
        for body in ["[]", "[{}]", "\"x\"", "3", "null", "true"] {
            let writes_before = h.adapters.counts();
            let calls_before = h.sim.calls().len();
            let reply = h.send_any(request(route, &h.bot_id, body)).await;
            let named_body = reply.body["errors"][0]["field"] == "body";
            let ok = reply.status == StatusCode::UNPROCESSABLE_ENTITY
                && reply.content_type() == "application/problem+json"
                && named_body;
            if !ok {
                failures.push(format!("{} {} with {body}: {} {}", route.method, route.path, reply.status, reply.raw));
            }
            let (dynamo, secrets) = h.adapters.counts();
            let (dynamo_before, secrets_before) = writes_before;
            if dynamo.1 != dynamo_before.1 || secrets.1 != secrets_before.1 || h.sim.calls().len() != calls_before {
                failures.push(format!("{} {} with {body}: something was written or sent", route.method, route.path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_wrong_field_is_named_by_its_exact_path() {
    let h = Harness::new(Backend::Moto).await;
    let escalations = format!("/v1/bots/{}/conversations/conv-path/escalations", h.bot_id);
    let session = format!("/v1/bots/{}/conversations/conv-path/session", h.bot_id);
    let connection = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let connect = format!("/v1/bots/{}/zendesk/connect", h.bot_id);
    let settings = format!("/v1/bots/{}/zendesk/settings", h.bot_id);
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("POST", &escalations, json!({"messages": [{"role": 3, "text": "hi"}]}), "messages[0].role"),
        (
            "POST",
            &escalations,
            json!({"messages": [{"role": "visitor", "text": "hi"}, {"role": "robot", "text": "x"}]}),
            "messages[1].role",
        ),
        ("POST", &escalations, json!({"messages": [{"role": "visitor"}]}), "messages[0].text"),
        ("POST", &escalations, json!({"visitor": {"email": 5}}), "visitor.email"),
        ("POST", &escalations, json!({"signals": {"confidence": "high"}}), "signals.confidence"),
        ("POST", &session, json!({"visitor": {"email": ["ana@example.com"]}}), "visitor.email"),
        ("POST", &session, json!({"visitor": {"emial": "ana@example.com"}}), "visitor.emial"),
        ("POST", &connect, json!({"subdomain": "acme", "return_url": 7}), "return_url"),
        (
            "PUT",
            &connection,
            json!({"mode": "api_token", "subdomain": "acme", "email": "a@example.com", "api_token": 918_273_645}),
            "api_token",
        ),
        (
            "PUT",
            &connection,
            json!({"mode": "client_credentials", "subdomain": "acme", "client_id": "c"}),
            "client_secret",
        ),
        (
            "PUT",
            &settings,
            json!({"rules": {"low_confidence": {"threshold": "low"}}}),
            "rules.low_confidence.threshold",
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, field) in cases {
        let reply = h.call(method, path, Some(&body), &ALL_SCOPES).await;
        let fields: Vec<&str> =
            reply.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
        if reply.status != StatusCode::UNPROCESSABLE_ENTITY || fields != [field] {
            failures.push(format!("{method} {path} {body}: wanted {field}, got {} {}", reply.status, reply.raw));
        }
        if reply.raw.contains("918273645") {
            failures.push(format!("{method} {path}: the rejected value was quoted back: {}", reply.raw));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
