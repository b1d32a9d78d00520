//! The simulator's webhook deliveries: signed like Zendesk's, in order, with duplicates and
//! held-then-reversed deliveries on demand, retried on 503, and switched off with the webhook.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use zendesk_sim::{COMMENT_ADDED, STATUS_CHANGED, Simulator, WebhookMode};

const AGENT: &str = "carla@example.com";
const WAIT: Duration = Duration::from_secs(10);

type Received = Arc<Mutex<Vec<(http::HeaderMap, Bytes)>>>;

/// A webhook receiver on loopback that records every call and answers 503 to the first
/// `failures` of them, 200 after.
async fn receiver(failures: u32) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/zendesk/bot-1", listener.local_addr().unwrap());
    let received = Received::default();
    let failures = Arc::new(AtomicU32::new(failures));
    let recorded = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (recorded, failures) = (recorded.clone(), failures.clone());
            let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let (recorded, failures) = (recorded.clone(), failures.clone());
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    recorded.lock().unwrap().push((parts.headers, body));
                    let failing = failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
                    let mut answer = http::Response::new(Full::new(Bytes::new()));
                    if failing.is_ok() {
                        *answer.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    Ok::<_, Infallible>(answer)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (url, received)
}

struct Setup {
    sim: Simulator,
    http: reqwest::Client,
    webhook_id: String,
    secret: String,
    ticket: u64,
    received: Received,
}

impl Setup {
    async fn new(failures: u32) -> Self {
        let sim = Simulator::start().await.unwrap();
        sim.add_api_token("admin@example.com", "admin-token");
        sim.add_agent("Carla Agent", AGENT, "carla-token");
        let (endpoint, received) = receiver(failures).await;
        let http = reqwest::Client::new();
        let created: Value = Self::call(&http, &sim, http::Method::POST, "/api/v2/webhooks")
            .json(&json!({"webhook": {"name": "Handoff", "endpoint": endpoint, "http_method": "POST",
                "request_format": "json", "subscriptions": [COMMENT_ADDED, STATUS_CHANGED]}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let webhook_id = created["webhook"]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v2/webhooks/{webhook_id}/signing_secret");
        let secret: Value =
            Self::call(&http, &sim, http::Method::GET, &path).send().await.unwrap().json().await.unwrap();
        let secret = secret["signing_secret"]["secret"].as_str().unwrap().to_owned();
        let ticket = sim.insert_ticket("Where is my order?", Some("conv-1"), &[]);
        Self { sim, http, webhook_id, secret, ticket, received }
    }

    fn call(http: &reqwest::Client, sim: &Simulator, method: http::Method, path: &str) -> reqwest::RequestBuilder {
        http.request(method, format!("{}{path}", sim.base_url))
            .basic_auth("admin@example.com/token", Some("admin-token"))
    }

    fn request(&self, method: http::Method, path: &str) -> reqwest::RequestBuilder {
        Self::call(&self.http, &self.sim, method, path)
    }

    /// The bodies received so far, each checked against its signature.
    fn verified_bodies(&self) -> Vec<Value> {
        let received = self.received.lock().unwrap().clone();
        received
            .iter()
            .map(|(headers, body)| {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let timestamp = header("x-zendesk-webhook-signature-timestamp");
                assert!(time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339).is_ok());
                assert_eq!(header("x-zendesk-webhook-signature"), independent_signature(&self.secret, timestamp, body));
                assert_eq!(header("x-zendesk-webhook-id"), self.webhook_id);
                assert_eq!(header("x-zendesk-account-id"), "123");
                assert_eq!(header("content-type"), "application/json");
                assert_eq!(header("x-zendesk-webhook-invocation-id").len(), 26);
                serde_json::from_slice(body).unwrap()
            })
            .collect()
    }

    fn invocation_ids(&self) -> Vec<String> {
        let received = self.received.lock().unwrap();
        received.iter().map(|(h, _)| h["x-zendesk-webhook-invocation-id"].to_str().unwrap().to_owned()).collect()
    }
}

/// The signature computed again from the documented rule, without the module's code.
fn independent_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&[timestamp.as_bytes(), body].concat());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn agent_changes_are_delivered_signed_and_in_order() {
    let t = Setup::new(0).await;
    t.sim.agent_reply(t.ticket, AGENT, "<p>Hi <b>Ana</b>!</p>", true);
    t.sim.agent_set_status(t.ticket, AGENT, "solved");
    t.sim.set_status(t.ticket, "open"); // silent
    let deliveries = t.sim.wait_for_deliveries(2, WAIT).await;
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries.iter().all(|d| d.status == Some(200) && d.attempts == 1 && d.error.is_none()));
    assert!(deliveries.iter().all(|d| d.ticket_id == t.ticket && d.webhook_id == t.webhook_id));

    let bodies = t.verified_bodies();
    assert_eq!(bodies, t.sim.emitted_events());
    let [comment, status] = bodies.as_slice() else { panic!("two deliveries: {bodies:?}") };
    assert_eq!((comment["type"].as_str(), status["type"].as_str()), (Some(COMMENT_ADDED), Some(STATUS_CHANGED)));
    assert_eq!(comment["event"]["comment"]["body"], "<p>Hi <b>Ana</b>!</p>");
    assert_eq!(comment["event"]["comment"]["is_public"], true);
    assert_eq!(comment["event"]["comment"]["author"]["name"], "Carla Agent");
    assert_eq!(comment["event"]["comment"]["author"]["is_staff"], true);
    assert_eq!(comment["detail"]["status"], "OPEN");
    assert_eq!(status["event"], json!({"current": "SOLVED", "previous": "OPEN"}));
    assert_eq!(status["detail"]["status"], "SOLVED");
    for body in &bodies {
        assert_eq!(body["subject"], format!("zen:ticket:{}", t.ticket));
        assert_eq!(body["detail"]["id"], t.ticket.to_string());
        assert_eq!(body["detail"]["external_id"], "conv-1");
        assert_eq!(body["detail"]["via"]["channel"], "web");
        assert_eq!(
            (body["account_id"].as_u64(), body["zendesk_event_version"].as_str()),
            (Some(123), Some("2022-11-06"))
        );
    }
    assert_ne!(comment["id"], status["id"]);
    for body in &bodies {
        let (id, time) = (body["id"].as_str().unwrap(), body["time"].as_str().unwrap());
        assert!(id.len() == 26 && id.starts_with('0'), "a ULID: {id}");
        assert!(time.len() == 24 && time.ends_with('Z'), "UTC with milliseconds: {time}");
        assert!(time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339).is_ok());
    }
    assert!(comment["time"].as_str() < status["time"].as_str(), "times increase: {bodies:?}");
    assert_eq!(t.sim.ticket(t.ticket).unwrap().comments[1].body, "Hi Ana!");
}

#[tokio::test]
async fn duplicate_and_hold_modes_repeat_and_reorder() {
    let t = Setup::new(0).await;
    t.sim.set_webhook_mode(WebhookMode::Duplicate);
    t.sim.agent_reply(t.ticket, AGENT, "<p>Internal</p>", false);
    let deliveries = t.sim.wait_for_deliveries(2, WAIT).await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0].event_id, deliveries[1].event_id);
    let bodies = t.verified_bodies();
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0]["event"]["comment"]["is_public"], false);
    let invocations = t.invocation_ids();
    assert_ne!(invocations[0], invocations[1]);

    t.sim.set_webhook_mode(WebhookMode::Hold);
    t.sim.agent_reply(t.ticket, AGENT, "<p>Done</p>", true);
    t.sim.agent_set_status(t.ticket, AGENT, "pending");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.sim.deliveries().len(), 2, "held events are not sent");
    assert_eq!(t.sim.release_held(true).await, 2);
    assert_eq!(t.sim.deliveries().len(), 4, "release_held returns once they are delivered");
    let emitted: Vec<Value> = t.sim.emitted_events().iter().map(|e| e["id"].clone()).collect();
    let sent: Vec<Value> = t.verified_bodies().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(sent[2..], [emitted[2].clone(), emitted[1].clone()]);
    assert_eq!(t.sim.release_held(false).await, 0);

    t.sim.agent_set_status(t.ticket, AGENT, "solved");
    assert_eq!(t.sim.wait_for_deliveries(5, WAIT).await.len(), 5, "back to immediate, single delivery");
}

#[tokio::test]
async fn api_updates_emit_retry_and_inactive_webhooks_stay_quiet() {
    let t = Setup::new(2).await;
    let created: Value = t
        .request(http::Method::POST, "/api/v2/tickets.json")
        .json(&json!({"ticket": {"subject": "Refund", "comment": {"body": "I want a refund"},
                                 "requester": {"name": "Ana", "email": "ana@example.com"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["ticket"]["id"].as_u64().unwrap();
    let update = json!({"ticket": {"status": "pending", "comment": {"html_body": "<p>On it</p>"}}});
    let answer = t.request(http::Method::PUT, &format!("/api/v2/tickets/{id}.json")).json(&update).send().await;
    assert_eq!(answer.unwrap().status(), 200);

    let deliveries = t.sim.wait_for_deliveries(3, WAIT).await;
    assert_eq!(deliveries.len(), 3);
    assert_eq!((deliveries[0].attempts, deliveries[0].status), (3, Some(200)), "503 twice, then 200");
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(types, [COMMENT_ADDED, COMMENT_ADDED, STATUS_CHANGED], "no status event on create");
    // The ticket's creation is an event too, sent only to webhooks subscribed to it (this one is not).
    let (created, events): (Vec<Value>, Vec<Value>) =
        t.sim.emitted_events().into_iter().partition(|e| e["type"] == zendesk_sim::TICKET_CREATED);
    assert_eq!(created.len(), 1);
    // Zendesk's rule: the first comment is the submitter's, the API caller unless named.
    assert_eq!(events[0]["event"]["comment"]["author"]["name"], "Ada Admin");
    assert_eq!(events[0]["event"]["comment"]["author"]["is_staff"], true);
    assert_eq!(events[1]["event"]["comment"]["author"]["name"], "Ada Admin");
    assert_eq!(events[1]["event"]["comment"]["body"], "<p>On it</p>");
    assert_eq!(events[1]["event"]["comment"]["is_public"], true, "public by default");
    assert_eq!(events[2]["event"], json!({"current": "PENDING", "previous": "NEW"}));
    assert!(events.iter().all(|e| e["detail"]["via"]["channel"] == "api"));

    let path = format!("/api/v2/webhooks/{}", t.webhook_id);
    let patch = t
        .request(http::Method::PATCH, &path)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"webhook": {"status": "inactive"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 204);
    let shown: Value = t.request(http::Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (shown["webhook"]["status"].as_str(), shown["webhook"]["subscriptions"].as_array().map(Vec::len)),
        (Some("inactive"), Some(2))
    );
    let bad = t.request(http::Method::PATCH, &path).json(&json!({"webhook": {"status": "paused"}})).send().await;
    assert_eq!(bad.unwrap().status(), 422);
    t.sim.agent_reply(id, AGENT, "<p>Quiet</p>", true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((t.sim.emitted_events().len(), t.sim.deliveries().len()), (5, 3), "the creation, 3 delivered, 1 quiet");
}

#[tokio::test]
async fn unreachable_endpoints_are_tried_three_times() {
    let t = Setup::new(0).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let answer = t
        .request(http::Method::PATCH, &format!("/api/v2/webhooks/{}", t.webhook_id))
        .json(&json!({"webhook": {"endpoint": format!("http://{closed}/gone")}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    t.sim.agent_set_status(t.ticket, AGENT, "solved");
    let deliveries = t.sim.wait_for_deliveries(1, WAIT).await;
    assert_eq!((deliveries[0].attempts, deliveries[0].status), (3, None));
    assert!(deliveries[0].error.is_some());
}

#[tokio::test]
async fn webhooks_and_their_status_persist() {
    let path =
        std::env::temp_dir().join(format!("zendesk-sim-webhooks-{}-{}.json", std::process::id(), fastrand::u64(..)));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = Simulator::start_persisted(addr, Some(path.clone())).await.unwrap();
    sim.add_api_token("admin@example.com", "admin-token");
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v2/webhooks", sim.base_url))
        .basic_auth("admin@example.com/token", Some("admin-token"))
        .json(&json!({"webhook": {"endpoint": "http://127.0.0.1:9/x", "http_method": "POST",
            "request_format": "json", "subscriptions": [STATUS_CHANGED]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let id = sim.webhooks()[0].id.clone();
    sim.deactivate_webhook(&id);
    let before = sim.webhooks();
    drop(sim);
    let again = Simulator::start_persisted(addr, Some(path.clone())).await.unwrap();
    assert_eq!(again.webhooks(), before);
    assert_eq!(again.webhooks()[0].status, "inactive");
    let _ = std::fs::remove_file(path);
}
