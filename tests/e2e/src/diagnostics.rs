//! `GET …/zendesk/diagnostics`: each check fails (or warns, where that is its worst) in a
//! scenario built for it, and passes otherwise.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use zendesk_sim::{Fault, Route};

use crate::support::*;

const READ: &[&str] = &["ZENDESK_ACTIONS.READ_INTEGRATIONS"];

async fn diagnose(h: &Harness) -> Value {
    let reply = h.call("GET", &format!("/v1/bots/{}/zendesk/diagnostics", h.bot_id), None, READ).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.body
}

fn status_of<'a>(report: &'a Value, check: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no `{check}` check in {report}"))
}

fn assert_check(report: &Value, check: &str, expected: &str) {
    assert_eq!(status_of(report, check), expected, "{check}: {report}");
    if expected != "pass" {
        let entry = report["checks"].as_array().unwrap().iter().find(|c| c["check"] == check).unwrap();
        assert!(
            entry["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "a non-passing check says how to fix it: {entry}"
        );
    }
}

/// A healthy bot: connected with a live webhook that has delivered, a mapped field that exists.
async fn healthy() -> Harness {
    let mut h = Harness::new(Backend::Moto).await;
    h.connect_live().await;
    let field = h.sim.add_ticket_field("Conversation URL", "text");
    h.set_setting("mapping", json!({"conversation_url_field_id": field})).await;
    let reply = h.escalate("conv-d1", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    h.sim.wait_for_deliveries(h.sim.emitted_events().len(), std::time::Duration::from_secs(10)).await;
    h
}

#[tokio::test]
async fn a_healthy_bot_passes_and_each_broken_part_fails_its_own_check() {
    let h = healthy().await;
    let report = diagnose(&h).await;
    for check in [
        "connection",
        "credentials",
        "subdomain",
        "scopes",
        "token_expiry",
        "rules",
        "custom_fields",
        "webhook",
        "last_webhook",
        "pending_escalations",
    ] {
        assert_check(&report, check, "pass");
    }
    assert_check(&report, "api_token_deprecation", "warn");
    // Said as the API names the mode, not as the code spells its type.
    let connection = report["checks"].as_array().unwrap().iter().find(|c| c["check"] == "connection").unwrap();
    assert_eq!(connection["detail"], "connected to acme (api_token)", "{connection}");

    // Mapped field deleted from the settings' point of view: a field id Zendesk does not have.
    let mut settings = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().settings.unwrap();
    settings.mapping.rating_field_id = Some(424_242);
    h.app.stores.bots.put_settings(&h.bot_id, &settings).await.unwrap();
    h.app.ticket_fields.forget(&h.bot_id);
    assert_check(&diagnose(&h).await, "custom_fields", "fail");

    // Every rule off.
    settings.rules.explicit_request.enabled = false;
    settings.rules.low_confidence.enabled = false;
    settings.rules.low_rating.enabled = false;
    settings.rules.action.enabled = false;
    settings.rules.manual.enabled = false;
    h.app.stores.bots.put_settings(&h.bot_id, &settings).await.unwrap();
    assert_check(&diagnose(&h).await, "rules", "fail");

    // The webhook switched off, then deleted, at Zendesk.
    let webhook = h.sim.webhooks()[0].id.clone();
    h.sim.deactivate_webhook(&webhook);
    assert_check(&diagnose(&h).await, "webhook", "fail");
    h.sim.delete_webhook(&webhook);
    assert_check(&diagnose(&h).await, "webhook", "fail");

    // Zendesk unreachable: the subdomain check fails.
    h.sim.inject(Route::Me, Fault::Reset, 20);
    assert_check(&diagnose(&h).await, "subdomain", "fail");
    h.sim.clear_faults();

    // The API token revoked at Zendesk.
    h.sim.revoke_api_token(AGENT_EMAIL, API_TOKEN);
    assert_check(&diagnose(&h).await, "credentials", "fail");
}

#[tokio::test]
async fn oauth_scopes_token_expiry_pending_work_and_a_missing_connection_are_reported() {
    let h = Harness::new(Backend::Memory).await;
    // An OAuth-looking connection whose grant lacks scopes and whose refresh token ran out.
    let mut connection = h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap();
    connection.mode = handoff::store::ConnectionMode::Oauth;
    connection.scopes = vec!["tickets:read".into()];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    connection.refresh_token_expires_at = Some(now - 60);
    h.app.stores.bots.put_connection(&connection).await.unwrap();
    let report = diagnose(&h).await;
    assert_check(&report, "scopes", "fail");
    assert_check(&report, "token_expiry", "fail");
    assert_check(&report, "api_token_deprecation", "pass");
    assert_check(&report, "last_webhook", "warn");
    assert_eq!(report["status"], "fail");

    // Pending work: a warning at first, a failure once long overdue.
    h.sim.inject(Route::Any, Fault::Status { status: 503, retry_after_secs: None }, 1000);
    assert_eq!(h.escalate("conv-d2", &escalation_body("talk to a human")).await.status, StatusCode::ACCEPTED);
    h.sim.clear_faults();
    assert_check(&diagnose(&h).await, "pending_escalations", "warn");
    let diagnostics = handoff::diagnostics::Diagnostics { accounts: h.app.accounts(), fields: &h.app.ticket_fields };
    let later = serde_json::to_value(diagnostics.run(&h.bot_id, now + 2 * 3600).await.unwrap()).unwrap();
    let pending = later.as_array().unwrap().iter().find(|c| c["check"] == "pending_escalations").unwrap();
    assert_eq!(pending["status"], "fail", "{pending}");

    // No connection at all.
    let lone = Harness::unconnected(Backend::Memory).await;
    let report = diagnose(&lone).await;
    assert_check(&report, "connection", "fail");
    assert_check(&report, "credentials", "warn");
}
