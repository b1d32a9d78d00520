//! Identity: only a token's `visitor_email` claim is a verified identity. What a body says about
//! the visitor (session start, the escalation's `visitor`) never widens what a caller may see; a
//! claim binds the conversation on every route; the requester is who the platform verified.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// The recommended public profile: what a browser widget's token carries.
const PUBLIC: &[&str] = &["ZENDESK_ACTIONS.CREATE_TICKET", "ZENDESK_ACTIONS.READ_TICKET_STATUS"];

async fn lookup(h: &Harness, ticket: u64, conversation: Option<&str>, claims: &[(&str, &str)]) -> Reply {
    let path = format!("/v1/bots/{}/tickets/{ticket}", h.bot_id);
    let query = conversation.map(|c| format!("conversation_id={c}")).unwrap_or_default();
    h.request("GET", &path, &query, None, PUBLIC, claims, &[]).await
}

async fn session(h: &Harness, conversation: &str, body: &Value, claims: &[(&str, &str)]) -> Reply {
    let path = format!("/v1/bots/{}/conversations/{conversation}/session", h.bot_id);
    h.request("POST", &path, "", Some(body), PUBLIC, claims, &[]).await
}

async fn escalate_as(h: &Harness, conversation: &str, body: &Value, claims: &[(&str, &str)]) -> Reply {
    let path = format!("/v1/bots/{}/conversations/{conversation}/escalations", h.bot_id);
    h.request("POST", &path, "", Some(body), PUBLIC, claims, &[]).await
}

fn requester_email(h: &Harness, ticket: u64) -> String {
    let requester = h.sim.ticket(ticket).expect("ticket").requester_id;
    h.sim.user(requester).expect("requester").email
}

#[tokio::test]
async fn an_email_nobody_verified_unlocks_nothing() {
    let h = Harness::new(Backend::Memory).await;
    // Alice's ticket from another channel (email), and one Handoff made for her elsewhere.
    let alices = h.sim.insert_ticket_for("alice@example.com", "My invoice is wrong", "open", &[]);
    let unknown = lookup(&h, 987_654_321, None, &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A public token with no claim records Alice's email on a fresh conversation…
    let recorded = session(&h, "conv-mallory", &json!({"visitor": {"email": "alice@example.com"}}), &[]).await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.raw);
    // …and on another one escalates with her email in the body.
    let mut body = escalation_body("I want a human");
    body["visitor"] = json!({"name": "Alice", "email": "alice@example.com"});
    let escalated = escalate_as(&h, "conv-mallory2", &body, &[]).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
    let made_there = escalated.ticket_id();

    // Neither conversation reads Alice's other ticket: it reads exactly as one that does not exist.
    for conversation in [None, Some("conv-mallory"), Some("conv-mallory2")] {
        let reply = lookup(&h, alices, conversation, &[]).await;
        assert_eq!((reply.status, reply.raw.as_str()), (unknown.status, unknown.raw.as_str()), "{conversation:?}");
    }
    // The ticket Handoff created in a conversation stays visible to that conversation.
    assert_eq!(lookup(&h, made_there, Some("conv-mallory2"), &[]).await.status, StatusCode::OK);
    assert_eq!(lookup(&h, made_there, Some("conv-mallory"), &[]).await.status, StatusCode::NOT_FOUND);

    // With the platform's verified claim, Alice sees her tickets by email.
    let alice = [("visitor_email", "alice@example.com")];
    assert_eq!(lookup(&h, alices, None, &alice).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_for_eve_cannot_read_append_to_or_rerecord_alices_conversation() {
    let h = Harness::new(Backend::Moto).await;
    let alice = [("visitor_email", "alice@example.com")];
    let eve = [("visitor_email", "eve@example.com")];
    let started = session(&h, "conv-alice", &json!({"visitor": {"name": "Alice"}}), &alice).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.raw);
    let mut body = escalation_body("I want a human");
    body.as_object_mut().expect("object").remove("visitor");
    let created = escalate_as(&h, "conv-alice", &body, &alice).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
    let ticket = created.ticket_id();
    assert_eq!(requester_email(&h, ticket), "alice@example.com", "the claim filled the requester");

    // Read: Eve's token with Alice's conversation sees nothing.
    assert_eq!(lookup(&h, ticket, Some("conv-alice"), &eve).await.status, StatusCode::NOT_FOUND);
    assert_eq!(lookup(&h, ticket, Some("conv-alice"), &alice).await.status, StatusCode::OK);

    // Append: Eve cannot add messages to Alice's ticket, and nothing reaches Zendesk.
    h.sim.reset_calls();
    let mut more = escalation_body("add this to alice's ticket");
    more.as_object_mut().expect("object").remove("visitor");
    let appended = escalate_as(&h, "conv-alice", &more, &eve).await;
    assert_eq!(appended.status, StatusCode::FORBIDDEN, "{}", appended.raw);
    assert_eq!(appended.body["type"], "urn:handoff:problem:visitor-mismatch", "{}", appended.raw);
    assert_eq!(appended.content_type(), "application/problem+json");
    assert!(h.sim.calls().is_empty(), "no Zendesk call for a refused follow-up: {:?}", h.sim.calls());

    // Re-record: Eve cannot claim Alice's conversation at session start, with or without an email.
    for body in [json!({"visitor": {"email": "eve@example.com"}}), json!({"visitor": {"name": "Eve"}})] {
        let reply = session(&h, "conv-alice", &body, &eve).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{body}: {}", reply.raw);
    }
    let kept = h.app.stores.conversations.get_visitor(&h.bot_id, "conv-alice").await.unwrap().unwrap();
    assert_eq!((kept.name.as_deref(), kept.email.as_deref()), (Some("Alice"), Some("alice@example.com")));

    // A body naming someone else than the claim is refused before anything is written.
    let mut lying = escalation_body("I want a human");
    lying["visitor"]["email"] = json!("alice@example.com");
    let refused = escalate_as(&h, "conv-eve", &lying, &eve).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.raw);
    assert!(h.app.stores.conversations.get_conversation(&h.bot_id, "conv-eve").await.unwrap().is_none());
}

#[tokio::test]
async fn the_requester_is_who_the_platform_verified_then_the_body_then_the_session() {
    let h = Harness::new(Backend::Memory).await;
    let mut bare = escalation_body("I want a human");
    bare.as_object_mut().expect("object").remove("visitor");

    // The session recorded the visitor; the bot leaves `visitor` out of the escalation. A phone
    // reaches the Zendesk user only for a requester the platform verified (the claim).
    let sam = [("visitor_email", "sam@example.com")];
    let recorded =
        session(&h, "conv-s", &json!({"visitor": {"name": "Sam Session", "phone": "+1 555 0100"}}), &sam).await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.raw);
    let from_session = escalate_as(&h, "conv-s", &bare, &sam).await.ticket_id();
    let requester = h.sim.user(h.sim.ticket(from_session).unwrap().requester_id).unwrap();
    assert_eq!((requester.name.as_str(), requester.email.as_str()), ("Sam Session", "sam@example.com"));
    assert_eq!(requester.phone.as_deref(), Some("+1 555 0100"), "the phone is on the Zendesk user");
    let comment = &h.sim.ticket(from_session).unwrap().comments[0].body;
    assert!(comment.contains("+1 555 0100"), "and in the ticket: {comment}");

    // The body beats the session; the claim beats both.
    let mut bodied = bare.clone();
    bodied["visitor"] = json!({"name": "Bo Body", "email": "bo@example.com"});
    session(&h, "conv-b", &json!({"visitor": {"email": "sam@example.com"}}), &[]).await;
    let from_body = escalate_as(&h, "conv-b", &bodied, &[]).await.ticket_id();
    assert_eq!(requester_email(&h, from_body), "bo@example.com");
    let claimed = escalate_as(&h, "conv-c", &bare, &[("visitor_email", "Cat@Example.com")]).await;
    assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.raw);
    assert_eq!(requester_email(&h, claimed.ticket_id()), "cat@example.com");
}

#[tokio::test]
async fn a_token_without_a_claim_cannot_read_append_to_or_rebind_a_claimed_conversation() {
    let h = Harness::new(Backend::Dynalite).await;
    let alice = [("visitor_email", "alice@example.com")];
    let started =
        session(&h, "conv-alice", &json!({"visitor": {"name": "Alice", "phone": "+1 555 0101"}}), &alice).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.raw);
    let mut body = escalation_body("I want a human");
    body.as_object_mut().expect("object").remove("visitor");
    let ticket = escalate_as(&h, "conv-alice", &body, &alice).await.ticket_id();
    let calls_before = h.sim.calls().len();

    // Read: the conversation id opens nothing for a caller the platform did not verify.
    let read = lookup(&h, ticket, Some("conv-alice"), &[]).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND, "{}", read.raw);
    // Append: no messages added to Alice's ticket.
    let appended = escalate_as(&h, "conv-alice", &escalation_body("add this to alice's ticket"), &[]).await;
    assert_eq!(appended.status, StatusCode::FORBIDDEN, "{}", appended.raw);
    assert_eq!(appended.body["type"], "urn:handoff:problem:visitor-mismatch");
    // Re-bind: the session's verified visitor is not replaced, not even just the phone.
    for body in [json!({"visitor": {"email": "eve@example.com"}}), json!({"visitor": {"phone": "+1 555 0666"}})] {
        let reply = session(&h, "conv-alice", &body, &[]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{body}: {}", reply.raw);
    }
    assert_eq!(h.sim.calls().len(), calls_before, "nothing reached Zendesk");
    let kept = h.app.stores.conversations.get_visitor(&h.bot_id, "conv-alice").await.unwrap().unwrap();
    assert_eq!((kept.email.as_deref(), kept.phone.as_deref()), (Some("alice@example.com"), Some("+1 555 0101")));
    // Alice herself carries on.
    let mut more = escalation_body("one more thing");
    more.as_object_mut().expect("object").remove("visitor");
    let more = escalate_as(&h, "conv-alice", &more, &alice).await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.raw);
    assert_eq!(lookup(&h, ticket, Some("conv-alice"), &alice).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_phone_from_an_unverified_body_never_changes_an_existing_zendesk_user() {
    let h = Harness::new(Backend::Memory).await;
    let ceo = h.sim.insert_ticket_for("ceo@example.com", "Board pack", "open", &[]);
    let ceo_user = h.sim.ticket(ceo).unwrap().requester_id;
    let mut body = escalation_body("I want a human");
    body["visitor"] = json!({"name": "Mallory", "email": "ceo@example.com", "phone": "+1 555 0666"});
    let reply = escalate_as(&h, "conv-mallory", &body, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(h.sim.user(ceo_user).unwrap().phone, None, "an unverified body does not write to a Zendesk user");
    let comment = &h.sim.ticket(reply.ticket_id()).unwrap().comments[0].body;
    assert!(comment.contains("+1 555 0666"), "the phone stays in the ticket for the agent: {comment}");
}
