//! `GET`/`PUT …/zendesk/settings`: effective defaults, round trip, optimistic concurrency,
//! validation that names fields, and the callback secret shown once.

use lambda_http::http::StatusCode;
use serde_json::json;

use crate::support::*;

const READ: &[&str] = &["ZENDESK_ACTIONS.READ_INTEGRATIONS"];
const WRITE: &[&str] = &["ZENDESK_ACTIONS.CREATE_OAUTH"];

fn path(h: &Harness) -> String {
    format!("/v1/bots/{}/zendesk/settings", h.bot_id)
}

#[tokio::test]
async fn settings_round_trip_with_etags_and_a_callback_secret_shown_once() {
    let h = Harness::new(Backend::Moto).await;
    let read = h.call("GET", &path(&h), None, READ).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.raw);
    assert_eq!(read.body["rules"]["low_confidence"]["threshold"], 0.6, "defaults are the effective settings");
    assert_eq!(read.body["callback_secret_set"], false);
    let etag = read.headers.get("etag").unwrap().to_str().unwrap().to_owned();

    let mut wanted = read.body.clone();
    wanted["rules"]["low_confidence"]["threshold"] = json!(0.4);
    wanted["callback_url"] = json!("https://bot.example.com/handoff");
    let saved = h.call_with_headers("PUT", &path(&h), Some(&wanted), WRITE, &[("if-match", &etag)]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.raw);
    let secret = saved.body["callback_secret"].as_str().expect("issued once").to_owned();
    assert!(secret.len() >= 40);
    assert_ne!(saved.headers.get("etag").unwrap().to_str().unwrap(), etag);

    let again = h.call("GET", &path(&h), None, READ).await;
    assert_eq!(again.body["rules"]["low_confidence"]["threshold"], 0.4);
    assert_eq!(again.body["callback_url"], "https://bot.example.com/handoff");
    assert_eq!(again.body["callback_secret_set"], true);
    assert!(!again.raw.contains(&secret), "the secret is never shown again");

    // A write based on the first read is stale.
    let stale = h.call_with_headers("PUT", &path(&h), Some(&wanted), WRITE, &[("if-match", &etag)]).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.raw);
    assert_eq!(stale.content_type(), "application/problem+json");

    // Saving again keeps the secret; rotating replaces it.
    let kept = h.call("PUT", &path(&h), Some(&wanted), WRITE).await;
    assert!(kept.body.get("callback_secret").is_none(), "{}", kept.raw);
    let mut rotate = wanted.clone();
    rotate["rotate_callback_secret"] = json!(true);
    let rotated = h.call("PUT", &path(&h), Some(&rotate), WRITE).await;
    let new_secret = rotated.body["callback_secret"].as_str().expect("a new secret");
    assert_ne!(new_secret, secret);
    let stored = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(stored.callback_secret.as_ref().unwrap()), new_secret);

    let audit = h.app.stores.audit.list(&h.bot_id, 20, None).await.unwrap();
    let changes: Vec<_> = audit.entries.iter().filter(|e| e.action == "settings_changed").collect();
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().any(|e| e.detail["fields"].contains("callback_url")), "{changes:?}");
    assert!(!format!("{:?}", audit.entries).contains(new_secret));
}

#[tokio::test]
async fn bad_settings_name_their_fields_and_change_nothing() {
    let h = Harness::new(Backend::Memory).await;
    let bad = json!({
        "rules": {"low_confidence": {"threshold": 2.0}},
        "callback_url": "http://bot.example.com/plain",
    });
    let reply = h.call("PUT", &path(&h), Some(&bad), WRITE).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.raw);
    let fields: Vec<&str> =
        reply.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["rules.low_confidence.threshold", "callback_url"]);
    let wrong_type = h.call("PUT", &path(&h), Some(&json!({"rules": {"manual": {"enabled": "yes"}}})), WRITE).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_type.raw);
    let read_only = h.call("PUT", &path(&h), Some(&json!({})), READ).await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
    let unchanged = h.call("GET", &path(&h), None, READ).await;
    assert_eq!((unchanged.body["version"].clone(), unchanged.body["callback_url"].clone()), (json!(0), json!(null)));

    // A callback needs a connected bot (its secret lives with the credentials).
    let lone = Harness::unconnected(Backend::Memory).await;
    let reply =
        lone.call("PUT", &path(&lone), Some(&json!({"callback_url": "https://bot.example.com/x"})), WRITE).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_with_the_same_etag_let_exactly_one_through() {
    let h = std::sync::Arc::new(Harness::new(Backend::Dynalite).await);
    let read = h.call("GET", &path(&h), None, READ).await;
    let etag = read.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (h, etag, mut body) = (h.clone(), etag.clone(), read.body.clone());
        body["customer_context_count"] = json!(1 + i % 10);
        tasks.spawn(async move {
            h.call_with_headers("PUT", &path(&h), Some(&body), WRITE, &[("if-match", &etag)]).await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::PRECONDITION_FAILED), "{statuses:?}");
}

#[tokio::test]
async fn unknown_settings_and_missing_custom_fields_are_named_and_saved_settings_apply_at_once() {
    let h = Harness::new(Backend::Moto).await;
    let field = h.sim.add_ticket_field("Conversation URL", "text");
    let cases = [
        (json!({"rulez": {}}), "rulez"),
        (json!({"rules": {"manual": {"enabeld": true}}}), "rules.manual.enabeld"),
        (json!({"rules": {"manual": {"enabled": "yes"}}}), "rules.manual.enabled"),
        (json!({"customer_context_count": 11}), "customer_context_count"),
        (json!({"status_lookup_scope": "everyone"}), "status_lookup_scope"),
        (json!({"mapping": {"conversation_url_field_id": 999_999}}), "mapping.conversation_url_field_id"),
        (json!({"mapping": {"metadata_fields": {"plan": 888_888}}}), "mapping.metadata_fields.plan"),
        (json!({"callback_url": "https://169.254.169.254/latest/meta-data"}), "callback_url"),
        (json!({"rules": {"explicit_request": {"exclusions": {"en": [" "]}}}}), "rules.explicit_request.exclusions.en"),
    ];
    for (body, field_name) in cases {
        let reply = h.call("PUT", &path(&h), Some(&body), WRITE).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.raw);
        let fields: Vec<&str> =
            reply.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&field_name), "{body}: {fields:?}");
    }
    // A field that exists is accepted; the answer of GET can be sent back as it is.
    let ok = h.call("PUT", &path(&h), Some(&json!({"mapping": {"conversation_url_field_id": field}})), WRITE).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
    let read = h.call("GET", &path(&h), None, READ).await;
    assert_eq!(h.call("PUT", &path(&h), Some(&read.body), WRITE).await.status, StatusCode::OK);

    // Escalations read the saved settings at once: with the explicit-request rule off, asking for
    // a human escalates nothing.
    let mut off = read.body.clone();
    off["rules"]["explicit_request"]["enabled"] = json!(false);
    assert_eq!(h.call("PUT", &path(&h), Some(&off), WRITE).await.status, StatusCode::OK);
    let reply = h.escalate("conv-set", &escalation_body("talk to a human")).await;
    assert_eq!((reply.status, reply.body["escalated"].clone()), (StatusCode::OK, json!(false)), "{}", reply.raw);

    // A bot's exclusion never fires ("Human Touch" is its product), while the rest of a message
    // still counts.
    let mut excluded = read.body.clone();
    excluded["rules"]["explicit_request"]["exclusions"] = json!({"en": ["Human Touch"]});
    assert_eq!(h.call("PUT", &path(&h), Some(&excluded), WRITE).await.status, StatusCode::OK);
    let reply = h.escalate("conv-product", &escalation_body("can I get the Human Touch bundle?")).await;
    assert_eq!((reply.status, reply.body["escalated"].clone()), (StatusCode::OK, json!(false)), "{}", reply.raw);
    let reply = h.escalate("conv-person", &escalation_body("my Human Touch broke. talk to a human")).await;
    assert_eq!((reply.status, reply.body["escalated"].clone()), (StatusCode::CREATED, json!(true)), "{}", reply.raw);

    // Not connected: mappings cannot be checked, so they are saved with a warning.
    let lone = Harness::unconnected(Backend::Memory).await;
    let saved = lone.call("PUT", &path(&lone), Some(&json!({"mapping": {"rating_field_id": 42}})), WRITE).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.raw);
    assert!(saved.body["warnings"][0].as_str().is_some_and(|w| w.contains("not connected")), "{}", saved.raw);
}
