//! Connecting a bot: OAuth with PKCE through the simulator's authorize page, client
//! credentials, legacy API tokens, status and disconnect — over the emulator and the simulator.

use lambda_http::http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::json;
use zendesk_sim::Route;

use crate::support::*;

const CREATE_OAUTH: &str = "ZENDESK_ACTIONS.CREATE_OAUTH";
const READ: &str = "ZENDESK_ACTIONS.READ_INTEGRATIONS";
const DELETE: &str = "ZENDESK_ACTIONS.DELETE_INTEGRATIONS";
const CREATE_TICKET: &str = "ZENDESK_ACTIONS.CREATE_TICKET";

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Asks Handoff for the authorize URL, then plays the admin's browser at Zendesk: the query
/// Zendesk redirects back with (`code`/`error` and `state`).
async fn authorize(h: &Harness, return_url: &str) -> Vec<(String, String)> {
    let path = format!("/v1/bots/{}/zendesk/connect", h.bot_id);
    let started = h
        .call(
            "POST",
            &path,
            Some(&json!({"subdomain": "https://acme.zendesk.com/agent", "return_url": return_url})),
            &[CREATE_OAUTH],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.raw);
    let authorize_url = started.body["authorize_url"].as_str().unwrap();
    assert!(authorize_url.starts_with(&format!("{}/oauth/authorizations/new?", h.sim.base_url)), "{authorize_url}");
    assert!(authorize_url.contains("code_challenge_method=S256") && authorize_url.contains("code_challenge="));
    assert!(started.body["expires_at"].is_string());
    let answer = browser().get(authorize_url).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/oauth/zendesk/callback");
    location.query_pairs().into_owned().collect()
}

async fn callback(h: &Harness, query: &[(String, String)]) -> Reply {
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    let event = api_event("GET", "/oauth/zendesk/callback", &encoded, None, None);
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    Reply::from(handoff::api::dispatch(&h.app, request).await)
}

fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.raw);
    assert_eq!(reply.headers["cache-control"], "no-store");
    reply.headers["location"].to_str().unwrap().to_owned()
}

async fn no_token_stored(h: &Harness) {
    assert!(h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().is_none(), "no token may be stored");
    let status = h.call("GET", &format!("/v1/bots/{}/zendesk/connection", h.bot_id), None, &[READ]).await;
    assert_eq!(status.body["state"], "disconnected", "{}", status.raw);
}

#[tokio::test(flavor = "current_thread")]
async fn oauth_connect_then_escalate_and_disconnect_without_leaking_a_secret() {
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let mut h = Harness::unconnected(Backend::Moto).await;
    h.enable_oauth().await;
    let mut answers = Vec::new();

    let query = authorize(&h, RETURN_URL).await;
    let code = query.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    // Note the PKCE verifier (held server-side with the state) to search for it later.
    let state = query.iter().find(|(k, _)| k == "state").unwrap().1.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let pending = h.app.stores.oauth_states.take_state(&state, now).await.unwrap().unwrap();
    let verifier = pending.verifier.expose_secret().to_owned();
    h.app.stores.oauth_states.put_state(&pending).await.unwrap();
    let done = callback(&h, &query).await;
    assert_eq!(location(&done), format!("{RETURN_URL}?zendesk=connected"));
    answers.push(done.raw.clone());

    let status = h.call("GET", &format!("/v1/bots/{}/zendesk/connection", h.bot_id), None, &[READ]).await;
    assert_eq!(
        (status.body["state"].as_str(), status.body["mode"].as_str(), status.body["subdomain"].as_str()),
        (Some("connected"), Some("oauth"), Some("acme")),
        "{}",
        status.raw
    );
    assert!(status.body["scopes"].as_array().unwrap().iter().any(|s| s == "tickets:write"));
    assert!(status.body["access_token_expires_at"].is_string() && status.body["refresh_token_expires_at"].is_string());
    assert_eq!(status.body["warnings"], json!([]));
    answers.push(status.raw.clone());

    // The escalation signs in with the OAuth token: the OAuth user makes the ticket (its audit)
    // and writes the transcript; the visitor is its submitter.
    let escalated = h.escalate("conv-oauth", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
    let ticket = h.sim.ticket(escalated.ticket_id()).unwrap();
    assert_eq!(h.sim.user(ticket.audits[0].author_id).unwrap().email, "oauth-admin@example.com");
    assert_eq!(h.sim.user(ticket.comments[1].author_id).unwrap().email, "oauth-admin@example.com");
    assert_eq!(ticket.submitter_id, ticket.requester_id);
    answers.push(escalated.raw.clone());

    let secret = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    let handoff::store::StoredCredentials::Oauth { access_token, refresh_token, .. } = secret.credentials else {
        panic!("OAuth credentials expected")
    };
    let access = access_token.expose_secret().to_owned();
    let refresh = refresh_token.unwrap().expose_secret().to_owned();

    // Disconnect: revoked at Zendesk, secret gone, escalations refused; again is harmless.
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let gone = h.call("DELETE", &path, None, &[DELETE]).await;
    assert_eq!((gone.status, gone.body["state"].as_str()), (StatusCode::OK, Some("disconnected")), "{}", gone.raw);
    assert!(!h.sim.bearer_valid(&access), "the token was revoked at Zendesk");
    assert!(h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().is_none());
    assert!(h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().is_none(), "both secrets are gone");
    let refused = h.escalate("conv-after", &escalation_body("talk to a human")).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (StatusCode::CONFLICT, Some("urn:handoff:problem:not-connected"))
    );
    let again = h.call("DELETE", &path, None, &[DELETE]).await;
    assert_eq!((again.status, again.body["state"].as_str()), (StatusCode::OK, Some("disconnected")));
    assert_eq!(h.sim.tickets().len(), 1, "tickets in Zendesk stay");
    answers.push(gone.raw.clone());

    let audit = h.app.stores.audit.list(&h.bot_id, 20, None).await.unwrap();
    let actions: Vec<(&str, &str)> = audit.entries.iter().map(|e| (e.action.as_str(), e.outcome.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("disconnected", "ok"),
            ("escalated", "ok"),
            ("oauth_callback", "ok"),
            ("connected", "ok"),
            ("connect_started", "ok")
        ]
    );
    assert_eq!(audit.entries[0].detail["revoke"], "revoked");

    let text = logs.text();
    assert!(text.contains("connected"), "logs were captured");
    let named = [
        ("code", code.as_str()),
        ("verifier", verifier.as_str()),
        ("access", access.as_str()),
        ("refresh", refresh.as_str()),
        ("client secret", OAUTH_CLIENT_SECRET),
    ];
    for (name, secret) in named {
        let line = text.lines().find(|l| l.contains(secret)).map(|l| l.replace(secret, "<SECRET>"));
        assert!(
            line.is_none(),
            "the {name} reached the logs: {}",
            line.unwrap_or_default().chars().take(400).collect::<String>()
        );
        assert!(answers.iter().all(|a| !a.contains(secret)), "a secret reached an answer");
        assert!(audit.entries.iter().all(|e| !format!("{e:?}").contains(secret)), "a secret reached the audit log");
    }
}

#[tokio::test]
async fn every_broken_callback_ends_in_a_clear_error_and_stores_no_token() {
    let mut h = Harness::unconnected(Backend::Moto).await;
    h.enable_oauth().await;
    let error_url = |reason: &str| format!("{RETURN_URL}?zendesk=error&reason={reason}");

    // Forged state.
    let forged = callback(&h, &[("code".into(), "x".into()), ("state".into(), "forged".into())]).await;
    assert_eq!(
        (forged.status, forged.body["type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("urn:handoff:problem:invalid-oauth-state"))
    );
    // No state at all.
    let stateless = callback(&h, &[("code".into(), "x".into())]).await;
    assert_eq!(stateless.status, StatusCode::BAD_REQUEST);
    // The admin clicks Deny.
    h.sim.deny_next_authorization();
    let denied = authorize(&h, RETURN_URL).await;
    assert!(denied.iter().any(|(k, v)| k == "error" && v == "access_denied"));
    assert_eq!(location(&callback(&h, &denied).await), error_url("access_denied"));
    no_token_stored(&h).await;
    // An expired state.
    let expired = handoff::store::OAuthState {
        state: unique("st"),
        bot_id: h.bot_id.clone(),
        subdomain: "acme".into(),
        verifier: secrecy::SecretString::from("v"),
        return_url: RETURN_URL.into(),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() - 1,
    };
    h.app.stores.oauth_states.put_state(&expired).await.unwrap();
    let late = callback(&h, &[("code".into(), "x".into()), ("state".into(), expired.state.clone())]).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    // A wrong PKCE verifier: the stored verifier is swapped before the callback.
    let query = authorize(&h, RETURN_URL).await;
    let state = query.iter().find(|(k, _)| k == "state").unwrap().1.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut pending = h.app.stores.oauth_states.take_state(&state, now).await.unwrap().unwrap();
    pending.verifier = secrecy::SecretString::from("a-verifier-that-does-not-match-the-challenge-0000");
    h.app.stores.oauth_states.put_state(&pending).await.unwrap();
    assert_eq!(location(&callback(&h, &query).await), error_url("exchange_failed"));
    no_token_stored(&h).await;
    // A return URL off the allow-list is refused before anything is stored.
    let path = format!("/v1/bots/{}/zendesk/connect", h.bot_id);
    let open_redirect = h
        .call(
            "POST",
            &path,
            Some(&json!({"subdomain": "acme", "return_url": "https://evil.example.com/"})),
            &[CREATE_OAUTH],
        )
        .await;
    assert_eq!(open_redirect.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", open_redirect.raw);
    assert_eq!(open_redirect.body["errors"][0]["field"], "return_url");
    // A reused code, and a reused state.
    let first = authorize(&h, RETURN_URL).await;
    let second = authorize(&h, RETURN_URL).await;
    let code = first.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let second_state = second.iter().find(|(k, _)| k == "state").unwrap().1.clone();
    assert_eq!(location(&callback(&h, &first).await), format!("{RETURN_URL}?zendesk=connected"));
    h.app.stores.secrets.delete_bot_secret(&h.bot_id).await.unwrap();
    let reused = callback(&h, &[("code".into(), code), ("state".into(), second_state)]).await;
    assert_eq!(location(&reused), error_url("exchange_failed"));
    assert!(h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().is_none(), "a reused code stores no token");
    let replayed = callback(&h, &first).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "a state works once");
    // Bad subdomains say what a subdomain is.
    let bad = h
        .call("POST", &path, Some(&json!({"subdomain": "acme.example.com", "return_url": RETURN_URL})), &[CREATE_OAUTH])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["errors"][0]["message"].as_str().unwrap().contains("before .zendesk.com"), "{}", bad.raw);
}

#[tokio::test]
async fn the_state_belongs_to_the_bot_that_asked() {
    let mut h = Harness::unconnected(Backend::Dynalite).await;
    h.enable_oauth().await;
    let query = authorize(&h, RETURN_URL).await;
    assert_eq!(location(&callback(&h, &query).await), format!("{RETURN_URL}?zendesk=connected"));
    let other = h.app.stores.bots.load_profile("some-other-bot").await.unwrap();
    assert!(other.connection.is_none(), "only the bot that started the flow is connected");
    // Another bot's token cannot start a flow for this bot.
    let path = format!("/v1/bots/{}/zendesk/connect", h.bot_id);
    let event = api_event(
        "POST",
        &path,
        "",
        Some(&json!({"subdomain": "acme", "return_url": RETURN_URL}).to_string()),
        Some(("some-other-bot", &[CREATE_OAUTH])),
    );
    let reply = h.send_any(event).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn client_credentials_connect_then_escalate() {
    let h = Harness::unconnected(Backend::Moto).await;
    h.sim.add_oauth_client("acme-own-client", "cc-secret-77", "cc-agent@example.com");
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let body = json!({"mode": "client_credentials", "subdomain": "acme", "client_id": "acme-own-client", "client_secret": "cc-secret-77"});
    let reply = h.call("PUT", &path, Some(&body), &[CREATE_OAUTH]).await;
    assert_eq!(
        (reply.status, reply.body["mode"].as_str()),
        (StatusCode::OK, Some("client_credentials")),
        "{}",
        reply.raw
    );
    assert!(!reply.raw.contains("cc-secret-77"));
    let escalated = h.escalate("conv-cc", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
    let wrong = json!({"mode": "client_credentials", "subdomain": "acme", "client_id": "acme-own-client", "client_secret": "nope"});
    let refused = h.call("PUT", &path, Some(&wrong), &[CREATE_OAUTH]).await;
    assert_eq!(refused.body["type"], "urn:handoff:problem:zendesk-credentials-rejected", "{}", refused.raw);
}

#[tokio::test]
async fn api_token_connect_is_verified_and_warned_about() {
    let mut h = Harness::unconnected(Backend::Moto).await;
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let good =
        json!({"mode": "api_token", "subdomain": "acme.zendesk.com", "email": AGENT_EMAIL, "api_token": API_TOKEN});
    let reply = h.call("PUT", &path, Some(&good), &[CREATE_OAUTH]).await;
    assert_eq!((reply.status, reply.body["mode"].as_str()), (StatusCode::OK, Some("api_token")), "{}", reply.raw);
    let status = h.call("GET", &path, None, &[READ]).await;
    assert!(status.body["warnings"][0].as_str().unwrap().contains("2027-04-30"), "{}", status.raw);
    assert!(!status.raw.contains(API_TOKEN) && !reply.raw.contains(API_TOKEN));
    assert_eq!(h.escalate("conv-tok", &escalation_body("talk to a human")).await.status, StatusCode::CREATED);

    let wrong = json!({"mode": "api_token", "subdomain": "acme", "email": AGENT_EMAIL, "api_token": "not-the-token"});
    let refused = h.call("PUT", &path, Some(&wrong), &[CREATE_OAUTH]).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("urn:handoff:problem:zendesk-credentials-rejected"))
    );
    for cause in ["owner of the API token", "token access", "deactivated"] {
        assert!(refused.body["detail"].as_str().unwrap().contains(cause), "{}", refused.raw);
    }
    assert!(!refused.raw.contains("not-the-token"));

    // Nothing answers at the subdomain.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    h.app.connect.zendesk_base_url = Some(url::Url::parse(&format!("http://{closed}")).unwrap());
    let nowhere = h.call("PUT", &path, Some(&good), &[CREATE_OAUTH]).await;
    assert_eq!(nowhere.body["type"], "urn:handoff:problem:zendesk-subdomain-unknown", "{}", nowhere.raw);

    // Bodies: wrong shape, unknown mode, wrong types — never quoting what was sent.
    for (body, status) in [
        (json!({"mode": "api_token", "subdomain": "acme"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"mode": "carrier-pigeon", "subdomain": "acme"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"mode": "api_token", "subdomain": "acme", "email": AGENT_EMAIL, "api_token": 424242}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"mode": "oauth"}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let reply = h.call("PUT", &path, Some(&body), &[CREATE_OAUTH]).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.raw);
        assert_eq!(reply.content_type(), "application/problem+json");
        assert!(!reply.raw.contains("424242") && !reply.raw.contains("carrier-pigeon"), "{}", reply.raw);
    }
    let wrong_scope = h.call("PUT", &path, Some(&good), &[CREATE_TICKET]).await;
    assert_eq!(wrong_scope.status, StatusCode::FORBIDDEN);
    assert_eq!(h.sim.count(Route::OAuthToken), 0);
}

/// A bot connected through the whole OAuth flow.
pub(crate) async fn oauth_connected(backend: Backend) -> Harness {
    let mut h = Harness::unconnected(backend).await;
    h.enable_oauth().await;
    let query = authorize(&h, RETURN_URL).await;
    assert_eq!(location(&callback(&h, &query).await), format!("{RETURN_URL}?zendesk=connected"));
    h
}

/// Makes the stored access token look about to expire (as it will be after an hour).
pub(crate) async fn expire_soon(h: &Harness) {
    let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 30;
    let profile = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap();
    let connection = handoff::store::Connection { access_token_expires_at: Some(soon), ..profile.connection.unwrap() };
    h.app.stores.bots.put_connection(&connection).await.unwrap();
    let mut secret = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    match &mut secret.credentials {
        handoff::store::StoredCredentials::Oauth { access_token_expires_at, .. }
        | handoff::store::StoredCredentials::ClientCredentials { access_token_expires_at, .. } => {
            *access_token_expires_at = Some(soon)
        }
        handoff::store::StoredCredentials::ApiToken { .. } => panic!("API tokens do not expire"),
    }
    h.app.stores.secrets.put_bot_secret(&h.bot_id, &secret).await.unwrap();
}

pub(crate) fn refresher(h: &Harness) -> handoff::connection::refresh::Refresher<'_> {
    handoff::connection::refresh::Refresher {
        stores: &h.app.stores,
        zendesk: &h.app.zendesk,
        zendesk_base_url: h.app.escalation.zendesk_base_url.as_ref(),
    }
}

pub(crate) fn access_token(secret: &handoff::store::BotSecret) -> String {
    match &secret.credentials {
        handoff::store::StoredCredentials::Oauth { access_token, .. } => access_token.expose_secret().to_owned(),
        other => panic!("OAuth expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_refreshers_and_request_paths_make_exactly_one_refresh_call() {
    use handoff::connection::refresh::Reason;
    let h = std::sync::Arc::new(oauth_connected(Backend::Moto).await);
    expire_soon(&h).await;
    h.sim.reset_calls();
    let mut refreshers = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let h = h.clone();
        refreshers.spawn(async move {
            let deadline = handoff::deadline::Deadline::after(std::time::Duration::from_secs(20));
            refresher(&h).refresh(&h.bot_id, Reason::Expiring, deadline).await.map(|s| access_token(&s))
        });
    }
    let mut escalations = tokio::task::JoinSet::new();
    for i in 0..5 {
        let h = h.clone();
        escalations
            .spawn(async move { h.escalate(&format!("conv-refresh-{i}"), &escalation_body("talk to a human")).await });
    }
    let mut tokens = Vec::new();
    while let Some(result) = refreshers.join_next().await {
        tokens.push(result.unwrap().expect("every refresher ends with a token"));
    }
    while let Some(reply) = escalations.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    }
    assert_eq!(h.sim.count(Route::OAuthToken), 1, "exactly one refresh call to Zendesk");
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller ends with the same, new token");
    assert!(h.sim.bearer_valid(&tokens[0]));
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    assert!(audit.entries.iter().all(|e| e.action != "refresh_failed"), "no invalid_grant");
    let connection = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap();
    assert!(connection.last_refresh_at.is_some() && connection.refresh_lease_holder.is_none());
}

#[tokio::test]
async fn a_refresh_token_revoked_at_zendesk_asks_for_a_reconnect_which_restores_service() {
    let h = oauth_connected(Backend::Dynalite).await;
    expire_soon(&h).await;
    h.sim.revoke_refresh_tokens();
    let summary = refresher(&h)
        .refresh_due(50, handoff::deadline::Deadline::after(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(summary.reconnect_required, 1, "{summary:?}");
    let status = h.call("GET", &format!("/v1/bots/{}/zendesk/connection", h.bot_id), None, &[READ]).await;
    assert_eq!(status.body["state"], "reconnect_required", "{}", status.raw);
    assert!(status.body["warnings"][0].as_str().unwrap().contains("reconnect"));
    let refused = h.escalate("conv-revoked", &escalation_body("talk to a human")).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (StatusCode::FORBIDDEN, Some("urn:handoff:problem:reconnect-required"))
    );
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    assert!(
        audit.entries.iter().any(|e| e.action == "refresh_failed" && e.outcome == "invalid_grant"),
        "{:?}",
        audit.entries
    );

    // The admin reconnects: service is back.
    let query = authorize(&h, RETURN_URL).await;
    assert_eq!(location(&callback(&h, &query).await), format!("{RETURN_URL}?zendesk=connected"));
    let escalated = h.escalate("conv-back", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
    // Nothing is due now: the new tokens are fresh.
    assert_eq!(
        refresher(&h)
            .refresh_due(50, handoff::deadline::Deadline::after(std::time::Duration::from_secs(60)))
            .await
            .unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn client_credentials_are_renewed_by_granting_again() {
    let h = Harness::unconnected(Backend::Moto).await;
    h.sim.add_oauth_client("acme-own-client", "cc-secret-77", "cc-agent@example.com");
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let body = json!({"mode": "client_credentials", "subdomain": "acme", "client_id": "acme-own-client", "client_secret": "cc-secret-77"});
    assert_eq!(h.call("PUT", &path, Some(&body), &[CREATE_OAUTH]).await.status, StatusCode::OK);
    expire_soon(&h).await;
    h.sim.reset_calls();
    let summary = refresher(&h)
        .refresh_due(50, handoff::deadline::Deadline::after(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(summary.refreshed, 1, "{summary:?}");
    assert_eq!(h.sim.count(Route::OAuthToken), 1);
    let grant = h.sim.calls().into_iter().find(|c| c.route == Route::OAuthToken).unwrap().body.unwrap();
    assert_eq!(grant["grant_type"], "client_credentials");
    let escalated = h.escalate("conv-cc-renewed", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
}

#[tokio::test]
async fn the_connection_sample_events_behave_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let load = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(name)).unwrap()).unwrap()
    };
    let mut h = Harness::for_bot(Backend::Memory, "demo-bot").await;
    h.enable_oauth().await;
    let connect = h.send_any(load("connect.json")).await;
    assert_eq!(connect.status, StatusCode::OK, "{}", connect.raw);
    assert!(connect.body["authorize_url"].as_str().unwrap().contains("code_challenge="));
    let status = h.send_any(load("connection-get.json")).await;
    assert_eq!((status.status, status.body["state"].as_str()), (StatusCode::OK, Some("connected")), "{}", status.raw);
    let put = h.send_any(load("connection-put-api-token.json")).await;
    assert_eq!(
        put.body["type"], "urn:handoff:problem:zendesk-credentials-rejected",
        "the placeholder token is refused: {}",
        put.raw
    );
    let callback = h.send_any(load("oauth-callback.json")).await;
    assert_eq!(callback.body["type"], "urn:handoff:problem:invalid-oauth-state", "{}", callback.raw);
    let delete = h.send_any(load("connection-delete.json")).await;
    assert_eq!(
        (delete.status, delete.body["state"].as_str()),
        (StatusCode::OK, Some("disconnected")),
        "{}",
        delete.raw
    );
    let schedule: serde_json::Value = load("token-refresh.json");
    assert_eq!(schedule["source"], "aws.scheduler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_during_a_slow_refresh_leaves_no_live_token_behind() {
    use handoff::connection::refresh::Reason;
    let h = std::sync::Arc::new(oauth_connected(Backend::Moto).await);
    expire_soon(&h).await;
    h.sim.inject(Route::OAuthToken, zendesk_sim::Fault::Slow(std::time::Duration::from_millis(800)), 1);
    let refreshing = {
        let h = h.clone();
        tokio::spawn(async move {
            // A refresh starts only with a whole lease of time left.
            let deadline = handoff::deadline::Deadline::after(std::time::Duration::from_secs(30));
            refresher(&h).refresh(&h.bot_id, Reason::Expiring, deadline).await.map(|s| access_token(&s))
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let gone = h.call("DELETE", &path, None, &[DELETE]).await;
    assert_eq!((gone.status, gone.body["state"].as_str()), (StatusCode::OK, Some("disconnected")), "{}", gone.raw);
    let new_token = refreshing.await.unwrap().expect("the refresh finished before the disconnect went on");
    assert!(!h.sim.bearer_valid(&new_token), "the token the refresh made was revoked");
    assert!(h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().is_none(), "no secret written back");
    let due = h.app.stores.bots.list_refresh_due(i64::MAX / 2, 1000).await.unwrap();
    assert!(due.iter().all(|c| c.bot_id != h.bot_id), "a disconnected bot is not refreshed");
    let audit = h.app.stores.audit.list(&h.bot_id, 20, None).await.unwrap();
    assert_eq!(audit.entries[0].detail["revoke"], "revoked");
}

#[tokio::test]
async fn a_refused_app_client_does_not_disconnect_the_bots() {
    let h = oauth_connected(Backend::Moto).await;
    expire_soon(&h).await;
    // The operator rotated the client secret in Zendesk but not yet in Secrets Manager.
    h.sim.add_oauth_client(OAUTH_CLIENT_ID, "rotated-in-zendesk", "oauth-admin@example.com");
    let summary = refresher(&h)
        .refresh_due(50, handoff::deadline::Deadline::after(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!((summary.failed, summary.reconnect_required), (1, 0), "{summary:?}");
    let connection = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap();
    assert_eq!(connection.state, handoff::store::ConnectionState::Connected);
    let audit = h.app.stores.audit.list(&h.bot_id, 20, None).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "refresh_failed" && e.outcome == "app_client_rejected"));
}

#[tokio::test]
async fn tokens_from_a_connect_that_fails_verification_are_revoked() {
    let mut h = Harness::unconnected(Backend::Moto).await;
    h.enable_oauth().await;
    h.sim.set_role("oauth-admin@example.com", "end-user");
    let query = authorize(&h, RETURN_URL).await;
    assert_eq!(location(&callback(&h, &query).await), format!("{RETURN_URL}?zendesk=error&reason=not_agent"));
    assert_eq!(h.sim.count(Route::RevokeToken), 1, "the unused token was revoked");
    no_token_stored(&h).await;
}

#[tokio::test]
async fn the_audit_trail_records_each_kind_of_event_newest_first_without_secrets_or_transcripts() {
    let mut h = oauth_connected(Backend::Moto).await;
    // An OAuth attempt the admin denies.
    h.sim.deny_next_authorization();
    let denied = authorize(&h, RETURN_URL).await;
    callback(&h, &denied).await;
    // Settings, with a callback secret.
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let callback_secret = h.set_callback(&receiver.url).await;
    // An escalation, and one Zendesk refuses for good.
    let visitor_text = "my parcel 77 never arrived, talk to a human";
    assert_eq!(h.escalate("conv-a1", &escalation_body(visitor_text)).await.status, StatusCode::CREATED);
    h.sim.inject(Route::CreateTicket, zendesk_sim::Fault::Status { status: 422, retry_after_secs: None }, 1);
    assert_eq!(h.escalate("conv-a2", &escalation_body(visitor_text)).await.status.as_u16() / 100, 5);
    // A forged webhook delivery.
    let forged = {
        let mut event = api_event("POST", &format!("/webhooks/zendesk/{}", h.bot_id), "", Some("{}"), None);
        event["headers"]["x-zendesk-webhook-signature"] = json!("AAAA");
        event["headers"]["x-zendesk-webhook-signature-timestamp"] =
            json!(time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap());
        event
    };
    assert_eq!(h.send_any(forged).await.status, StatusCode::UNAUTHORIZED);
    let secret = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    let signing = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap().webhook_signing_secret;
    // A refresh Zendesk refuses (the grant was revoked), then a disconnect.
    h.sim.revoke_refresh_tokens();
    expire_soon(&h).await;
    let refresher = handoff::connection::refresh::Refresher {
        stores: &h.app.stores,
        zendesk: &h.app.zendesk,
        zendesk_base_url: h.app.escalation.zendesk_base_url.as_ref(),
    };
    refresher.refresh_due(10, handoff::deadline::Deadline::after(std::time::Duration::from_secs(60))).await.unwrap();
    let gone = h.call("DELETE", &format!("/v1/bots/{}/zendesk/connection", h.bot_id), None, &[DELETE]).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.raw);

    // Page through the trail, three at a time.
    let path = format!("/v1/bots/{}/audit", h.bot_id);
    let (mut entries, mut raw, mut cursor) = (Vec::new(), String::new(), None::<String>);
    for _ in 0..20 {
        let query = match &cursor {
            Some(c) => format!("limit=3&cursor={c}"),
            None => "limit=3".to_owned(),
        };
        let page = h.request("GET", &path, &query, None, &[READ], &[], &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.raw);
        raw.push_str(&page.raw);
        entries.extend(page.body["entries"].as_array().unwrap().iter().cloned());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    for expected in [
        "connect_started",
        "oauth_callback",
        "connected",
        "settings_changed",
        "callback_secret_rotated",
        "escalated",
        "escalation_failed",
        "webhook_rejected",
        "refresh_failed",
        "disconnected",
    ] {
        assert!(actions.contains(&expected), "no `{expected}` entry in {actions:?}");
    }
    let times: Vec<&str> = entries.iter().filter_map(|e| e["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert!(actions.len() >= 10 && actions.len() == entries.len());
    let denied_entry =
        entries.iter().find(|e| e["action"] == "oauth_callback" && e["outcome"] != "ok").expect("the denial");
    assert_eq!(denied_entry["outcome"], "access_denied", "{denied_entry}");
    let escalated = entries.iter().find(|e| e["action"] == "escalated").unwrap();
    assert_eq!(escalated["detail"]["rule"], "explicit_request");
    assert!(escalated["detail"]["ticket_id"].as_str().is_some_and(|t| t.parse::<u64>().is_ok()));

    let mut secrets = vec![callback_secret.clone()];
    if let Some(signing) = &signing {
        secrets.push(signing.expose_secret().to_owned());
    }
    if let handoff::store::StoredCredentials::Oauth { access_token, refresh_token, .. } = &secret.credentials {
        secrets.push(access_token.expose_secret().to_owned());
        secrets.extend(refresh_token.as_ref().map(|t| t.expose_secret().to_owned()));
    }
    for needle in secrets.iter().map(String::as_str).chain([visitor_text, "parcel 77"]) {
        assert!(!raw.contains(needle), "the audit trail holds a secret or transcript text");
    }
    let forged_cursor = h.request("GET", &path, "cursor=Q09OViNzZWNyZXQ", None, &[READ], &[], &[]).await;
    assert_eq!(forged_cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
}
