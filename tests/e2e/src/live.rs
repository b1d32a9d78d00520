//! The live conversation after the handoff: the visitor's messages reach the ticket as the
//! requester's public comments (`POST …/conversations/{id}/messages`), exactly once, through the
//! simulator and the real stores.

use std::time::Duration;

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const SCOPE: &[&str] = &["ZENDESK_ACTIONS.CREATE_TICKET"];
const SUPPORT_AGENT: &str = "carla@example.com";

fn messages_path(h: &Harness, conversation: &str) -> String {
    format!("/v1/bots/{}/conversations/{conversation}/messages", h.bot_id)
}

fn batch(messages: &[(&str, &str)]) -> Value {
    json!({"messages": messages.iter().map(|(id, text)| json!({"id": id, "text": text, "at": "2026-12-01T10:00:00Z"})).collect::<Vec<_>>()})
}

async fn relay(h: &Harness, conversation: &str, messages: &[(&str, &str)]) -> Reply {
    h.call("POST", &messages_path(h, conversation), Some(&batch(messages)), SCOPE).await
}

async fn escalated(h: &Harness, conversation: &str) -> u64 {
    let reply = h.escalate(conversation, &escalation_body("I want to talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.ticket_id()
}

/// The ticket's public comments after the first, as (author id, body).
fn later_public_comments(h: &Harness, ticket_id: u64) -> Vec<(u64, String)> {
    let ticket = h.sim.ticket(ticket_id).expect("the ticket");
    ticket.comments.iter().skip(1).filter(|c| c.public).map(|c| (c.author_id, c.body.clone())).collect()
}

#[tokio::test]
async fn visitor_messages_become_the_requesters_public_comments_once_in_order_and_reopen_a_pending_ticket() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.add_agent("Carla Agent", SUPPORT_AGENT, "carla-token");
    let ticket_id = escalated(&h, "conv-live").await;
    let requester = h.sim.ticket(ticket_id).unwrap().requester_id;
    assert_eq!(h.sim.user(requester).unwrap().role, "end-user");
    h.sim.agent_set_status(ticket_id, SUPPORT_AGENT, "pending");

    // The first message: one Zendesk call, and the ticket is the customer's to answer again.
    h.sim.reset_calls();
    let before = h.adapters.counts();
    let reply = relay(&h, "conv-live", &[("m1", "The order number is 55120.")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!((reply.body["state"].as_str(), reply.body["added"].clone()), (Some("relayed"), json!(["m1"])));
    assert_eq!(reply.body["ticket"]["id"], ticket_id);
    let ((reads, writes), (secret_reads, secret_writes)) = h.adapters.counts();
    let ((reads_before, writes_before), (secret_reads_before, secret_writes_before)) = before;
    assert_eq!(h.sim.calls().len(), 1, "one Zendesk call: {:?}", h.sim.calls());
    assert_eq!(h.sim.count(Route::UpdateTicket), 1);
    assert_eq!(
        (secret_reads - secret_reads_before, secret_writes - secret_writes_before),
        (0, 0),
        "the warm secret is not read again"
    );
    assert_eq!(writes - writes_before, 2, "the sync lease, then the forwarded ids with its release");
    assert!(reads - reads_before <= 3, "profile, conversation and session: {}", reads - reads_before);
    assert_eq!(h.sim.ticket(ticket_id).unwrap().status, "open", "a requester's reply reopens a pending ticket");

    // Two more, one at a time, and one retried: three comments by the requester, in order.
    assert_eq!(relay(&h, "conv-live", &[("m2", "It was due Monday.")]).await.status, StatusCode::OK);
    let retried = relay(&h, "conv-live", &[("m2", "It was due Monday.")]).await;
    assert_eq!((retried.body["added"].clone(), retried.body["duplicates"].clone()), (json!([]), json!(["m2"])));
    let third = relay(&h, "conv-live", &[("m2", "It was due Monday."), ("m3", "Thanks!")]).await;
    assert_eq!((third.body["added"].clone(), third.body["duplicates"].clone()), (json!(["m3"]), json!(["m2"])));
    assert_eq!(
        later_public_comments(&h, ticket_id),
        [
            (requester, "The order number is 55120.".to_owned()),
            (requester, "It was due Monday.".to_owned()),
            (requester, "Thanks!".to_owned()),
        ]
    );

    // Messages that arrive together are one comment, one call.
    h.sim.reset_calls();
    let together = relay(&h, "conv-live", &[("m4", "One more thing:"), ("m5", "the box was damaged.")]).await;
    assert_eq!(together.body["added"], json!(["m4", "m5"]));
    assert_eq!(h.sim.calls().len(), 1);
    assert_eq!(later_public_comments(&h, ticket_id).last().unwrap().1, "One more thing:\n\nthe box was damaged.");
    assert!(h.sim.schema_violations().is_empty(), "{:?}", h.sim.schema_violations());
}

#[tokio::test]
async fn without_an_open_ticket_the_answer_says_to_escalate_first_and_a_finished_ticket_ends_it() {
    let h = Harness::new(Backend::Memory).await;
    h.sim.add_agent("Carla Agent", SUPPORT_AGENT, "carla-token");
    let reply = relay(&h, "never-escalated", &[("m1", "hello?")]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.raw);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.body["type"].as_str().map(|t| t.ends_with("no-open-ticket")), Some(true), "{}", reply.raw);
    assert!(reply.body["detail"].as_str().unwrap().contains("escalate it first"));
    assert!(h.sim.calls().is_empty(), "nothing reached Zendesk");

    // Solved at Zendesk and known here: nothing is added, no new ticket, the bot takes over.
    let ticket_id = escalated(&h, "conv-done").await;
    h.sim.agent_set_status(ticket_id, SUPPORT_AGENT, "solved");
    h.app
        .stores
        .conversations
        .record_status(&h.bot_id, "conv-done", ticket_id, handoff::zendesk::types::TicketStatus::Solved)
        .await
        .unwrap();
    let comments = h.sim.ticket(ticket_id).unwrap().comments.len();
    let tickets = h.sim.tickets().len();
    // Nothing to send: the credentials are not read (even with the warm copy dropped).
    h.app.stores.secrets.invalidate(&h.bot_id);
    let secret_reads = h.adapters.counts().1.0;
    let ended = relay(&h, "conv-done", &[("m1", "are you there?")]).await;
    assert_eq!(h.adapters.counts().1.0, secret_reads, "no secret read for a finished ticket");
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.raw);
    assert_eq!((ended.body["state"].as_str(), ended.body["bot_resumes"].as_bool()), (Some("ended"), Some(true)));
    assert_eq!(ended.body["ticket"]["status"], "solved");
    assert_eq!((h.sim.ticket(ticket_id).unwrap().comments.len(), h.sim.tickets().len()), (comments, tickets));

    // Closed at Zendesk but not known here yet: Zendesk's refusal ends it just the same.
    let closed = escalated(&h, "conv-closed").await;
    h.sim.agent_set_status(closed, SUPPORT_AGENT, "closed");
    let ended = relay(&h, "conv-closed", &[("m1", "hello?")]).await;
    assert_eq!((ended.status, ended.body["state"].as_str()), (StatusCode::OK, Some("ended")), "{}", ended.raw);
    let record = h.app.stores.conversations.get_conversation(&h.bot_id, "conv-closed").await.unwrap().unwrap();
    assert_eq!(record.ticket_status, Some(handoff::zendesk::types::TicketStatus::Closed));
    assert_eq!(h.sim.tickets().len(), tickets + 1, "no silent new ticket");
}

#[tokio::test]
async fn a_relay_whose_answer_was_lost_is_not_added_twice() {
    let h = Harness::new(Backend::Moto).await;
    let ticket_id = escalated(&h, "conv-lost").await;
    h.sim.inject(Route::UpdateTicket, Fault::LoseAnswer, 4);
    let lost = relay(&h, "conv-lost", &[("m1", "my tracking number is 1Z999")]).await;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "{}", lost.raw);
    assert!(lost.headers.get("retry-after").is_some());
    h.sim.clear_faults();
    // Zendesk may still be adding it: the conversation is held a moment, as Retry-After says.
    let busy = relay(&h, "conv-lost", &[("m1", "my tracking number is 1Z999")]).await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE, "{}", busy.raw);
    let wait: u64 = busy.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait <= 3, "{wait}");
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    let retried = relay(&h, "conv-lost", &[("m1", "my tracking number is 1Z999")]).await;
    assert_eq!((retried.status, retried.body["added"].clone()), (StatusCode::OK, json!(["m1"])), "{}", retried.raw);
    let bodies: Vec<String> = later_public_comments(&h, ticket_id).into_iter().map(|(_, b)| b).collect();
    assert_eq!(bodies, ["my tracking number is 1Z999"], "the comment is on the ticket once");
    // And it is remembered now: the next retry reads nothing at Zendesk.
    h.sim.reset_calls();
    let again = relay(&h, "conv-lost", &[("m1", "my tracking number is 1Z999")]).await;
    assert_eq!((again.body["duplicates"].clone(), h.sim.calls().len()), (json!(["m1"]), 0));
}

#[tokio::test]
async fn concurrent_relays_of_the_same_messages_add_them_once() {
    let h = Harness::new(Backend::Moto).await;
    let ticket_id = escalated(&h, "conv-race").await;
    h.sim.inject(Route::UpdateTicket, Fault::Slow(Duration::from_millis(300)), 1);
    let messages = [("m1", "first"), ("m2", "second")];
    let (a, b, c, d, e) = tokio::join!(
        relay(&h, "conv-race", &messages),
        relay(&h, "conv-race", &messages),
        relay(&h, "conv-race", &messages),
        relay(&h, "conv-race", &messages),
        relay(&h, "conv-race", &messages)
    );
    let replies = [a, b, c, d, e];
    for reply in &replies {
        assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::SERVICE_UNAVAILABLE,
            "{} {}",
            reply.status,
            reply.raw
        );
    }
    // Whoever was turned away repeats, as the answer asks; nothing is added again.
    for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert!(reply.headers.get("retry-after").is_some());
        let again = relay(&h, "conv-race", &messages).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.raw);
    }
    let bodies: Vec<String> = later_public_comments(&h, ticket_id).into_iter().map(|(_, b)| b).collect();
    assert_eq!(bodies, ["first\n\nsecond"]);
}

#[tokio::test]
async fn a_conversation_bound_to_a_verified_visitor_takes_messages_only_from_that_visitor() {
    let h = Harness::new(Backend::Memory).await;
    let path = format!("/v1/bots/{}/conversations/conv-bound/escalations", h.bot_id);
    let claim = [("visitor_email", "ana@example.com")];
    let body = escalation_body("I want to talk to a human");
    let reply = h.request("POST", &path, "", Some(&body), SCOPE, &claim, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket_id = reply.ticket_id();
    let messages = batch(&[("m1", "it's me")]);
    let path = messages_path(&h, "conv-bound");
    for (claims, why) in [(&[][..], "no claim"), (&[("visitor_email", "eve@example.com")][..], "another visitor")] {
        let refused = h.request("POST", &path, "", Some(&messages), SCOPE, claims, &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{why}: {}", refused.raw);
        assert_eq!(refused.body["type"].as_str().map(|t| t.ends_with("visitor-mismatch")), Some(true));
    }
    assert!(later_public_comments(&h, ticket_id).is_empty(), "nothing was added");
    let taken = h.request("POST", &path, "", Some(&messages), SCOPE, &claim, &[]).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.raw);
    assert_eq!(later_public_comments(&h, ticket_id).len(), 1);
}

#[tokio::test]
async fn bad_bodies_are_named_and_change_nothing() {
    let h = Harness::new(Backend::Memory).await;
    escalated(&h, "conv-bad").await;
    let before = h.adapters.counts().0.1;
    let path = messages_path(&h, "conv-bad");
    for (body, field) in [
        (json!({"messages": []}), "messages"),
        (json!({"messages": [{"id": "m1"}]}), "messages[0].text"),
        (json!({"messages": [{"id": 7, "text": "x"}]}), "messages[0].id"),
        (json!({"messages": [{"id": "m1", "text": "x", "at": "monday"}]}), "messages[0].at"),
        (json!({"messages": "hello"}), "messages"),
    ] {
        let reply = h.call("POST", &path, Some(&body), SCOPE).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.raw);
        assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.raw);
    }
    let wrong_scope =
        h.call("POST", &path, Some(&batch(&[("m1", "x")])), &["ZENDESK_ACTIONS.READ_TICKET_STATUS"]).await;
    assert_eq!(wrong_scope.status, StatusCode::FORBIDDEN);
    assert_eq!(h.adapters.counts().0.1, before, "no write");
}

/// Zendesk credits a ticket's first comment to its submitter, and the submitter of an API create
/// is the authenticated user unless the request says otherwise: Handoff says so, so the visitor's
/// words never go out as the integration user's.
#[tokio::test]
async fn the_first_comment_is_the_visitors_own_for_a_known_a_new_and_an_anonymous_visitor() {
    let h = Harness::new(Backend::Memory).await;
    let known = h.sim.add_api_token("ana@example.com", "unused-token");
    h.sim.set_role("ana@example.com", "end-user");
    let cases = [
        ("conv-known", json!({"name": "Ana", "email": "ana@example.com"}), Some(known)),
        ("conv-new", json!({"name": "Bruno", "email": "bruno@example.com"}), None),
        ("conv-anonymous", json!({}), None),
    ];
    for (conversation, visitor, expected) in cases {
        let mut body = escalation_body("I want to talk to a human");
        body["visitor"] = visitor;
        h.sim.reset_calls();
        let reply = h.escalate(conversation, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
        let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
        let requester = h.sim.user(ticket.requester_id).unwrap();
        assert_eq!(requester.role, "end-user", "{conversation}");
        if let Some(known) = expected {
            assert_eq!(ticket.requester_id, known, "the existing user is the requester");
        }
        assert_eq!(
            ticket.comments[0].author_id, ticket.requester_id,
            "{conversation}: the first comment is the visitor's"
        );
        assert!(ticket.comments[0].public);
        assert_eq!(ticket.submitter_id, ticket.requester_id, "{conversation}: submitted as the visitor");
        assert!(
            ticket.comments[1..].iter().all(|c| !c.public && c.author_id != ticket.requester_id),
            "notes are the integration's"
        );
        let (searches, creates) = (h.sim.count(Route::UsersSearch), h.sim.count(Route::CreateUser));
        let expected = match conversation {
            "conv-known" => (1, 0),
            "conv-new" => (1, 1),
            _ => (0, 1),
        };
        assert_eq!((searches, creates), expected, "{conversation}: one lookup before the ticket (two for a new email)");
    }
    assert!(h.sim.schema_violations().is_empty(), "{:?}", h.sim.schema_violations());
}

/// A connection that may not create users (an OAuth grant from before Handoff asked for
/// `users:write`) still hands over: the ticket is made as before, its first comment credited to
/// the connected user.
#[tokio::test]
async fn without_the_right_to_create_users_the_handoff_still_happens() {
    let h = Harness::new(Backend::Memory).await;
    h.sim.inject(Route::CreateUser, Fault::Status { status: 403, retry_after_secs: None }, 1);
    let mut body = escalation_body("I want to talk to a human");
    body["visitor"] = json!({"name": "Chen", "email": "chen@example.com"});
    let reply = h.escalate("conv-no-users-write", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_eq!(h.sim.user(ticket.requester_id).unwrap().email, "chen@example.com");
    assert_eq!(h.sim.user(ticket.submitter_id).unwrap().email, AGENT_EMAIL, "the documented default");
}

/// Create Ticket as a chat action: the bot's own subject, summary, priority, type and tags make
/// exactly that ticket, with the transcript still as the internal note; the summary is a note by
/// default, or the public first comment when the bot's settings say so.
#[tokio::test]
async fn create_ticket_with_the_bots_subject_and_summary_makes_exactly_that_ticket() {
    let h = Harness::new(Backend::Memory).await;
    let summary = "Ana ordered a blender (order 55120) that arrived broken.\nShe wants a refund, not a replacement.";
    let mut body = escalation_body("I want to talk to a human");
    body["subject"] = json!("Refund for order 55120");
    body["summary"] = json!(summary);
    body["priority"] = json!("high");
    body["type"] = json!("incident");
    body["tags"] = json!(["refund", "VIP customer"]);
    let reply = h.escalate("conv-action", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_eq!(ticket.subject, "Refund for order 55120");
    assert_eq!((ticket.priority.as_deref(), ticket.ticket_type.as_deref()), (Some("high"), Some("incident")));
    assert!(
        ticket.tags.iter().any(|t| t == "refund") && ticket.tags.iter().any(|t| t == "vip_customer"),
        "{:?}",
        ticket.tags
    );
    assert!(ticket.tags.iter().any(|t| t == "handoff"), "the defaults stay");
    assert!(ticket.comments[0].public && ticket.comments[0].body.starts_with("I want to talk to a human"));
    let summary_note = &ticket.comments[1];
    assert!(!summary_note.public);
    assert_eq!(handoff::transcript::note_body(&summary_note.body), summary, "the summary, exactly");
    assert!(ticket.comments[2].body.contains("Chat transcript") && !ticket.comments[2].public, "the transcript note");

    // Public by setting: the summary is the first comment, the visitor's own.
    h.set_setting("mapping", json!({"summary_public": true})).await;
    let reply = h.escalate("conv-action-public", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_eq!((ticket.comments[0].body.as_str(), ticket.comments[0].public), (summary, true));
    assert_eq!(ticket.comments[0].author_id, ticket.requester_id);
    assert!(ticket.comments[1].body.contains("Chat transcript") && ticket.comments.len() == 2);

    // Bad values are named.
    let mut bad = escalation_body("hi");
    bad["subject"] = json!(" ");
    bad["type"] = json!("complaint");
    bad["tags"] = json!(["!!!"]);
    let refused = h.escalate("conv-action-bad", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.raw);
    assert!(h.sim.schema_violations().is_empty(), "{:?}", h.sim.schema_violations());
}

/// A file the platform hosts, as the test serves it: uploaded to the simulator, whose
/// `content_url` then stands in for the platform's file server (on loopback).
async fn hosted_file(h: &Harness, name: &str, bytes: &[u8]) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v2/uploads.json?filename={name}", h.sim.base_url))
        .basic_auth(format!("{AGENT_EMAIL}/token"), Some(API_TOKEN))
        .header("content-type", "application/pdf")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["upload"]["attachment"]["content_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_visitors_files_reach_the_ticket_by_url_or_inline() {
    let mut h = Harness::new(Backend::Memory).await;
    let ticket_id = escalated(&h, "conv-files").await;
    let receipt = b"%PDF-1.4 receipt for order 55120";
    let url = hosted_file(&h, "receipt.pdf", receipt).await;

    // Not a public address: refused by name, nothing added, the conversation free for the next try.
    let body = json!({"messages": [{"id": "f1", "text": "Here is my receipt",
        "attachments": [{"name": "receipt.pdf", "content_type": "application/pdf", "url": url}]}]});
    let path = messages_path(&h, "conv-files");
    let refused = h.call("POST", &path, Some(&body), SCOPE).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.raw);
    assert_eq!(refused.body["errors"][0]["field"], "messages[0].attachments[0]");
    assert!(!refused.raw.contains(&url), "the URL is not repeated: it may carry a token");
    assert!(later_public_comments(&h, ticket_id).is_empty());

    // The local runner and tests may fetch from loopback: by URL and inline, one upload each.
    h.app.allow_local_callbacks();
    let mut body = body;
    body["messages"][0]["attachments"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "photo.png", "content_type": "image/png", "data": "iVBORw0KGgo="}));
    h.sim.reset_calls();
    let added = h.call("POST", &path, Some(&body), SCOPE).await;
    assert_eq!((added.status, added.body["added"].clone()), (StatusCode::OK, json!(["f1"])), "{}", added.raw);
    assert_eq!((h.sim.count(Route::Uploads), h.sim.count(Route::UpdateTicket)), (2, 1), "{:?}", h.sim.calls());
    let comment = h.sim.ticket(ticket_id).unwrap().comments.last().cloned().unwrap();
    assert_eq!((comment.body.as_str(), comment.public), ("Here is my receipt", true));
    let files: Vec<(String, String, u64)> =
        comment.attachments.iter().map(|a| (a.file_name.clone(), a.content_type.clone(), a.size)).collect();
    assert_eq!(
        files,
        [
            ("receipt.pdf".to_owned(), "application/pdf".to_owned(), receipt.len() as u64),
            ("photo.png".to_owned(), "image/png".to_owned(), 8)
        ]
    );
    let fetched = reqwest::get(&comment.attachments[0].content_url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&fetched[..], receipt, "the file's own bytes");
    // A file alone is named in the comment.
    let alone = json!({"messages": [{"id": "f2", "attachments": [{"name": "label.pdf", "data": "JVBERi0="}]}]});
    assert_eq!(h.call("POST", &path, Some(&alone), SCOPE).await.status, StatusCode::OK);
    assert_eq!(later_public_comments(&h, ticket_id).last().unwrap().1, "[file: label.pdf]");
    assert!(h.sim.schema_violations().is_empty(), "{:?}", h.sim.schema_violations());
}

/// A failure before anything reached Zendesk leaves no mark (an identical later message is added,
/// not taken for one already there); a retry that carries more than the lost attempt adds only
/// what is missing.
#[tokio::test]
async fn only_an_unfinished_relay_makes_the_next_one_look_and_it_adds_exactly_what_is_missing() {
    let h = Harness::new(Backend::Moto).await;
    let ticket_id = escalated(&h, "conv-marks").await;
    assert_eq!(relay(&h, "conv-marks", &[("m1", "ok")]).await.status, StatusCode::OK);
    let path = messages_path(&h, "conv-marks");
    let with_bad_file = json!({"messages": [{"id": "m2", "text": "ok",
        "attachments": [{"name": "x.pdf", "url": "https://127.0.0.1:9/x.pdf"}]}]});
    let refused = h.call("POST", &path, Some(&with_bad_file), SCOPE).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.raw);
    assert_eq!(relay(&h, "conv-marks", &[("m2", "ok")]).await.body["added"], json!(["m2"]));
    let bodies = |h: &Harness| later_public_comments(h, ticket_id).into_iter().map(|(_, b)| b).collect::<Vec<_>>();
    assert_eq!(bodies(&h), ["ok", "ok"], "the second 'ok' is the visitor's second message");

    h.sim.inject(Route::UpdateTicket, Fault::LoseAnswer, 1);
    assert_eq!(relay(&h, "conv-marks", &[("m3", "first")]).await.status, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let more = relay(&h, "conv-marks", &[("m3", "first"), ("m4", "second")]).await;
    assert_eq!((more.status, more.body["added"].clone()), (StatusCode::OK, json!(["m3", "m4"])), "{}", more.raw);
    assert_eq!(bodies(&h), ["ok", "ok", "first", "second"], "m3 once, m4 after it");
}

/// An email in a body is the platform's unverified word: it never makes Handoff write as staff or
/// change anyone's Zendesk user, and a body may not claim Handoff's own tags.
#[tokio::test]
async fn an_unverified_email_never_writes_as_staff_or_renames_anyone() {
    let h = Harness::new(Backend::Memory).await;
    let carla = h.sim.add_agent("Carla Agent", SUPPORT_AGENT, "carla-token");
    let ana = h.sim.add_api_token("ana@example.com", "unused-token");
    h.sim.set_role("ana@example.com", "end-user");
    let ana_name = h.sim.user(ana).unwrap().name;

    let mut body = escalation_body("I want to talk to a human");
    body["visitor"] = json!({"name": "Mallory", "email": SUPPORT_AGENT});
    let reply = h.escalate("conv-staff", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_eq!(ticket.requester_id, carla, "named by email, as before");
    assert_ne!(ticket.comments[0].author_id, carla, "the visitor does not write as the agent");
    let relayed = relay(&h, "conv-staff", &[("m1", "I am the agent now")]).await;
    assert_eq!(relayed.status, StatusCode::OK, "{}", relayed.raw);
    let note = h.sim.ticket(ticket.id).unwrap().comments.last().cloned().unwrap();
    assert!(!note.public && note.author_id != carla && note.body.contains("I am the agent now"), "{note:?}");
    assert_eq!(h.sim.user(carla).unwrap().name, "Carla Agent");

    body["visitor"] = json!({"name": "Mallory", "email": "ana@example.com"});
    let reply = h.escalate("conv-ana", &body).await;
    let ticket = h.sim.ticket(reply.ticket_id()).unwrap();
    assert_eq!((ticket.requester_id, ticket.comments[0].author_id), (ana, ana), "an end user is named");
    assert_eq!(h.sim.user(ana).unwrap().name, ana_name, "and never renamed");

    body["tags"] = json!(["handoff_placeholder_email"]);
    let refused = h.escalate("conv-spoof", &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.raw);
    assert_eq!(refused.body["errors"][0]["field"], "tags");
}

/// After the handoff a token's claim must name the handoff's own visitor: a conversation handed
/// over anonymously is no claim's to read or write in.
#[tokio::test]
async fn a_claim_reaches_only_its_own_visitors_handoff() {
    let h = Harness::new(Backend::Memory).await;
    let mut body = escalation_body("I want to talk to a human");
    body["visitor"] = json!({});
    assert_eq!(h.escalate("conv-anon", &body).await.status, StatusCode::CREATED);
    let claim = [("visitor_email", "eve@example.com")];
    let messages = batch(&[("m1", "hello")]);
    let posted = h.request("POST", &messages_path(&h, "conv-anon"), "", Some(&messages), SCOPE, &claim, &[]).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.raw);
    let state_path = format!("/v1/bots/{}/conversations/conv-anon", h.bot_id);
    let read = h.request("GET", &state_path, "", None, &["ZENDESK_ACTIONS.READ_TICKET_STATUS"], &claim, &[]).await;
    assert_eq!(read.status, StatusCode::FORBIDDEN, "{}", read.raw);
    let platform = h.call("GET", &state_path, None, &["ZENDESK_ACTIONS.READ_TICKET_STATUS"]).await;
    assert_eq!((platform.status, platform.body["state"].as_str()), (StatusCode::OK, Some("waiting_for_agent")));
}

/// The platform's own judgement decides the explicit-request rule, through the API.
#[tokio::test]
async fn the_platforms_judgement_of_a_request_for_a_person_decides_and_is_named() {
    let h = Harness::new(Backend::Memory).await;
    let mut body = escalation_body("this is useless, get me out of this loop");
    body["signals"] = json!({"wants_human": true, "wants_human_confidence": 0.93});
    let judged = h.escalate("conv-judged", &body).await;
    assert_eq!(judged.status, StatusCode::CREATED, "{}", judged.raw);
    assert_eq!(judged.body["rule"], "explicit_request");
    assert!(judged.body["reason"].as_str().unwrap().contains("model judged"), "{}", judged.raw);
    let mut body = escalation_body("I want to talk to a human");
    body["signals"] = json!({"wants_human": false});
    let overruled = h.escalate("conv-not-judged", &body).await;
    assert_eq!(
        (overruled.status, overruled.body["escalated"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{}",
        overruled.raw
    );
    body["signals"] = json!({"wants_human": true, "wants_human_confidence": 2});
    let refused = h.escalate("conv-bad-judgement", &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["errors"][0]["field"], "signals.wants_human_confidence");
}
