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
