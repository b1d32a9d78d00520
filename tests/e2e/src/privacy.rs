//! Privacy end to end: what redaction masks never reaches the simulator (subject, comments,
//! notes, relayed messages) nor the stored escalation, on moto and on dynalite; a bot's pattern
//! that would backtrack catastrophically is refused on save.

use handoff::escalation::pending::PendingEscalation;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const READ: &[&str] = &["ZENDESK_ACTIONS.READ_INTEGRATIONS"];
const WRITE: &[&str] = &["ZENDESK_ACTIONS.CREATE_OAUTH"];
const VISA: [&str; 2] = ["4111 1111 1111 1111", "4111111111111111"];
const IBAN: [&str; 2] = ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000"];
const PASSWORD: &str = "hunter2";
const CODE: &str = "482913";

/// Every secret of the transcript, as written and without its spaces.
fn secrets() -> Vec<&'static str> {
    VISA.into_iter().chain(IBAN).chain([PASSWORD, CODE]).collect()
}

fn transcript() -> Value {
    json!({
        "visitor": {"name": "Ana Souza", "email": "ana@example.com"},
        "messages": [
            {"role": "visitor", "text": format!("I paid with {} and the refund should go to {}", VISA[0], IBAN[0])},
            {"role": "bot", "text": "I can help with refunds. Which order is it?"},
            {"role": "visitor", "text": format!("order 123456789012, and my password is {PASSWORD}")},
            {"role": "bot", "text": "Thanks. I sent you a code to confirm."},
            {"role": "visitor", "text": format!("código: {CODE}. Card {} charged twice, talk to a human please", VISA[0])},
        ],
        "summary": format!("Refund to {} requested", IBAN[1]),
        "metadata": {"card_on_file": VISA[1]},
    })
}

fn assert_nothing_in_clear(place: &str, text: &str) {
    for secret in secrets() {
        assert!(!text.contains(secret), "{place} holds {secret} in clear: {text}");
    }
}

async fn transcript_is_masked_everywhere(backend: Backend) {
    let h = Harness::new(backend).await;
    // Zendesk down first: the escalation is stored to be finished later.
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let reply = h.escalate("conv-private", &transcript()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-private").await.unwrap().unwrap();
    let stored = PendingEscalation::decode(record.pending_payload.as_deref().expect("the payload is stored")).unwrap();
    assert_nothing_in_clear("the stored payload", &serde_json::to_string(&stored).unwrap());
    assert!(stored.request.messages[0].text.contains("**** **** **** 1111"), "{:?}", stored.request.messages[0]);
    assert!(stored.request.messages[2].text.contains("order 123456789012"), "an order number stays");

    // Zendesk back: the ticket is made from the stored, masked escalation.
    h.sim.clear_faults();
    let reply = h.escalate("conv-private", &transcript()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_nothing_in_clear("the subject", &ticket.subject);
    assert!(ticket.subject.contains("**** **** **** 1111"), "{}", ticket.subject);
    assert!(ticket.comments.len() >= 2, "a first comment and the transcript note");
    for comment in &ticket.comments {
        assert_nothing_in_clear("a comment", &comment.body);
    }
    let all = ticket.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>().join("\n");
    for mask in ["**** **** **** 1111", "DE** **** **** **** **30 00", "my password is *******", "código: ******"] {
        assert!(all.contains(mask), "the notes show the shape {mask}: {all}");
    }
    for call in h.sim.calls() {
        assert_nothing_in_clear(
            &format!("{} {}", call.method, call.path),
            &call.body.map(|b| b.to_string()).unwrap_or_default(),
        );
    }

    // The audit entry counts what was masked, never what it was.
    let page = h.app.stores.audit.list(&h.bot_id, 10, None).await.unwrap();
    let escalated = page.entries.iter().find(|e| e.action == "escalated").expect("the escalation's audit entry");
    let counted: Vec<(&str, &str)> = escalated
        .detail
        .iter()
        .filter(|(k, _)| k.starts_with("redacted_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        counted,
        [
            ("redacted_card_number", "3"),
            ("redacted_iban", "2"),
            ("redacted_one_time_code", "1"),
            ("redacted_password", "1")
        ]
    );
    assert_nothing_in_clear("the audit entry", &serde_json::to_string(&page.entries).unwrap());

    // After the handoff, the visitor's messages are masked the same way.
    let path = format!("/v1/bots/{}/conversations/conv-private/messages", h.bot_id);
    let batch = json!({"messages": [{"id": "m1", "text": format!("here it is again: {}", VISA[0])}]});
    let relayed = h.call("POST", &path, Some(&batch), &["ZENDESK_ACTIONS.CREATE_TICKET"]).await;
    assert_eq!(relayed.status, StatusCode::OK, "{}", relayed.raw);
    let last = h.sim.ticket(reply.ticket_id()).unwrap().comments.last().unwrap().body.clone();
    assert_eq!(last, "here it is again: **** **** **** 1111");
}

#[tokio::test]
async fn a_transcript_reaches_zendesk_and_dynamodb_masked_on_moto() {
    transcript_is_masked_everywhere(Backend::Moto).await;
}

#[tokio::test]
async fn a_transcript_reaches_zendesk_and_dynamodb_masked_on_dynalite() {
    transcript_is_masked_everywhere(Backend::Dynalite).await;
}

#[tokio::test]
async fn turning_a_class_off_sends_it_and_a_bots_own_pattern_masks() {
    let h = Harness::new(Backend::Memory).await;
    let saved = h
        .call(
            "PUT",
            &format!("/v1/bots/{}/zendesk/settings", h.bot_id),
            Some(&json!({"redaction": {"passwords": false, "patterns": [{"name": "employee_id", "regex": "EMP-[0-9]{4}"}]}})),
            WRITE,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.raw);
    assert_eq!(saved.body["redaction"]["passwords"], false);
    let reply =
        h.escalate("conv-own", &escalation_body("I am EMP-1234 and my password is hunter2, talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    let first = &ticket.comments[0].body;
    assert!(first.contains("I am ***-**** and my password is hunter2"), "{first}");
}

#[tokio::test]
async fn a_pattern_that_would_backtrack_catastrophically_is_refused_on_save_naming_it() {
    let h = Harness::new(Backend::Memory).await;
    let path = format!("/v1/bots/{}/zendesk/settings", h.bot_id);
    let before = h.call("GET", &path, None, READ).await;
    let body = json!({"redaction": {"patterns": [
        {"name": "ok", "regex": "EMP-[0-9]{4}"},
        {"name": "evil", "regex": "^(\\w+\\s?)*$"},
    ]}});
    let reply = h.call("PUT", &path, Some(&body), WRITE).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.raw);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.body["type"], "urn:handoff:problem:invalid-request");
    let errors = reply.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["field"], "redaction.patterns[1].regex");
    assert!(errors[0]["message"].as_str().unwrap().contains("catastrophically"), "{errors:?}");
    let after = h.call("GET", &path, None, READ).await;
    assert_eq!(after.body, before.body, "nothing was saved");
}

/// A harness whose conversation `conversation` holds an escalation stored in clear (as a release
/// before redaction stored it: here, with every class off while Zendesk was down), with the
/// default redaction switched on since and Zendesk back.
async fn stored_in_clear(conversation: &str) -> Harness {
    use handoff::redaction::RedactionSettings;
    use handoff::settings::BotSettings;

    let off = RedactionSettings {
        card_numbers: false,
        ibans: false,
        passwords: false,
        one_time_codes: false,
        patterns: Vec::new(),
    };
    let h = Harness::with_settings(Backend::Memory, BotSettings { redaction: off, ..BotSettings::default() }).await;
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    let reply = h.escalate(conversation, &transcript()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, conversation).await.unwrap().unwrap();
    let stored = PendingEscalation::decode(record.pending_payload.as_deref().unwrap()).unwrap();
    assert!(serde_json::to_string(&stored).unwrap().contains(PASSWORD), "stored in clear");
    h.app.stores.bots.put_settings(&h.bot_id, &BotSettings::default()).await.unwrap();
    h.sim.clear_faults();
    h
}

/// The ticket's subject and comments, none holding a secret in clear.
fn assert_ticket_masked(ticket: &zendesk_sim::Ticket) {
    assert_nothing_in_clear("the subject", &ticket.subject);
    for comment in &ticket.comments {
        assert_nothing_in_clear("a comment", &comment.body);
    }
}

/// An escalation stored in clear is masked when a repeated request whose body differs finishes
/// it (the stored escalation is the one the ticket is made from).
#[tokio::test]
async fn an_escalation_stored_in_clear_is_masked_when_a_repeated_request_finishes_it() {
    let h = stored_in_clear("conv-old-2").await;
    let mut again = transcript();
    again["messages"].as_array_mut().unwrap().push(json!({"role": "visitor", "text": "hello? a human please"}));
    let reply = h.escalate("conv-old-2", &again).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_ticket_masked(&h.sim.ticket(reply.ticket_id()).unwrap());
}

/// The same, finished by the sweeper.
#[tokio::test]
async fn an_escalation_stored_in_clear_is_masked_when_the_sweeper_finishes_it() {
    let h = stored_in_clear("conv-old-3").await;
    // A run long enough that the sweeper takes the escalation (it leaves work it has no budget for).
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 3_600_000;
    let run = handoff::deadline::Deadline::after(std::time::Duration::from_secs(120));
    let report = handoff::sweeper::sweep_at(&h.app, later, run).await;
    assert_eq!(report.escalations.finished, 1, "{report:?}");
    assert_ticket_masked(&h.sim.tickets().pop().expect("the ticket"));
}

/// A Zendesk call that fails in transport names no address: the users search carries the
/// visitor's email in its URL, and reqwest's errors quote their URL.
#[tokio::test]
async fn a_failed_user_search_does_not_put_the_email_in_logs_or_answers() {
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let h = Harness::new(Backend::Memory).await;
    h.sim.inject(Route::UsersSearch, Fault::Reset, 100);
    let event = api_event(
        "GET",
        &format!("/v1/bots/{}/customers/context", h.bot_id),
        "email=private.person%40example.com",
        None,
        Some((&h.bot_id, &["ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT"])),
    );
    let reply = h.send_any(event).await;
    assert!(reply.status.is_server_error() || reply.status.is_client_error(), "{}", reply.raw);
    assert!(h.sim.calls().iter().any(|c| c.path.contains("users/search")), "the search was tried");
    drop(_guard);
    let text = logs.text();
    assert!(text.contains("retrying Zendesk request") || text.contains("Zendesk"), "the failure is logged");
    for place in [text.as_str(), reply.raw.as_str()] {
        let leaks: Vec<&str> = place.lines().filter(|l| l.contains("private.person")).collect();
        assert!(leaks.is_empty(), "the email leaked: {leaks:#?}");
    }
}
