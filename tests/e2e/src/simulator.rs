//! The simulator's own promises, checked over HTTP: it is only a fair stand-in for Zendesk if it
//! rejects what Zendesk would, replays idempotent creates, and checks credentials.

use base64::Engine as _;
use serde_json::{Value, json};
use zendesk_sim::Simulator;

async fn sim() -> (Simulator, reqwest::Client, String) {
    let sim = Simulator::start().await.unwrap();
    sim.add_api_token("agent@example.com", "tok");
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("agent@example.com/token:tok"));
    (sim, reqwest::Client::new(), auth)
}

async fn post(
    client: &reqwest::Client,
    sim: &Simulator,
    auth: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, Value, Option<String>) {
    let mut request =
        client.post(format!("{}/api/v2/tickets.json", sim.base_url)).header("Authorization", auth).json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let lookup = response.headers().get("x-idempotency-lookup").map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null), lookup)
}

#[tokio::test]
async fn bodies_that_break_zendesks_schema_are_rejected() {
    let (sim, client, auth) = sim().await;
    let bad = [
        json!({"ticket": {"subject": "x", "comment": {"body": "hi", "public": "yes"}}}),
        json!({"ticket": {"subject": "x", "comment": {"body": "hi", "publc": false}}}),
        json!({"ticket": {"subject": "x", "comment": {"body": "hi"}, "priority": "whenever"}}),
        json!({"ticket": {"subject": "x", "comment": {"body": "hi"}, "custom_fields": [{"id": "one", "value": "v"}]}}),
        json!({"ticket": {"subject": "x"}}),
    ];
    for body in bad {
        let (status, answer, _) = post(&client, &sim, &auth, None, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    assert!(sim.schema_violations().len() >= 5);
    assert!(sim.tickets().is_empty());
    let good = json!({"ticket": {"subject": "x", "comment": {"body": "hi", "public": true}, "requester": {"name": "A", "email": "a@example.com"}, "custom_fields": []}});
    assert_eq!(post(&client, &sim, &auth, None, good).await.0, 201);
}

#[tokio::test]
async fn idempotency_keys_replay_and_conflict_like_zendesk() {
    let (sim, client, auth) = sim().await;
    let body = json!({"ticket": {"subject": "x", "comment": {"body": "hi", "public": true}}});
    let (first, created, miss) = post(&client, &sim, &auth, Some("k1"), body.clone()).await;
    let (again, replayed, hit) = post(&client, &sim, &auth, Some("k1"), body).await;
    assert_eq!((first, again), (201, 201));
    assert_eq!((miss.as_deref(), hit.as_deref()), (Some("miss"), Some("hit")));
    assert_eq!(created["ticket"]["id"], replayed["ticket"]["id"]);
    let other = json!({"ticket": {"subject": "different", "comment": {"body": "hi", "public": true}}});
    let (status, answer, _) = post(&client, &sim, &auth, Some("k1"), other).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("IdempotentRequestError")));
    assert_eq!(sim.tickets().len(), 1);
}

#[tokio::test]
async fn credentials_are_checked_and_users_me_answers_anonymous_callers() {
    let (sim, client, auth) = sim().await;
    let me = |header: Option<String>| {
        let mut request = client.get(format!("{}/api/v2/users/me.json", sim.base_url));
        if let Some(h) = header {
            request = request.header("Authorization", h);
        }
        request.send()
    };
    let anonymous: Value = me(None).await.unwrap().json().await.unwrap();
    assert_eq!(anonymous["user"]["id"], Value::Null);
    let agent: Value = me(Some(auth.clone())).await.unwrap().json().await.unwrap();
    assert_eq!(
        (agent["user"]["email"].as_str(), agent["user"]["role"].as_str()),
        (Some("agent@example.com"), Some("agent"))
    );
    let wrong = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("agent@example.com/token:nope"));
    assert_eq!(me(Some(wrong)).await.unwrap().status().as_u16(), 401);
    let body = json!({"ticket": {"subject": "x", "comment": {"body": "hi", "public": true}}});
    assert_eq!(post(&client, &sim, "Bearer unknown", None, body).await.0, 401);
}

#[test]
fn extracted_schemas_match_zendesks_openapi_file() {
    // The extract records the sha256 of the OpenAPI file it came from (../shared/zendesk beside the
    // repository). Where that file is present — always in CI — it must be the same file.
    use sha2::Digest;
    let oas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/zendesk/support-api.oas.yaml");
    let recorded = zendesk_sim::schema::document()["source_sha256"].as_str().unwrap().to_owned();
    match std::fs::read(&oas) {
        Ok(bytes) => assert_eq!(
            format!("{:x}", sha2::Sha256::digest(&bytes)),
            recorded,
            "re-run tests/zendesk-sim/schemas/extract.py"
        ),
        Err(_) => assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/zendesk/support-api.oas.yaml beside the repository"
        ),
    }
}

/// Webhook signing secrets are random, not derived from the webhook's id: a runner's simulator
/// exposed on a network must not hand out secrets anyone can compute.
#[tokio::test]
async fn webhook_signing_secrets_are_random() {
    let mut secrets = Vec::new();
    for _ in 0..2 {
        let mut h = crate::support::Harness::new(crate::support::Backend::Memory).await;
        h.connect_live().await;
        let webhooks = h.sim.webhooks();
        assert_eq!(webhooks.len(), 1);
        secrets.push(webhooks[0].signing_secret.clone());
    }
    assert_ne!(secrets[0], secrets[1], "two fresh simulators' first webhooks have different secrets");
    for secret in &secrets {
        assert!(secret.len() >= 40, "at least 32 random bytes: {secret}");
        assert!(!secret.starts_with("sim-signing-secret"), "{secret}");
        assert_ne!(secret, handoff::webhook::signature::TEST_SIGNING_SECRET);
    }
}
