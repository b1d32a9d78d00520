//! The first invocation after a cold start (issue 16): its independent reads go out at once, and
//! a function's AWS configuration comes from its environment alone.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use handoff::store::{BotSecret, SecretStore, StoreError, WebhookSecret};
use handoff::zendesk::oauth::OAuthClient;
use lambda_http::http::StatusCode;

use crate::support::*;

/// A secret store that notes, for each read of a bot's secret, how many store reads had been
/// made when it began and when it ended: reads made in between ran while the secret was read.
struct WatchedSecrets {
    inner: Arc<dyn SecretStore>,
    store_reads: Box<dyn Fn() -> u64 + Send + Sync>,
    seen: Mutex<Vec<(u64, u64)>>,
}

impl WatchedSecrets {
    fn around(h: &Harness) -> Arc<Self> {
        let store_reads: Box<dyn Fn() -> u64 + Send + Sync> = match &h.adapters {
            Adapters::Aws { dynamo, .. } => {
                let dynamo = dynamo.clone();
                Box::new(move || dynamo.calls.snapshot().0)
            }
            Adapters::Memory { store, .. } => {
                let store = store.clone();
                Box::new(move || store.calls.snapshot().0)
            }
        };
        Arc::new(Self { inner: h.app.stores.secrets.clone(), store_reads, seen: Mutex::new(Vec::new()) })
    }

    fn seen(&self) -> Vec<(u64, u64)> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl SecretStore for WatchedSecrets {
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        let at_start = (self.store_reads)();
        // Gives the reads started beside this one their turn even on the in-process store.
        tokio::task::yield_now().await;
        let secret = self.inner.get_bot_secret(bot_id).await;
        self.seen.lock().unwrap().push((at_start, (self.store_reads)()));
        secret
    }
    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError> {
        self.inner.put_bot_secret(bot_id, secret).await
    }
    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError> {
        self.inner.delete_bot_secret(bot_id).await
    }
    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
        self.inner.get_webhook_secret(bot_id).await
    }
    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError> {
        self.inner.put_webhook_secret(bot_id, secret).await
    }
    fn invalidate(&self, bot_id: &str) {
        self.inner.invalidate(bot_id)
    }
    async fn get_oauth_client(&self) -> Result<Option<OAuthClient>, StoreError> {
        self.inner.get_oauth_client().await
    }
    async fn put_oauth_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
        self.inner.put_oauth_client(client).await
    }
}

/// A harness whose bot's secret is not cached (as in a fresh Lambda), watched.
async fn cold(backend: Backend) -> (Harness, Arc<WatchedSecrets>) {
    let mut h = Harness::new(backend).await;
    h.app.stores.secrets.invalidate(&h.bot_id);
    let watched = WatchedSecrets::around(&h);
    h.app.stores.secrets = watched.clone();
    (h, watched)
}

#[tokio::test]
async fn a_cold_escalation_reads_the_secret_while_it_reads_the_profile_and_the_conversation() {
    for backend in [Backend::Memory, Backend::Moto] {
        let (h, watched) = cold(backend).await;
        let ((reads_before, _), _) = h.adapters.counts();
        let reply = h.escalate("conv-cold", &escalation_body("talk to a human")).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{backend:?}: {}", reply.raw);
        let seen = watched.seen();
        assert_eq!(seen.len(), 1, "{backend:?}: the secret is read once: {seen:?}");
        let (at_start, at_end) = seen[0];
        assert_eq!(at_start, reads_before, "{backend:?}: the secret read starts with the first reads");
        assert!(
            at_end >= reads_before + 2,
            "{backend:?}: the profile and the conversation were read while the secret was ({seen:?}, from {reads_before})"
        );
        // Warm now: the next escalation reads no secret at all.
        let reply = h.escalate("conv-warm", &escalation_body("talk to a human")).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
        if let Adapters::Aws { secrets, .. } = &h.adapters {
            assert_eq!(secrets.calls.snapshot().0, 1, "one Secrets Manager read in all: the cold one");
        }
    }
}

#[tokio::test]
async fn a_cold_status_lookup_reads_the_secret_while_it_reads_the_profile() {
    let (h, watched) = cold(Backend::Memory).await;
    assert_eq!(h.escalate("conv-status", &escalation_body("talk to a human")).await.status, StatusCode::CREATED);
    // Cold again, as a fresh status Lambda would be.
    h.app.stores.secrets.invalidate(&h.bot_id);
    let ((reads_before, _), _) = h.adapters.counts();
    let path = format!("/v1/bots/{}/tickets/{}", h.bot_id, h.sim.tickets()[0].id);
    let scopes = [handoff::http::scopes::READ_TICKET_STATUS];
    let reply = h.request("GET", &path, "conversation_id=conv-status", None, &scopes, &[], &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let seen = watched.seen();
    assert_eq!(seen.len(), 2, "the escalation's read and the lookup's: {seen:?}");
    assert_eq!(seen[1].0, reads_before, "the secret read starts with the profile's");
    assert!(seen[1].1 > reads_before, "the profile was read while the secret was: {seen:?}");
}

#[test]
fn a_lambda_environment_reaches_dynamodb_without_the_sdk_default_chain() {
    let endpoint = endpoint(MOTO_ENV);
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let config = handoff::aws_sdk::from_env(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
        .expect("config");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = unique("cold-env");
    runtime
        .block_on(client.create_secret().name(&name).secret_string("{}").send())
        .expect("Secrets Manager takes a write from a client built from the environment alone");
    let read = runtime.block_on(client.describe_secret().secret_id(&name).send()).expect("and reads it back");
    assert_eq!(read.name(), Some(name.as_str()));
}

#[tokio::test]
async fn a_bot_without_a_secret_costs_one_secrets_manager_read_until_it_connects_elsewhere() {
    let h = Harness::unconnected(Backend::Moto).await;
    let Adapters::Aws { secrets, .. } = &h.adapters else { unreachable!("moto") };
    let reads = || secrets.calls.snapshot().0;
    let before = reads();
    for conversation in ["conv-nc-1", "conv-nc-2", "conv-nc-3"] {
        let reply = h.escalate(conversation, &escalation_body("talk to a human")).await;
        assert_eq!(reply.body["type"], "urn:handoff:problem:not-connected", "{}", reply.raw);
    }
    assert_eq!(reads() - before, 1, "the missing secret is remembered");

    // Another Lambda connects the bot: this one's remembered miss must not refuse it.
    let other_instance = handoff::store::secrets_manager::SecretsManagerStore::new(
        aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint(MOTO_ENV)).await),
        secrets.prefix(),
    );
    let secret = handoff::store::BotSecret::new(handoff::store::StoredCredentials::ApiToken {
        email: AGENT_EMAIL.into(),
        api_token: secrecy::SecretString::from(API_TOKEN),
    });
    other_instance.put_bot_secret(&h.bot_id, &secret).await.expect("connect elsewhere");
    let connected = handoff::store::Connection::new(&h.bot_id, "acme", handoff::store::ConnectionMode::ApiToken);
    h.app.stores.bots.put_connection(&connected).await.expect("connection");
    let reply = h.escalate("conv-nc-4", &escalation_body("talk to a human")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
}

/// An endpoint that reads each request and answers `answer` (raw bytes, then closes), counting
/// the connections made to it: each attempt of the SDK is one.
async fn raw_endpoint(answer: &'static [u8]) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = attempts.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, attempts)
}

/// The functions' DynamoDB client (their SDK configuration and HTTP connector) aimed at `url`.
fn dynamodb_at(url: &str) -> aws_sdk_dynamodb::Client {
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", url),
    ];
    let config = handoff::aws_sdk::from_env(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
        .expect("config");
    aws_sdk_dynamodb::Client::new(&config)
}

#[tokio::test]
async fn the_aws_connector_retries_a_cut_answer_but_never_resends_after_a_malformed_one() {
    use aws_sdk_dynamodb::types::AttributeValue;
    // The connection closes before any answer: the SDK tries again (three attempts in all).
    let (url, attempts) = raw_endpoint(b"").await;
    let put = dynamodb_at(&url).put_item().table_name("t").item("pk", AttributeValue::S("x".into())).send().await;
    assert!(put.is_err());
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 3, "a cut answer is retried");
    // An answer that is not HTTP: the write may have been applied, so it is not sent again.
    let (url, attempts) = raw_endpoint(b"this is not HTTP\r\n\r\n").await;
    let put = dynamodb_at(&url).put_item().table_name("t").item("pk", AttributeValue::S("x".into())).send().await;
    assert!(put.is_err());
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1, "a malformed answer is not retried");
}
