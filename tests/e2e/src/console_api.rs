//! The routes the settings console stands on: the account's ticket fields, the rules' dry run,
//! the unfinished escalations, the console's pages, and a manual escalation in the token's name.

use http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::{Backend, Harness, RETURN_URL, api_event, escalation_body};

const READ: &str = "ZENDESK_ACTIONS.READ_INTEGRATIONS";
const CREATE_TICKET: &str = "ZENDESK_ACTIONS.CREATE_TICKET";
const CREATE_OAUTH: &str = "ZENDESK_ACTIONS.CREATE_OAUTH";

fn path(h: &Harness, rest: &str) -> String {
    format!("/v1/bots/{}/{rest}", h.bot_id)
}

#[tokio::test]
async fn ticket_fields_are_the_accounts_own_by_title_read_from_zendesk_now() {
    let h = Harness::new(Backend::Moto).await;
    let plan = h.sim.add_ticket_field("Customer plan", "tagger");
    let reply = h.call("GET", &path(&h, "zendesk/ticket-fields"), None, &[READ]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let fields = reply.body["ticket_fields"].as_array().expect("a list").clone();
    assert_eq!(fields, [json!({"id": plan, "title": "Customer plan", "type": "tagger", "active": true})]);
    // A field made a moment ago in Zendesk is offered at once, and Zendesk's own fields never are.
    let url = h.sim.add_ticket_field("Conversation link", "text");
    let again = h.call("GET", &path(&h, "zendesk/ticket-fields"), None, &[READ]).await;
    let titles: Vec<&str> =
        again.body["ticket_fields"].as_array().unwrap().iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Customer plan", "Conversation link"]);
    assert_eq!(again.body["ticket_fields"][1]["id"], json!(url));

    // Zendesk failing answers 503 with Retry-After; refusing, 502; nothing is left half-done.
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: Some(7) }, 10);
    let down = h.call("GET", &path(&h, "zendesk/ticket-fields"), None, &[READ]).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", down.raw);
    assert_eq!(down.content_type(), "application/problem+json");
    h.sim.clear_faults();
    h.sim.inject(Route::Any, Fault::Status { status: 403, retry_after_secs: None }, 1);
    let refused = h.call("GET", &path(&h, "zendesk/ticket-fields"), None, &[READ]).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("urn:handoff:problem:zendesk-error"))
    );

    // Without the scope, or without a connection, a problem names why.
    let scopeless = h.call("GET", &path(&h, "zendesk/ticket-fields"), None, &[CREATE_TICKET]).await;
    assert_eq!(scopeless.status, StatusCode::FORBIDDEN);
    let unconnected = Harness::unconnected(Backend::Memory).await;
    let none = unconnected.call("GET", &path(&unconnected, "zendesk/ticket-fields"), None, &[READ]).await;
    assert_eq!(
        (none.status, none.body["type"].as_str()),
        (StatusCode::CONFLICT, Some("urn:handoff:problem:not-connected"))
    );
}

#[tokio::test]
async fn a_tried_message_says_whether_the_explicit_request_rule_fires_and_creates_nothing() {
    let h = Harness::new(Backend::Dynalite).await;
    let try_it = |body: Value| {
        let h = &h;
        async move { h.call("POST", &path(h, "rules/try"), Some(&body), &[READ]).await }
    };
    let ((reads_before, writes_before), _) = h.adapters.counts();
    let heard = try_it(json!({"message": "can I talk to a real person please"})).await;
    assert_eq!(heard.status, StatusCode::OK, "{}", heard.raw);
    assert_eq!((heard.body["fires"].as_bool(), heard.body["enabled"].as_bool()), (Some(true), Some(true)));
    assert_eq!(heard.body["heard_by"], "lexicon");
    assert!(heard.body["reason"].as_str().unwrap().contains("asked for a human"), "{}", heard.raw);

    // The form's unsaved rules are what is tried: an exclusion, a bot phrase, a rule turned off.
    let form = json!({"explicit_request": {"enabled": true, "exclusions": {"en": ["human touch"]}, "extra_phrases": {"en": ["order desk"]}}});
    let excluded = try_it(json!({"message": "is the human touch plan any good", "rules": form})).await;
    assert_eq!(excluded.body["fires"], false, "{}", excluded.raw);
    assert!(excluded.body["reason"].as_str().unwrap().contains("exclusions"), "{}", excluded.raw);
    let own = try_it(json!({"message": "order desk", "rules": form})).await;
    assert_eq!((own.body["fires"].as_bool(), own.body["heard_by"].as_str()), (Some(true), Some("bot_phrase")));
    let off = try_it(json!({"message": "human please", "rules": {"explicit_request": {"enabled": false}, "manual": {"enabled": true}}})).await;
    assert_eq!((off.body["enabled"].as_bool(), off.body["fires"].as_bool()), (Some(false), Some(false)), "{}", off.raw);

    // Nothing was created, stored or audited: one read of the saved rules, no write, no Zendesk call.
    let ((reads_after, writes_after), _) = h.adapters.counts();
    assert_eq!(writes_after, writes_before, "a dry run writes nothing");
    assert_eq!(reads_after - reads_before, 1, "only the first try read the saved rules");
    assert_eq!(h.sim.count(Route::Any), 0);
    let audit = h.call("GET", &path(&h, "audit"), None, &[READ]).await;
    assert_eq!(audit.body["entries"].as_array().map(Vec::len), Some(0), "{}", audit.raw);

    // Bad input is named by its field, as a save would name it.
    let bad_phrase =
        try_it(json!({"message": "hi", "rules": {"explicit_request": {"extra_phrases": {"en": ["human, now"]}}}}))
            .await;
    assert_eq!(bad_phrase.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_phrase.raw);
    assert_eq!(bad_phrase.body["errors"][0]["field"], "rules.explicit_request.extra_phrases.en");
    for (body, field) in [
        (json!({"message": ""}), "message"),
        (json!({"message": "x".repeat(5_001)}), "message"),
        (json!({"message": 7}), "message"),
        (json!({"message": "hi", "rulez": {}}), "rulez"),
        (json!({"message": "hi", "rules": {"explicit_request": {"enabeld": true}}}), "rules.explicit_request.enabeld"),
    ] {
        let reply = try_it(body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.raw);
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.raw);
    }
    let scopeless = h.call("POST", &path(&h, "rules/try"), Some(&json!({"message": "hi"})), &[CREATE_TICKET]).await;
    assert_eq!(scopeless.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unfinished_escalations_are_listed_with_their_age_and_error() {
    let h = Harness::new(Backend::Moto).await;
    assert_eq!(h.escalate("done", &escalation_body("I want a human")).await.status, StatusCode::CREATED);
    h.sim.inject(Route::CreateTicket, Fault::Status { status: 503, retry_after_secs: None }, 100);
    let pending = h.escalate("stuck", &escalation_body("I want a human")).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.raw);

    let reply = h.call("GET", &path(&h, "escalations"), None, &[READ]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let listed = reply.body["escalations"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "only the unfinished one: {}", reply.raw);
    let stuck = &listed[0];
    assert_eq!((stuck["conversation_id"].as_str(), stuck["state"].as_str()), (Some("stuck"), Some("pending")));
    assert_eq!(stuck["rule"], "explicit_request");
    assert!(stuck["attempts"].as_u64().unwrap() >= 1, "{stuck}");
    assert!(stuck["last_error"].as_str().is_some_and(|e| e.contains("503")), "{stuck}");
    let started = time::OffsetDateTime::parse(
        stuck["started_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!((time::OffsetDateTime::now_utc() - started).whole_seconds() < 120, "{stuck}");
    assert!(stuck["due_at"].is_string(), "{stuck}");
    assert!(!reply.raw.contains("I want a human"), "nothing of the conversation's content");

    for query in ["limit=0", "limit=101", "limit=x"] {
        let event = api_event("GET", &path(&h, "escalations"), query, None, Some((&h.bot_id, &[READ])));
        let bad = h.send_any(event).await;
        assert_eq!(
            (bad.status, bad.body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("limit"))
        );
    }
}

#[tokio::test]
async fn a_manual_escalation_from_the_console_records_the_tokens_subject() {
    let h = Harness::new(Backend::Memory).await;
    let conversation = path(&h, "conversations/conv-7/escalations");
    let reply = h
        .call(
            "POST",
            &conversation,
            Some(&json!({"trigger": "manual", "subject": "Refund call-back"})),
            &[CREATE_TICKET],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.body["rule"], "manual");
    assert!(reply.body["reason"].as_str().unwrap().contains("admin@platform.example"), "{}", reply.raw);
    let ticket = h.sim.ticket(reply.ticket_id()).expect("the ticket");
    assert_eq!(ticket.subject, "Refund call-back");
    assert!(ticket.comments.iter().any(|c| c.body.contains("Escalated by: admin@platform.example")), "{ticket:?}");
}

#[tokio::test]
async fn the_console_pages_run_only_their_own_script_and_oauth_may_return_to_them() {
    let mut h = Harness::unconnected(Backend::Memory).await;
    let page = h.send_any(api_event("GET", "/console", "bot=demo", None, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.raw.contains("<script src=\"/console/handoff-zendesk.js\" defer></script>"), "{}", page.raw);
    assert!(page.raw.contains("<handoff-console bot-id=\"demo\">"), "{}", page.raw);
    assert!(!page.raw.contains("token="), "the deployed page carries no token");

    let script = h.send_any(api_event("GET", "/console/handoff-zendesk.js", "", None, None)).await;
    assert_eq!((script.status, script.content_type()), (StatusCode::OK, "text/javascript; charset=utf-8"));
    for element in ["handoff-zendesk", "handoff-console", "handoff-oauth-done"] {
        assert!(script.raw.contains(&format!("define(\"{element}\"")), "the component defines <{element}>");
    }
    // The landing page tells only the embedding dashboards (and Handoff's own console) the outcome.
    h.app.console.embed_origins = vec!["https://app.example.com".into(), "https://\"x\".example".into()];
    let done = h.send_any(api_event("GET", "/console/oauth-done", "zendesk=connected", None, None)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.raw.contains("<handoff-oauth-done origins=\"https://app.example.com https://&quot;x&quot;.example\">"),
        "{}",
        done.raw
    );

    // Handoff's own landing page is a return URL without being on the allow-list; its neighbours are not.
    h.enable_oauth().await;
    h.app.connect.public_base_url = url::Url::parse("https://handoff.example.com").unwrap();
    let connect = path(&h, "zendesk/connect");
    for (return_url, allowed) in [
        ("https://handoff.example.com/console/oauth-done", true),
        (RETURN_URL, true),
        ("https://handoff.example.com/console/oauth-done-x", false),
        ("https://handoff.example.com/console/oauth-done?zendesk=connected", false),
        ("https://handoff.example.com/console/oauth-done#x", false),
        ("https://handoff.example.com/console", false),
        ("http://handoff.example.com/console/oauth-done", false),
        ("https://evil.example.com/console/oauth-done", false),
    ] {
        let body = json!({"subdomain": "acme", "return_url": return_url});
        let reply = h.call("POST", &connect, Some(&body), &[CREATE_OAUTH]).await;
        assert_eq!(reply.status == StatusCode::OK, allowed, "{return_url}: {}", reply.raw);
    }
}

#[tokio::test]
async fn the_connection_says_which_zendesk_user_the_bot_acts_as() {
    let h = Harness::unconnected(Backend::Dynalite).await;
    let body = json!({"mode": "api_token", "subdomain": "acme", "email": crate::support::AGENT_EMAIL, "api_token": crate::support::API_TOKEN});
    let put = h.call("PUT", &path(&h, "zendesk/connection"), Some(&body), &[CREATE_OAUTH]).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.raw);
    let got = h.call("GET", &path(&h, "zendesk/connection"), None, &[READ]).await;
    let user = &got.body["user"];
    assert_eq!(user["email"], crate::support::AGENT_EMAIL, "{}", got.raw);
    assert!(user["id"].as_u64().is_some() && user["name"].is_string(), "{}", got.raw);
}
