//! Status lookups and customer context: sentences, who may see what (unknown and forbidden
//! tickets indistinguishable), the two-call budget, the cache, rate limits, session start.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const STATUS: &[&str] = &["ZENDESK_ACTIONS.READ_TICKET_STATUS"];
const CONTEXT: &[&str] = &["ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT"];
const CARLA: &str = "carla@example.com";

fn ticket_path(h: &Harness, id: impl std::fmt::Display) -> String {
    format!("/v1/bots/{}/tickets/{id}", h.bot_id)
}

async fn escalated_for(h: &Harness, conversation: &str, email: &str) -> u64 {
    let mut body = escalation_body("talk to a human");
    body["visitor"]["email"] = json!(email);
    let reply = h.escalate(conversation, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.ticket_id()
}

async fn lookup(h: &Harness, id: impl std::fmt::Display, query: &str, claims: &[(&str, &str)]) -> Reply {
    h.request("GET", &ticket_path(h, id), query, None, STATUS, claims, &[]).await
}

#[tokio::test]
async fn the_status_sentence_names_the_last_updater_in_the_visitors_language_within_two_calls_then_none() {
    let h = Harness::new(Backend::Moto).await;
    h.sim.add_agent("Carla", CARLA, "carla-token");
    let ticket = escalated_for(&h, "conv-s1", "ana@example.com").await;
    h.sim.agent_reply(ticket, CARLA, "Looking into it", true);
    h.sim.agent_set_status(ticket, CARLA, "pending");
    h.sim.assign(ticket, CARLA);
    h.sim.backdate(ticket, 2 * 3600 + 60);
    h.sim.reset_calls();

    let reply = lookup(&h, ticket, "conversation_id=conv-s1&locale=es", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["id"], ticket);
    assert_eq!(
        (reply.body["status"].as_str(), reply.body["status_category"].as_str()),
        (Some("pending"), Some("pending"))
    );
    assert_eq!(reply.body["last_updated_by"], json!({"name": "Carla", "role": "agent"}));
    assert_eq!(reply.body["assignee"], json!({"name": "Carla"}));
    assert_eq!(reply.body["summary"], "Pendiente — última actualización hace 2 horas por el agente Carla");
    assert!(reply.body["subject"].as_str().is_some() && reply.body["updated_at"].as_str().is_some());
    assert_eq!(h.sim.calls().len(), 2, "the ticket with its users, then the newest audit");
    assert_eq!((h.sim.count(Route::ShowTicket), h.sim.count(Route::Audits)), (1, 1));

    // The same lookup again (another language, by header) is served from the cache.
    h.sim.reset_calls();
    let in_language = |accept: &'static str| {
        let path = ticket_path(&h, ticket);
        let h = &h;
        async move {
            h.request("GET", &path, "conversation_id=conv-s1", None, STATUS, &[], &[("accept-language", accept)]).await
        }
    };
    let again = in_language("de-DE,de;q=0.9").await;
    assert_eq!(again.body["summary"], "Wartend — zuletzt aktualisiert vor 2 Stunden von Agent Carla");
    let dutch = in_language("nl-BE,nl;q=0.9,en;q=0.5").await;
    assert_eq!(dutch.body["summary"], "In afwachting — laatst bijgewerkt 2 uur geleden door medewerker Carla");
    assert_eq!(dutch.body["locale"], "nl");
    assert!(h.sim.calls().is_empty(), "a cached lookup makes no Zendesk call");
}

#[tokio::test]
async fn the_last_updater_comes_from_the_newest_audit_even_when_it_is_the_visitor() {
    let h = Harness::new(Backend::Memory).await;
    h.sim.add_agent("Carla", CARLA, "carla-token");
    let ticket = escalated_for(&h, "conv-s2", "ana@example.com").await;
    h.sim.agent_set_status(ticket, CARLA, "open");
    h.sim.agent_reply(ticket, "ana@example.com", "Any news?", true);
    let reply = lookup(&h, ticket, "conversation_id=conv-s2", &[]).await;
    assert_eq!(reply.body["last_updated_by"]["role"], "end_user", "{}", reply.raw);
    assert!(reply.body["summary"].as_str().unwrap().starts_with("Open — last updated just now by "), "{}", reply.raw);

    // Without the `read` scope Zendesk refuses audits: the answer says less, but answers.
    let h2 = Harness::new(Backend::Memory).await;
    let other = escalated_for(&h2, "conv-s3", "ana@example.com").await;
    h2.sim.deny_audits(true);
    let reply = lookup(&h2, other, "conversation_id=conv-s3", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["last_updated_by"], Value::Null);
    assert_eq!(reply.body["summary"], "New — last updated just now");
}

#[tokio::test]
async fn each_scope_allows_what_it_should_and_forbidden_looks_like_unknown() {
    let h = Harness::new(Backend::Memory).await;
    let anas = escalated_for(&h, "conv-ana", "ana@example.com").await;
    let bobs = escalated_for(&h, "conv-bob", "bob@example.com").await;
    // Ana's ticket from another channel (not this bot's).
    let anas_email_ticket = h.sim.insert_ticket_for("ana@example.com", "Invoice question", "open", &[]);

    // visitor (default): by verified email or by conversation link, nothing else.
    let ana = [("visitor_email", "ANA@example.com")];
    assert_eq!(lookup(&h, anas, "", &ana).await.status, StatusCode::OK);
    assert_eq!(lookup(&h, anas_email_ticket, "", &ana).await.status, StatusCode::OK);
    assert_eq!(lookup(&h, anas, "conversation_id=conv-ana", &[]).await.status, StatusCode::OK);
    let forbidden = [
        lookup(&h, bobs, "", &ana).await,
        lookup(&h, anas, "conversation_id=conv-bob", &[]).await,
        lookup(&h, anas, "", &[]).await,
        lookup(&h, anas, "conversation_id=conv-nobody", &[]).await,
    ];
    let unknown = lookup(&h, 987_654_321u64, "", &ana).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for reply in &forbidden {
        assert_eq!(
            (reply.status, reply.raw.as_str()),
            (unknown.status, unknown.raw.as_str()),
            "forbidden reads as unknown"
        );
    }

    // bot: only tickets this bot created.
    h.set_setting("status_lookup_scope", json!("bot")).await;
    assert_eq!(lookup(&h, bobs, "", &[]).await.status, StatusCode::OK);
    let not_mine = lookup(&h, anas_email_ticket, "", &ana).await;
    assert_eq!((not_mine.status, not_mine.raw.as_str()), (unknown.status, unknown.raw.as_str()));

    // account: any ticket the connected user can see.
    h.set_setting("status_lookup_scope", json!("account")).await;
    assert_eq!(lookup(&h, anas_email_ticket, "", &[]).await.status, StatusCode::OK);
    assert_eq!(lookup(&h, 987_654_321u64, "", &[]).await.raw, unknown.raw);

    // Not a ticket number: 400; another bot's token or a missing scope: 403.
    for bad in ["abc", "0", "-1", "1.5"] {
        let reply = lookup(&h, bad, "", &[]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.raw);
        assert_eq!(reply.content_type(), "application/problem+json");
    }
    let wrong_scope = h.request("GET", &ticket_path(&h, anas), "", None, CONTEXT, &[], &[]).await;
    assert_eq!(wrong_scope.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn customer_context_lists_the_newest_tickets_first_with_a_summary() {
    let h = Harness::new(Backend::Memory).await;
    let mut ids = Vec::new();
    for (i, subject) in ["Oldest", "Second", "Third", "Fourth", "Fifth", "Sixth", "Newest"].iter().enumerate() {
        let id = h.sim.insert_ticket_for("carol@example.com", subject, if i % 2 == 0 { "solved" } else { "open" }, &[]);
        h.sim.backdate(id, (7 - i as i64) * 86_400);
        ids.push(id);
    }
    h.sim.insert_ticket_for("dave@example.com", "Not Carol's", "open", &[]);
    h.sim.reset_calls();
    let path = format!("/v1/bots/{}/customers/context", h.bot_id);
    let reply = h.request("GET", &path, "email=Carol%40example.com", None, CONTEXT, &[], &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let listed: Vec<u64> =
        reply.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect();
    let newest_five: Vec<u64> = ids.iter().rev().take(5).copied().collect();
    assert_eq!(listed, newest_five, "the last 5, newest first");
    let first = &reply.body["tickets"][0];
    assert_eq!((first["subject"].as_str(), first["status"].as_str()), (Some("Newest"), Some("solved")));
    assert!(first["updated_at"].as_str().is_some());
    let summary = reply.body["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "5 earlier tickets: #{} 'Newest' — solved yesterday; #{} 'Sixth' — open, updated 2 days ago",
            ids[6], ids[5]
        )),
        "{summary}"
    );
    assert_eq!(h.sim.calls().len(), 2, "users search, then requested tickets");

    let two = h.request("GET", &path, "email=carol%40example.com&limit=2", None, CONTEXT, &[], &[]).await;
    assert_eq!(two.body["tickets"].as_array().unwrap().len(), 2);
    let nobody = h.request("GET", &path, "email=nobody%40example.com", None, CONTEXT, &[], &[]).await;
    assert_eq!((nobody.status, nobody.body["tickets"].clone()), (StatusCode::OK, json!([])), "{}", nobody.raw);
    assert_eq!(nobody.body["summary"], "No earlier tickets.");
    for bad in
        ["email=not-an-email", "email=", "email=carol%40example.com&limit=11", "email=carol%40example.com&limit=0"]
    {
        let reply = h.request("GET", &path, bad, None, CONTEXT, &[], &[]).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", reply.raw);
    }
    // The bot's own default count.
    h.set_setting("customer_context_count", json!(3)).await;
    let three = h.request("GET", &path, "email=carol%40example.com", None, CONTEXT, &[], &[]).await;
    assert_eq!(three.body["tickets"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn session_start_records_the_visitor_and_answers_context_only_when_asked() {
    let h = Harness::new(Backend::Moto).await;
    let earlier = h.sim.insert_ticket_for("erin@example.com", "Broken zipper", "solved", &[]);
    let path = format!("/v1/bots/{}/conversations/conv-erin/session", h.bot_id);
    let body = json!({"visitor": {"name": "Erin", "email": "erin@example.com"}, "locale": "en"});
    let both = ["ZENDESK_ACTIONS.CREATE_TICKET", "ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT"];
    let off = h.request("POST", &path, "", Some(&body), &both, &[], &[]).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.raw);
    assert_eq!(off.body["recorded"], true);
    assert!(off.body.get("customer_context").is_none(), "off by default: {}", off.raw);

    h.set_setting("customer_context_on_session_start", json!(true)).await;
    let on = h.request("POST", &path, "", Some(&body), &both, &[], &[]).await;
    assert_eq!(on.body["customer_context"]["tickets"][0]["id"], earlier, "{}", on.raw);
    let no_scope = h.request("POST", &path, "", Some(&body), &["ZENDESK_ACTIONS.CREATE_TICKET"], &[], &[]).await;
    assert_eq!(no_scope.status, StatusCode::OK);
    assert!(no_scope.body["customer_context_unavailable"].as_str().is_some(), "{}", no_scope.raw);

    // A recorded email is the platform's unverified word: it opens no ticket by email. The
    // token's verified claim does.
    let reply = lookup(&h, earlier, "conversation_id=conv-erin", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.raw);
    let erin = [("visitor_email", "erin@example.com")];
    let reply = lookup(&h, earlier, "conversation_id=conv-erin", &erin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);

    let bad = h.request("POST", &path, "", Some(&json!({"visitor": {"email": "nope"}})), &both, &[], &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.raw);
    let unknown_field = h.request("POST", &path, "", Some(&json!({"visiter": {}})), &both, &[], &[]).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown_field.raw);
}

#[tokio::test]
async fn a_rate_limited_lookup_answers_503_with_retry_after() {
    let h = Harness::new(Backend::Memory).await;
    let ticket = escalated_for(&h, "conv-r", "ana@example.com").await;
    h.sim.inject(Route::ShowTicket, Fault::RateLimited { retry_after_secs: 30 }, 10);
    let reply = lookup(&h, ticket, "conversation_id=conv-r", &[]).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.raw);
    assert_eq!(reply.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("30"));
    assert_eq!(reply.content_type(), "application/problem+json");
    let path = format!("/v1/bots/{}/customers/context", h.bot_id);
    h.sim.inject(Route::UsersSearch, Fault::RateLimited { retry_after_secs: 12 }, 10);
    let context = h.request("GET", &path, "email=ana%40example.com", None, CONTEXT, &[], &[]).await;
    assert_eq!(context.status, StatusCode::SERVICE_UNAVAILABLE, "{}", context.raw);
    assert_eq!(context.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("12"));
}

#[tokio::test]
async fn the_sample_status_events_behave_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let load =
        |name: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(root.join(name)).unwrap()).unwrap() };
    let h = Harness::for_bot(Backend::Memory, "demo-bot").await;
    let created = h.send(load("escalate.json")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
    let ticket = created.ticket_id();
    // The samples name ticket 35436; point them at the ticket just made.
    let with_ticket = |name: &str| {
        let mut event = load(name);
        let path = event["rawPath"].as_str().unwrap().replace("35436", &ticket.to_string());
        event["rawPath"] = json!(path);
        event["requestContext"]["http"]["path"] = json!(path);
        event["pathParameters"]["ticket_id"] = json!(ticket.to_string());
        event
    };
    let by_conversation = h.send_any(with_ticket("status-ticket.json")).await;
    assert_eq!(by_conversation.status, StatusCode::OK, "{}", by_conversation.raw);
    assert!(by_conversation.body["summary"].as_str().unwrap().starts_with("Nuevo — "), "{}", by_conversation.raw);
    let by_email = h.send_any(with_ticket("status-ticket-by-email.json")).await;
    assert_eq!(by_email.status, StatusCode::OK, "{}", by_email.raw);
    let context = h.send_any(load("customers-context.json")).await;
    assert_eq!(context.body["tickets"][0]["id"], ticket, "{}", context.raw);
    let session = h.send_any(load("session-start.json")).await;
    assert_eq!((session.status, session.body["recorded"].clone()), (StatusCode::OK, json!(true)), "{}", session.raw);
    let settings = h.send_any(load("settings-put.json")).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.raw);
    assert!(settings.body["callback_secret"].is_string());
    // The live handoff's samples: the visitor's message reaches the ticket, the state says so.
    let relayed = h.send_any(load("visitor-messages.json")).await;
    assert_eq!(
        (relayed.status, relayed.body["added"].clone()),
        (StatusCode::OK, json!(["msg-1042"])),
        "{}",
        relayed.raw
    );
    let state = h.send_any(load("conversation-state.json")).await;
    assert_eq!(
        (state.status, state.body["state"].as_str(), state.body["ticket"]["id"].as_u64()),
        (StatusCode::OK, Some("waiting_for_agent"), Some(ticket)),
        "{}",
        state.raw
    );
}

#[tokio::test]
async fn a_visitor_token_cannot_borrow_another_visitors_conversation_or_context() {
    let h = Harness::new(Backend::Memory).await;
    let anas = escalated_for(&h, "conv-ana2", "ana@example.com").await;
    let bob = [("visitor_email", "bob@example.com")];
    let foreign = lookup(&h, anas, "conversation_id=conv-ana2", &bob).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.raw);
    let ana = [("visitor_email", "ana@example.com")];
    assert_eq!(lookup(&h, anas, "conversation_id=conv-ana2", &ana).await.status, StatusCode::OK);

    let path = format!("/v1/bots/{}/customers/context", h.bot_id);
    let other = h.request("GET", &path, "email=ana%40example.com", None, CONTEXT, &bob, &[]).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.raw);
    assert_eq!(
        h.request("GET", &path, "email=ana%40example.com", None, CONTEXT, &ana, &[]).await.status,
        StatusCode::OK
    );

    // Session start: a visitor token records only its own email; a repeat without an email keeps it.
    let session = format!("/v1/bots/{}/conversations/conv-new/session", h.bot_id);
    let claimed = ["ZENDESK_ACTIONS.CREATE_TICKET"];
    let hijack = h
        .request("POST", &session, "", Some(&json!({"visitor": {"email": "ana@example.com"}})), &claimed, &bob, &[])
        .await;
    assert_eq!(hijack.status, StatusCode::FORBIDDEN, "{}", hijack.raw);
    let first = h
        .request(
            "POST",
            &session,
            "",
            Some(&json!({"visitor": {"email": "bob@example.com", "name": "Bob"}})),
            &claimed,
            &bob,
            &[],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.raw);
    h.request("POST", &session, "", Some(&json!({"visitor": {"name": "Bobby"}})), &claimed, &bob, &[]).await;
    let kept = h.app.stores.conversations.get_visitor(&h.bot_id, "conv-new").await.unwrap().unwrap();
    assert_eq!((kept.name.as_deref(), kept.email.as_deref()), (Some("Bobby"), Some("bob@example.com")));
}

#[tokio::test]
async fn bot_scope_context_lists_only_this_bots_tickets_and_a_forbidden_fetch_reads_as_unknown() {
    let h = Harness::new(Backend::Memory).await;
    let mine = escalated_for(&h, "conv-c1", "cleo@example.com").await;
    h.sim.insert_ticket_for("cleo@example.com", "From email", "open", &[]);
    h.set_setting("status_lookup_scope", json!("bot")).await;
    let path = format!("/v1/bots/{}/customers/context", h.bot_id);
    let context = h.request("GET", &path, "email=cleo%40example.com", None, CONTEXT, &[], &[]).await;
    let ids: Vec<u64> = context.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [mine], "{}", context.raw);

    // Zendesk refuses the connected user this ticket (403): the same 404 as a missing one.
    let unknown = lookup(&h, 987_654_321u64, "", &[]).await;
    h.sim.inject(Route::ShowTicket, Fault::Status { status: 403, retry_after_secs: None }, 1);
    let refused = lookup(&h, mine + 1_000, "", &[]).await;
    assert_eq!((refused.status, refused.raw.as_str()), (unknown.status, unknown.raw.as_str()));
}

#[tokio::test]
async fn a_cached_answer_expires_even_when_it_keeps_being_asked_for() {
    let mut h = Harness::new(Backend::Memory).await;
    h.app.lookups = handoff::status::LookupCache::new(std::time::Duration::from_millis(300));
    let ticket = escalated_for(&h, "conv-e1", "eve@example.com").await;
    assert_eq!(lookup(&h, ticket, "conversation_id=conv-e1", &[]).await.body["status"], "new");
    h.sim.set_status(ticket, "solved");
    // Asked again and again within the cache's life: the cached answer.
    for _ in 0..4 {
        assert_eq!(lookup(&h, ticket, "conversation_id=conv-e1", &[]).await.body["status"], "new");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(lookup(&h, ticket, "conversation_id=conv-e1", &[]).await.body["status"], "solved", "expired");
}
