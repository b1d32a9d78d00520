//! `POST /webhooks/zendesk/{bot_id}` over DynamoDB (emulated): signatures, dedupe, order.

use std::sync::Arc;

use handoff::webhook::signature::{TEST_SIGNING_SECRET, sign};
use handoff::zendesk::types::TicketStatus;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::*;

const GENERATED_SECRET: &str = "whsec-generated-3f9a1c77e0";

fn status_event(id: &str, ticket_id: u64, conversation: Option<&str>, status: &str, at: OffsetDateTime) -> Value {
    json!({
        "type": "zen:event-type:ticket.status_changed", "id": id, "time": at.format(&Rfc3339).unwrap(),
        "account_id": 1, "subject": format!("zen:ticket:{ticket_id}"),
        "detail": {"id": ticket_id.to_string(), "status": status, "external_id": conversation},
        "event": {"current": status, "previous": "OPEN"}
    })
}

/// A delivery as Zendesk sends it: raw body, signature over timestamp + body.
fn delivery(bot_id: &str, body: &str, secret: &str, timestamp: Option<&str>, signature: Option<String>) -> Value {
    let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let timestamp = timestamp.map(str::to_owned).unwrap_or(now);
    let signature = signature.unwrap_or_else(|| sign(secret.as_bytes(), &timestamp, body.as_bytes()));
    let mut event = api_event("POST", &format!("/webhooks/zendesk/{bot_id}"), "", Some(body), None);
    event["headers"]["x-zendesk-webhook-signature"] = json!(signature);
    event["headers"]["x-zendesk-webhook-signature-timestamp"] = json!(timestamp);
    event["headers"]["x-zendesk-webhook-id"] = json!("01HWEBHOOK");
    event
}

async fn with_webhook_secret(h: &Harness, secret: &str) {
    let mut stored = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap_or_default();
    stored.webhook_signing_secret = Some(secrecy::SecretString::from(secret));
    h.app.stores.secrets.put_webhook_secret(&h.bot_id, &stored).await.unwrap();
}

async fn escalated(h: &Harness, conversation: &str) -> u64 {
    let reply = h.escalate(conversation, &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.ticket_id()
}

async fn status_of(h: &Harness, conversation: &str) -> Option<TicketStatus> {
    h.app.stores.conversations.get_conversation(&h.bot_id, conversation).await.unwrap().unwrap().ticket_status
}

#[tokio::test]
async fn signed_status_changes_apply_once_and_in_order() {
    let h = Harness::new(Backend::Moto).await;
    with_webhook_secret(&h, GENERATED_SECRET).await;
    let ticket = escalated(&h, "conv-w1").await;
    let now = OffsetDateTime::now_utc();
    let reopened = status_event("evt-reopen", ticket, Some("conv-w1"), "OPEN", now).to_string();
    let solved =
        status_event("evt-solve", ticket, Some("conv-w1"), "SOLVED", now - time::Duration::seconds(30)).to_string();

    // Delivered in reverse order: the later reopen first, then the older solve.
    let first = h.send_any(delivery(&h.bot_id, &reopened, GENERATED_SECRET, None, None)).await;
    assert_eq!((first.status, first.body["applied"].clone()), (StatusCode::OK, json!(true)), "{}", first.raw);
    let late = h.send_any(delivery(&h.bot_id, &solved, GENERATED_SECRET, None, None)).await;
    assert_eq!((late.status, late.body["applied"].clone()), (StatusCode::OK, json!(false)), "{}", late.raw);
    assert_eq!(status_of(&h, "conv-w1").await, Some(TicketStatus::Open), "an older event never moves the status back");

    // A repeat changes nothing.
    let again = h.send_any(delivery(&h.bot_id, &reopened, GENERATED_SECRET, None, None)).await;
    assert_eq!((again.status, again.body["duplicate"].clone()), (StatusCode::OK, json!(true)));

    // Solved (newest) ends the episode: the next escalation opens a new ticket.
    let solved_now =
        status_event("evt-solve-2", ticket, Some("conv-w1"), "solved", OffsetDateTime::now_utc()).to_string();
    let applied = h.send_any(delivery(&h.bot_id, &solved_now, GENERATED_SECRET, None, None)).await;
    assert_eq!(applied.body["applied"], true, "{}", applied.raw);
    assert_eq!(status_of(&h, "conv-w1").await, Some(TicketStatus::Solved));
    let next = h.escalate("conv-w1", &escalation_body("talk to a human")).await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.raw);
    assert_ne!(next.ticket_id(), ticket);

    // Not Handoff's ticket: acknowledged and ignored.
    let foreign = status_event("evt-foreign", 999_999, None, "SOLVED", OffsetDateTime::now_utc()).to_string();
    let ignored = h.send_any(delivery(&h.bot_id, &foreign, GENERATED_SECRET, None, None)).await;
    assert_eq!(ignored.status, StatusCode::OK);
    assert!(ignored.body["ignored"].is_string(), "{}", ignored.raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_duplicates_have_one_effect() {
    let h = Arc::new(Harness::new(Backend::Dynalite).await);
    with_webhook_secret(&h, GENERATED_SECRET).await;
    let ticket = escalated(&h, "conv-w2").await;
    let body = status_event("evt-dup", ticket, Some("conv-w2"), "PENDING", OffsetDateTime::now_utc()).to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (h, body) = (h.clone(), body.clone());
        tasks.spawn(async move { h.send_any(delivery(&h.bot_id, &body, GENERATED_SECRET, None, None)).await });
    }
    let (mut applied, mut duplicates) = (0, 0);
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
        if reply.body["applied"] == true {
            applied += 1;
        } else if reply.body["duplicate"] == true {
            duplicates += 1;
        }
    }
    assert_eq!((applied, duplicates), (1, 49));
    assert_eq!(status_of(&h, "conv-w2").await, Some(TicketStatus::Pending));
}

#[tokio::test]
async fn zendesks_test_secret_verifies_when_it_is_the_bots_secret() {
    let h = Harness::new(Backend::Memory).await;
    with_webhook_secret(&h, TEST_SIGNING_SECRET).await;
    let ticket = escalated(&h, "conv-w3").await;
    let body = status_event("evt-test", ticket, Some("conv-w3"), "HOLD", OffsetDateTime::now_utc()).to_string();
    let reply = h.send_any(delivery(&h.bot_id, &body, TEST_SIGNING_SECRET, None, None)).await;
    assert_eq!((reply.status, reply.body["applied"].clone()), (StatusCode::OK, json!(true)), "{}", reply.raw);
}

#[tokio::test]
async fn forged_stale_and_unsigned_deliveries_are_refused_alike() {
    let h = Harness::new(Backend::Moto).await;
    with_webhook_secret(&h, GENERATED_SECRET).await;
    let ticket = escalated(&h, "conv-w4").await;
    let body = status_event("evt-x", ticket, Some("conv-w4"), "SOLVED", OffsetDateTime::now_utc()).to_string();
    let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
    let stale = fmt(OffsetDateTime::now_utc() - time::Duration::minutes(6));
    let future = fmt(OffsetDateTime::now_utc() + time::Duration::minutes(2));
    let tampered = body.replace("SOLVED", "CLOSED");
    let good = delivery(&h.bot_id, &body, GENERATED_SECRET, None, None);
    let mut cases = vec![
        ("wrong secret", delivery(&h.bot_id, &body, "not-the-secret", None, None)),
        ("stale", delivery(&h.bot_id, &body, GENERATED_SECRET, Some(&stale), None)),
        ("future", delivery(&h.bot_id, &body, GENERATED_SECRET, Some(&future), None)),
        ("garbage signature", delivery(&h.bot_id, &body, GENERATED_SECRET, None, Some("AAAA".into()))),
        ("unknown bot", delivery("no-such-bot", &body, GENERATED_SECRET, None, None)),
    ];
    let mut tampered_event = good.clone();
    tampered_event["body"] = json!(tampered);
    cases.push(("tampered body", tampered_event));
    let mut unsigned = good.clone();
    unsigned["headers"].as_object_mut().unwrap().remove("x-zendesk-webhook-signature");
    cases.push(("no signature", unsigned));
    let mut untimed = good.clone();
    untimed["headers"].as_object_mut().unwrap().remove("x-zendesk-webhook-signature-timestamp");
    cases.push(("no timestamp", untimed));
    let mut bodies = Vec::new();
    for (name, event) in cases {
        let reply = h.send_any(event).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}: {}", reply.raw);
        assert_eq!(reply.content_type(), "application/problem+json");
        bodies.push(reply.raw);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "every refusal reads the same: nothing helps a forger");
    assert_eq!(status_of(&h, "conv-w4").await, Some(TicketStatus::New), "nothing was applied");
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(300 * 1024));
    let too_big = h.send_any(delivery(&h.bot_id, &huge, GENERATED_SECRET, None, None)).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The genuine delivery still works after all that.
    assert_eq!(h.send_any(good).await.body["applied"], true);
}

#[tokio::test]
async fn connecting_registers_one_webhook_whose_secret_verifies_deliveries_and_disconnect_removes_it() {
    let h = Harness::unconnected(Backend::Moto).await;
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let body = json!({"mode": "api_token", "subdomain": "acme", "email": AGENT_EMAIL, "api_token": API_TOKEN});
    let scopes =
        ["ZENDESK_ACTIONS.CREATE_OAUTH", "ZENDESK_ACTIONS.READ_INTEGRATIONS", "ZENDESK_ACTIONS.DELETE_INTEGRATIONS"];
    let connected = h.call("PUT", &path, Some(&body), &scopes).await;
    assert_eq!(connected.status, StatusCode::OK, "{}", connected.raw);
    let webhooks = h.sim.webhooks();
    assert_eq!(webhooks.len(), 1);
    let webhook = &webhooks[0];
    assert_eq!(webhook.endpoint, format!("http://127.0.0.1:3000/webhooks/zendesk/{}", h.bot_id));
    assert_eq!(webhook.subscriptions, handoff::zendesk::webhooks::SUBSCRIPTIONS);
    assert_eq!(
        connected.body["warnings"].as_array().unwrap().len(),
        1,
        "only the API-token deprecation: {}",
        connected.raw
    );

    // Reconnecting keeps the one webhook.
    assert_eq!(h.call("PUT", &path, Some(&body), &scopes).await.status, StatusCode::OK);
    assert_eq!(h.sim.webhooks().len(), 1);
    assert_eq!(h.sim.webhooks()[0].id, webhook.id);
    // Deleted in Zendesk: the next connect registers it again.
    h.sim.delete_webhook(&webhook.id);
    assert_eq!(h.call("PUT", &path, Some(&body), &scopes).await.status, StatusCode::OK);
    let again = h.sim.webhooks();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id, webhook.id);

    // A delivery signed with the secret Zendesk holds is accepted.
    let ticket = escalated(&h, "conv-hook").await;
    let event = status_event("evt-hook", ticket, Some("conv-hook"), "PENDING", OffsetDateTime::now_utc()).to_string();
    let reply = h.send_any(delivery(&h.bot_id, &event, &again[0].signing_secret, None, None)).await;
    assert_eq!((reply.status, reply.body["applied"].clone()), (StatusCode::OK, json!(true)), "{}", reply.raw);

    // Disconnect removes it.
    let gone = h.call("DELETE", &path, None, &scopes).await;
    assert_eq!(gone.status, StatusCode::OK);
    assert!(h.sim.webhooks().is_empty());
    let audit = h.app.stores.audit.list(&h.bot_id, 10, None).await.unwrap();
    assert_eq!(audit.entries[0].detail["webhook"], "deleted");
}

#[tokio::test]
async fn a_status_event_costs_two_dynamodb_writes_and_no_zendesk_call() {
    let h = Harness::new(Backend::Moto).await;
    with_webhook_secret(&h, GENERATED_SECRET).await;
    let ticket = escalated(&h, "conv-w5").await;
    // The first event warms the per-Lambda caches (the bot's secret and profile).
    let warm = status_event("evt-warm", ticket, Some("conv-w5"), "OPEN", OffsetDateTime::now_utc()).to_string();
    assert_eq!(h.send_any(delivery(&h.bot_id, &warm, GENERATED_SECRET, None, None)).await.status, StatusCode::OK);
    let (dynamo_before, secrets_before) = h.adapters.counts();
    h.sim.reset_calls();
    let body = status_event("evt-budget", ticket, Some("conv-w5"), "PENDING", OffsetDateTime::now_utc()).to_string();
    let reply = h.send_any(delivery(&h.bot_id, &body, GENERATED_SECRET, None, None)).await;
    assert_eq!(reply.body["applied"], true, "{}", reply.raw);
    let (dynamo_after, secrets_after) = h.adapters.counts();
    let dynamo_ops = (dynamo_after.0 - dynamo_before.0) + (dynamo_after.1 - dynamo_before.1);
    assert_eq!(dynamo_ops, 2, "the status write and the seen marker");
    assert_eq!(secrets_after, secrets_before, "the signing secret comes from the warm cache");
    assert!(h.sim.calls().is_empty(), "no Zendesk call on the webhook path");
}

#[tokio::test]
async fn the_sample_webhook_events_behave_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let load =
        |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(root.join(name)).unwrap()).unwrap() };
    let h = Harness::for_bot(Backend::Memory, "demo-bot").await;
    with_webhook_secret(&h, TEST_SIGNING_SECRET).await;
    let receiver = CallbackReceiver::start().await;
    let mut h = h;
    h.app.allow_local_callbacks();
    h.set_callback(&receiver.url).await;
    let created = h.send(load("escalate.json")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
    let ticket = created.ticket_id();

    // As stored, the samples are signed at a fixed time: refused as stale.
    let stale = h.send_any(load("webhook-agent-reply.json")).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let fresh = |name: &str| {
        let mut event = load(name);
        handoff_local::sign_event::resign(&mut event, TEST_SIGNING_SECRET, Some(ticket), OffsetDateTime::now_utc())
            .unwrap();
        event
    };
    let reply = h.send_any(fresh("webhook-agent-reply.json")).await;
    assert_eq!((reply.status, reply.body["forwarded"].clone()), (StatusCode::OK, json!("delivered")), "{}", reply.raw);
    let echo = h.send_any(fresh("webhook-handoff-note-echo.json")).await;
    assert_eq!((echo.status, echo.body["forwarded"].clone()), (StatusCode::OK, json!("no")), "{}", echo.raw);
    let solved = h.send_any(fresh("webhook-status-changed.json")).await;
    assert_eq!((solved.status, solved.body["applied"].clone()), (StatusCode::OK, json!(true)), "{}", solved.raw);
    assert_eq!(status_of(&h, "conv-1001").await, Some(TicketStatus::Solved));
    // The agent's first public reply is also the news that an agent joined; solved ends it.
    assert_eq!(receiver.types(), ["agent_joined", "agent_reply", "handoff_ended"]);
    let text = receiver.accepted()[1].2["text"].clone();
    assert_eq!(text, "Hi Ana,\nYour parcel left our warehouse this morning & arrives tomorrow.");

    let sweeper = load("sweeper.json");
    assert_eq!(
        (sweeper["source"].as_str(), sweeper["detail-type"].as_str()),
        (Some("aws.scheduler"), Some("Scheduled Event"))
    );
}

#[tokio::test]
async fn junk_for_unknown_bots_costs_no_secrets_manager_call_and_reads_like_a_bad_signature() {
    let h = Harness::new(Backend::Moto).await;
    with_webhook_secret(&h, GENERATED_SECRET).await;
    let ticket = escalated(&h, "conv-junk").await;
    let body = status_event("evt-junk", ticket, Some("conv-junk"), "SOLVED", OffsetDateTime::now_utc()).to_string();
    // A warm Lambda: the known bot's secret is cached by a first delivery with a bad signature.
    let bad_signature = h.send_any(delivery(&h.bot_id, &body, "not-the-secret", None, None)).await;
    assert_eq!(bad_signature.status, StatusCode::UNAUTHORIZED);

    let (_, (secret_reads_before, _)) = h.adapters.counts();
    let mut refusals = Vec::new();
    for round in 0..3 {
        for junk in ["no-such-bot", "another-unknown-bot", "Shop.Bot"] {
            let reply = h.send_any(delivery(junk, &body, GENERATED_SECRET, None, None)).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{junk} round {round}: {}", reply.raw);
            refusals.push(reply.raw);
        }
    }
    let (_, (secret_reads_after, _)) = h.adapters.counts();
    assert_eq!(secret_reads_after, secret_reads_before, "an unknown bot never costs a Secrets Manager call");
    refusals.dedup();
    assert_eq!(refusals, std::slice::from_ref(&bad_signature.raw), "an unknown bot reads exactly like a bad signature");
    // The real bot is unaffected.
    let good = h.send_any(delivery(&h.bot_id, &body, GENERATED_SECRET, None, None)).await;
    assert_eq!(good.body["applied"], true, "{}", good.raw);
}

#[tokio::test]
async fn after_a_move_to_another_account_its_ticket_numbers_reach_no_old_conversation() {
    let h = Harness::new(Backend::Moto).await;
    let sandbox_ticket = escalated(&h, "conv-sandbox").await;
    assert_eq!(status_of(&h, "conv-sandbox").await, Some(TicketStatus::New));
    // The bot moves from its sandbox account to production (another subdomain).
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let body = json!({"mode": "api_token", "subdomain": "globex", "email": AGENT_EMAIL, "api_token": API_TOKEN});
    let moved = h.call("PUT", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.raw);
    with_webhook_secret(&h, GENERATED_SECRET).await;

    // Production's ticket with the same number, made in another channel (no external_id), changes.
    let event = status_event("evt-prod-57", sandbox_ticket, None, "PENDING", OffsetDateTime::now_utc()).to_string();
    let reply = h.send_any(delivery(&h.bot_id, &event, GENERATED_SECRET, None, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert!(
        reply.body["ignored"].is_string(),
        "another account's ticket is not the sandbox conversation's: {}",
        reply.raw
    );
    assert_eq!(status_of(&h, "conv-sandbox").await, Some(TicketStatus::New), "nothing applied to the old conversation");

    // The old conversation's ticket number opens nothing in the new account…
    let lookup = h
        .request(
            "GET",
            &format!("/v1/bots/{}/tickets/{sandbox_ticket}", h.bot_id),
            "conversation_id=conv-sandbox",
            None,
            &["ZENDESK_ACTIONS.READ_TICKET_STATUS"],
            &[],
            &[],
        )
        .await;
    assert_eq!(lookup.status, StatusCode::NOT_FOUND, "{}", lookup.raw);
    // …and the next escalation there opens a ticket in the new account rather than adding to it.
    let again = h.escalate("conv-sandbox", &escalation_body("still need a human")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_ne!(again.ticket_id(), sandbox_ticket);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-sandbox").await.unwrap().unwrap();
    assert_eq!((record.episode, record.previous_ticket_id), (2, None), "the old account's ticket is no floor here");
}
