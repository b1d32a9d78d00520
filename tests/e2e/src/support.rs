//! Test harness: emulator clients, a seeded bot, API Gateway events, log capture.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use handoff::app::App;
use handoff::settings::BotSettings;
use handoff::store::dynamodb::DynamoStore;
use handoff::store::memory::{MemorySecrets, MemoryStore};
use handoff::store::secrets_manager::SecretsManagerStore;
use handoff::store::*;
use handoff::zendesk::{ClientConfig, ZendeskClient};
use lambda_http::http::{HeaderMap, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use zendesk_sim::Simulator;

/// moto's server: DynamoDB and Secrets Manager.
pub const MOTO_ENV: &str = "HANDOFF_TEST_MOTO_ENDPOINT";
/// dynalite: DynamoDB only, stricter about expressions and conditions.
pub const DYNALITE_ENV: &str = "HANDOFF_TEST_DYNALITE_ENDPOINT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// DynamoDB and Secrets Manager on moto.
    Moto,
    /// DynamoDB on dynalite, Secrets Manager on moto.
    Dynalite,
    /// In-process adapters.
    Memory,
}

pub fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the suite with `scripts/test`, which starts the AWS emulators")
    })
}

pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .http_client(handoff::aws_sdk::http_client())
        .load()
        .await
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// A fresh table on the chosen DynamoDB emulator.
pub async fn dynamo_store(backend: Backend) -> Arc<DynamoStore> {
    dynamo_parts(backend).await.2
}

/// A fresh table with the raw client and its name, for tests that look under the adapter
/// (the table's description, items as an older release wrote them).
pub async fn dynamo_parts(backend: Backend) -> (aws_sdk_dynamodb::Client, String, Arc<DynamoStore>) {
    let url = endpoint(if backend == Backend::Dynalite { DYNALITE_ENV } else { MOTO_ENV });
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&url).await);
    let table = unique("handoff-test");
    DynamoStore::create_table(&client, &table).await.expect("create table");
    (client.clone(), table.clone(), Arc::new(DynamoStore::new(client, table)))
}

/// A Secrets Manager store on moto with its own prefix.
pub async fn secrets_store() -> Arc<SecretsManagerStore> {
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint(MOTO_ENV)).await);
    Arc::new(SecretsManagerStore::new(client, format!("{}/", unique("handoff-test"))))
}

/// The adapters behind a harness, kept typed so tests can read their call counters.
pub enum Adapters {
    Aws { dynamo: Arc<DynamoStore>, secrets: Arc<SecretsManagerStore> },
    Memory { store: Arc<MemoryStore>, secrets: Arc<MemorySecrets> },
}

impl Adapters {
    /// (DynamoDB reads, writes) and (Secrets Manager reads, writes) so far.
    pub fn counts(&self) -> ((u64, u64), (u64, u64)) {
        match self {
            Self::Aws { dynamo, secrets } => (dynamo.calls.snapshot(), secrets.calls.snapshot()),
            Self::Memory { store, secrets } => (store.calls.snapshot(), secrets.calls.snapshot()),
        }
    }
}

pub const API_TOKEN: &str = "zd-api-token-7f3a9c1e5b";
pub const AGENT_EMAIL: &str = "bot-agent@example.com";

pub struct Harness {
    pub app: App,
    pub sim: Simulator,
    pub adapters: Adapters,
    pub bot_id: String,
}

/// Retries quickly so fault tests stay short.
pub fn fast_client(request_timeout: Duration) -> ZendeskClient {
    ZendeskClient::new(ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout,
        max_attempts: 4,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    })
    .expect("client")
}

impl Harness {
    /// A bot connected by API token to a fresh simulator, with default settings.
    pub async fn new(backend: Backend) -> Self {
        Self::with_settings(backend, BotSettings::default()).await
    }

    pub async fn with_settings(backend: Backend, settings: BotSettings) -> Self {
        Self::build(backend, settings, unique("bot")).await
    }

    /// A harness for a fixed bot id (the sample events in `events/` name `demo-bot`).
    pub async fn for_bot(backend: Backend, bot_id: &str) -> Self {
        Self::build(backend, BotSettings::default(), bot_id.to_owned()).await
    }

    async fn build(backend: Backend, settings: BotSettings, bot_id: String) -> Self {
        let sim = Simulator::start().await.expect("simulator");
        sim.add_api_token(AGENT_EMAIL, API_TOKEN);
        let adapters = match backend {
            Backend::Memory => {
                Adapters::Memory { store: Arc::new(MemoryStore::new()), secrets: Arc::new(MemorySecrets::new()) }
            }
            _ => Adapters::Aws { dynamo: dynamo_store(backend).await, secrets: secrets_store().await },
        };
        let stores = match &adapters {
            Adapters::Aws { dynamo, secrets } => Stores::backed_by(dynamo.clone(), secrets.clone()),
            Adapters::Memory { store, secrets } => Stores::backed_by(store.clone(), secrets.clone()),
        };
        let mut app = App::new(stores, Some(url::Url::parse(&sim.base_url).expect("sim url"))).expect("app");
        app.zendesk = fast_client(Duration::from_secs(5));
        app.escalation.retry_delay = Duration::from_secs(1);
        let harness = Self { app, sim, adapters, bot_id };
        harness.seed(&settings).await;
        harness
    }

    /// A harness whose bot has settings but no connection yet (for the connect flows).
    pub async fn unconnected(backend: Backend) -> Self {
        let harness = Self::new(backend).await;
        harness.app.stores.secrets.delete_bot_secret(&harness.bot_id).await.expect("forget the secret");
        let mut profile = harness.app.stores.bots.load_profile(&harness.bot_id).await.expect("profile");
        let connection = profile.connection.take().expect("seeded");
        let gone = Connection { state: ConnectionState::Disconnected, ..connection };
        harness.app.stores.bots.put_connection(&gone).await.expect("disconnect");
        harness
    }

    /// Connection, settings and secret, written straight into the stores.
    async fn seed(&self, settings: &BotSettings) {
        let stores = &self.app.stores;
        stores
            .bots
            .put_connection(&Connection::new(&self.bot_id, "acme", ConnectionMode::ApiToken))
            .await
            .expect("seed connection");
        stores.bots.put_settings(&self.bot_id, settings).await.expect("seed settings");
        stores
            .secrets
            .put_bot_secret(
                &self.bot_id,
                &BotSecret::new(StoredCredentials::ApiToken {
                    email: AGENT_EMAIL.into(),
                    api_token: SecretString::from(API_TOKEN),
                }),
            )
            .await
            .expect("seed secret");
    }

    /// POSTs an escalation as the bot itself with the CREATE_TICKET scope.
    pub async fn escalate(&self, conversation_id: &str, body: &Value) -> Reply {
        let request = escalation_event(
            &self.bot_id,
            conversation_id,
            &body.to_string(),
            "application/json",
            Some((&self.bot_id, &["ZENDESK_ACTIONS.CREATE_TICKET"])),
        );
        self.send(request).await
    }

    /// Any API Gateway event, through the shared dispatch.
    pub async fn send_any(&self, event: Value) -> Reply {
        let request = lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway event");
        Reply::from(handoff::api::dispatch(&self.app, request).await)
    }

    pub async fn send(&self, event: Value) -> Reply {
        let request = lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway event");
        let response = handoff::api::escalate::handle(&self.app, request).await;
        Reply::from(response)
    }
}

/// An answer, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl From<lambda_http::Response<lambda_http::Body>> for Reply {
    fn from(response: lambda_http::Response<lambda_http::Body>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let raw = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Self { status, headers, body, raw }
    }
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn ticket_id(&self) -> u64 {
        self.body["ticket"]["id"].as_u64().unwrap_or_else(|| panic!("no ticket id in {}", self.raw))
    }
}

/// An API Gateway HTTP API (payload 2.0) event for the escalate route, as API Gateway sends it
/// after its JWT authorizer: claims and scopes under `requestContext.authorizer.jwt`.
pub fn escalation_event(
    bot_id: &str,
    conversation_id: &str,
    body: &str,
    content_type: &str,
    token: Option<(&str, &[&str])>,
) -> Value {
    let path = format!("/v1/bots/{bot_id}/conversations/{conversation_id}/escalations");
    let route = "POST /v1/bots/{bot_id}/conversations/{conversation_id}/escalations";
    let mut context = json!({
        "accountId": "123456789012", "apiId": "handoff", "domainName": "handoff.example.com",
        "domainPrefix": "handoff",
        "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "tests"},
        "requestId": unique("req"), "routeKey": route, "stage": "$default",
        "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64,
    });
    if let Some((claimed_bot, scopes)) = token {
        context["authorizer"] = json!({"jwt": {
            "claims": {"bot_id": claimed_bot, "sub": "platform-backend", "scope": scopes.join(" ")},
            "scopes": scopes,
        }});
    }
    json!({
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": content_type, "host": "handoff.example.com"},
        "requestContext": context,
        "pathParameters": {"bot_id": bot_id, "conversation_id": conversation_id},
        "body": body, "isBase64Encoded": false,
    })
}

/// A typical escalation body.
pub fn escalation_body(last_visitor_message: &str) -> Value {
    json!({
        "visitor": {"name": "Ana Souza", "email": "ana@example.com", "phone": "+55 11 5555-0000"},
        "agent_name": "Acme Bot",
        "conversation_url": "https://chat.example.com/c/1",
        "locale": "en",
        "metadata": {"plan": "pro"},
        "messages": [
            {"role": "visitor", "text": "Hi, my order never arrived", "at": "2026-11-21T10:00:00Z"},
            {"role": "bot", "text": "Sorry to hear that! Can you share the order number?", "at": "2026-11-21T10:00:02Z"},
            {"role": "visitor", "text": last_visitor_message, "at": "2026-11-21T10:00:09Z"}
        ]
    })
}

/// Captures everything logged while it is the default subscriber (current-thread tests).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let writer = self.clone();
        // Everything at TRACE, through the same filter the functions use (which caps the SDK's
        // wire-level targets): the test sees what RUST_LOG=trace would print in production.
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_current_span(true)
            .with_writer(move || writer.clone())
            .finish()
            .with(handoff::telemetry::filter("trace"))
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An API Gateway HTTP API (payload 2.0) event for any route of the table.
pub fn api_event(method: &str, path: &str, query: &str, body: Option<&str>, token: Option<(&str, &[&str])>) -> Value {
    let method_value: lambda_http::http::Method = method.parse().expect("a method");
    let (endpoint, params) =
        handoff::api::all_routes().find(&method_value, path).unwrap_or_else(|_| panic!("no route for {method} {path}"));
    let route = &endpoint.route;
    let params: serde_json::Map<String, Value> = params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let route_key = format!("{} {}", route.method, route.path);
    let mut context = json!({
        "accountId": "123456789012", "apiId": "handoff", "domainName": "handoff.example.com",
        "domainPrefix": "handoff",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "tests"},
        "requestId": unique("req"), "routeKey": route_key, "stage": "$default",
        "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64,
    });
    if let Some((claimed_bot, scopes)) = token {
        context["authorizer"] = json!({"jwt": {
            "claims": {"bot_id": claimed_bot, "sub": "admin@platform.example", "scope": scopes.join(" ")},
            "scopes": scopes,
        }});
    }
    let query_map: serde_json::Map<String, Value> =
        url::form_urlencoded::parse(query.as_bytes()).into_owned().map(|(k, v)| (k, Value::String(v))).collect();
    let mut event = json!({
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "handoff.example.com"},
        "requestContext": context,
        "pathParameters": params,
        "isBase64Encoded": false,
    });
    if !query_map.is_empty() {
        event["queryStringParameters"] = Value::Object(query_map);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.to_owned());
    }
    event
}

/// The app's OAuth client as the tests register it (in Secrets Manager and in the simulator).
pub const OAUTH_CLIENT_ID: &str = "zdg-handoff-tests";
pub const OAUTH_CLIENT_SECRET: &str = "oauth-client-secret-5d1e";
pub const RETURN_URL: &str = "https://platform.example.com/settings/zendesk";

impl Harness {
    /// Rotates the bot's API token behind this warm Lambda's back, as another Lambda (or an admin)
    /// would: the new token is stored through another store instance and the old one revoked.
    pub async fn rotate_api_token_elsewhere(&self, new_token: &str) {
        let Adapters::Aws { secrets, .. } = &self.adapters else { panic!("needs Secrets Manager") };
        let other_instance = SecretsManagerStore::new(
            aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint(MOTO_ENV)).await),
            secrets.prefix(),
        );
        let rotated = BotSecret::new(StoredCredentials::ApiToken {
            email: AGENT_EMAIL.into(),
            api_token: SecretString::from(new_token),
        });
        other_instance.put_bot_secret(&self.bot_id, &rotated).await.expect("rotate the secret");
        self.sim.add_api_token(AGENT_EMAIL, new_token);
        self.sim.revoke_api_token(AGENT_EMAIL, API_TOKEN);
    }

    /// Any route, through the shared dispatch, as this bot with `scopes`.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>, scopes: &[&str]) -> Reply {
        self.call_with_headers(method, path, body, scopes, &[]).await
    }

    /// `call` with extra request headers.
    pub async fn call_with_headers(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        scopes: &[&str],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map(Value::to_string);
        let mut event = api_event(method, path, "", body.as_deref(), Some((&self.bot_id, scopes)));
        for (name, value) in headers {
            event["headers"][*name] = json!(value);
        }
        let request = lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway event");
        Reply::from(handoff::api::dispatch(&self.app, request).await)
    }

    /// Registers the app's OAuth client with Secrets Manager and the simulator, and allows the
    /// platform's settings page as a return URL.
    pub async fn enable_oauth(&mut self) {
        let client = handoff::zendesk::oauth::OAuthClient {
            client_id: OAUTH_CLIENT_ID.into(),
            client_secret: SecretString::from(OAUTH_CLIENT_SECRET),
        };
        self.app.stores.secrets.put_oauth_client(&client).await.expect("store the OAuth client");
        self.sim.add_oauth_client(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, "oauth-admin@example.com");
        self.app.connect.allowed_return_urls = vec![url::Url::parse("https://platform.example.com/settings/").unwrap()];
    }
}

/// A bot's callback receiver on loopback: records every delivery (headers, body, the status it
/// answered) and answers 503 while `down`.
pub struct CallbackReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<(http::HeaderMap, bytes::Bytes, u16)>>>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    /// When set, deliveries whose signature does not verify with it are refused (401), as a
    /// careful bot would.
    pub secret: Arc<Mutex<Option<String>>>,
}

impl CallbackReceiver {
    pub async fn start() -> Self {
        use http_body_util::BodyExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/handoff/callback", listener.local_addr().expect("addr"));
        let received: Arc<Mutex<Vec<(http::HeaderMap, bytes::Bytes, u16)>>> = Arc::default();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let secret: Arc<Mutex<Option<String>>> = Arc::default();
        let (recorded, is_down, expected) = (received.clone(), down.clone(), secret.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (recorded, is_down, expected) = (recorded.clone(), is_down.clone(), expected.clone());
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (recorded, is_down, expected) = (recorded.clone(), is_down.clone(), expected.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
                        let expected = expected.lock().unwrap().clone();
                        let genuine = expected.is_none_or(|secret| {
                            handoff::webhook::signature::verify(
                                secret.as_bytes(),
                                header("x-handoff-signature"),
                                header("x-handoff-signature-timestamp"),
                                &bytes,
                                time::OffsetDateTime::now_utc(),
                            )
                            .is_ok()
                        });
                        let status = if is_down.load(std::sync::atomic::Ordering::SeqCst) {
                            503
                        } else if !genuine {
                            401
                        } else {
                            200
                        };
                        recorded.lock().unwrap().push((parts.headers, bytes, status));
                        let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::new()));
                        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, received, down, secret }
    }

    /// Refuse deliveries not signed with `secret` from now on.
    pub fn expect_secret(&self, secret: &str) {
        *self.secret.lock().unwrap() = Some(secret.to_owned());
    }

    /// Deliveries answered 2xx, as (headers, raw body, JSON body).
    pub fn accepted(&self) -> Vec<(http::HeaderMap, bytes::Bytes, Value)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(h, b, _)| (h.clone(), b.clone(), serde_json::from_slice(b).expect("callback JSON")))
            .collect()
    }

    pub fn attempts(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The `type` of each accepted callback, in order.
    pub fn types(&self) -> Vec<String> {
        self.accepted().into_iter().map(|(_, _, b)| b["type"].as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Forgets what was received so far (a test then sees only what comes next).
    pub fn clear(&self) {
        self.received.lock().unwrap().clear();
    }
}

impl Harness {
    /// Serves this harness's stores over HTTP, as API Gateway + Lambda would (the local
    /// runner's front), and points Zendesk's webhook registrations at it; then connects the bot
    /// through `PUT …/zendesk/connection`, so the simulator's webhook reaches Handoff signed.
    pub async fn connect_live(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = url::Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
        self.app.connect.public_base_url = base;
        let sim_url = url::Url::parse(&self.sim.base_url).expect("sim url");
        // Another Lambda: the same tables and secrets, but its own caches (on AWS adapters, its
        // own Secrets Manager client and cache), so a change made through `self.app` reaches it
        // only as it would in AWS.
        let mut stores = self.app.stores.clone();
        if let Adapters::Aws { secrets, .. } = &self.adapters {
            let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint(MOTO_ENV)).await);
            stores.secrets = Arc::new(SecretsManagerStore::new(client, secrets.prefix().to_owned()));
        }
        let mut front_app = App::new(stores, Some(sim_url)).expect("app");
        front_app.zendesk = fast_client(Duration::from_secs(5));
        front_app.connect = self.app.connect.clone();
        front_app.allow_local_callbacks();
        let data_dir = std::env::temp_dir().join(unique("handoff-front"));
        std::fs::create_dir_all(&data_dir).expect("temp dir");
        let auth = handoff_local::auth::LocalAuth::load_or_create(&data_dir).expect("local auth");
        let front = Arc::new(handoff_local::server::Front { app: front_app, auth, console_bot: None });
        tokio::spawn(handoff_local::server::serve(listener, front));
        let body =
            serde_json::json!({"mode": "api_token", "subdomain": "acme", "email": AGENT_EMAIL, "api_token": API_TOKEN});
        let path = format!("/v1/bots/{}/zendesk/connection", self.bot_id);
        let reply = self.call("PUT", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
        assert_eq!(reply.status, lambda_http::http::StatusCode::OK, "{}", reply.raw);
    }

    /// Saves `callback_url` through the settings route; the callback secret it answers.
    pub async fn set_callback(&self, callback_url: &str) -> String {
        let path = format!("/v1/bots/{}/zendesk/settings", self.bot_id);
        let body = serde_json::json!({"callback_url": callback_url});
        let reply = self.call("PUT", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
        assert_eq!(reply.status, lambda_http::http::StatusCode::OK, "{}", reply.raw);
        reply.body["callback_secret"].as_str().expect("a new callback secret").to_owned()
    }
}

impl Harness {
    /// A request with a query string, extra JWT claims (e.g. `visitor_email`) and headers.
    #[allow(clippy::too_many_arguments)]
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
        scopes: &[&str],
        claims: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map(Value::to_string);
        let mut event = api_event(method, path, query, body.as_deref(), Some((&self.bot_id, scopes)));
        for (name, value) in claims {
            event["requestContext"]["authorizer"]["jwt"]["claims"][*name] = json!(value);
        }
        for (name, value) in headers {
            event["headers"][*name] = json!(value);
        }
        let request = lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway event");
        Reply::from(handoff::api::dispatch(&self.app, request).await)
    }

    /// Saves one setting (a JSON pointer-free top-level field) over the current settings.
    pub async fn set_setting(&self, field: &str, value: Value) {
        let path = format!("/v1/bots/{}/zendesk/settings", self.bot_id);
        let current = self.call("GET", &path, None, &["ZENDESK_ACTIONS.READ_INTEGRATIONS"]).await;
        let mut settings = current.body.clone();
        settings[field] = value;
        let saved = self.call("PUT", &path, Some(&settings), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.raw);
    }
}
