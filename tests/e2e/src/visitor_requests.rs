//! A visitor's data-protection requests over HTTP, with Zendesk as the simulator: the export
//! finds the escalation's conversation and ticket; the erasure removes them (and, when asked,
//! the Zendesk end user Handoff recorded for them, deleted and then deleted permanently), after
//! which the export answers nothing; repeating it is fine; an email alone deletes no Zendesk user
//! and agents are never deleted; a Zendesk failure erases nothing and a repeat finishes the job;
//! bad input is a 422 naming the field before anything is touched; the email never reaches the
//! logs or the audit trail.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const EXPORT: &[&str] = &["ZENDESK_ACTIONS.READ_VISITOR_DATA"];
const ERASE: &[&str] = &["ZENDESK_ACTIONS.DELETE_VISITOR_DATA"];
const EMAIL: &str = "ana.visitor@example.com";

fn path(h: &Harness) -> String {
    format!("/v1/bots/{}/visitors", h.bot_id)
}

async fn visitors(h: &Harness, method: &str, query: &str, scopes: &[&str]) -> Reply {
    h.send_any(api_event(method, &path(h), query, None, Some((&h.bot_id, scopes)))).await
}

fn query(email: &str, extra: &str) -> String {
    format!("email={}{extra}", email.replace('@', "%40"))
}

/// An escalation for `email` on `conversation`, with its session recorded: the ticket's id.
async fn escalated(h: &Harness, conversation: &str, email: &str) -> u64 {
    let body = json!({
        "visitor": {"name": "Ana Visitor", "email": email},
        "messages": [{"role": "visitor", "text": "a human please"}],
    });
    let reply = h.escalate(conversation, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let session = h
        .call(
            "POST",
            &format!("/v1/bots/{}/conversations/{conversation}/session", h.bot_id),
            Some(&json!({"visitor": {"name": "Ana Visitor", "email": email}})),
            &["ZENDESK_ACTIONS.CREATE_TICKET"],
        )
        .await;
    assert!(session.status.is_success(), "{}", session.raw);
    reply.ticket_id()
}

fn empty(export: &Value) -> bool {
    ["conversations", "tickets", "sessions", "callbacks", "audit"]
        .iter()
        .all(|list| export[*list].as_array().is_some_and(Vec::is_empty))
}

async fn erase_then_export_answers_nothing(backend: Backend) {
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let h = Harness::new(backend).await;
    let ticket_id = escalated(&h, "conv-erase", EMAIL).await;
    let other_ticket = escalated(&h, "conv-other", "bob.visitor@example.com").await;
    let requester = h.sim.ticket(ticket_id).unwrap().requester_id;
    assert!(h.sim.user(requester).is_some(), "the escalation made Ana's end user");

    // The export: her conversation, its ticket, her session; nothing of Bob's.
    let export = visitors(&h, "GET", &query("ANA.Visitor@Example.com", ""), EXPORT).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.raw);
    assert_eq!(export.body["conversations"][0]["conversation_id"], "conv-erase", "{}", export.raw);
    assert_eq!(
        export.body["tickets"],
        json!([{"conversation_id": "conv-erase", "account": "acme", "ticket_id": ticket_id, "current": true}])
    );
    assert_eq!(export.body["sessions"][0]["email"], EMAIL);
    assert!(!export.raw.contains("bob.visitor") && !export.raw.contains("conv-other"), "{}", export.raw);

    // The erasure, with her Zendesk user.
    let erased = visitors(&h, "DELETE", &query(EMAIL, "&delete_zendesk_user=true"), ERASE).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.raw);
    assert_eq!(erased.body["erased"]["conversations"], 1, "{}", erased.raw);
    assert_eq!(erased.body["erased"]["sessions"], 1, "{}", erased.raw);
    assert_eq!(erased.body["zendesk_user"], json!({"outcome": "deleted", "user_ids": [requester]}));
    assert!(h.sim.user(requester).is_none() && h.sim.deleted_user(requester).is_none(), "deleted for good");
    let deletes: Vec<String> = h.sim.calls().into_iter().filter(|c| c.method == "DELETE").map(|c| c.path).collect();
    assert_eq!(
        deletes.iter().map(|p| p.trim_end_matches(".json")).collect::<Vec<_>>(),
        [format!("/api/v2/users/{requester}"), format!("/api/v2/deleted_users/{requester}")],
        "soft, then permanent"
    );

    let export = visitors(&h, "GET", &query(EMAIL, ""), EXPORT).await;
    assert!(empty(&export.body), "erase then export answers nothing: {}", export.raw);
    let again = visitors(&h, "DELETE", &query(EMAIL, "&delete_zendesk_user=true"), ERASE).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.raw);
    assert_eq!(
        again.body,
        json!({
            "erased": {"conversations": 0, "pending_payloads": 0, "sessions": 0, "callbacks": 0, "audit_entries_scrubbed": 0},
            "zendesk_user": {"outcome": "not_found"}
        })
    );

    // Bob is untouched; his ticket still leads to his conversation.
    let bob = visitors(&h, "GET", &query("bob.visitor@example.com", ""), EXPORT).await;
    assert_eq!(bob.body["tickets"][0]["ticket_id"], other_ticket, "{}", bob.raw);
    // The erasure is audited by counts; nothing names her.
    let audit = h.app.stores.audit.list(&h.bot_id, 100, None).await.unwrap().entries;
    assert_eq!(audit.iter().filter(|e| e.action == "visitor_exported").count(), 3, "exports are audited");
    let erasures: Vec<_> = audit.iter().filter(|e| e.action == "visitor_erased").collect();
    assert_eq!(erasures.len(), 2);
    assert_eq!(erasures[1].detail["conversations"], "1", "the first erasure (newest first: the repeat)");
    assert_eq!(erasures[1].detail["zendesk_user"], "deleted");
    let trail = serde_json::to_string(&audit).unwrap().to_ascii_lowercase();
    assert!(!trail.contains("ana.visitor@"), "{trail}");
    drop(_guard);
    let text = logs.text().to_ascii_lowercase();
    assert!(text.contains("visitor erased"), "the erasure is logged");
    assert!(!text.contains("ana.visitor@"), "the email never reaches the logs: {text}");
}

#[tokio::test]
async fn erase_then_export_answers_nothing_on_moto() {
    erase_then_export_answers_nothing(Backend::Moto).await;
}

#[tokio::test]
async fn erase_then_export_answers_nothing_on_dynalite() {
    erase_then_export_answers_nothing(Backend::Dynalite).await;
}

/// An email alone deletes no Zendesk user: only a requester Handoff recorded for the visitor,
/// and only while it is an end user with that email.
#[tokio::test]
async fn only_the_recorded_end_user_is_ever_deleted_from_zendesk() {
    let h = Harness::new(Backend::Memory).await;
    let stranger = h.sim.add_end_user("Someone Else", "stranger@example.com");
    let reply = visitors(&h, "DELETE", &query("stranger@example.com", "&delete_zendesk_user=true"), ERASE).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["zendesk_user"], json!({"outcome": "not_found"}), "Handoff never recorded them");
    assert!(h.sim.user(stranger).is_some());

    let ticket_id = escalated(&h, "conv-promoted", EMAIL).await;
    let requester = h.sim.ticket(ticket_id).unwrap().requester_id;
    h.sim.add_agent("Ana, now staff", EMAIL, "her-token");
    let reply = visitors(&h, "DELETE", &query(EMAIL, "&delete_zendesk_user=true"), ERASE).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["zendesk_user"], json!({"outcome": "not_an_end_user", "user_ids": [requester]}));
    assert_eq!(reply.body["erased"]["conversations"], 1, "Handoff's own data is erased");
    assert!(h.sim.user(requester).is_some(), "an agent is never deleted");
    assert!(h.sim.calls().iter().all(|c| c.method != "DELETE"), "nothing was deleted in Zendesk");
}

/// A Zendesk refusal, or a permanent deletion that fails after the soft one, erases nothing and
/// says why without the email; the repeat finishes both.
#[tokio::test]
async fn a_zendesk_failure_erases_nothing_and_the_repeat_finishes() {
    let h = Harness::new(Backend::Memory).await;
    let ticket_id = escalated(&h, "conv-refused", EMAIL).await;
    let requester = h.sim.ticket(ticket_id).unwrap().requester_id;
    let with_user = query(EMAIL, "&delete_zendesk_user=true");
    let erase = || visitors(&h, "DELETE", &with_user, ERASE);

    h.sim.inject(Route::DeleteUser, Fault::Status { status: 403, retry_after_secs: None }, 1);
    let refused = erase().await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.raw);
    assert_eq!(refused.body["type"], "urn:handoff:problem:zendesk-user-not-deleted");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("users:write") && detail.contains(&requester.to_string()), "{detail}");
    assert!(!refused.raw.contains(EMAIL), "{}", refused.raw);
    assert!(h.sim.user(requester).is_some(), "Zendesk refused: the user is still there");
    let kept = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-refused").await.unwrap();
    assert!(kept.is_some(), "nothing was erased");

    h.sim.inject(Route::PermanentlyDeleteUser, Fault::Status { status: 503, retry_after_secs: None }, 100);
    let half = erase().await;
    assert_eq!(half.status, StatusCode::BAD_GATEWAY, "{}", half.raw);
    assert!(h.sim.user(requester).is_none() && h.sim.deleted_user(requester).is_some(), "deleted, not for good");
    assert!(h.app.stores.conversations.get_conversation(&h.bot_id, "conv-refused").await.unwrap().is_some());

    h.sim.clear_faults();
    let finished = erase().await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.raw);
    assert_eq!(finished.body["zendesk_user"], json!({"outcome": "deleted", "user_ids": [requester]}));
    assert_eq!(finished.body["erased"]["conversations"], 1);
    assert!(h.sim.deleted_user(requester).is_none(), "deleted for good by the repeat");
}

/// A token that names its visitor makes no data requests, not even for that visitor.
#[tokio::test]
async fn a_visitor_token_makes_no_data_requests() {
    let h = Harness::new(Backend::Memory).await;
    escalated(&h, "conv-claimed", EMAIL).await;
    let claimed = |method: &str, scopes: &'static [&'static str], claim: &str| {
        let mut event = api_event(method, &path(&h), &query(EMAIL, ""), None, Some((&h.bot_id, scopes)));
        event["requestContext"]["authorizer"]["jwt"]["claims"]["visitor_email"] = json!(claim);
        event
    };
    for claim in [EMAIL, "bob.visitor@example.com"] {
        for event in [claimed("DELETE", ERASE, claim), claimed("GET", EXPORT, claim)] {
            let reply = h.send_any(event).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.raw);
            assert_eq!(reply.body["type"], "urn:handoff:problem:visitor-token");
        }
    }
    assert!(h.app.stores.conversations.get_conversation(&h.bot_id, "conv-claimed").await.unwrap().is_some());
}

/// Bad input is a 422 naming the field, before anything is read or erased.
#[tokio::test]
async fn bad_requests_name_the_field_and_touch_nothing() {
    let h = Harness::new(Backend::Memory).await;
    escalated(&h, "conv-kept", EMAIL).await;
    for (method, q, field) in [
        ("GET", String::new(), "email"),
        ("GET", "email=not-an-address".to_owned(), "email"),
        ("DELETE", "email=a%22b%40example.com".to_owned(), "email"),
        ("DELETE", query(EMAIL, "&delete_zendesk_user=yes"), "delete_zendesk_user"),
    ] {
        let scopes = if method == "GET" { EXPORT } else { ERASE };
        let reply = visitors(&h, method, &q, scopes).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {q}: {}", reply.raw);
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.body["errors"][0]["field"], field, "{method} {q}: {}", reply.raw);
    }
    let kept = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-kept").await.unwrap();
    assert!(kept.is_some(), "nothing was erased");
    let scope_for_reading = visitors(&h, "DELETE", &query(EMAIL, ""), EXPORT).await;
    assert_eq!(scope_for_reading.status, StatusCode::FORBIDDEN, "export's scope does not erase");
    assert!(h.app.stores.conversations.get_conversation(&h.bot_id, "conv-kept").await.unwrap().is_some());
}

/// A conversation recorded before requesters were kept still leads to its Zendesk user, through
/// the requester its ticket names, with the same checks.
#[tokio::test]
async fn an_older_record_finds_its_user_through_the_ticket() {
    let h = Harness::new(Backend::Memory).await;
    let ticket_id = escalated(&h, "conv-old", EMAIL).await;
    let requester = h.sim.ticket(ticket_id).unwrap().requester_id;
    let mut record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-old").await.unwrap().unwrap();
    record.requester_id = None;
    let Adapters::Memory { store, .. } = &h.adapters else { unreachable!("a memory harness") };
    store.restore_conversation(record);
    let reply = visitors(&h, "DELETE", &query(EMAIL, "&delete_zendesk_user=true"), ERASE).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["zendesk_user"], json!({"outcome": "deleted", "user_ids": [requester]}));
    assert!(h.sim.user(requester).is_none() && h.sim.deleted_user(requester).is_none());
}
