//! Zendesk back to the chat, end to end: the simulator delivers signed webhooks over HTTP to
//! Handoff's front (as Zendesk would), Handoff forwards agent replies and status changes to a
//! callback receiver, and the sweeper finishes what could not finish at once.

use std::time::Duration;

use handoff::callback::delivery::{DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use handoff::deadline::Deadline;
use handoff::store::EscalationState;
use handoff::webhook::signature;
use handoff::zendesk::types::TicketStatus;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const SUPPORT_AGENT: &str = "carla@example.com";
const WAIT: Duration = Duration::from_secs(10);
/// A sweeper run's budget, as the Lambda gives it (about a minute).
const RUN: Duration = Duration::from_secs(55);

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A connected bot with a live webhook, a support agent and a callback receiver.
async fn two_way(backend: Backend) -> (Harness, CallbackReceiver, String) {
    let mut h = Harness::new(backend).await;
    h.connect_live().await;
    h.sim.add_agent("Carla Agent", SUPPORT_AGENT, "carla-token");
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let secret = h.set_callback(&receiver.url).await;
    receiver.expect_secret(&secret);
    (h, receiver, secret)
}

async fn escalated(h: &Harness, conversation: &str) -> u64 {
    let reply = h.escalate(conversation, &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.ticket_id()
}

/// Escalates, and an agent takes the ticket: the `handoff_started` and `agent_joined` callbacks
/// arrive and are forgotten, so the test sees only what comes next.
async fn taken(h: &Harness, receiver: &CallbackReceiver, conversation: &str) -> u64 {
    let ticket = escalated(h, conversation).await;
    h.sim.agent_assign(ticket, SUPPORT_AGENT);
    delivered(h, h.sim.emitted_events().len()).await;
    let types = receiver.types();
    assert!(types.ends_with(&["handoff_started".to_owned(), "agent_joined".to_owned()]), "{types:?}");
    receiver.clear();
    ticket
}

/// The accepted callbacks of one type.
fn of_type(receiver: &CallbackReceiver, kind: &str) -> Vec<(http::HeaderMap, bytes::Bytes, Value)> {
    receiver.accepted().into_iter().filter(|(_, _, b)| b["type"] == kind).collect()
}

/// Waits until the simulator has finished `n` deliveries in all (Handoff answered each).
async fn delivered(h: &Harness, n: usize) {
    let done = h.sim.wait_for_deliveries(n, WAIT).await;
    assert!(done.len() >= n, "only {} of {n} webhook deliveries finished", done.len());
    for d in &done {
        assert_eq!(d.status, Some(200), "Handoff answered a delivery with {:?} ({:?})", d.status, d.error);
    }
}

fn verified(secret: &str, delivery: &(http::HeaderMap, bytes::Bytes, Value)) {
    let (headers, raw, body) = delivery;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    signature::verify(
        secret.as_bytes(),
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
        raw,
        time::OffsetDateTime::now_utc(),
    )
    .expect("the callback's signature verifies with the bot's callback secret");
    assert!(
        signature::verify(
            b"another secret",
            header(SIGNATURE_HEADER),
            header(TIMESTAMP_HEADER),
            raw,
            time::OffsetDateTime::now_utc()
        )
        .is_err()
    );
    assert_eq!(header(DELIVERY_HEADER), body["delivery_id"].as_str());
}

#[tokio::test]
async fn agent_replies_are_forwarded_once_signed_and_notes_and_echoes_are_not() {
    let (h, receiver, secret) = two_way(Backend::Moto).await;
    let ticket = escalated(&h, "conv-tw1").await;
    // Creating the ticket echoes its first (public, requester's) comment and Handoff's private
    // transcript note back as comment events: neither reaches the bot; the ticket's creation is
    // the one callback (the handoff has started).
    let echoes = h.sim.emitted_events().len();
    assert!(echoes >= 3, "the simulator reports the ticket and echoes its comments");
    delivered(&h, echoes).await;
    assert_eq!(receiver.types(), ["handoff_started"], "Handoff's own comments are not forwarded");

    h.sim.agent_reply(ticket, SUPPORT_AGENT, "internal: customer is on the legacy plan", false);
    h.sim.agent_reply(ticket, AGENT_EMAIL, "<p>Posted by the integration user</p>", true);
    // Another integration's ticket that happens to carry the same external id.
    let other = h.sim.insert_ticket("Someone else's", Some("conv-tw1"), &[]);
    h.sim.agent_reply(other, SUPPORT_AGENT, "<p>Not for the bot</p>", true);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "<p>Hi Ana,</p><p>I reset your password &amp; unlocked it.</p>", true);
    delivered(&h, echoes + 4).await;
    let accepted = of_type(&receiver, "agent_reply");
    assert_eq!(accepted.len(), 1, "exactly the public agent reply is forwarded: {accepted:?}");
    // The first public reply is also the news that an agent is on it.
    assert_eq!(receiver.types(), ["handoff_started", "agent_joined", "agent_reply"]);
    verified(&secret, &accepted[0]);
    let body = &accepted[0].2;
    assert_eq!(body["type"], "agent_reply");
    assert_eq!(body["conversation_id"], "conv-tw1");
    assert_eq!(body["ticket_id"], ticket);
    assert_eq!(body["author"]["name"], "Carla Agent");
    assert_eq!(body["text"], "Hi Ana,\nI reset your password & unlocked it.");
    assert!(body["at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // A repeat of the same delivery (Zendesk retries) is not forwarded again.
    h.sim.set_webhook_mode(zendesk_sim::WebhookMode::Duplicate);
    h.sim.agent_set_status(ticket, SUPPORT_AGENT, "solved");
    delivered(&h, echoes + 6).await;
    let accepted = of_type(&receiver, "handoff_ended");
    assert_eq!(accepted.len(), 1, "one status callback for two deliveries of the event");
    assert_eq!(accepted[0].2["status"], "solved");
    verified(&secret, &accepted[0]);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw1").await.unwrap().unwrap();
    assert_eq!(record.ticket_status, Some(TicketStatus::Solved));
}

#[tokio::test]
async fn solved_then_reopened_delivered_in_reverse_ends_reopened_and_only_the_newest_is_forwarded() {
    let (h, receiver, _) = two_way(Backend::Dynalite).await;
    let ticket = escalated(&h, "conv-tw2").await;
    delivered(&h, h.sim.emitted_events().len()).await;
    h.sim.set_webhook_mode(zendesk_sim::WebhookMode::Hold);
    h.sim.agent_set_status(ticket, SUPPORT_AGENT, "solved");
    h.sim.agent_set_status(ticket, SUPPORT_AGENT, "open");
    assert_eq!(h.sim.release_held(true).await, 2);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw2").await.unwrap().unwrap();
    assert_eq!(record.ticket_status, Some(TicketStatus::Open), "the older 'solved' never wins");
    let statuses: Vec<(Value, Value)> =
        receiver.accepted().into_iter().map(|(_, _, b)| (b["type"].clone(), b["status"].clone())).collect();
    assert_eq!(
        statuses,
        [(json!("handoff_started"), json!("new")), (json!("handoff_reopened"), json!("open"))],
        "the stale event is not forwarded"
    );
}

#[tokio::test]
async fn a_callback_the_bot_missed_is_delivered_by_the_sweeper_exactly_once() {
    let (h, receiver, secret) = two_way(Backend::Moto).await;
    let ticket = taken(&h, &receiver, "conv-tw3").await;
    receiver.down.store(true, std::sync::atomic::Ordering::SeqCst);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "Are you still there?", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!((receiver.attempts(), receiver.accepted().len()), (1, 0), "tried once inline, refused");

    // Not due yet: the sweeper leaves it.
    let early = handoff::sweeper::sweep(&h.app, Deadline::after(RUN)).await;
    assert_eq!(early.callbacks_delivered + early.callbacks_retrying, 0);
    // Due, but still down: retried, kept.
    let later = now_ms() + 31_000;
    let down = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(RUN)).await;
    assert_eq!((down.callbacks_retrying, down.callbacks_delivered), (1, 0), "{down:?}");
    // Up again: delivered once, and never again.
    receiver.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let up = handoff::sweeper::sweep_at(&h.app, later + 61_000, Deadline::after(RUN)).await;
    assert_eq!(up.callbacks_delivered, 1, "{up:?}");
    let after = handoff::sweeper::sweep_at(&h.app, later + 24 * 3_600_000, Deadline::after(RUN)).await;
    assert_eq!(after.callbacks_delivered + after.callbacks_retrying + after.callbacks_failed, 0);
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1);
    verified(&secret, &accepted[0]);
    assert_eq!(accepted[0].2["text"], "Are you still there?");
}

#[tokio::test]
async fn a_callback_that_never_arrives_is_marked_failed_with_an_audit_entry() {
    let (h, receiver, _) = two_way(Backend::Memory).await;
    let ticket = taken(&h, &receiver, "conv-tw4").await;
    receiver.down.store(true, std::sync::atomic::Ordering::SeqCst);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "Hello?", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    let mut at = now_ms();
    let mut failed = 0;
    for _ in 0..handoff::callback::forward::MAX_ATTEMPTS {
        at += 3_600_000;
        failed += handoff::sweeper::sweep_at(&h.app, at, Deadline::after(RUN)).await.callbacks_failed;
    }
    assert_eq!(failed, 1);
    assert_eq!(receiver.attempts() as u32, handoff::callback::forward::MAX_ATTEMPTS);
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    let entry = audit.entries.iter().find(|e| e.action == "callback_failed").expect("an audit entry");
    assert_eq!(entry.detail["conversation_id"], "conv-tw4");
    assert_eq!(entry.detail["attempts"], handoff::callback::forward::MAX_ATTEMPTS.to_string());
    assert!(!format!("{:?}", audit.entries).contains("Hello?"), "no transcript or reply text in the audit");
}

#[tokio::test]
async fn zendesk_down_then_back_the_sweeper_makes_exactly_one_ticket() {
    let h = Harness::new(Backend::Dynalite).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let reply = h.escalate("conv-tw5", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    // Still down at the first sweep: kept pending, nothing created.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let first = handoff::sweeper::sweep(&h.app, Deadline::after(RUN)).await;
    assert_eq!((first.escalations.still_pending, first.escalations.finished), (1, 0), "{first:?}");
    assert!(h.sim.tickets().is_empty());

    h.sim.clear_faults();
    let later = now_ms() + 5 * 60_000;
    let swept = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(RUN)).await;
    assert_eq!(swept.escalations.finished, 1, "{swept:?}");
    let again = handoff::sweeper::sweep_at(&h.app, later + 60_000, Deadline::after(RUN)).await;
    assert_eq!(again.escalations.finished, 0);
    let tickets = h.sim.tickets();
    assert_eq!(tickets.len(), 1, "exactly one ticket");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw5").await.unwrap().unwrap();
    assert_eq!((record.state, record.ticket_id), (EscalationState::Created, Some(tickets[0].id)));
    assert!(record.due_at_ms.is_none() && record.pending_payload.is_none());
    // The bot's next call sees the ticket.
    let follow = h.escalate("conv-tw5", &escalation_body("talk to a human")).await;
    assert_eq!((follow.status, follow.body["deduplicated"].clone()), (StatusCode::OK, serde_json::json!(true)));
}

#[tokio::test]
async fn the_health_check_registers_a_deleted_webhook_again_and_reactivates_a_disabled_one() {
    let (h, receiver, _) = two_way(Backend::Moto).await;
    // Handoff's webhook function reads (and caches) the current signing secret first.
    escalated(&h, "conv-tw6a").await;
    delivered(&h, h.sim.emitted_events().len()).await;
    let first = h.sim.webhooks()[0].clone();
    h.sim.delete_webhook(&first.id);
    // Not due for 15 minutes after connecting.
    let soon = handoff::sweeper::sweep(&h.app, Deadline::after(RUN)).await;
    assert_eq!(soon.webhooks.repaired, 0);
    let later = now_ms() + 16 * 60_000;
    let swept = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(RUN)).await;
    assert_eq!(swept.webhooks.repaired, 1, "{swept:?}");
    let webhooks = h.sim.webhooks();
    assert_eq!(webhooks.len(), 1);
    assert_ne!(webhooks[0].id, first.id);
    let connection = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap();
    assert_eq!(connection.webhook_id.as_deref(), Some(webhooks[0].id.as_str()));
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "webhook_reregistered"), "{:?}", audit.entries);

    // The new webhook's deliveries verify with its new signing secret and reach the bot.
    let ticket = taken(&h, &receiver, "conv-tw6").await;
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "Back in business", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types(), ["agent_reply"]);

    // Switched off at Zendesk: switched on again at the next check, same webhook.
    h.sim.deactivate_webhook(&webhooks[0].id);
    let next = handoff::sweeper::sweep_at(&h.app, later + 16 * 60_000, Deadline::after(RUN)).await;
    assert_eq!(next.webhooks.repaired, 1, "{next:?}");
    assert_eq!(h.sim.webhooks()[0].id, webhooks[0].id);
    assert_eq!(h.sim.webhooks()[0].status, "active");
    // Healthy now: nothing to do.
    let calm = handoff::sweeper::sweep_at(&h.app, later + 32 * 60_000, Deadline::after(RUN)).await;
    assert_eq!((calm.webhooks.healthy, calm.webhooks.repaired), (1, 0), "{calm:?}");
}

#[tokio::test]
async fn a_rotated_callback_secret_is_used_at_once_by_the_other_lambdas() {
    let (h, receiver, old) = two_way(Backend::Moto).await;
    let ticket = taken(&h, &receiver, "conv-tw7").await;
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "First", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.accepted().len(), 1, "signed with the secret the webhook function cached");

    // Rotated through the settings route (another Lambda): the bot switches at once.
    let path = format!("/v1/bots/{}/zendesk/settings", h.bot_id);
    let current = h.call("GET", &path, None, &["ZENDESK_ACTIONS.READ_INTEGRATIONS"]).await;
    let mut body = current.body.clone();
    body["rotate_callback_secret"] = serde_json::json!(true);
    let rotated = h.call("PUT", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    let new = rotated.body["callback_secret"].as_str().expect("a new secret").to_owned();
    assert_ne!(new, old);
    receiver.expect_secret(&new);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "Second", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 2, "the refused signature made Handoff read the new secret and sign again");
    verified(&new, &accepted[1]);
    assert_eq!(accepted[1].2["text"], "Second");
}

#[tokio::test]
async fn a_sweeper_working_from_an_old_list_never_makes_a_second_ticket() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let reply = h.escalate("conv-tw8", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    // The sweeper lists the pending record…
    let listed = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw8").await.unwrap().unwrap();
    // …meanwhile the bot repeats, the ticket is made, and an agent solves it.
    h.sim.clear_faults();
    let again = h.escalate("conv-tw8", &escalation_body("talk to a human")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    let ticket = again.ticket_id();
    h.app.stores.conversations.record_status(&h.bot_id, "conv-tw8", ticket, TicketStatus::Solved).await.unwrap();
    h.sim.set_status(ticket, "solved");
    // Then the sweeper reaches the old entry: nothing to do.
    let escalator =
        handoff::escalation::Escalator { stores: &h.app.stores, zendesk: &h.app.zendesk, config: &h.app.escalation };
    let resumed = escalator.resume(&listed, Deadline::after(WAIT), Deadline::after(RUN)).await.unwrap();
    assert_eq!(resumed, handoff::escalation::service::Resumed::Skipped);
    assert_eq!(h.sim.tickets().len(), 1, "never a second ticket");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw8").await.unwrap().unwrap();
    assert_eq!((record.episode, record.ticket_id), (1, Some(ticket)));
}

#[tokio::test]
async fn a_pending_escalation_of_a_disconnected_bot_is_failed_with_an_audit_entry_after_the_last_look() {
    let mut h = Harness::new(Backend::Memory).await;
    h.app.escalation.reconnect_recheck = Duration::from_millis(1);
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    assert_eq!(h.escalate("conv-tw9", &escalation_body("talk to a human")).await.status, StatusCode::ACCEPTED);
    // From now on the work is past its give-up window.
    h.app.escalation.give_up_after = Duration::ZERO;
    let reply = h
        .call(
            "DELETE",
            &format!("/v1/bots/{}/zendesk/connection", h.bot_id),
            None,
            &["ZENDESK_ACTIONS.DELETE_INTEGRATIONS"],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let mut failed = 0;
    for minute in 1..=5 {
        let report = handoff::sweeper::sweep_at(&h.app, now_ms() + minute * 3_600_000, Deadline::after(RUN)).await;
        failed += report.escalations.failed;
    }
    assert_eq!(failed, 1);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw9").await.unwrap().unwrap();
    assert_eq!((record.state, record.due_at_ms), (EscalationState::Failed, None));
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    let entry = audit.entries.iter().find(|e| e.action == "escalation_failed").expect("an audit entry");
    assert_eq!(entry.detail["conversation_id"], "conv-tw9");
}

/// A 504 on the create while Zendesk still makes the ticket: the sweeper finishes the pending
/// escalation by finding that ticket, never by creating a second one.
#[tokio::test]
async fn a_gateway_timeout_on_create_is_finished_by_the_sweeper_with_one_ticket() {
    let h = Harness::new(Backend::Dynalite).await;
    h.sim.honour_idempotency(false);
    let fault = Fault::GatewayError { status: 504, processed_after: Duration::from_millis(200) };
    h.sim.inject(Route::CreateTicket, fault, 1);
    let reply = h.escalate("conv-tw10", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    h.sim.settled().await;
    let swept = handoff::sweeper::sweep_at(&h.app, now_ms() + 5 * 60_000, Deadline::after(RUN)).await;
    assert_eq!(swept.escalations.finished, 1, "{swept:?}");
    let tickets = h.sim.tickets();
    assert_eq!(tickets.len(), 1, "exactly one ticket");
    assert_eq!(h.sim.count(Route::CreateTicket), 1);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw10").await.unwrap().unwrap();
    assert_eq!((record.state, record.ticket_id), (EscalationState::Created, Some(tickets[0].id)));
}

/// Pending work gives up by time since its work started (a day by default), not by a count of
/// attempts: an escalation failing more often than the old limit of 8 attempts, but within the
/// window, is still finished when Zendesk comes back.
#[tokio::test]
async fn a_pending_escalation_outlives_many_failures_within_the_window_and_finishes_when_zendesk_is_back() {
    let h = Harness::new(Backend::Memory).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 100_000);
    let reply = h.escalate("conv-tw11", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let start = now_ms();
    for hour in 1..=12 {
        let report = handoff::sweeper::sweep_at(&h.app, start + hour * 3_600_000, Deadline::after(RUN)).await;
        assert_eq!((report.escalations.still_pending, report.escalations.failed), (1, 0), "hour {hour}: {report:?}");
    }
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw11").await.unwrap().unwrap();
    assert_eq!(record.state, EscalationState::Pending);
    assert!(record.attempts > 8, "{} attempts", record.attempts);
    h.sim.clear_faults();
    let back = handoff::sweeper::sweep_at(&h.app, start + 13 * 3_600_000, Deadline::after(RUN)).await;
    assert_eq!(back.escalations.finished, 1, "{back:?}");
    assert_eq!(h.sim.tickets().len(), 1);
}

/// A 429 is Zendesk asking to slow down, not failing: a run of them neither counts toward giving
/// up nor stretches the wait beyond the `Retry-After` Zendesk asked for.
#[tokio::test]
async fn a_run_of_rate_limits_never_fails_a_pending_escalation() {
    let mut h = Harness::new(Backend::Memory).await;
    h.sim.inject(Route::Any, Fault::RateLimited { retry_after_secs: 0 }, 100_000);
    let reply = h.escalate("conv-tw12", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    // Even past its give-up window, a 429 does not fail the work.
    h.app.escalation.give_up_after = Duration::ZERO;
    let start = now_ms();
    for hour in 1..=12 {
        let report = handoff::sweeper::sweep_at(&h.app, start + hour * 3_600_000, Deadline::after(RUN)).await;
        assert_eq!((report.escalations.still_pending, report.escalations.failed), (1, 0), "hour {hour}: {report:?}");
        let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw12").await.unwrap().unwrap();
        assert_eq!(record.attempts, 0, "hour {hour}: a 429 is not a failed attempt");
        assert!(record.due_at_ms.unwrap() <= now_ms(), "hour {hour}: due again when Zendesk said, no backoff on top");
    }
    h.sim.clear_faults();
    let back = handoff::sweeper::sweep_at(&h.app, start + 13 * 3_600_000, Deadline::after(RUN)).await;
    assert_eq!(back.escalations.finished, 1, "{back:?}");
    assert_eq!(h.sim.tickets().len(), 1);
}

/// Pending work past its give-up window (counted from when its work started, stored on the
/// record) is failed at its next failure, with an audit entry; the next request starts over.
#[tokio::test]
async fn a_pending_escalation_past_its_window_is_failed_with_an_audit_entry() {
    let mut h = Harness::new(Backend::Dynalite).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 100_000);
    let body = escalation_body("talk to a human");
    let reply = h.escalate("conv-tw13", &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw13").await.unwrap().unwrap();
    assert!(record.work_started_at_ms.is_some(), "the start of the work is stored");
    h.app.escalation.give_up_after = Duration::ZERO;
    let report = handoff::sweeper::sweep_at(&h.app, now_ms() + 3_600_000, Deadline::after(RUN)).await;
    assert_eq!(report.escalations.failed, 1, "{report:?}");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-tw13").await.unwrap().unwrap();
    assert_eq!((record.state, record.due_at_ms), (EscalationState::Failed, None));
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    let entry = audit.entries.iter().find(|e| e.action == "escalation_failed").expect("an audit entry");
    assert_eq!(entry.detail["conversation_id"], "conv-tw13");
    h.sim.clear_faults();
    let again = h.escalate("conv-tw13", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.raw);
    assert_eq!(h.sim.tickets().len(), 1);
}

#[tokio::test]
async fn the_sweeper_refreshes_a_rejected_token_and_finishes_the_escalation() {
    let h = crate::connect::oauth_connected(Backend::Moto).await;
    // Zendesk is down for the request: the escalation waits for the sweeper.
    h.sim.inject(Route::CreateTicket, Fault::Status { status: 503, retry_after_secs: None }, 1);
    let pending = h.escalate("conv-rejected", &escalation_body("talk to a human")).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.raw);
    // Meanwhile Zendesk stops taking the access token (revoked); the refresh token still works.
    let secret = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    h.sim.revoke_bearer_token(&crate::connect::access_token(&secret));
    let later = (time::OffsetDateTime::now_utc().unix_timestamp() + 3_600) * 1000;
    let swept = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(RUN)).await;
    assert_eq!(swept.escalations.finished, 1, "the sweeper refreshed the token and finished: {swept:?}");
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-rejected").await.unwrap().unwrap();
    assert_eq!(record.state, EscalationState::Created);
    assert_eq!(h.sim.tickets().len(), 1, "one ticket");
    let profile = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap();
    assert_eq!(profile.connection.unwrap().state, handoff::store::ConnectionState::Connected);
}

async fn handoff_state(h: &Harness, conversation: &str) -> Value {
    let path = format!("/v1/bots/{}/conversations/{conversation}", h.bot_id);
    let reply = h.call("GET", &path, None, &["ZENDESK_ACTIONS.READ_TICKET_STATUS"]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.body
}

/// The bot knows who is talking: the callbacks tell each step of the handoff as it happens, and
/// the state route answers the same for a bot that missed one.
#[tokio::test]
async fn the_state_route_and_the_callbacks_agree_through_a_whole_handoff() {
    let (h, receiver, secret) = two_way(Backend::Moto).await;
    let before = handoff_state(&h, "conv-life").await;
    assert_eq!(
        (before["state"].as_str(), before["escalated"].as_bool(), before["bot_should_answer"].as_bool()),
        (Some("not_escalated"), Some(false), Some(true))
    );

    let ticket = escalated(&h, "conv-life").await;
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types(), ["handoff_started"]);
    let started = &receiver.accepted()[0];
    verified(&secret, started);
    assert_eq!((started.2["ticket_id"].as_u64(), started.2["status"].as_str()), (Some(ticket), Some("new")));
    let waiting = handoff_state(&h, "conv-life").await;
    assert_eq!(
        (waiting["state"].as_str(), waiting["bot_should_answer"].as_bool()),
        (Some("waiting_for_agent"), Some(false))
    );
    assert_eq!((waiting["ticket"]["id"].as_u64(), waiting["with_agent"].as_bool()), (Some(ticket), Some(false)));

    // An agent takes it: once, whatever comes after.
    h.sim.agent_assign(ticket, SUPPORT_AGENT);
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types(), ["handoff_started", "agent_joined"]);
    assert_eq!(receiver.accepted()[1].2["author"]["name"], "Carla Agent");
    let with_agent = handoff_state(&h, "conv-life").await;
    assert_eq!((with_agent["state"].as_str(), with_agent["with_agent"].as_bool()), (Some("with_agent"), Some(true)));
    assert!(with_agent["agent_joined_at"].is_string() && with_agent["last_agent_reply_at"].is_null());
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "<p>Hi Ana, looking into it.</p>", true);
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types(), ["handoff_started", "agent_joined", "agent_reply"]);
    assert!(handoff_state(&h, "conv-life").await["last_agent_reply_at"].is_string());

    // The visitor answers from the chat: the customer's comment, no callback back to the bot.
    let path = format!("/v1/bots/{}/conversations/conv-life/messages", h.bot_id);
    let body = json!({"messages": [{"id": "v-1", "text": "Thanks! The order is 55120."}]});
    let relayed = h.call("POST", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_TICKET"]).await;
    assert_eq!(relayed.status, StatusCode::OK, "{}", relayed.raw);
    delivered(&h, h.sim.emitted_events().len()).await;
    let last = h.sim.ticket(ticket).unwrap().comments.last().cloned().unwrap();
    assert_eq!((last.author_id, last.public), (h.sim.ticket(ticket).unwrap().requester_id, true));
    assert_eq!(receiver.types().len(), 3, "the visitor's own words are not sent back to the bot");

    // Solved: the bot has the conversation back; a new message adds nothing and opens nothing.
    h.sim.agent_set_status(ticket, SUPPORT_AGENT, "solved");
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types().last().map(String::as_str), Some("handoff_ended"));
    let ended = handoff_state(&h, "conv-life").await;
    assert_eq!((ended["state"].as_str(), ended["bot_should_answer"].as_bool()), (Some("ended"), Some(true)));
    assert_eq!(ended["ticket"]["status"], "solved");
    let tickets = h.sim.tickets().len();
    let body = json!({"messages": [{"id": "v-2", "text": "One more thing"}]});
    let late = h.call("POST", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_TICKET"]).await;
    assert_eq!((late.status, late.body["state"].as_str()), (StatusCode::OK, Some("ended")), "{}", late.raw);
    assert_eq!(h.sim.tickets().len(), tickets, "no silent new ticket");

    // Reopened by the agent: a person has it again.
    h.sim.agent_set_status(ticket, SUPPORT_AGENT, "open");
    delivered(&h, h.sim.emitted_events().len()).await;
    assert_eq!(receiver.types().last().map(String::as_str), Some("handoff_reopened"));
    assert_eq!(handoff_state(&h, "conv-life").await["state"], "with_agent");
}

/// An agent's first public reply is both the news that an agent joined and the reply: each is
/// one callback, however often Zendesk delivers the event.
#[tokio::test]
async fn a_first_reply_delivered_twice_makes_one_agent_joined_and_one_reply() {
    let (h, receiver, _) = two_way(Backend::Dynalite).await;
    let ticket = escalated(&h, "conv-first-reply").await;
    delivered(&h, h.sim.emitted_events().len()).await;
    receiver.clear();
    let before = h.sim.deliveries().len();
    h.sim.set_webhook_mode(zendesk_sim::WebhookMode::Duplicate);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "<p>Hello, I'm Carla.</p>", true);
    h.sim.agent_reply(ticket, SUPPORT_AGENT, "<p>Give me a minute.</p>", true);
    delivered(&h, before + 4).await;
    assert_eq!(receiver.types(), ["agent_joined", "agent_reply", "agent_reply"]);
    let accepted = receiver.accepted();
    assert_eq!(
        accepted[0].2["delivery_id"],
        format!("{}:agent_joined", accepted[1].2["delivery_id"].as_str().unwrap())
    );
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-first-reply").await.unwrap().unwrap();
    assert!(record.agent_joined_at_ms.is_some() && record.last_agent_reply_at_ms >= record.agent_joined_at_ms);
}

/// A webhook an earlier version registered (status and comments only) is subscribed to the
/// handoff's life events by the next health check, the same webhook kept.
#[tokio::test]
async fn the_health_check_subscribes_an_older_webhook_to_the_handoffs_life_events() {
    let (h, _receiver, _) = two_way(Backend::Memory).await;
    let webhook = h.sim.webhooks()[0].clone();
    let old = json!({"webhook": {"subscriptions": ["zen:event-type:ticket.status_changed", "zen:event-type:ticket.comment_added"]}});
    let patched = reqwest::Client::new()
        .patch(format!("{}/api/v2/webhooks/{}", h.sim.base_url, webhook.id))
        .basic_auth(format!("{AGENT_EMAIL}/token"), Some(API_TOKEN))
        .header("content-type", "application/merge-patch+json")
        .body(old.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 204);
    assert_eq!(h.sim.webhooks()[0].subscriptions.len(), 2);
    let swept = handoff::sweeper::sweep_at(&h.app, now_ms() + 16 * 60_000, Deadline::after(RUN)).await;
    assert_eq!(swept.webhooks.repaired, 1, "{swept:?}");
    let now = h.sim.webhooks()[0].clone();
    assert_eq!(
        (now.id, now.subscriptions),
        (webhook.id, handoff::zendesk::webhooks::SUBSCRIPTIONS.map(String::from).to_vec())
    );
}

/// An agent's public reply with a file reaches the bot with the file's name, type, size and URL.
#[tokio::test]
async fn an_agents_reply_with_a_file_reaches_the_callback_with_the_file() {
    let (h, receiver, _) = two_way(Backend::Memory).await;
    let ticket = taken(&h, &receiver, "conv-agent-file").await;
    h.sim.agent_reply_with_file(
        ticket,
        SUPPORT_AGENT,
        "<p>Your return label:</p>",
        ("label.pdf", "application/pdf", b"%PDF-1.4 label"),
    );
    delivered(&h, h.sim.emitted_events().len()).await;
    let replies = of_type(&receiver, "agent_reply");
    assert_eq!(replies.len(), 1, "{:?}", receiver.types());
    let body = &replies[0].2;
    assert_eq!(body["text"], "Your return label:");
    let file = &body["attachments"][0];
    assert_eq!(
        (file["name"].as_str(), file["content_type"].as_str(), file["size"].as_u64()),
        (Some("label.pdf"), Some("application/pdf"), Some(14))
    );
    let bytes = reqwest::get(file["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], b"%PDF-1.4 label");
}
