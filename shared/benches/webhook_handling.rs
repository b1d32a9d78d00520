//! The webhook path in process: verify the signature, parse, apply the status and decide
//! "first or duplicate" on the in-process store, for a bot whose profile is cached (the warm
//! Lambda case). Criterion measures the mean; a second pass prints throughput and the p50/p99
//! latency over 20,000 events, and how many store operations each event took.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group};
use handoff::app::App;
use handoff::store::memory::{MemorySecrets, MemoryStore};
use handoff::store::*;
use handoff::webhook::signature;
use handoff::zendesk::types::TicketStatus;
use lambda_http::{Body, Request, RequestExt};
use secrecy::SecretString;
use time::format_description::well_known::Rfc3339;

const BOT: &str = "bench-bot";
const CONVERSATION: &str = "conv-bench";
const TICKET: u64 = 4242;
const SECRET: &str = "whsec-bench-0123456789";

struct Bench {
    app: App,
    store: Arc<MemoryStore>,
    secrets: Arc<MemorySecrets>,
    runtime: tokio::runtime::Runtime,
    next: std::cell::Cell<u64>,
    started: time::OffsetDateTime,
}

fn setup() -> Bench {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = Arc::new(MemoryStore::new());
    let secrets = Arc::new(MemorySecrets::new());
    let stores = Stores::backed_by(store.clone(), secrets.clone());
    let app = App::new(stores, None).expect("app");
    runtime.block_on(async {
        app.stores.bots.put_connection(&Connection::new(BOT, "acme", ConnectionMode::ApiToken)).await.unwrap();
        let secret = BotSecret::new(StoredCredentials::ApiToken {
            email: "a@example.com".into(),
            api_token: SecretString::from("t"),
        });
        app.stores.secrets.put_bot_secret(BOT, &secret).await.unwrap();
        let webhook = WebhookSecret {
            webhook_signing_secret: Some(SecretString::from(SECRET)),
            callback_secret: None,
            account: None,
        };
        app.stores.secrets.put_webhook_secret(BOT, &webhook).await.unwrap();
        let now = 1_000;
        let claim = ClaimRequest {
            bot_id: BOT.into(),
            conversation_id: CONVERSATION.into(),
            claim_token: "bench".into(),
            now_ms: now,
            lease_until_ms: now + 60_000,
            rule: handoff::rules::RuleKind::Manual,
            requester_email: None,
            requester_verified: false,
            pending_payload: "x".into(),
            account: Some("acme".into()),
        };
        app.stores.conversations.claim(&claim).await.unwrap();
        let recorded = RecordedTicket {
            requester_id: None,
            ticket_id: TICKET,
            account: Some("acme".into()),
            status: TicketStatus::Open,
            notes_written: 1,
            last_synced_fingerprint: None,
        };
        app.stores.conversations.record_ticket(BOT, CONVERSATION, "bench", &recorded).await.unwrap();
    });
    Bench { app, store, secrets, runtime, next: std::cell::Cell::new(0), started: time::OffsetDateTime::now_utc() }
}

impl Bench {
    /// The next delivery: a fresh event id, a later event time, alternating statuses, signed
    /// as Zendesk signs (the sender's work, so done here, outside the measurement).
    fn delivery(&self) -> Request {
        let n = self.next.get() + 1;
        self.next.set(n);
        let at = (self.started + time::Duration::milliseconds(n as i64)).format(&Rfc3339).unwrap();
        let status = if n.is_multiple_of(2) { "OPEN" } else { "PENDING" };
        let body = format!(
            r#"{{"type":"zen:event-type:ticket.status_changed","id":"evt-{n}","time":"{at}","account_id":1,"subject":"zen:ticket:{TICKET}","detail":{{"id":"{TICKET}","status":"{status}","external_id":"{CONVERSATION}"}},"event":{{"current":"{status}","previous":"OPEN"}}}}"#
        );
        let timestamp = time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
        let signed = signature::sign(SECRET.as_bytes(), &timestamp, body.as_bytes());
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("https://api.example.com/webhooks/zendesk/{BOT}"))
            .header("content-type", "application/json")
            .header("x-zendesk-webhook-signature", signed)
            .header("x-zendesk-webhook-signature-timestamp", timestamp)
            .body(Body::from(body))
            .unwrap();
        request.with_path_parameters(std::collections::HashMap::from([("bot_id".to_owned(), BOT.to_owned())]))
    }

    fn handle(&self, request: Request) {
        let response = self.runtime.block_on(handoff::api::webhook::handle(&self.app, request));
        assert_eq!(response.status(), 200);
    }
}

fn webhook(c: &mut Criterion) {
    let bench = setup();
    bench.handle(bench.delivery()); // warms the profile cache, as a warm Lambda has it
    c.bench_function("webhook status event (verify+parse+apply+dedupe)", |b| {
        b.iter_batched(|| bench.delivery(), |request| bench.handle(request), BatchSize::SmallInput)
    });
}

/// Throughput and tail latency on one core, plus store operations per event.
fn percentiles() {
    const EVENTS: usize = 20_000;
    let bench = setup();
    bench.handle(bench.delivery());
    let requests: Vec<Request> = (0..EVENTS).map(|_| bench.delivery()).collect();
    let (reads, writes) = bench.store.calls.snapshot();
    let mut took: Vec<Duration> = Vec::with_capacity(EVENTS);
    let all = Instant::now();
    for request in requests {
        let one = Instant::now();
        bench.handle(request);
        took.push(one.elapsed());
    }
    let elapsed = all.elapsed();
    let (reads_after, writes_after) = bench.store.calls.snapshot();
    took.sort();
    let at = |q: f64| took[((EVENTS as f64 * q) as usize).min(EVENTS - 1)];
    println!(
        "webhook handling, {EVENTS} status events on one core: {:.0} events/s, p50 {:?}, p99 {:?}, max {:?}; \
         store operations per event: {:.2} reads + {:.2} writes",
        EVENTS as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
        took[EVENTS - 1],
        (reads_after - reads) as f64 / EVENTS as f64,
        (writes_after - writes) as f64 / EVENTS as f64,
    );
}

/// Junk for bot ids that do not exist (the warm case: their empty profiles are cached): how many
/// such deliveries one core refuses per second, and what they cost in store and secret calls.
fn unknown_bots() {
    const DELIVERIES: usize = 20_000;
    let bench = setup();
    let body = r#"{"type":"zen:event-type:ticket.status_changed","id":"junk","detail":{"id":"1"}}"#;
    let timestamp = time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let signed = signature::sign(b"guessed", &timestamp, body.as_bytes());
    let junk = |n: usize| {
        let bot = format!("unknown-bot-{}", n % 100);
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("https://api.example.com/webhooks/zendesk/{bot}"))
            .header("content-type", "application/json")
            .header("x-zendesk-webhook-signature", signed.as_str())
            .header("x-zendesk-webhook-signature-timestamp", timestamp.as_str())
            .body(Body::from(body))
            .unwrap();
        request.with_path_parameters(std::collections::HashMap::from([("bot_id".to_owned(), bot)]))
    };
    for n in 0..100 {
        let _ = bench.runtime.block_on(handoff::api::webhook::handle(&bench.app, junk(n)));
    }
    let requests: Vec<Request> = (0..DELIVERIES).map(junk).collect();
    let (reads, writes) = bench.store.calls.snapshot();
    let (secret_reads, _) = bench.secrets.calls.snapshot();
    let all = Instant::now();
    for request in requests {
        let response = bench.runtime.block_on(handoff::api::webhook::handle(&bench.app, request));
        assert_eq!(response.status(), 401);
    }
    let elapsed = all.elapsed();
    let (reads_after, writes_after) = bench.store.calls.snapshot();
    let (secret_reads_after, _) = bench.secrets.calls.snapshot();
    println!(
        "unknown-bot webhook deliveries, {DELIVERIES} on one core: {:.0} rejections/s; per delivery {:.2} store reads, \
         {:.2} writes, {:.2} secret reads",
        DELIVERIES as f64 / elapsed.as_secs_f64(),
        (reads_after - reads) as f64 / DELIVERIES as f64,
        (writes_after - writes) as f64 / DELIVERIES as f64,
        (secret_reads_after - secret_reads) as f64 / DELIVERIES as f64,
    );
}

criterion_group!(benches, webhook);

fn main() {
    benches();
    percentiles();
    unknown_bots();
    Criterion::default().configure_from_args().final_summary();
}
