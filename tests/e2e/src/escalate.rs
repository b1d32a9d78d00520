//! The escalate route end to end: API Gateway event → handler → DynamoDB and Secrets Manager on
//! the emulator (HTTP) → the Zendesk simulator (HTTP).

use std::sync::Arc;
use std::time::Duration;

use handoff::rules::RuleKind;
use handoff::settings::{BotSettings, Priority};
use handoff::store::EscalationState;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

fn assert_problem(reply: &Reply, status: StatusCode, kind: &str) {
    assert_eq!(reply.status, status, "{}", reply.raw);
    assert_eq!(reply.content_type(), "application/problem+json", "{}", reply.raw);
    assert_eq!(reply.body["type"], format!("urn:handoff:problem:{kind}"), "{}", reply.raw);
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.raw);
}

#[tokio::test]
async fn happy_path_makes_one_complete_ticket_within_the_call_budget() {
    let mut settings = BotSettings::default();
    let h0 = Harness::new(Backend::Moto).await;
    let url_field = h0.sim.add_ticket_field("Conversation URL", "text");
    let plan_field = h0.sim.add_ticket_field("Plan", "text");
    settings.mapping.conversation_url_field_id = Some(url_field);
    settings.mapping.metadata_fields.insert("plan".into(), plan_field);
    settings.priority_by_rule.insert(RuleKind::ExplicitRequest, Priority::High);
    h0.app.stores.bots.put_settings(&h0.bot_id, &settings).await.unwrap();
    let h = h0;

    let reply = h.escalate("conv-happy", &escalation_body("Can I talk to a human, please?")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.body["escalated"], true);
    assert_eq!(reply.body["deduplicated"], false);
    assert_eq!(reply.body["rule"], "explicit_request");
    let id = reply.ticket_id();
    assert_eq!(reply.body["ticket"]["status"], "new");
    assert_eq!(reply.body["ticket"]["url"], format!("{}/agent/tickets/{id}", h.sim.base_url));
    assert!(reply.body["handoff_message"].as_str().unwrap().contains(&format!("#{id}")));

    let tickets = h.sim.tickets();
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket.subject, "Can I talk to a human, please?");
    assert_eq!(ticket.external_id.as_deref(), Some("conv-happy"));
    assert_eq!(ticket.priority.as_deref(), Some("high"));
    let bot_tag = handoff::mapping::bot_tag(&h.bot_id);
    assert_eq!(ticket.tags, ["handoff", bot_tag.as_str(), "acme_bot", "handoff_rule_explicit_request"]);
    assert_eq!(
        ticket.custom_fields,
        vec![
            json!({"id": url_field, "value": "https://chat.example.com/c/1"}),
            json!({"id": plan_field, "value": "pro"})
        ]
    );
    let requester = h.sim.user(ticket.requester_id).unwrap();
    assert_eq!(
        (requester.name.as_str(), requester.email.as_str(), requester.role.as_str()),
        ("Ana Souza", "ana@example.com", "end-user")
    );
    assert_eq!(ticket.comments.len(), 2);
    assert!(ticket.comments[0].public, "the first comment must be public so the requester is notified");
    assert!(ticket.comments[0].body.starts_with("Can I talk to a human, please?"));
    assert!(!ticket.comments[1].public, "the transcript is an internal note");
    assert!(ticket.comments[1].body.contains("Bot: Sorry to hear that!"));
    assert!(h.sim.schema_violations().is_empty(), "{:?}", h.sim.schema_violations());
    for call in h.sim.calls() {
        if let Some(comment) = call.body.as_ref().and_then(|b| b["ticket"].get("comment")) {
            assert!(comment.get("public").is_some_and(Value::is_boolean), "`public` always explicit: {comment}");
        }
    }
    let create = h.sim.calls().into_iter().find(|c| c.route == Route::CreateTicket).unwrap();
    assert!(create.idempotency_key.is_some_and(|k| k.starts_with("handoff-")));

    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-happy").await.unwrap().unwrap();
    assert_eq!((record.state, record.ticket_id), (EscalationState::Created, Some(id)));
    assert_eq!(
        h.app.stores.conversations.conversation_for_ticket(&h.bot_id, "acme", id).await.unwrap().as_deref(),
        Some("conv-happy")
    );

    // Warm: a second conversation of a visitor Zendesk knows costs 3 Zendesk calls (the visitor's
    // user, the ticket, the note; one more to create a visitor Zendesk does not know, one more to
    // put a verified requester's phone on their user), at most 3 DynamoDB writes (claim, record,
    // audit entry), no Secrets Manager call.
    h.sim.reset_calls();
    let ((_, writes_before), secrets_before) = h.adapters.counts();
    let mut body = escalation_body("I want to speak to an agent");
    body["visitor"].as_object_mut().unwrap().remove("phone");
    let warm = h.escalate("conv-warm", &body).await;
    assert_eq!(warm.status, StatusCode::CREATED, "{}", warm.raw);
    let ((_, writes_after), secrets_after) = h.adapters.counts();
    assert_eq!(h.sim.count(Route::Any), 3, "{:?}", h.sim.calls().iter().map(|c| &c.path).collect::<Vec<_>>());
    assert_eq!(h.sim.count(Route::UsersSearch), 1, "the visitor's user, found");
    assert!(writes_after - writes_before <= 3, "{} DynamoDB writes", writes_after - writes_before);
    assert_eq!(secrets_after, secrets_before, "no Secrets Manager call when warm");
}

#[tokio::test]
async fn twenty_concurrent_requests_make_one_ticket() {
    for backend in [Backend::Moto, Backend::Dynalite] {
        let h = Arc::new(Harness::new(backend).await);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let h = h.clone();
            tasks.spawn(async move { h.escalate("conv-race", &escalation_body("talk to a human")).await });
        }
        let mut statuses = Vec::new();
        while let Some(reply) = tasks.join_next().await {
            let reply = reply.unwrap();
            assert!(reply.body["escalated"] == true, "{}", reply.raw);
            statuses.push(reply.status);
        }
        assert_eq!(h.sim.tickets().len(), 1, "{backend:?}: one ticket for 20 requests");
        assert_eq!(h.sim.count(Route::CreateTicket), 1, "{backend:?}: one create call");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{backend:?}: {statuses:?}");
        assert!(statuses.iter().all(|s| [StatusCode::CREATED, StatusCode::ACCEPTED, StatusCode::OK].contains(s)));
    }
}

#[tokio::test]
async fn a_lost_create_answer_still_makes_one_ticket() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
    let reply = h.escalate("conv-lost", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(h.sim.tickets().len(), 1);
    assert_eq!(reply.ticket_id(), h.sim.tickets()[0].id);
    assert_eq!(h.sim.count(Route::CreateTicket), 1, "found by external_id, not created again");
    assert_eq!(h.sim.count(Route::ListTickets), 1);
    assert_eq!(h.sim.tickets()[0].comments.len(), 2, "transcript note added once");
}

/// The create times out while Zendesk is still working on it. Sending it again at once could
/// race the first (one ticket would then rest on Zendesk replaying a concurrent create with the
/// same key, which is unconfirmed), so the escalation is left pending; the repeat looks first and
/// finds the ticket. The simulator here ignores `Idempotency-Key`, so only Handoff's guards count.
#[tokio::test]
async fn a_timed_out_create_is_not_sent_again_blindly() {
    let mut h = Harness::new(Backend::Moto).await;
    h.sim.honour_idempotency(false);
    h.app.zendesk = fast_client(Duration::from_millis(300));
    h.sim.inject(Route::CreateTicket, Fault::Slow(Duration::from_secs(1)), 1);
    let body = escalation_body("talk to a human");
    let reply = h.escalate("conv-slow", &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let calls = ticket_calls(&h);
    assert_eq!(calls, [Route::CreateTicket, Route::ListTickets], "looked, did not send again");
    // Zendesk finishes the slow create; the repeat finds it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let again = h.escalate("conv-slow", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_eq!(h.sim.tickets().len(), 1);
    assert_eq!(h.sim.count(Route::CreateTicket), 1);
    assert_eq!(h.sim.tickets()[0].comments.len(), 2);
}

#[tokio::test]
async fn rate_limit_retry_after_is_honoured() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::CreateTicket, Fault::RateLimited { retry_after_secs: 1 }, 1);
    let reply = h.escalate("conv-429", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let creates: Vec<_> = h.sim.calls().into_iter().filter(|c| c.route == Route::CreateTicket).collect();
    assert_eq!(creates.len(), 2, "one 429, then the create");
    let waited = creates[1].at.duration_since(creates[0].at);
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}, Zendesk asked for 1 s");
    assert_eq!(h.sim.tickets().len(), 1);
}

#[tokio::test]
async fn zendesk_down_answers_202_and_a_repeat_finishes_without_a_duplicate() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let body = escalation_body("talk to a human");
    let reply = h.escalate("conv-down", &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    assert_eq!(reply.body["state"], "pending");
    assert!(reply.headers.get("retry-after").is_some());
    assert!(reply.body["handoff_message"].as_str().is_some_and(|m| !m.is_empty()));
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-down").await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (EscalationState::Pending, 1));
    assert!(record.pending_payload.is_some() && record.due_at_ms.is_some(), "everything needed to finish is recorded");
    assert!(h.sim.tickets().is_empty());

    h.sim.clear_faults();
    let again = h.escalate("conv-down", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_eq!(h.sim.tickets().len(), 1);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-down").await.unwrap().unwrap();
    assert_eq!(record.state, EscalationState::Created);
    assert!(record.pending_payload.is_none() && record.due_at_ms.is_none());
}

#[tokio::test]
async fn created_then_lost_then_down_is_recovered_by_the_repeat() {
    let h = Harness::new(Backend::Dynalite).await;
    h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
    // Down after the create: the lookups and the notes fail.
    for route in [Route::ListTickets, Route::UpdateTicket, Route::CreateTicket] {
        h.sim.inject(route, Fault::Status { status: 500, retry_after_secs: None }, 1000);
    }
    let body = escalation_body("talk to a human");
    let reply = h.escalate("conv-lost-down", &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    assert_eq!(h.sim.tickets().len(), 1, "Zendesk did create it");
    h.sim.clear_faults();
    let again = h.escalate("conv-lost-down", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_eq!(h.sim.tickets().len(), 1, "recovered, not created twice");
    assert_eq!(again.ticket_id(), h.sim.tickets()[0].id);
    let notes = h.sim.tickets()[0].comments.iter().filter(|c| !c.public).count();
    assert_eq!(notes, 1, "transcript written once");
}

#[tokio::test]
async fn a_second_escalation_adds_only_new_messages_then_a_solved_ticket_opens_a_new_one() {
    let h = Harness::new(Backend::Moto).await;
    let mut body = escalation_body("talk to a human");
    let first = h.escalate("conv-episodes", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let id = first.ticket_id();

    // Same conversation, nothing new: deduplicated, no note.
    let same = h.escalate("conv-episodes", &body).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.raw);
    assert_eq!((same.body["deduplicated"].clone(), same.body["notes_added"].clone()), (json!(true), json!(0)));
    assert_eq!(same.ticket_id(), id);

    // Two new messages: one note with just those.
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "bot", "text": "Connecting you now.", "at": "2026-11-21T10:01:00Z"}));
    messages.push(
        json!({"role": "visitor", "text": "Still waiting, please get me a real person", "at": "2026-11-21T10:02:00Z"}),
    );
    let more = h.escalate("conv-episodes", &body).await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.raw);
    assert_eq!(more.body["notes_added"], 1);
    let ticket = h.sim.ticket(id).unwrap();
    assert_eq!(ticket.comments.len(), 3);
    let note = &ticket.comments[2];
    assert!(!note.public);
    assert!(
        note.body.contains("Still waiting, please get me a real person") && note.body.contains("Connecting you now.")
    );
    assert!(!note.body.contains("my order never arrived"), "only the new messages: {}", note.body);

    // Solved: the next escalation is a new episode with a new ticket.
    h.sim.set_status(id, "solved");
    let next = h.escalate("conv-episodes", &body).await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.raw);
    assert_ne!(next.ticket_id(), id);
    assert_eq!(h.sim.tickets().len(), 2);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-episodes").await.unwrap().unwrap();
    assert_eq!((record.episode, record.previous_ticket_id), (2, Some(id)));
    let keys: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.route == Route::CreateTicket)
        .filter_map(|c| c.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1], "each episode has its own Idempotency-Key");
}

#[tokio::test]
async fn no_rule_fired_answers_200_and_writes_nothing() {
    let h = Harness::new(Backend::Memory).await;
    let reply = h.escalate("conv-calm", &escalation_body("Where is my order?")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["escalated"], false);
    assert!(reply.body["reason"].as_str().unwrap().contains("no enabled rule fired"));
    assert_eq!(h.sim.count(Route::Any), 0);
    assert!(h.app.stores.conversations.get_conversation(&h.bot_id, "conv-calm").await.unwrap().is_none());
}

#[tokio::test]
async fn no_rule_enabled_is_a_clear_problem() {
    let mut settings = BotSettings::default();
    settings.rules.explicit_request.enabled = false;
    settings.rules.low_confidence.enabled = false;
    settings.rules.low_rating.enabled = false;
    settings.rules.action.enabled = false;
    settings.rules.manual.enabled = false;
    let h = Harness::with_settings(Backend::Memory, settings).await;
    let reply = h.escalate("conv-x", &escalation_body("talk to a human")).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "no-rule-enabled");
}

#[tokio::test]
async fn a_bot_without_a_connection_answers_409() {
    let h = Harness::new(Backend::Moto).await;
    let event = escalation_event(
        "unconnected-bot",
        "c1",
        &escalation_body("human").to_string(),
        "application/json",
        Some(("unconnected-bot", &["ZENDESK_ACTIONS.CREATE_TICKET"])),
    );
    let reply = h.send(event).await;
    assert_problem(&reply, StatusCode::CONFLICT, "not-connected");
    assert_eq!(h.sim.count(Route::Any), 0);
}

#[tokio::test]
async fn bad_requests_get_problems_and_write_nothing() {
    let h = Harness::new(Backend::Moto).await;
    let bot = h.bot_id.clone();
    let good = escalation_body("talk to a human").to_string();
    let create = ["ZENDESK_ACTIONS.CREATE_TICKET"];
    let read_only = ["ZENDESK_ACTIONS.READ_TICKET_STATUS"];
    let oversize =
        format!("{{\"messages\": [{{\"role\": \"visitor\", \"text\": \"{}\"}}]}}", "a".repeat(3 * 1024 * 1024));
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            escalation_event(&bot, "c1", "{\"messages\": [", "application/json", Some((&bot, &create))),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "wrong type",
            escalation_event(&bot, "c1", r#"{"messages": "hello"}"#, "application/json", Some((&bot, &create))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "missing field",
            escalation_event(
                &bot,
                "c1",
                r#"{"messages": [{"role": "visitor"}]}"#,
                "application/json",
                Some((&bot, &create)),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "bad values",
            escalation_event(
                &bot,
                "c1",
                r#"{"signals": {"confidence": 7}, "visitor": {"email": "x"}}"#,
                "application/json",
                Some((&bot, &create)),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "action without name",
            escalation_event(&bot, "c1", r#"{"trigger": "action"}"#, "application/json", Some((&bot, &create))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "wrong content type",
            escalation_event(&bot, "c1", &good, "text/plain", Some((&bot, &create))),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "too large",
            escalation_event(&bot, "c1", &oversize, "application/json", Some((&bot, &create))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
        (
            "wrong scope",
            escalation_event(&bot, "c1", &good, "application/json", Some((&bot, &read_only))),
            StatusCode::FORBIDDEN,
            "insufficient-scope",
        ),
        (
            "another bot's token",
            escalation_event(&bot, "c1", &good, "application/json", Some(("other-bot", &create))),
            StatusCode::FORBIDDEN,
            "wrong-bot",
        ),
        (
            "no token",
            escalation_event(&bot, "c1", &good, "application/json", None),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "bad conversation id",
            escalation_event(&bot, "c%231", &good, "application/json", Some((&bot, &create))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
    ];
    let ((_, writes_before), _) = h.adapters.counts();
    for (name, event, status, kind) in cases {
        let reply = h.send(event).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.raw);
        assert_problem(&reply, status, kind);
    }
    let ((_, writes_after), _) = h.adapters.counts();
    assert_eq!(writes_after, writes_before, "no write for a rejected request");
    assert_eq!(h.sim.count(Route::Any), 0, "no Zendesk call for a rejected request");
    assert!(h.app.stores.conversations.get_conversation(&bot, "c1").await.unwrap().is_none());
}

#[tokio::test]
async fn manual_escalation_records_who_and_anonymous_visitors_get_a_placeholder() {
    let h = Harness::new(Backend::Memory).await;
    let body = json!({
        "trigger": "manual",
        "escalated_by": "carla@acme.example",
        "messages": [{"role": "visitor", "text": "hello?", "at": "2026-11-21T10:00:00Z"}]
    });
    let reply = h.escalate("conv-manual", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.body["rule"], "manual");
    let ticket = &h.sim.tickets()[0];
    let requester = h.sim.user(ticket.requester_id).unwrap();
    assert_eq!(requester.name, "Anonymous Visitor");
    assert!(requester.email.ends_with("@visitors.handoff.invalid"));
    assert!(ticket.tags.contains(&"handoff_placeholder_email".to_owned()));
    assert!(ticket.comments[1].body.contains("Escalated by: carla@acme.example"));
    assert!(ticket.comments[1].body.contains("placeholder"));
}

#[tokio::test]
async fn a_long_transcript_is_split_into_notes_under_the_limit() {
    let h = Harness::new(Backend::Memory).await;
    let messages: Vec<Value> = (0..10_000)
        .map(|i| json!({"role": if i % 2 == 0 { "visitor" } else { "bot" }, "text": format!("message {i} {}", "lorem ipsum ".repeat(8))}))
        .chain(std::iter::once(json!({"role": "visitor", "text": "human please"})))
        .collect();
    let reply = h.escalate("conv-long", &json!({"messages": messages})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = &h.sim.tickets()[0];
    let notes: Vec<_> = ticket.comments.iter().filter(|c| !c.public).collect();
    assert!(notes.len() > 10, "{} notes", notes.len());
    assert!(notes.iter().all(|n| n.body.len() <= 64 * 1024));
    for (i, note) in notes.iter().enumerate() {
        let title = note.body.lines().next().unwrap();
        assert!(title.contains(&format!("(part {} of {}) · ref ", i + 1, notes.len())), "{title}");
    }
    assert!(notes.last().unwrap().body.contains("message 9999"));
    assert!(h.sim.schema_violations().is_empty());
}

#[tokio::test]
async fn a_reset_connection_leaves_the_escalation_pending_until_a_lookup_says_otherwise() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::CreateTicket, Fault::Reset, 1);
    let body = escalation_body("talk to a human");
    let reply = h.escalate("conv-reset", &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let again = h.escalate("conv-reset", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_eq!(h.sim.tickets().len(), 1);
    let calls = ticket_calls(&h);
    assert_eq!(&calls[..4], [Route::CreateTicket, Route::ListTickets, Route::ListTickets, Route::CreateTicket]);
}

#[tokio::test]
async fn the_sample_events_behave_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let h = Harness::for_bot(Backend::Memory, "demo-bot").await;
    let load =
        |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(root.join(name)).unwrap()).unwrap() };
    let reply = h.send(load("escalate.json")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.body["rule"], "explicit_request");
    let manual = h.send(load("escalate-manual.json")).await;
    assert_eq!(manual.status, StatusCode::CREATED, "{}", manual.raw);
    assert_eq!(manual.body["rule"], "manual");
    assert!(manual.body["handoff_message"].as_str().unwrap().starts_with("Te paso"), "{}", manual.raw);
    let wrong = h.send(load("escalate-wrong-bot.json")).await;
    assert_problem(&wrong, StatusCode::FORBIDDEN, "wrong-bot");
    assert_eq!(h.sim.tickets().len(), 2);
}

#[tokio::test]
async fn a_401_reloads_a_rotated_secret_and_retries_once() {
    let h = Harness::new(Backend::Moto).await;
    assert_eq!(h.escalate("conv-before", &escalation_body("talk to a human")).await.status, StatusCode::CREATED);
    // The token is rotated behind this warm Lambda's back: stored anew, the old one revoked.
    h.rotate_api_token_elsewhere("rotated-token-2").await;

    let (_, (reads_before, _)) = h.adapters.counts();
    let reply = h.escalate("conv-after", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let (_, (reads_after, _)) = h.adapters.counts();
    assert_eq!(reads_after - reads_before, 1, "the secret was read again once");
    assert_eq!(h.sim.tickets().len(), 2);
}

#[tokio::test]
async fn a_lost_answer_is_recovered_even_when_zendesk_ignores_idempotency_keys() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.honour_idempotency(false);
    h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
    let reply = h.escalate("conv-nokey", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(h.sim.tickets().len(), 1, "found by external_id alone");
}

#[tokio::test]
async fn another_integrations_ticket_with_the_same_external_id_is_never_adopted() {
    let h = Harness::new(Backend::Moto).await;
    let foreign = h.sim.insert_ticket("Order question (from the shop)", Some("conv-shared"), &["shop_sync"]);
    let other_bot = h.sim.insert_ticket("Another bot", Some("conv-shared"), &["handoff", "handoff_bot_someone-else"]);
    h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
    let reply = h.escalate("conv-shared", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ours = reply.ticket_id();
    assert!(ours != foreign && ours != other_bot);
    assert_eq!(h.sim.tickets().len(), 3);
    assert_eq!(h.sim.ticket(foreign).unwrap().comments.len(), 1, "nothing added to a ticket that is not ours");
    assert_eq!(h.sim.ticket(other_bot).unwrap().comments.len(), 1);
    assert_eq!(h.sim.ticket(ours).unwrap().comments.len(), 2);
}

#[tokio::test]
async fn a_takeover_keeps_the_first_transcript_and_adds_what_came_after() {
    let h = Harness::new(Backend::Dynalite).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let mut body = escalation_body("talk to a human");
    assert_eq!(h.escalate("conv-grow", &body).await.status, StatusCode::ACCEPTED);
    h.sim.clear_faults();
    let newer = json!({"role": "visitor", "text": "Hello?? Anyone? I need an agent", "at": "2026-11-21T10:05:00Z"});
    body["messages"].as_array_mut().unwrap().push(newer);
    let reply = h.escalate("conv-grow", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let tickets = h.sim.tickets();
    assert_eq!(tickets.len(), 1);
    let comments = &tickets[0].comments;
    assert_eq!(comments.len(), 3, "first comment, transcript, then the newer message");
    assert!(comments[0].body.starts_with("talk to a human"), "the ticket is the first request's");
    assert!(comments[2].body.contains("Hello?? Anyone?") && !comments[2].body.contains("never arrived"));
    // Repeating adds nothing more: the newest message is recorded as synced.
    let again = h.escalate("conv-grow", &body).await;
    assert_eq!((again.status, again.body["notes_added"].clone()), (StatusCode::OK, json!(0)), "{}", again.raw);
}

#[tokio::test]
async fn a_refused_escalation_fails_clearly_and_the_next_request_starts_over() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::CreateTicket, Fault::Status { status: 422, retry_after_secs: None }, 1);
    let body = escalation_body("talk to a human");
    let refused = h.escalate("conv-refused", &body).await;
    assert_problem(&refused, StatusCode::BAD_GATEWAY, "zendesk-rejected");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-refused").await.unwrap().unwrap();
    assert_eq!(record.state, EscalationState::Failed);
    let retry = h.escalate("conv-refused", &body).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.raw);
    assert_eq!(h.sim.tickets().len(), 1);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-refused").await.unwrap().unwrap();
    assert_eq!((record.state, record.episode), (EscalationState::Created, 2));
}

#[tokio::test]
async fn a_pending_escalation_whose_ticket_was_closed_meanwhile_opens_a_new_one() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::UpdateTicket, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let body = escalation_body("talk to a human");
    let pending = h.escalate("conv-closed", &body).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.raw);
    let first = pending.ticket_id();
    assert!(pending.body["ticket"].get("status").is_none(), "a status this request did not see is not reported");
    h.sim.clear_faults();
    h.sim.set_status(first, "closed");
    let reply = h.escalate("conv-closed", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_ne!(reply.ticket_id(), first);
    assert_eq!(h.sim.ticket(first).unwrap().comments.len(), 1, "the closed ticket was left alone");
    assert_eq!(h.sim.ticket(reply.ticket_id()).unwrap().comments.len(), 2);
}

#[tokio::test]
async fn revoked_credentials_keep_the_work_and_ask_for_a_reconnect() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.revoke_api_token(AGENT_EMAIL, API_TOKEN);
    let reply = h.escalate("conv-revoked", &escalation_body("talk to a human")).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "reconnect-required");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-revoked").await.unwrap().unwrap();
    assert_eq!(record.state, EscalationState::Pending);
    assert!(record.pending_payload.is_some() && record.due_at_ms.is_some(), "kept for after the reconnect");
    let profile = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap();
    assert_eq!(profile.connection.unwrap().state, handoff::store::ConnectionState::ReconnectRequired);
    h.sim.reset_calls();
    let next = h.escalate("conv-other", &escalation_body("talk to a human")).await;
    assert_problem(&next, StatusCode::FORBIDDEN, "reconnect-required");
    assert_eq!(h.sim.count(Route::Any), 0, "no call to Zendesk until reconnected");
}

#[tokio::test]
async fn a_ticket_found_again_but_closed_meanwhile_is_left_alone() {
    for finished in ["closed", "solved"] {
        let h = Harness::new(Backend::Moto).await;
        h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
        h.sim.inject(Route::ListTickets, Fault::Status { status: 500, retry_after_secs: None }, 100);
        let body = escalation_body("talk to a human");
        let pending = h.escalate("conv-found", &body).await;
        assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.raw);
        let lost = h.sim.tickets()[0].id;
        h.sim.clear_faults();
        h.sim.set_status(lost, finished);
        let reply = h.escalate("conv-found", &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{finished}: {}", reply.raw);
        assert_ne!(reply.ticket_id(), lost, "{finished}: the visitor gets a ticket an agent will see");
        assert_eq!(h.sim.tickets().len(), 2);
        let old_comments = h.sim.ticket(lost).unwrap().comments.len();
        let expected = if finished == "closed" { 1 } else { 2 };
        assert_eq!(
            old_comments, expected,
            "{finished}: a closed ticket takes nothing; a solved one gets its transcript"
        );
    }
}

#[tokio::test]
async fn a_rotated_secret_is_picked_up_on_a_follow_up_too() {
    let h = Harness::new(Backend::Moto).await;
    let mut body = escalation_body("talk to a human");
    assert_eq!(h.escalate("conv-rot", &body).await.status, StatusCode::CREATED);
    h.rotate_api_token_elsewhere("rotated-token-3").await;
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "visitor", "text": "hello? a person please", "at": "2026-11-21T10:09:00Z"}));
    let reply = h.escalate("conv-rot", &body).await;
    assert_eq!((reply.status, reply.body["notes_added"].clone()), (StatusCode::OK, json!(1)), "{}", reply.raw);
    let profile = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap();
    assert_eq!(profile.connection.unwrap().state, handoff::store::ConnectionState::Connected);
}

/// Zendesk's gateway can answer 502, 503 or 504 after the ticket was made (or while it is still
/// being made). Such an answer is "maybe created": the escalation stays pending (202) and the
/// next attempt looks the ticket up before creating. The simulator ignores `Idempotency-Key`
/// here, so only Handoff's own guards keep one ticket.
#[tokio::test]
async fn a_gateway_error_on_create_is_maybe_created_and_the_repeat_finds_the_ticket() {
    for status in [502, 503, 504] {
        let h = Harness::new(Backend::Moto).await;
        h.sim.honour_idempotency(false);
        let fault = Fault::GatewayError { status, processed_after: Duration::from_millis(200) };
        h.sim.inject(Route::CreateTicket, fault, 1);
        let body = escalation_body("talk to a human");
        let reply = h.escalate("conv-gateway", &body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{status}: {}", reply.raw);
        assert!(reply.headers.get("retry-after").is_some(), "{status}");
        assert_eq!(h.sim.count(Route::CreateTicket), 1, "{status}: the create was not sent again");
        h.sim.settled().await;
        assert_eq!(h.sim.tickets().len(), 1, "{status}: Zendesk made the ticket after all");

        let again = h.escalate("conv-gateway", &body).await;
        assert_eq!(again.status, StatusCode::CREATED, "{status}: {}", again.raw);
        assert_eq!(h.sim.tickets().len(), 1, "{status}: exactly one ticket");
        assert_eq!(again.ticket_id(), h.sim.tickets()[0].id);
        assert_eq!(h.sim.count(Route::CreateTicket), 1, "{status}: found by external_id, not created again");
        assert_eq!(h.sim.tickets()[0].comments.len(), 2, "{status}: the transcript once");
    }
}

/// Requests for a conversation whose ticket is open add its new messages as a note. Ten at once
/// with the same new messages add them once: a follow-up takes the conversation's sync lease
/// before writing, and the others answer 202 (or find the messages synced already).
#[tokio::test]
async fn concurrent_follow_ups_add_the_same_new_messages_once() {
    for backend in [Backend::Moto, Backend::Dynalite, Backend::Memory] {
        let h = Arc::new(Harness::new(backend).await);
        let mut body = escalation_body("talk to a human");
        let first = h.escalate("conv-follow", &body).await;
        assert_eq!(first.status, StatusCode::CREATED, "{backend:?}: {}", first.raw);
        let id = first.ticket_id();
        body["messages"]
            .as_array_mut()
            .unwrap()
            .push(json!({"role": "visitor", "text": "Is anyone there? Talk to a human please 42", "at": "2026-11-21T10:03:00Z"}));
        // Slow notes widen the window in which the requests overlap.
        h.sim.inject(Route::UpdateTicket, Fault::Slow(Duration::from_millis(300)), 10);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (h, body) = (h.clone(), body.clone());
            tasks.spawn(async move { h.escalate("conv-follow", &body).await });
        }
        let mut added = 0;
        while let Some(reply) = tasks.join_next().await {
            let reply = reply.unwrap();
            match reply.status {
                StatusCode::OK => {
                    added += reply.body["notes_added"].as_u64().unwrap_or_else(|| panic!("{backend:?}: {}", reply.raw))
                }
                StatusCode::ACCEPTED => {
                    assert_eq!(reply.body["deduplicated"], true, "{backend:?}: {}", reply.raw);
                    assert!(reply.headers.get("retry-after").is_some(), "{backend:?}");
                }
                other => panic!("{backend:?}: {other}: {}", reply.raw),
            }
        }
        assert_eq!(added, 1, "{backend:?}: one request added the note");
        let ticket = h.sim.ticket(id).unwrap();
        let copies =
            ticket.comments.iter().filter(|c| c.body.contains("Is anyone there? Talk to a human please 42")).count();
        assert_eq!(copies, 1, "{backend:?}: the new message is on the ticket once");
        let again = h.escalate("conv-follow", &body).await;
        assert_eq!((again.status, again.body["notes_added"].clone()), (StatusCode::OK, json!(0)), "{backend:?}");
    }
}

/// A resumed episode checks which transcript notes are already on its ticket. Zendesk pages a
/// ticket's comments (100 at most a page): with more than 100, notes beyond the first page must
/// still be found, or the transcript would be added again.
#[tokio::test]
async fn a_resumed_episode_on_a_ticket_with_over_100_comments_does_not_add_the_transcript_again() {
    let h = Harness::new(Backend::Moto).await;
    // The transcript note reaches the ticket but its answer is lost: the record cannot know.
    h.sim.inject(Route::UpdateTicket, Fault::LoseAnswer, 1);
    let body = escalation_body("talk to a human");
    let pending = h.escalate("conv-busy", &body).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.raw);
    let id = pending.ticket_id();
    assert_eq!(h.sim.ticket(id).unwrap().comments.len(), 2, "the note is there");
    h.sim.add_agent("Carla Agent", "carla@example.com", "carla-token");
    for i in 0..150 {
        h.sim.agent_reply(id, "carla@example.com", &format!("reply {i}"), i % 2 == 0);
    }
    let reply = h.escalate("conv-busy", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.ticket_id(), id);
    let transcripts =
        h.sim.ticket(id).unwrap().comments.iter().filter(|c| c.body.contains("Bot: Sorry to hear")).count();
    assert_eq!(transcripts, 1, "the transcript is on the ticket once");
}

#[tokio::test]
async fn a_follow_up_note_zendesk_applied_but_answered_504_is_not_added_again_on_the_retry() {
    let h = Harness::new(Backend::Dynalite).await;
    let first = h.escalate("conv-504", &escalation_body("talk to a human")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.raw);
    let ticket = first.ticket_id();
    let mut more = escalation_body("talk to a human");
    more["messages"].as_array_mut().unwrap().push(json!(
        {"role": "visitor", "text": "Order number is 77-ALPHA", "at": "2026-11-21T10:01:00Z"}
    ));
    more["trigger"] = json!("explicit_request");
    // Zendesk applies the note and its gateway answers 504.
    h.sim.inject(Route::UpdateTicket, Fault::GatewayError { status: 504, processed_after: Duration::ZERO }, 1);
    let failed = h.escalate("conv-504", &more).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.raw);
    // The bot repeats the request.
    let again = h.escalate("conv-504", &more).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.raw);
    let copies = h.sim.ticket(ticket).unwrap().comments.iter().filter(|c| c.body.contains("77-ALPHA")).count();
    assert_eq!(copies, 1, "the note Zendesk applied is not added again");
    // And the next new message is added once, as usual.
    more["messages"].as_array_mut().unwrap().push(json!(
        {"role": "visitor", "text": "Also: gift wrap", "at": "2026-11-21T10:02:00Z"}
    ));
    assert_eq!(h.escalate("conv-504", &more).await.body["notes_added"], 1);
    let ticket = h.sim.ticket(ticket).unwrap();
    assert_eq!(ticket.comments.iter().filter(|c| c.body.contains("gift wrap")).count(), 1);
    assert_eq!(ticket.comments.iter().filter(|c| c.body.contains("77-ALPHA")).count(), 1);
}

/// The calls about tickets, in order (without the lookup of the visitor's user before a create).
fn ticket_calls(h: &Harness) -> Vec<Route> {
    h.sim.calls().iter().map(|c| c.route).filter(|r| !matches!(r, Route::UsersSearch | Route::CreateUser)).collect()
}
