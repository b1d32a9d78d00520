//! Zendesk's outgoing webhook calls: ticket changes become event-subscribed payloads, signed the
//! way Zendesk signs them and POSTed from a background task with Zendesk's retry rule, so a
//! receiver under test sees real HTTP deliveries, and, on demand, duplicated or reordered ones.
//!
//! Events are built and queued while the simulator's state is locked (their order is the order
//! of the changes); the sending happens on one worker task, so an API answer never waits for a
//! receiver and each webhook gets its deliveries in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::sync::{mpsc, oneshot, watch};

use crate::model::{self, Comment, Ticket};
use crate::{State, Webhook};

/// The account id every simulated delivery carries (`account_id`, `x-zendesk-account-id`).
pub const ACCOUNT_ID: u64 = 123;
/// The event schema version Zendesk's ticket events carry.
const EVENT_VERSION: &str = "2022-11-06";
pub const COMMENT_ADDED: &str = "zen:event-type:ticket.comment_added";
pub const STATUS_CHANGED: &str = "zen:event-type:ticket.status_changed";
pub const TICKET_CREATED: &str = "zen:event-type:ticket.created";
pub const ASSIGNMENT_CHANGED: &str = "zen:event-type:ticket.agent_assignment_changed";
/// Zendesk's own request timeout for a webhook call (not adjustable there either).
const TIMEOUT: Duration = Duration::from_secs(12);
/// Attempts per delivery, and the pause between them (short: tests wait for the outcome).
const ATTEMPTS: u32 = 3;
const RETRY_DELAY: Duration = Duration::from_millis(100);

/// How events reach the webhooks (set with `Simulator::set_webhook_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookMode {
    /// Each event is sent once, in order, as soon as the worker gets to it.
    #[default]
    Immediate,
    /// Each event is sent twice (same event id and body; separate invocations), as Zendesk's
    /// at-least-once delivery may do.
    Duplicate,
    /// Events are kept until `Simulator::release_held`, which can send them in reverse order.
    Hold,
}

/// One finished delivery (after its last attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub ticket_id: u64,
    pub webhook_id: String,
    pub endpoint: String,
    /// The last attempt's HTTP status, if the receiver answered.
    pub status: Option<u16>,
    /// The last attempt's transport error (connection refused, timeout…), if it did not.
    pub error: Option<String>,
    pub attempts: u32,
}

/// A ticket change that Zendesk reports as an event.
pub(crate) enum Change<'a> {
    Created,
    CommentAdded(&'a Comment),
    StatusChanged {
        previous: String,
    },
    /// The assigned agent changed (`detail.assignee_id` is the new one).
    AssigneeChanged {
        previous: Option<u64>,
    },
}

/// Where a change was made (`detail.via.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Through the REST API (what Handoff itself does).
    Api,
    /// In the agent interface (the `agent_*` control methods).
    Web,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
        }
    }
}

/// One event for one webhook, ready to send (the body is signed per attempt).
#[derive(Debug, Clone)]
pub(crate) struct Job {
    event_id: String,
    event_type: String,
    ticket_id: u64,
    webhook_id: String,
    endpoint: String,
    secret: String,
    body: String,
}

/// Jobs for the worker; `done` is answered once all of them are recorded.
pub(crate) struct Batch {
    jobs: Vec<Job>,
    done: Option<oneshot::Sender<()>>,
}

/// The event side of the simulator's state: mode, held jobs, the payloads generated so far,
/// the event clock, and the worker's queue.
#[derive(Default)]
pub(crate) struct Outbox {
    pub mode: WebhookMode,
    held: Vec<Job>,
    /// Every payload generated, in order, whether or not a webhook took it.
    pub emitted: Vec<Value>,
    last_time: Option<OffsetDateTime>,
    queue: Option<mpsc::UnboundedSender<Batch>>,
}

impl Outbox {
    /// The time of a new event: now to the millisecond, but always after the previous event,
    /// so receivers that order by `time` see the simulator's order even within one millisecond.
    fn next_time(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
        let time = match self.last_time {
            Some(last) if now <= last => last + Duration::from_millis(1),
            _ => now,
        };
        self.last_time = Some(time);
        time
    }

    /// Sends (or holds) `payload` for every active webhook subscribed to its type.
    fn dispatch(&mut self, webhooks: &[Webhook], payload: Value, ticket_id: u64) {
        let event_type = payload["type"].as_str().unwrap_or_default().to_owned();
        let event_id = payload["id"].as_str().unwrap_or_default().to_owned();
        let body = payload.to_string();
        self.emitted.push(payload);
        let mut jobs = Vec::new();
        for webhook in webhooks.iter().filter(|w| w.status == "active" && w.subscriptions.contains(&event_type)) {
            let job = Job {
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                ticket_id,
                webhook_id: webhook.id.clone(),
                endpoint: webhook.endpoint.clone(),
                secret: webhook.signing_secret.clone(),
                body: body.clone(),
            };
            if self.mode == WebhookMode::Duplicate {
                jobs.push(job.clone());
            }
            jobs.push(job);
        }
        if self.mode == WebhookMode::Hold {
            self.held.extend(jobs);
        } else if !jobs.is_empty() {
            self.send(Batch { jobs, done: None });
        }
    }

    fn send(&self, batch: Batch) {
        if let Some(queue) = &self.queue {
            // Fails only once the worker has stopped (the simulator is going away).
            let _ = queue.send(batch);
        }
    }
}

/// Generates the event for `change` on ticket `ticket_id` (made by user `actor_id`) and hands
/// it to the webhooks. Call after the change is applied: `detail` is the ticket as it is now.
pub(crate) fn emit(s: &mut State, ticket_id: u64, change: Change<'_>, channel: Channel, actor_id: u64) {
    let Some(ticket) = s.tickets.iter().find(|t| t.id == ticket_id) else { return };
    let (event_type, event) = match change {
        Change::CommentAdded(comment) => {
            let author = s.users.iter().find(|u| u.id == comment.author_id);
            let comment = json!({
                "id": comment.id.to_string(),
                "body": comment.stored_body(),
                "is_public": comment.public,
                "attachments": comment.attachments.iter().map(model::Attachment::to_json).collect::<Vec<_>>(),
                "author": {
                    "id": comment.author_id.to_string(),
                    "name": author.map(|u| u.name.as_str()).unwrap_or_default(),
                    "is_staff": author.is_some_and(|u| u.role == "agent" || u.role == "admin"),
                },
            });
            (COMMENT_ADDED, json!({"comment": comment}))
        }
        Change::StatusChanged { previous } => {
            (STATUS_CHANGED, json!({"current": ticket.status.to_uppercase(), "previous": previous.to_uppercase()}))
        }
        Change::Created => (TICKET_CREATED, json!({})),
        Change::AssigneeChanged { previous } => {
            let agent = |id: Option<u64>| {
                id.and_then(|id| s.users.iter().find(|u| u.id == id))
                    .map(|u| json!({"id": u.id.to_string(), "name": u.name}))
                    .unwrap_or(Value::Null)
            };
            (ASSIGNMENT_CHANGED, json!({"current": agent(ticket.assignee_id), "previous": agent(previous)}))
        }
    };
    let detail = detail(ticket, channel, actor_id);
    let time = s.outbox.next_time();
    let payload = json!({
        "type": event_type,
        "id": ulid(time),
        "time": time.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        )).unwrap_or_default(),
        "account_id": ACCOUNT_ID,
        "zendesk_event_version": EVENT_VERSION,
        "subject": format!("zen:ticket:{ticket_id}"),
        "detail": detail,
        "event": event,
    });
    s.outbox.dispatch(&s.webhooks, payload, ticket_id);
}

/// The ticket as event `detail` carries it: ids as strings, status as an upper-case category.
fn detail(ticket: &Ticket, channel: Channel, actor_id: u64) -> Value {
    json!({
        "id": ticket.id.to_string(),
        "actor_id": actor_id.to_string(),
        "assignee_id": ticket.assignee_id.map(|id| id.to_string()),
        "created_at": ticket.created_at,
        "description": ticket.comments.first().map(|c| c.body.as_str()).unwrap_or_default(),
        "external_id": ticket.external_id,
        "is_public": ticket.comments.first().is_some_and(|c| c.public),
        "priority": ticket.priority.as_deref().map(str::to_uppercase),
        "requester_id": ticket.requester_id.to_string(),
        "status": ticket.status.to_uppercase(),
        "subject": ticket.subject,
        "submitter_id": ticket.submitter_id.to_string(),
        "tags": ticket.tags,
        "updated_at": ticket.updated_at,
        "via": {"channel": channel.name()},
    })
}

/// Sends the held jobs (reversed if asked), switches back to `Immediate`, and waits until the
/// worker has recorded them. Returns how many deliveries (event × webhook) were released.
pub(crate) async fn release(state: &Mutex<State>, reverse: bool) -> usize {
    let (count, done) = {
        let mut s = state.lock().expect("sim state");
        s.outbox.mode = WebhookMode::Immediate;
        let mut jobs = std::mem::take(&mut s.outbox.held);
        if jobs.is_empty() {
            return 0;
        }
        if reverse {
            jobs.reverse();
        }
        let (tx, rx) = oneshot::channel();
        let count = jobs.len();
        s.outbox.send(Batch { jobs, done: Some(tx) });
        (count, rx)
    };
    let _ = done.await;
    count
}

/// The delivery records, shared by the simulator (readers) and the worker (writer).
pub(crate) type Records = Arc<watch::Sender<Vec<Delivery>>>;

/// Waits until at least `n` deliveries are recorded or `timeout` passes; returns all of them.
pub(crate) async fn wait_for(records: &Records, n: usize, timeout: Duration) -> Vec<Delivery> {
    let mut seen = records.subscribe();
    let _ = tokio::time::timeout(timeout, seen.wait_for(|all| all.len() >= n)).await;
    records.borrow().clone()
}

/// Starts the delivery worker; `outbox` gets its queue. The worker runs until the handle is
/// aborted (the simulator is dropped) or the queue closes.
pub(crate) fn start_worker(outbox: &mut Outbox, records: Records) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent("Zendesk Webhook")
        .build()
        .map_err(std::io::Error::other)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    outbox.queue = Some(tx);
    Ok(tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            for job in batch.jobs {
                let delivery = deliver(&client, &job).await;
                records.send_modify(|all| all.push(delivery));
            }
            if let Some(done) = batch.done {
                let _ = done.send(());
            }
        }
    }))
}

/// POSTs one job, retrying as Zendesk does: on a timeout or connection error and on 409, 429
/// and 503; any other answer is final.
async fn deliver(client: &reqwest::Client, job: &Job) -> Delivery {
    let (mut status, mut error, mut attempts) = (None, None, 0);
    while attempts < ATTEMPTS {
        if attempts > 0 {
            tokio::time::sleep(RETRY_DELAY).await;
        }
        attempts += 1;
        let timestamp = model::now();
        let sent = client
            .post(&job.endpoint)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("x-zendesk-webhook-id", &job.webhook_id)
            .header("x-zendesk-webhook-invocation-id", ulid(OffsetDateTime::now_utc()))
            .header("x-zendesk-account-id", ACCOUNT_ID.to_string())
            .header("x-zendesk-webhook-signature-timestamp", &timestamp)
            .header("x-zendesk-webhook-signature", sign(&job.secret, &timestamp, job.body.as_bytes()))
            .body(job.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let code = response.status().as_u16();
                // Read the answer so the connection can be reused; its content does not matter.
                let _ = response.bytes().await;
                (status, error) = (Some(code), None);
                if !matches!(code, 409 | 429 | 503) {
                    break;
                }
            }
            Err(e) => (status, error) = (None, Some(describe(&e))),
        }
    }
    tracing::debug!(event_id = %job.event_id, endpoint = %job.endpoint, ?status, ?error, attempts, "webhook delivery");
    Delivery {
        event_id: job.event_id.clone(),
        event_type: job.event_type.clone(),
        ticket_id: job.ticket_id,
        webhook_id: job.webhook_id.clone(),
        endpoint: job.endpoint.clone(),
        status,
        error,
        attempts,
    }
}

/// reqwest's message with its causes (the top level alone says little: "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { format!("timeout: {error}") } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Zendesk's signature: `base64(HMAC-SHA256(key = secret as bytes, message = timestamp + body))`.
pub(crate) fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A ULID (time-ordered, 26 Crockford base-32 characters, `01…`), the shape of Zendesk's event
/// ids; the 80 random bits keep ids unique across simulators and restarts.
fn ulid(at: OffsetDateTime) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = (at.unix_timestamp_nanos() / 1_000_000) as u128 & ((1 << 48) - 1);
    let mut n = (millis << 80) | (fastrand::u128(..) & ((1 << 80) - 1));
    let mut out = [0u8; 26];
    for c in out.iter_mut().rev() {
        *c = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    out.iter().map(|&b| b as char).collect()
}
