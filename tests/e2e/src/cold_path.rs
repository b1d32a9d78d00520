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
