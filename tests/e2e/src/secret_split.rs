//! The webhook secret stands apart from the credentials (issue 12 item 6): the public webhook
//! function verifies with `{prefix}bots/{bot}/webhook` alone, and a bot whose signing and
//! callback secrets still sit in the combined secret has them moved by the sweeper.

use std::sync::Arc;
use std::time::Duration;

use handoff::app::App;
use handoff::deadline::Deadline;
use handoff::store::secrets_manager::SecretsManagerStore;
use handoff::store::{ClaimRequest, RecordedTicket};
use handoff::webhook::signature::sign;
use handoff::zendesk::types::TicketStatus;
use lambda_http::http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::*;

const SUPPORT_AGENT: &str = "carla@example.com";
const WAIT: Duration = Duration::from_secs(10);
const RUN: Duration = Duration::from_secs(55);

/// Secrets Manager on moto, without any cache in between.
async fn raw() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint(MOTO_ENV)).await)
}

/// The harness's secret prefix (Secrets Manager adapters only).
fn prefix(h: &Harness) -> String {
    let Adapters::Aws { secrets, .. } = &h.adapters else { panic!("needs Secrets Manager") };
    secrets.prefix().to_owned()
}

async fn read_raw(name: &str) -> Option<Value> {
    match raw().await.get_secret_value().secret_id(name).send().await {
        Ok(out) => Some(serde_json::from_str(out.secret_string().expect("a string secret")).expect("JSON")),
        Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) => None,
        Err(e) => panic!("reading {name}: {e:?}"),
    }
}

async fn write_raw(name: &str, value: &Value) {
    let client = raw().await;
    let put = client.put_secret_value().secret_id(name).secret_string(value.to_string()).send().await;
    if put.is_err() {
        client.create_secret().name(name).secret_string(value.to_string()).send().await.expect("create");
    }
}

async fn delete_raw(name: &str) {
    let deleted = raw().await.delete_secret().secret_id(name).force_delete_without_recovery(true).send().await;
    if let Err(e) = deleted {
        assert!(e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()), "{e:?}");
    }
}

/// Another warm Lambda: the same tables, its own Secrets Manager client and cache.
async fn other_lambda(h: &Harness) -> (App, Arc<SecretsManagerStore>) {
    let secrets = Arc::new(SecretsManagerStore::new(raw().await, prefix(h)));
    let mut stores = h.app.stores.clone();
    stores.secrets = secrets.clone();
    let app = App::new(stores, Some(url::Url::parse(&h.sim.base_url).expect("sim url"))).expect("app");
    (app, secrets)
}

/// Rewrites the bot's secrets as versions before the split kept them: both the signing and the
/// callback secret in the credentials secret, no webhook secret. Their names.
async fn old_layout(h: &Harness, signing: &str, callback: &str) -> (String, String) {
    let prefix = prefix(h);
    let combined_name = format!("{prefix}bots/{}/zendesk", h.bot_id);
    let webhook_name = format!("{prefix}bots/{}/webhook", h.bot_id);
    let mut combined = read_raw(&combined_name).await.expect("the credentials secret");
    combined["webhook_signing_secret"] = json!(signing);
    combined["callback_secret"] = json!(callback);
    write_raw(&combined_name, &combined).await;
    delete_raw(&webhook_name).await;
    h.app.stores.secrets.invalidate(&h.bot_id);
    (combined_name, webhook_name)
}

/// A delivery signed as Zendesk signs it, through `app`'s dispatch.
async fn deliver(h: &Harness, app: &App, body: &str, signing: &str) -> Reply {
    let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let mut event = api_event("POST", &format!("/webhooks/zendesk/{}", h.bot_id), "", Some(body), None);
    event["headers"]["x-zendesk-webhook-signature"] = json!(sign(signing.as_bytes(), &now, body.as_bytes()));
    event["headers"]["x-zendesk-webhook-signature-timestamp"] = json!(now);
    let request = lambda_http::request::from_str(&event.to_string()).expect("event");
    Reply::from(handoff::api::dispatch(app, request).await)
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test]
async fn the_webhook_route_verifies_with_the_webhook_secret_alone() {
    let h = Harness::new(Backend::Moto).await;
    let reply = h.escalate("conv-split1", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let ticket = reply.ticket_id();
    // Only the webhook secret exists for this bot: the credentials secret is gone.
    let prefix = prefix(&h);
    write_raw(&format!("{prefix}bots/{}/webhook", h.bot_id), &json!({"webhook_signing_secret": "whsec-split-1"})).await;
    delete_raw(&format!("{prefix}bots/{}/zendesk", h.bot_id)).await;

    let (webhook_lambda, secrets) = other_lambda(&h).await;
    let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let body = json!({
        "type": "zen:event-type:ticket.status_changed", "id": "ev-split-1", "time": now,
        "account_id": 1, "subject": format!("zen:ticket:{ticket}"),
        "detail": {"id": ticket.to_string(), "status": "SOLVED", "external_id": "conv-split1"},
        "event": {"current": "SOLVED", "previous": "OPEN"}
    })
    .to_string();
    let mut event = api_event("POST", &format!("/webhooks/zendesk/{}", h.bot_id), "", Some(&body), None);
    event["headers"]["x-zendesk-webhook-signature"] = json!(sign(b"whsec-split-1", &now, body.as_bytes()));
    event["headers"]["x-zendesk-webhook-signature-timestamp"] = json!(now);
    let request = lambda_http::request::from_str(&event.to_string()).expect("event");
    let reply = Reply::from(handoff::api::dispatch(&webhook_lambda, request).await);
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["applied"], true, "{}", reply.raw);
    assert_eq!(secrets.calls.snapshot().0, 1, "one read: the webhook secret");
}

#[tokio::test]
async fn a_bot_seeded_the_old_way_keeps_verifying_and_signing_after_the_sweeper_moves_its_secrets() {
    let mut h = Harness::new(Backend::Moto).await;
    h.connect_live().await;
    h.sim.add_agent("Carla Agent", SUPPORT_AGENT, "carla-token");
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let callback_secret = h.set_callback(&receiver.url).await;
    receiver.expect_secret(&callback_secret);
    let webhook = h.sim.webhooks()[0].clone();

    let (combined_name, webhook_name) = old_layout(&h, &webhook.signing_secret, &callback_secret).await;

    // The webhook health check (due 15 minutes after connecting) moves them, once.
    for minutes in [16, 32] {
        let swept = handoff::sweeper::sweep_at(&h.app, now_ms() + minutes * 60_000, Deadline::after(RUN)).await;
        assert_eq!((swept.webhooks.healthy, swept.webhooks.repaired), (1, 0), "{swept:?}");
        let moved = read_raw(&webhook_name).await.expect("the webhook secret");
        assert_eq!(moved["webhook_signing_secret"], json!(webhook.signing_secret));
        assert_eq!(moved["callback_secret"], json!(callback_secret));
        let left = read_raw(&combined_name).await.expect("the credentials secret");
        assert!(left.get("webhook_signing_secret").is_none() && left.get("callback_secret").is_none(), "{left}");
        assert!(left.get("credentials").is_some());
    }
    assert_eq!(h.sim.webhooks().len(), 1);
    assert_eq!(h.sim.webhooks()[0].id, webhook.id, "the same webhook, not a new one");

    // Zendesk's deliveries (signed with the old signing secret) verify, and the agent's reply
    // reaches the bot signed with the callback secret it already has.
    let reply = h.escalate("conv-split2", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    h.sim.agent_reply(reply.ticket_id(), SUPPORT_AGENT, "Hello from support", true);
    let n = h.sim.emitted_events().len();
    let done = h.sim.wait_for_deliveries(n, WAIT).await;
    assert!(done.len() >= n && done.iter().all(|d| d.status == Some(200)), "{done:?}");
    let accepted: Vec<Value> =
        receiver.accepted().into_iter().map(|(_, _, b)| b).filter(|b| b["type"] == "agent_reply").collect();
    assert_eq!(accepted.len(), 1, "the reply reached the bot, signed with its callback secret");
    assert_eq!(accepted[0]["text"], "Hello from support");
}

#[tokio::test]
async fn the_first_callback_secret_rotation_moves_an_old_bots_secrets() {
    let mut h = Harness::new(Backend::Moto).await;
    h.connect_live().await;
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let old_callback = h.set_callback(&receiver.url).await;
    let signing = h.sim.webhooks()[0].signing_secret.clone();
    let (combined_name, webhook_name) = old_layout(&h, &signing, &old_callback).await;

    let path = format!("/v1/bots/{}/zendesk/settings", h.bot_id);
    let read = h.call("GET", &path, None, &["ZENDESK_ACTIONS.READ_INTEGRATIONS"]).await;
    assert_eq!(read.body["callback_secret_set"], true, "one still in the credentials secret counts");
    let mut rotate = read.body.clone();
    rotate["rotate_callback_secret"] = json!(true);
    let rotated = h.call("PUT", &path, Some(&rotate), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.raw);
    let new_callback = rotated.body["callback_secret"].as_str().expect("a new callback secret");
    assert_ne!(new_callback, old_callback);

    let moved = read_raw(&webhook_name).await.expect("the webhook secret");
    assert_eq!(moved["webhook_signing_secret"], json!(signing), "the signing secret moved with it");
    assert_eq!(moved["callback_secret"], json!(new_callback));
    let left = read_raw(&combined_name).await.expect("the credentials secret");
    assert!(left.get("webhook_signing_secret").is_none() && left.get("callback_secret").is_none(), "{left}");
}

#[tokio::test]
async fn before_the_move_a_delivery_is_retried_later_and_brings_the_health_check_forward() {
    let mut h = Harness::new(Backend::Moto).await;
    h.connect_live().await;
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let callback = h.set_callback(&receiver.url).await;
    let signing = h.sim.webhooks()[0].signing_secret.clone();
    old_layout(&h, &signing, &callback).await;
    let body = json!({
        "type": "zen:event-type:ticket.status_changed", "id": "ev-split-3",
        "time": OffsetDateTime::now_utc().format(&Rfc3339).unwrap(), "account_id": 1, "subject": "zen:ticket:1",
        "detail": {"id": "1", "status": "SOLVED", "external_id": "conv-none"},
        "event": {"current": "SOLVED", "previous": "OPEN"}
    })
    .to_string();
    let (webhook_lambda, _) = other_lambda(&h).await;

    // Not a 401 (Zendesk does not retry those): a 503, which it retries.
    let early = deliver(&h, &webhook_lambda, &body, &signing).await;
    assert_eq!(early.status, StatusCode::SERVICE_UNAVAILABLE, "{}", early.raw);
    let due = h.app.stores.outbox.list_webhook_checks_due(now_ms() + 1_000, 100).await.unwrap();
    assert!(due.iter().any(|(bot, _)| bot == &h.bot_id), "the health check is due now: {due:?}");

    // The sweeper's next run moves the secrets; Zendesk's retry verifies.
    let swept = handoff::sweeper::sweep(&h.app, Deadline::after(RUN)).await;
    assert_eq!(swept.webhooks.healthy, 1, "{swept:?}");
    let later = deliver(&h, &webhook_lambda, &body, &signing).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.raw);
}

#[tokio::test]
async fn a_token_refresh_before_the_move_keeps_the_old_secrets_in_place_for_it() {
    let h = crate::connect::oauth_connected(Backend::Moto).await;
    let (combined_name, webhook_name) = old_layout(&h, "whsec-old-layout", "cb-old-layout").await;
    crate::connect::expire_soon(&h).await;
    let refreshed = crate::connect::refresher(&h)
        .refresh(&h.bot_id, handoff::connection::refresh::Reason::Expiring, Deadline::after(Duration::from_secs(30)))
        .await
        .expect("refreshed");
    let combined = read_raw(&combined_name).await.expect("the credentials secret");
    assert_eq!(combined["credentials"]["access_token"], json!(crate::connect::access_token(&refreshed)));
    assert_eq!(combined["webhook_signing_secret"], "whsec-old-layout", "carried over by the refresher");
    assert_eq!(combined["callback_secret"], "cb-old-layout");
    assert!(read_raw(&webhook_name).await.is_none(), "the refresher never writes the webhook secret");

    let swept = handoff::sweeper::sweep_at(&h.app, now_ms() + 16 * 60_000, Deadline::after(RUN)).await;
    assert_eq!(swept.webhooks.failed, 0, "{swept:?}");
    let moved = read_raw(&webhook_name).await.expect("moved");
    assert_eq!(moved["callback_secret"], "cb-old-layout");
    let left = read_raw(&combined_name).await.expect("the credentials secret");
    assert!(left.get("callback_secret").is_none(), "{left}");
    assert_eq!(left["credentials"]["access_token"], json!(crate::connect::access_token(&refreshed)));
}

/// What a refresher whose last try landed late does to the credentials secret: spends the
/// stored refresh token at Zendesk and stores the new pair (the old-layout fields carried over).
async fn rotate_behind(sim_url: String, combined_name: String) {
    let mut combined = read_raw(&combined_name).await.expect("the credentials secret");
    let grant: Value = reqwest::Client::new()
        .post(format!("{sim_url}/oauth/tokens"))
        .json(&json!({
            "grant_type": "refresh_token", "refresh_token": combined["credentials"]["refresh_token"],
            "client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET,
        }))
        .send()
        .await
        .expect("the token endpoint")
        .json()
        .await
        .expect("a grant");
    assert!(grant["access_token"].is_string() && grant["refresh_token"].is_string(), "a rotated pair");
    combined["credentials"]["access_token"] = grant["access_token"].clone();
    combined["credentials"]["refresh_token"] = grant["refresh_token"].clone();
    write_raw(&combined_name, &combined).await;
}

#[tokio::test]
async fn the_move_keeps_a_pair_rotated_after_it_read_the_credentials() {
    let mut h = crate::connect::oauth_connected(Backend::Moto).await;
    let proxy = crate::refresh::FailingSecretWrites::start(endpoint(MOTO_ENV)).await;
    crate::refresh::secrets_through(&mut h, &proxy).await;
    let (combined_name, webhook_name) = old_layout(&h, "whsec-rotated-between", "cb-rotated-between").await;
    let before = read_raw(&combined_name).await.expect("the credentials secret");
    // After the move has read the credentials secret, and while it writes the webhook secret, the
    // pair is rotated and stored by someone else.
    proxy.before_next_write("/webhook", rotate_behind(h.sim.base_url.clone(), combined_name.clone()));
    let moved = handoff::connection::secret_edit::move_legacy_secrets(&h.app.stores, &h.bot_id).await;
    assert!(moved.expect("moved"), "something moved");
    assert!(!proxy.before_write_pending(), "the pair was rotated between the move's read and write");

    let webhook = read_raw(&webhook_name).await.expect("the webhook secret");
    assert_eq!(webhook["webhook_signing_secret"], "whsec-rotated-between");
    assert_eq!(webhook["callback_secret"], "cb-rotated-between");
    let left = read_raw(&combined_name).await.expect("the credentials secret");
    let legacy_left = left.get("webhook_signing_secret").is_some() || left.get("callback_secret").is_some();
    assert!(!legacy_left, "the old-layout fields were dropped from the credentials secret");
    let access = left["credentials"]["access_token"].as_str().expect("an access token");
    // Compared, never printed.
    assert!(access != before["credentials"]["access_token"].as_str().unwrap(), "the rotated pair was kept");
    assert!(h.sim.bearer_valid(access));
    // The stored refresh token is the live one.
    crate::connect::expire_soon(&h).await;
    let refreshed = crate::connect::refresher(&h)
        .refresh(&h.bot_id, handoff::connection::refresh::Reason::Expiring, Deadline::after(Duration::from_secs(30)))
        .await;
    assert!(refreshed.is_ok(), "{:?}", refreshed.map(|_| ()));
}

#[tokio::test]
async fn the_local_runners_secrets_file_keeps_webhook_secrets_apart_and_reads_an_older_file() {
    use handoff::store::{SecretStore, WebhookSecret};
    use secrecy::{ExposeSecret, SecretString};
    let dir = std::env::temp_dir().join(unique("handoff-secrets"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("secrets.json");
    // A file written before the split: the signing and callback secrets inside the bot's entry.
    let older = json!({"bots": {"demo-bot": {
        "credentials": {"kind": "api_token", "email": "a@example.com", "api_token": "tok-1"},
        "webhook_signing_secret": "whsec-file", "callback_secret": "cb-file"
    }}});
    std::fs::write(&path, older.to_string()).unwrap();
    let secrets = handoff_local::persist::open_secrets(&path).expect("an older file opens");
    let read = secrets.get_bot_secret("demo-bot").await.unwrap().expect("the bot's credentials");
    assert_eq!(read.legacy_callback_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("cb-file"));
    assert!(secrets.get_webhook_secret("demo-bot").await.unwrap().is_none());

    let webhook = WebhookSecret {
        webhook_signing_secret: Some(SecretString::from("whsec-new")),
        callback_secret: Some(SecretString::from("cb-new")),
        account: Some("acme".into()),
    };
    secrets.put_webhook_secret("demo-bot", &webhook).await.unwrap();
    drop(secrets);
    let reopened = handoff_local::persist::open_secrets(&path).expect("reopens");
    let read = reopened.get_webhook_secret("demo-bot").await.unwrap().expect("kept across a restart");
    assert_eq!(read.webhook_signing_secret.unwrap().expose_secret(), "whsec-new");
    assert_eq!(read.callback_secret.unwrap().expose_secret(), "cb-new");
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["webhooks"]["demo-bot"]["callback_secret"], "cb-new", "a section of its own");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_warm_lambda_still_holding_the_old_accounts_secret_applies_its_events_to_the_old_accounts_tickets_only() {
    let h = Harness::new(Backend::Moto).await;
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let connect = |subdomain: &str| json!({"mode": "api_token", "subdomain": subdomain, "email": AGENT_EMAIL, "api_token": API_TOKEN});
    let connected = h.call("PUT", &path, Some(&connect("acme")), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    assert_eq!(connected.status, StatusCode::OK, "{}", connected.raw);
    let reply = h.escalate("conv-sandbox", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let sandbox_ticket = reply.ticket_id();
    let signing = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap();
    let signing = signing.webhook_signing_secret.expect("registered").expose_secret().to_owned();

    // Another warm Lambda reads the sandbox webhook's secret before the move.
    let (other, _) = other_lambda(&h).await;
    let warm = deliver(&h, &other, &status_body("evt-warm", sandbox_ticket, "OPEN"), &signing).await;
    assert_eq!(warm.status, StatusCode::OK, "{}", warm.raw);

    // The bot moves to production, where a conversation's ticket has the same number.
    let moved = h.call("PUT", &path, Some(&connect("globex")), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.raw);
    let claim = ClaimRequest {
        bot_id: h.bot_id.clone(),
        conversation_id: "conv-production".into(),
        claim_token: "prod".into(),
        now_ms: now_ms(),
        lease_until_ms: now_ms() + 60_000,
        rule: handoff::rules::RuleKind::Manual,
        requester_email: None,
        requester_verified: false,
        pending_payload: "x".into(),
        account: Some("globex".into()),
    };
    h.app.stores.conversations.claim(&claim).await.unwrap();
    let production = RecordedTicket {
        requester_id: None,
        ticket_id: sandbox_ticket,
        account: Some("globex".into()),
        status: TicketStatus::Open,
        notes_written: 1,
        last_synced_fingerprint: None,
    };
    h.app.stores.conversations.record_ticket(&h.bot_id, "conv-production", "prod", &production).await.unwrap();

    // The other Lambda's profile is fresh (30 s) while its secret cache still holds the sandbox
    // webhook's secret: an event the sandbox webhook signs is about the sandbox's ticket.
    other.profiles.invalidate(&h.bot_id);
    let late = deliver(&h, &other, &status_body("evt-late", sandbox_ticket, "SOLVED"), &signing).await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.raw);
    let conversations = &h.app.stores.conversations;
    let production = conversations.get_conversation(&h.bot_id, "conv-production").await.unwrap().unwrap();
    assert_eq!(production.ticket_status, Some(TicketStatus::Open), "production's ticket is untouched");
    let sandbox = conversations.get_conversation(&h.bot_id, "conv-sandbox").await.unwrap().unwrap();
    assert_eq!(sandbox.ticket_status, Some(TicketStatus::Solved), "the sandbox's own conversation got it");
}

/// A status change of `ticket` with no external id (made in another channel, or a lookup by number).
fn status_body(id: &str, ticket: u64, status: &str) -> String {
    json!({
        "type": "zen:event-type:ticket.status_changed", "id": id,
        "time": OffsetDateTime::now_utc().format(&Rfc3339).unwrap(), "account_id": 1,
        "subject": format!("zen:ticket:{ticket}"),
        "detail": {"id": ticket.to_string(), "status": status},
        "event": {"current": status, "previous": "NEW"}
    })
    .to_string()
}

/// A health check that meets a 401 marks the connection `reconnect_required` (through the one
/// credentials resolver) but keeps the bot's check scheduled: a reconnect landing at the same
/// moment schedules its own check, which the sweeper must not delete; the next run drops it only
/// if the bot is still not connected.
#[tokio::test]
async fn a_health_check_that_meets_a_401_keeps_the_check_scheduled() {
    let mut h = Harness::new(Backend::Memory).await;
    h.connect_live().await;
    h.sim.revoke_api_token(AGENT_EMAIL, API_TOKEN);
    let later = now_ms() + 16 * 60_000;
    let swept = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(RUN)).await;
    assert_eq!((swept.webhooks.failed, swept.webhooks.dropped), (1, 0), "{swept:?}");
    let connection = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap();
    assert_eq!(connection.state, handoff::store::ConnectionState::ReconnectRequired);
    let due = h.app.stores.outbox.list_webhook_checks_due(i64::MAX, 10).await.unwrap();
    assert!(due.iter().any(|(bot, _)| *bot == h.bot_id), "the check is still scheduled: {due:?}");
}
