//! A Zendesk Support API simulator on loopback, for tests and local runs.
//!
//! It speaks the part of Zendesk's HTTP API Handoff uses (tickets create/show/update/list by
//! `external_id`, comments, audits, users/me, users search, requested tickets, ticket fields), keeps
//! everything in memory, checks auth headers, honours `Idempotency-Key`, validates request bodies
//! against Zendesk's OpenAPI schemas, counts calls, and injects faults on demand: 429 with
//! `Retry-After`, 5xx, slow answers, connection resets, "ticket created but the answer lost", and a
//! gateway's 502/503/504 for a request processed anyway (at once or a little later).
//! Like Zendesk, it calls registered webhooks when tickets change (signed event-subscribed
//! payloads, see `webhooks`), and can duplicate or reorder those calls on demand.
//!
//! Built on hyper directly rather than a router framework: Zendesk's `.json` suffixes are easier
//! to match by hand, and a service error is the way to make hyper drop a connection mid-answer.

mod audits;
mod fixtures;
mod model;
mod oauth;
mod page;
mod routes;
pub mod schema;
mod uploads;
mod users;
mod webhooks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

pub use model::{Attachment, Audit, Comment, Ticket, TicketField, User};
pub use webhooks::{
    ACCOUNT_ID, ASSIGNMENT_CHANGED, COMMENT_ADDED, Delivery, STATUS_CHANGED, TICKET_CREATED, WebhookMode,
};

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Any,
    CreateTicket,
    UpdateTicket,
    ShowTicket,
    ListTickets,
    Comments,
    /// `GET /api/v2/tickets/{id}/audits.json`.
    Audits,
    Me,
    /// `GET /api/v2/users/search.json`.
    UsersSearch,
    /// `POST /api/v2/users.json`.
    CreateUser,
    /// `POST /api/v2/uploads.json`.
    Uploads,
    /// `GET /api/v2/users/{id}/tickets/requested.json`.
    RequestedTickets,
    /// `PUT /api/v2/users/{id}.json`.
    UpdateUser,
    /// `GET /api/v2/users/{id}.json`.
    ShowUser,
    /// `DELETE /api/v2/users/{id}.json`.
    DeleteUser,
    /// `DELETE /api/v2/deleted_users/{id}.json`.
    PermanentlyDeleteUser,
    /// `GET /api/v2/deleted_users/{id}.json`.
    ShowDeletedUser,
    /// `POST /oauth/tokens` (every grant).
    OAuthToken,
    /// `DELETE /api/v2/oauth/tokens/current.json`.
    RevokeToken,
    /// `/api/v2/webhooks…` (create, show, update, signing secret, delete).
    Webhooks,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with `Retry-After: {seconds}`; the request is not processed.
    RateLimited { retry_after_secs: u64 },
    /// This status (500, 503, …), optionally with `Retry-After`; not processed.
    Status { status: u16, retry_after_secs: Option<u64> },
    /// Wait this long, then process and answer normally.
    Slow(Duration),
    /// Drop the connection without processing.
    Reset,
    /// Process the request (a ticket is created), then drop the connection: the answer is lost.
    LoseAnswer,
    /// Answer this redirect status (301, 302, 307, 308) with `Location: {location}`, unprocessed:
    /// a client that follows it sends the request, and whatever secret it carries, elsewhere.
    Redirect { status: u16, location: String },
    /// Answer `status` (502, 503, 504) as Zendesk's gateway does when it gives up on the backend,
    /// while the request is processed anyway: before the answer when `processed_after` is zero,
    /// else that long after it (`Simulator::settled` waits for it).
    GatewayError { status: u16, processed_after: Duration },
}

#[derive(Debug, Clone)]
struct FaultRule {
    route: Route,
    fault: Fault,
    remaining: u32,
}

/// One request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub route: Route,
    pub body: Option<Value>,
    pub idempotency_key: Option<String>,
    /// When it arrived (to check waits such as `Retry-After`).
    pub at: std::time::Instant,
}

#[derive(Default)]
pub(crate) struct State {
    pub users: Vec<User>,
    /// Users deleted (`DELETE /api/v2/users/{id}`) but not permanently yet.
    pub deleted_users: Vec<User>,
    pub tickets: Vec<Ticket>,
    pub fields: Vec<TicketField>,
    pub api_tokens: HashMap<(String, String), u64>,
    pub bearer_tokens: HashMap<String, u64>,
    pub idempotency: HashMap<String, (String, u64)>,
    pub calls: Vec<Call>,
    pub violations: Vec<String>,
    faults: Vec<FaultRule>,
    pub next_id: u64,
    /// False models a Zendesk that ignores `Idempotency-Key` (its behaviour there is unconfirmed).
    pub honour_idempotency: bool,
    /// Where the data is saved after every change (local runs), if anywhere.
    pub persist: Option<PathBuf>,
    pub oauth: oauth::OAuthState,
    pub webhooks: Vec<Webhook>,
    pub(crate) outbox: webhooks::Outbox,
    /// The audits endpoint answers 403, as for a token without the `read` scope (not persisted).
    pub deny_audits: bool,
    /// Requests still being processed after their answer went out (`Fault::GatewayError`).
    pub in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// Uploads not attached yet, by token (not persisted).
    pub uploads: HashMap<String, model::Attachment>,
    /// Every uploaded file's type and bytes, by token (not persisted).
    pub files: HashMap<String, (String, bytes::Bytes)>,
}

/// A webhook registered through `POST /api/v2/webhooks`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Webhook {
    pub id: String,
    pub endpoint: String,
    /// `active` or `inactive`; only active webhooks are called.
    pub status: String,
    pub subscriptions: Vec<String>,
    pub signing_secret: String,
}

/// What survives a restart of a persisted simulator.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Snapshot {
    users: Vec<User>,
    tickets: Vec<Ticket>,
    fields: Vec<TicketField>,
    api_tokens: Vec<(String, String, u64)>,
    bearer_tokens: Vec<(String, u64)>,
    idempotency: Vec<(String, String, u64)>,
    next_id: u64,
    /// Absent from files saved before webhooks were persisted.
    #[serde(default)]
    webhooks: Vec<Webhook>,
    #[serde(default)]
    deleted_users: Vec<User>,
}

impl State {
    /// Writes the data to `persist` (atomically), if set. Errors are logged: a demo must not stop.
    pub fn save(&self) {
        let Some(path) = &self.persist else { return };
        let snapshot = Snapshot {
            users: self.users.clone(),
            tickets: self.tickets.clone(),
            fields: self.fields.clone(),
            api_tokens: self.api_tokens.iter().map(|((e, t), id)| (e.clone(), t.clone(), *id)).collect(),
            bearer_tokens: self.bearer_tokens.iter().map(|(t, id)| (t.clone(), *id)).collect(),
            idempotency: self.idempotency.iter().map(|(k, (b, id))| (k.clone(), b.clone(), *id)).collect(),
            next_id: self.next_id,
            webhooks: self.webhooks.clone(),
            deleted_users: self.deleted_users.clone(),
        };
        let tmp = path.with_extension("tmp");
        let written = serde_json::to_vec(&snapshot)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %path.display(), "could not save the simulator's data");
        }
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.users = snapshot.users;
        self.tickets = snapshot.tickets;
        self.fields = snapshot.fields;
        self.api_tokens = snapshot.api_tokens.into_iter().map(|(e, t, id)| ((e, t), id)).collect();
        self.bearer_tokens = snapshot.bearer_tokens.into_iter().collect();
        self.idempotency = snapshot.idempotency.into_iter().map(|(k, b, id)| (k, (b, id))).collect();
        self.next_id = snapshot.next_id;
        self.webhooks = snapshot.webhooks;
        self.deleted_users = snapshot.deleted_users;
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Takes the first fault that applies to `route`, if any.
    fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let index = self.faults.iter().position(|f| f.remaining > 0 && (f.route == Route::Any || f.route == route))?;
        let rule = &mut self.faults[index];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        self.faults.retain(|f| f.remaining > 0);
        Some(fault)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email.eq_ignore_ascii_case(email))
    }
}

/// A running simulator. Dropping it stops the server and any webhook delivery under way.
pub struct Simulator {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    deliveries: webhooks::Records,
    worker: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.worker.abort();
    }
}

impl Simulator {
    /// Starts on `127.0.0.1` at a free port, with one admin agent.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        Self::start_persisted(addr, None).await
    }

    /// Starts on `addr`; with `persist`, loads the data saved there and saves every change.
    pub async fn start_persisted(addr: SocketAddr, persist: Option<PathBuf>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State { next_id: 1000, honour_idempotency: true, ..State::default() }));
        let deliveries = webhooks::Records::default();
        let worker = webhooks::start_worker(&mut state.lock().expect("sim state").outbox, deliveries.clone())?;
        {
            let mut s = state.lock().expect("sim state");
            let saved = match persist.as_ref().map(std::fs::read) {
                Some(Ok(bytes)) => Some(serde_json::from_slice::<Snapshot>(&bytes).map_err(std::io::Error::other)?),
                Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => None,
            };
            match saved {
                Some(snapshot) => s.restore(snapshot),
                None => {
                    let id = s.next_id();
                    let admin = "admin@example.com".into();
                    s.users.push(User::new(id, "Ada Admin".into(), admin, "admin"));
                }
            }
            s.persist = persist;
        }
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        let url = base_url.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                let state = served.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        let url = url.clone();
                        async move { routes::serve(state, url, request).await }
                    });
                    // An Err from the service is how a fault drops the connection; nothing to report.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { base_url, state, shutdown: Some(tx), deliveries, worker })
    }

    /// Runs `f` on the data and saves it if persisted (every public mutator goes through here).
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().expect("sim state");
        let result = f(&mut state);
        state.save();
        result
    }

    /// Accepts `Basic {email}/token:{token}`; returns the agent's user id (created if new).
    pub fn add_api_token(&self, email: &str, token: &str) -> u64 {
        self.with(|s| {
            let id = agent(s, email);
            s.api_tokens.insert((email.to_owned(), token.to_owned()), id);
            id
        })
    }

    /// Adds an agent named `name` who authenticates with `Basic {email}/token:{api_token}`; returns
    /// the user id. An existing user keeps its id (and an admin its role); an end-user becomes an agent.
    pub fn add_agent(&self, name: &str, email: &str, api_token: &str) -> u64 {
        let id = self.add_api_token(email, api_token);
        self.with(|s| {
            if let Some(user) = s.users.iter_mut().find(|u| u.id == id) {
                user.name = name.to_owned();
                if user.role == "end-user" {
                    user.role = "agent".into();
                }
            }
        });
        id
    }

    /// Accepts `Bearer {token}` as the agent `email`.
    pub fn add_bearer_token(&self, email: &str, token: &str) -> u64 {
        self.with(|s| {
            let id = agent(s, email);
            s.bearer_tokens.insert(token.to_owned(), id);
            id
        })
    }

    pub fn revoke_api_token(&self, email: &str, token: &str) {
        self.with(|s| s.api_tokens.remove(&(email.to_owned(), token.to_owned())));
    }

    pub fn revoke_bearer_token(&self, token: &str) {
        self.with(|s| s.bearer_tokens.remove(token));
    }

    /// The account's custom ticket fields.
    pub fn ticket_fields(&self) -> Vec<TicketField> {
        self.with(|s| s.fields.clone())
    }

    /// Adds a custom ticket field and returns its id.
    pub fn add_ticket_field(&self, title: &str, kind: &str) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            s.fields.push(TicketField { id, title: title.into(), kind: kind.into() });
            id
        })
    }

    /// Makes the next `times` requests to `route` fail with `fault`.
    pub fn inject(&self, route: Route, fault: Fault, times: u32) {
        self.with(|s| s.faults.push(FaultRule { route, fault, remaining: times }));
    }

    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    pub fn tickets(&self) -> Vec<Ticket> {
        self.with(|s| s.tickets.clone())
    }

    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.with(|s| s.tickets.iter().find(|t| t.id == id).cloned())
    }

    pub fn user(&self, id: u64) -> Option<User> {
        self.with(|s| s.users.iter().find(|u| u.id == id).cloned())
    }

    /// A user deleted but not permanently yet.
    pub fn deleted_user(&self, id: u64) -> Option<User> {
        self.with(|s| s.deleted_users.iter().find(|u| u.id == id).cloned())
    }

    /// Registers an OAuth client whose grants act as the agent `email` (created if new).
    pub fn add_oauth_client(&self, client_id: &str, secret: &str, email: &str) -> u64 {
        self.with(|s| {
            let user_id = agent(s, email);
            s.oauth.clients.insert(client_id.to_owned(), oauth::Client { secret: secret.to_owned(), user_id });
            user_id
        })
    }

    /// Changes a user's role (`end-user`, `agent`, `admin`).
    pub fn set_role(&self, email: &str, role: &str) {
        self.with(|s| {
            if let Some(user) = s.users.iter_mut().find(|u| u.email.eq_ignore_ascii_case(email)) {
                user.role = role.to_owned();
            }
        });
    }

    /// Authorizations show a consent page (Allow / Deny) first, as Zendesk does, rather than
    /// approving at once.
    pub fn ask_for_consent(&self, ask: bool) {
        self.with(|s| s.oauth.ask_consent = ask);
    }

    /// The next authorization is denied (`error=access_denied`), as when the admin clicks Deny.
    pub fn deny_next_authorization(&self) {
        self.with(|s| s.oauth.deny_next = true);
    }

    /// Revokes every refresh token, as when an admin removes the app's grants in Zendesk.
    pub fn revoke_refresh_tokens(&self) {
        self.with(|s| s.oauth.refresh_tokens.clear());
    }

    /// The webhooks registered now.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.with(|s| s.webhooks.clone())
    }

    /// Deletes a webhook as an admin would in Admin Center.
    pub fn delete_webhook(&self, id: &str) {
        self.with(|s| s.webhooks.retain(|w| w.id != id));
    }

    /// Deactivates a webhook as an admin would in Admin Center (or as Zendesk does after many
    /// failures): it stays registered but is no longer called.
    pub fn deactivate_webhook(&self, id: &str) {
        self.with(|s| s.webhooks.iter_mut().filter(|w| w.id == id).for_each(|w| w.status = "inactive".into()));
    }

    /// How webhook events are delivered from now on (`Immediate` by default).
    pub fn set_webhook_mode(&self, mode: WebhookMode) {
        self.with(|s| s.outbox.mode = mode);
    }

    /// Sends the deliveries held in `WebhookMode::Hold` (in reverse order if `reverse`), switches
    /// back to `Immediate`, and returns once they are finished (recorded in `deliveries`), with
    /// how many there were (one per event and webhook).
    pub async fn release_held(&self, reverse: bool) -> usize {
        webhooks::release(&self.state, reverse).await
    }

    /// The webhook deliveries finished so far, in the order they finished.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.borrow().clone()
    }

    /// Waits until at least `n` deliveries have finished or `timeout` passes; returns them all.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        webhooks::wait_for(&self.deliveries, n, timeout).await
    }

    /// Every webhook event payload generated so far, in order, whether or not a webhook took it.
    pub fn emitted_events(&self) -> Vec<Value> {
        self.with(|s| s.outbox.emitted.clone())
    }

    /// Adds a comment as the agent `agent_email` would in the agent interface: through the same
    /// code as `PUT /api/v2/tickets/{id}.json`, so webhook events follow. Panics if the ticket or
    /// the agent does not exist or the update is refused (e.g. the ticket is closed).
    pub fn agent_reply(&self, ticket_id: u64, agent_email: &str, html_body: &str, public: bool) {
        let body = serde_json::json!({"ticket": {"comment": {"html_body": html_body, "public": public}}});
        self.update_as(ticket_id, agent_email, body);
    }

    /// Changes a ticket's status as the agent `agent_email` would (webhook events follow; see
    /// `agent_reply`). `set_status` does the same silently.
    pub fn agent_set_status(&self, ticket_id: u64, agent_email: &str, status: &str) {
        self.update_as(ticket_id, agent_email, serde_json::json!({"ticket": {"status": status}}));
    }

    /// Assigns a ticket to the agent `agent_email`, as that agent taking it in the agent
    /// interface would (an `agent_assignment_changed` event follows).
    pub fn agent_assign(&self, ticket_id: u64, agent_email: &str) {
        let agent_id = self.with(|s| s.user_by_email(agent_email).map(|u| u.id)).expect("the agent exists");
        self.update_as(ticket_id, agent_email, serde_json::json!({"ticket": {"assignee_id": agent_id}}));
    }

    /// A public reply with a file, as the agent `agent_email` would write it: the file is uploaded,
    /// then attached to the comment (webhook events follow).
    pub fn agent_reply_with_file(&self, ticket_id: u64, agent_email: &str, html_body: &str, file: (&str, &str, &[u8])) {
        let (name, content_type, bytes) = file;
        let query = [("filename".to_owned(), name.to_owned())];
        let answer = self.with(|s| {
            uploads::create(s, &self.base_url, &query, Some(content_type), &bytes::Bytes::copy_from_slice(bytes))
        });
        assert_eq!(answer.status(), http::StatusCode::CREATED, "the upload");
        let token =
            self.with(|s| s.uploads.keys().find(|t| s.uploads[*t].file_name == name).cloned()).expect("a token");
        let body =
            serde_json::json!({"ticket": {"comment": {"html_body": html_body, "public": true, "uploads": [token]}}});
        self.update_as(ticket_id, agent_email, body);
    }

    fn update_as(&self, ticket_id: u64, email: &str, body: Value) {
        let outcome = self.with(|s| {
            let agent = s.user_by_email(email).cloned().ok_or_else(|| format!("no user {email}"))?;
            let answer =
                routes::update_ticket(s, &self.base_url, &agent, ticket_id, Some(body), webhooks::Channel::Web);
            match answer.status().is_success() {
                true => Ok(()),
                false => Err(format!("updating ticket {ticket_id} as {email} was answered {}", answer.status())),
            }
        });
        // Panics outside `with`, so the state's lock is not poisoned for the rest of the test.
        if let Err(message) = outcome {
            panic!("{message}");
        }
    }

    /// Whether a bearer token currently works.
    pub fn bearer_valid(&self, token: &str) -> bool {
        self.with(|s| s.bearer_tokens.contains_key(token) && !oauth::expired(s, token))
    }

    /// Whether `Idempotency-Key` replays earlier creates (true by default).
    pub fn honour_idempotency(&self, honour: bool) {
        self.with(|s| s.honour_idempotency = honour);
    }

    /// Waits until every request answered early by `Fault::GatewayError` has been processed.
    pub async fn settled(&self) {
        let in_flight = self.with(|s| s.in_flight.clone());
        while in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every request received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// How many requests hit `route`.
    pub fn count(&self, route: Route) -> usize {
        self.with(|s| s.calls.iter().filter(|c| route == Route::Any || c.route == route).count())
    }

    pub fn reset_calls(&self) {
        self.with(|s| s.calls.clear());
    }

    /// Request bodies that did not match Zendesk's OpenAPI schemas (they were answered 400).
    pub fn schema_violations(&self) -> Vec<String> {
        self.with(|s| s.violations.clone())
    }
}

fn agent(s: &mut State, email: &str) -> u64 {
    if let Some(user) = s.user_by_email(email) {
        return user.id;
    }
    let id = s.next_id();
    let name = email.split('@').next().unwrap_or("agent").to_owned();
    s.users.push(User::new(id, name, email.to_owned(), "agent"));
    id
}
