//! Secrets never reach logs or answers: run the escalation paths that log the most (success,
//! retries, lost answers, rejected credentials, Zendesk down) with every log line captured,
//! then search logs and bodies for the token in every form it travels in.

use base64::Engine as _;
use lambda_http::http::StatusCode;
use zendesk_sim::{Fault, Route};

use crate::support::*;

#[tokio::test(flavor = "current_thread")]
async fn no_secret_in_logs_or_answers() {
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let h = Harness::new(Backend::Moto).await;
    let mut bodies = Vec::new();

    bodies.push(h.escalate("conv-a", &escalation_body("talk to a human")).await);
    h.sim.inject(Route::CreateTicket, Fault::LoseAnswer, 1);
    bodies.push(h.escalate("conv-b", &escalation_body("talk to a human")).await);
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: Some(0) }, 100);
    bodies.push(h.escalate("conv-c", &escalation_body("talk to a human")).await);
    h.sim.clear_faults();
    // Credentials Zendesk no longer accepts: the token is rejected and the work is kept pending.
    let rejected = zendesk_sim::Simulator::start().await.unwrap();
    let mut app_on_rejecting =
        handoff::app::App::new(h.app.stores.clone(), Some(url::Url::parse(&rejected.base_url).unwrap())).unwrap();
    app_on_rejecting.zendesk = fast_client(std::time::Duration::from_secs(2));
    let event = escalation_event(
        &h.bot_id,
        "conv-d",
        &escalation_body("human").to_string(),
        "application/json",
        Some((&h.bot_id, &["ZENDESK_ACTIONS.CREATE_TICKET"])),
    );
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let reply = Reply::from(handoff::api::escalate::handle(&app_on_rejecting, request).await);
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.raw);
    bodies.push(reply);

    assert_eq!(bodies[0].status, StatusCode::CREATED);
    assert_eq!(bodies[1].status, StatusCode::CREATED);
    assert_eq!(bodies[2].status, StatusCode::ACCEPTED);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{AGENT_EMAIL}/token:{API_TOKEN}"));
    let text = logs.text();
    assert!(text.contains("escalation rule fired"), "logs were captured");
    assert!(text.contains(&h.bot_id), "logs carry the bot id as a field");
    for needle in [API_TOKEN, basic.as_str()] {
        assert!(!text.contains(needle), "a secret reached the logs");
        for reply in &bodies {
            assert!(!reply.raw.contains(needle), "a secret reached an answer");
        }
    }
}

/// The two-way path: webhook signing secrets and callback secrets never reach the logs, and the
/// callback secret appears in exactly one answer (the one that issued it).
#[tokio::test(flavor = "current_thread")]
async fn no_webhook_or_callback_secret_in_logs() {
    let logs = LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let mut h = Harness::new(Backend::Moto).await;
    h.connect_live().await;
    h.sim.add_agent("Carla Agent", "carla@example.com", "carla-token");
    let receiver = CallbackReceiver::start().await;
    h.app.allow_local_callbacks();
    let callback_secret = h.set_callback(&receiver.url).await;
    let reply = h.escalate("conv-s", &escalation_body("talk to a human")).await;
    h.sim.agent_reply(reply.ticket_id(), "carla@example.com", "Hello from support", true);
    h.sim.wait_for_deliveries(h.sim.emitted_events().len(), std::time::Duration::from_secs(10)).await;
    receiver.down.store(true, std::sync::atomic::Ordering::SeqCst);
    h.sim.agent_reply(reply.ticket_id(), "carla@example.com", "Second reply", true);
    h.sim.wait_for_deliveries(h.sim.emitted_events().len(), std::time::Duration::from_secs(10)).await;
    let swept = handoff::sweeper::sweep_at(
        &h.app,
        time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 60_000,
        handoff::deadline::Deadline::after(std::time::Duration::from_secs(55)),
    )
    .await;
    assert_eq!(swept.callbacks_retrying, 1, "{swept:?}");
    assert_eq!(receiver.types(), ["handoff_started", "agent_joined", "agent_reply"]);

    let signing = h.app.stores.secrets.get_webhook_secret(&h.bot_id).await.unwrap().unwrap().webhook_signing_secret;
    let signing = secrecy::ExposeSecret::expose_secret(signing.as_ref().expect("a signing secret")).to_owned();
    let text = logs.text();
    assert!(text.contains("callback delivered"), "logs were captured");
    for needle in [signing.as_str(), callback_secret.as_str(), API_TOKEN] {
        assert!(!text.contains(needle), "a secret reached the logs");
    }
    let read = h
        .call("GET", &format!("/v1/bots/{}/zendesk/settings", h.bot_id), None, &["ZENDESK_ACTIONS.READ_INTEGRATIONS"])
        .await;
    assert!(!read.raw.contains(&callback_secret) && !read.raw.contains(&signing));
}
