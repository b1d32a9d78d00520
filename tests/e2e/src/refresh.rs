//! Token refresh when things go wrong: a slow token endpoint, Secrets Manager refusing writes,
//! another writer rotating the pair, too little time left, a reconnect during a refresh. Zendesk's
//! refresh tokens are single use, so each of these could lose the only copy of the new pair.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use handoff::connection::refresh::{Reason, RefreshError};
use handoff::deadline::Deadline;
use handoff::store::secrets_manager::SecretsManagerStore;
use handoff::store::{ConnectionMode, ConnectionState, StoredCredentials};
use lambda_http::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use zendesk_sim::{Fault, Route};

use crate::connect::{access_token, expire_soon, oauth_connected, refresher};
use crate::support::*;

/// Something to do just before a `PutSecretValue` naming a secret that ends with the given suffix
/// is forwarded (another writer stepping in between a read and a write).
type BeforeWrite = (String, std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>);

/// A loopback proxy in front of moto that answers the next `failures` `PutSecretValue` calls
/// with Secrets Manager's 500 `InternalServiceError` without forwarding them, forwards the next
/// `lost` ones to moto (so they are stored) and then answers the client with that same 500 (an
/// answer lost after the commit), and forwards everything else.
pub(crate) struct FailingSecretWrites {
    url: String,
    failures: Arc<AtomicU32>,
    lost: Arc<AtomicU32>,
    before: Arc<std::sync::Mutex<Option<BeforeWrite>>>,
}

fn injected_failure() -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let body = json!({"__type": "InternalServiceError", "message": "injected failure"});
    let mut answer = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body.to_string())));
    *answer.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    answer.headers_mut().insert("content-type", "application/x-amz-json-1.1".parse().unwrap());
    answer
}

fn take_one(counter: &AtomicU32) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl FailingSecretWrites {
    pub(crate) async fn start(upstream: String) -> Self {
        use http_body_util::BodyExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let failures = Arc::new(AtomicU32::new(0));
        let lost = Arc::new(AtomicU32::new(0));
        let before: Arc<std::sync::Mutex<Option<BeforeWrite>>> = Arc::default();
        let (left, losing, hook, client) = (failures.clone(), lost.clone(), before.clone(), reqwest::Client::new());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (left, losing, hook, client, upstream) =
                    (left.clone(), losing.clone(), hook.clone(), client.clone(), upstream.clone());
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (left, losing, hook, client, upstream) =
                        (left.clone(), losing.clone(), hook.clone(), client.clone(), upstream.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
                        let put = target == Some("secretsmanager.PutSecretValue");
                        if put && take_one(&left) {
                            return Ok::<_, std::convert::Infallible>(injected_failure());
                        }
                        if put {
                            let secret_id = serde_json::from_slice::<serde_json::Value>(&bytes)
                                .ok()
                                .and_then(|v| v["SecretId"].as_str().map(str::to_owned))
                                .unwrap_or_default();
                            let step = {
                                let mut hook = hook.lock().unwrap();
                                match hook.as_ref() {
                                    Some((suffix, _)) if secret_id.ends_with(suffix.as_str()) => hook.take(),
                                    _ => None,
                                }
                            };
                            if let Some((_, step)) = step {
                                step.await;
                            }
                        }
                        let lose = put && take_one(&losing);
                        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                        let mut forward = client.request(parts.method.clone(), format!("{upstream}{path}"));
                        for (name, value) in &parts.headers {
                            if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                                forward = forward.header(name, value);
                            }
                        }
                        let upstream_answer = forward.body(bytes).send().await.expect("moto answers");
                        let status = upstream_answer.status();
                        let headers = upstream_answer.headers().clone();
                        let body = upstream_answer.bytes().await.unwrap_or_default();
                        if lose {
                            assert!(status.is_success(), "moto stored the write whose answer is lost");
                            return Ok(injected_failure());
                        }
                        let mut answer = http::Response::new(http_body_util::Full::new(body));
                        *answer.status_mut() = status;
                        for (name, value) in &headers {
                            if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
                                answer.headers_mut().insert(name, value.clone());
                            }
                        }
                        Ok(answer)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, failures, lost, before }
    }

    /// The next `n` `PutSecretValue` calls fail.
    fn fail_next(&self, n: u32) {
        self.failures.store(n, Ordering::SeqCst);
    }

    /// The next `n` `PutSecretValue` calls are stored, and then answered with a 500.
    fn lose_next_answers(&self, n: u32) {
        self.lost.store(n, Ordering::SeqCst);
    }

    fn lost_answers_left(&self) -> u32 {
        self.lost.load(Ordering::SeqCst)
    }

    /// Runs `step` just before the next write to a secret whose name ends with `suffix` goes on.
    pub(crate) fn before_next_write(&self, suffix: &str, step: impl std::future::Future<Output = ()> + Send + 'static) {
        *self.before.lock().unwrap() = Some((suffix.to_owned(), Box::pin(step)));
    }

    pub(crate) fn before_write_pending(&self) -> bool {
        self.before.lock().unwrap().is_some()
    }

    fn failures_left(&self) -> u32 {
        self.failures.load(Ordering::SeqCst)
    }
}

/// Points the harness's secret store at `proxy`, keeping its prefix. The SDK's own retries are
/// switched off so each store write is one HTTP call and the proxy's count is exact.
pub(crate) async fn secrets_through(h: &mut Harness, proxy: &FailingSecretWrites) {
    let prefix = match &h.adapters {
        Adapters::Aws { secrets, .. } => secrets.prefix().to_owned(),
        Adapters::Memory { .. } => panic!("the proxy stands in front of moto"),
    };
    let config = sdk_config(&proxy.url).await;
    let config = aws_sdk_secretsmanager::config::Builder::from(&config)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(config);
    h.app.stores.secrets = Arc::new(SecretsManagerStore::new(client, prefix));
}

fn stored_refresh_token(secret: &handoff::store::BotSecret) -> String {
    match &secret.credentials {
        StoredCredentials::Oauth { refresh_token: Some(token), .. } => token.expose_secret().to_owned(),
        other => panic!("an OAuth secret with a refresh token expected, got {other:?}"),
    }
}

/// A refresh started in the background, returned once its token request has reached Zendesk.
async fn refresh_in_flight(
    h: &Arc<Harness>,
) -> tokio::task::JoinHandle<Result<handoff::store::BotSecret, RefreshError>> {
    let refreshing = {
        let h = h.clone();
        tokio::spawn(async move {
            refresher(&h).refresh(&h.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(30))).await
        })
    };
    while h.sim.count(Route::OAuthToken) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    refreshing
}

async fn connection(h: &Harness) -> handoff::store::Connection {
    h.app.stores.bots.load_profile(&h.bot_id).await.unwrap().connection.unwrap()
}

/// The stored pair still works: a second refresh with it is granted.
async fn the_stored_pair_still_refreshes(h: &Harness) {
    expire_soon(h).await;
    let again = refresher(h).refresh(&h.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(30))).await;
    let secret = again.expect("the stored refresh token is the live one");
    assert!(h.sim.bearer_valid(&access_token(&secret)));
    assert_eq!(connection(h).await.state, ConnectionState::Connected);
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    assert!(audit.entries.iter().all(|e| e.action != "refresh_failed"), "{:?}", audit.entries);
}

#[tokio::test]
async fn a_token_answer_slower_than_the_client_timeout_is_still_stored() {
    let mut h = oauth_connected(Backend::Moto).await;
    // The client gives up on ordinary calls after half a second; Zendesk takes 1.5 s to answer
    // the refresh (and rotates the pair whether or not anyone is still listening).
    h.app.zendesk = fast_client(Duration::from_millis(500));
    expire_soon(&h).await;
    h.sim.inject(Route::OAuthToken, Fault::Slow(Duration::from_millis(1500)), 1);
    let refreshed = refresher(&h).refresh(&h.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(30))).await;
    let secret = refreshed.expect("the refresh waits for the token endpoint within its lease");
    assert!(h.sim.bearer_valid(&access_token(&secret)));
    the_stored_pair_still_refreshes(&h).await;
}

#[tokio::test]
async fn secret_write_failures_are_retried_until_the_lease_ends() {
    let mut h = oauth_connected(Backend::Moto).await;
    let proxy = FailingSecretWrites::start(endpoint(MOTO_ENV)).await;
    secrets_through(&mut h, &proxy).await;
    expire_soon(&h).await;
    // More failures in a row than a few quick tries would outlast.
    proxy.fail_next(6);
    let refreshed = refresher(&h).refresh(&h.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(30))).await;
    let secret = refreshed.expect("the new pair is stored once Secrets Manager takes it");
    assert_eq!(proxy.failures_left(), 0);
    h.app.stores.secrets.invalidate(&h.bot_id);
    let stored = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    assert_eq!(access_token(&stored), access_token(&secret));
    the_stored_pair_still_refreshes(&h).await;
}

#[tokio::test]
async fn a_secret_write_stored_but_answered_with_an_error_keeps_the_new_pair() {
    let mut h = oauth_connected(Backend::Moto).await;
    let proxy = FailingSecretWrites::start(endpoint(MOTO_ENV)).await;
    secrets_through(&mut h, &proxy).await;
    expire_soon(&h).await;
    h.sim.reset_calls();
    // Secrets Manager stores the new pair, but its answer is lost (a 500 after the commit): the
    // next try finds the pair it was about to write already there.
    proxy.lose_next_answers(1);
    let refreshed = refresher(&h).refresh(&h.bot_id, Reason::Expiring, Deadline::after(Duration::from_secs(30))).await;
    let secret = refreshed.expect("a write that was stored is done, whatever its answer said");
    assert_eq!(proxy.lost_answers_left(), 0, "the answer was lost");
    assert_eq!(h.sim.count(Route::RevokeToken), 0, "the stored pair was not revoked");
    assert!(h.sim.bearer_valid(&access_token(&secret)));
    h.app.stores.secrets.invalidate(&h.bot_id);
    let stored = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    assert!(stored.credentials.same_as(&secret.credentials), "the stored pair is the new one");
    assert_eq!(connection(&h).await.state, ConnectionState::Connected);
    let escalated = h.escalate("conv-after-lost-answer", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
    the_stored_pair_still_refreshes(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_grant_after_another_writer_rotated_the_pair_uses_the_stored_pair() {
    let h = Arc::new(oauth_connected(Backend::Moto).await);
    expire_soon(&h).await;
    let before = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    h.sim.reset_calls();
    h.sim.inject(Route::OAuthToken, Fault::Slow(Duration::from_millis(1500)), 1);
    let refreshing = refresh_in_flight(&h).await;
    // While Zendesk sits on that request, another writer (a refresher whose lease ran out) spends
    // the same refresh token and stores its new pair.
    let grant: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth/tokens", h.sim.base_url))
        .json(&json!({
            "grant_type": "refresh_token", "refresh_token": stored_refresh_token(&before),
            "client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = grant["access_token"].as_str().expect("the other writer's grant").to_owned();
    let mut rotated = before.clone();
    rotated.credentials = StoredCredentials::Oauth {
        access_token: SecretString::from(theirs.clone()),
        refresh_token: grant["refresh_token"].as_str().map(SecretString::from),
        access_token_expires_at: Some(time::OffsetDateTime::now_utc().unix_timestamp() + 3600),
    };
    let other_lambda = match &h.adapters {
        Adapters::Aws { secrets, .. } => secrets.clone(),
        Adapters::Memory { .. } => unreachable!(),
    };
    handoff::store::SecretStore::put_bot_secret(other_lambda.as_ref(), &h.bot_id, &rotated).await.unwrap();

    let outcome = refreshing.await.unwrap();
    let secret = outcome.expect("Zendesk's invalid_grant is answered by the pair stored meanwhile");
    assert_eq!(access_token(&secret), theirs);
    assert_eq!(connection(&h).await.state, ConnectionState::Connected);
    let audit = h.app.stores.audit.list(&h.bot_id, 50, None).await.unwrap();
    assert!(audit.entries.iter().all(|e| e.action != "refresh_failed"), "{:?}", audit.entries);
}

#[tokio::test]
async fn a_refresh_starts_only_with_a_whole_lease_left() {
    let h = oauth_connected(Backend::Memory).await;
    expire_soon(&h).await;
    h.sim.reset_calls();
    let short = Deadline::after(Duration::from_secs(3));
    // A request path with little time left keeps the token it has.
    let refused = refresher(&h).refresh(&h.bot_id, Reason::Expiring, short).await;
    assert!(matches!(refused, Err(RefreshError::NoTime)), "{:?}", refused.map(|_| ()));
    // The scheduled run stops before a refresh it could not finish.
    let summary = refresher(&h).refresh_due(50, short).await.unwrap();
    assert_eq!((summary.refreshed, summary.deferred), (0, 1), "{summary:?}");
    assert_eq!(h.sim.count(Route::OAuthToken), 0, "no refresh token was spent");
    let c = connection(&h).await;
    assert!(c.refresh_lease_holder.is_none() && c.last_refresh_at.is_none());
    // With the time, the same run refreshes.
    let summary = refresher(&h).refresh_due(50, Deadline::after(Duration::from_secs(60))).await.unwrap();
    assert_eq!((summary.refreshed, summary.deferred), (1, 0), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_during_a_slow_refresh_keeps_the_new_account() {
    let mut h = oauth_connected(Backend::Moto).await;
    h.app.zendesk = fast_client(Duration::from_secs(12));
    let h = Arc::new(h);
    expire_soon(&h).await;
    let version = connection(&h).await.version;
    h.sim.reset_calls();
    // Slower than a reconnect would wait for a refresher to finish.
    h.sim.inject(Route::OAuthToken, Fault::Slow(Duration::from_secs(9)), 1);
    let refreshing = refresh_in_flight(&h).await;
    let path = format!("/v1/bots/{}/zendesk/connection", h.bot_id);
    let body = json!({"mode": "api_token", "subdomain": "globex", "email": AGENT_EMAIL, "api_token": API_TOKEN});
    let reconnected = h.call("PUT", &path, Some(&body), &["ZENDESK_ACTIONS.CREATE_OAUTH"]).await;
    assert_eq!(reconnected.status, StatusCode::OK, "{}", reconnected.raw);

    let outcome = refreshing.await.unwrap();
    assert!(matches!(outcome, Err(RefreshError::Superseded)), "{:?}", outcome.map(|_| ()));
    let c = connection(&h).await;
    assert_eq!(
        (c.subdomain.as_str(), c.mode, c.state),
        ("globex", ConnectionMode::ApiToken, ConnectionState::Connected)
    );
    assert!(c.version > version && c.refresh_lease_holder.is_none());
    h.app.stores.secrets.invalidate(&h.bot_id);
    let stored = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    assert!(matches!(stored.credentials, StoredCredentials::ApiToken { .. }), "{:?}", stored.credentials);
    assert_eq!(h.sim.count(Route::RevokeToken), 1, "the discarded refresh's token was revoked");
    let escalated = h.escalate("conv-after-reconnect", &escalation_body("talk to a human")).await;
    assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.raw);
}

/// The webhook health check reaches Zendesk like every other path (`connection::accounts`): an
/// OAuth token about to expire is refreshed first, within the sweeper run's time.
#[tokio::test]
async fn the_webhook_health_check_refreshes_an_expiring_token_first() {
    let h = oauth_connected(Backend::Memory).await;
    expire_soon(&h).await;
    let before = access_token(&h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap());
    let later = handoff::deadline::now_ms() + 16 * 60_000;
    let swept = handoff::sweeper::sweep_at(&h.app, later, Deadline::after(Duration::from_secs(55))).await;
    assert_eq!((swept.webhooks.healthy, swept.webhooks.failed), (1, 0), "{swept:?}");
    h.app.stores.secrets.invalidate(&h.bot_id);
    let after = h.app.stores.secrets.get_bot_secret(&h.bot_id).await.unwrap().unwrap();
    assert_ne!(access_token(&after), before, "the expiring token was refreshed");
    assert!(h.sim.bearer_valid(&access_token(&after)));
    let expires = match after.credentials {
        StoredCredentials::Oauth { access_token_expires_at, .. } => access_token_expires_at.unwrap(),
        _ => unreachable!(),
    };
    assert!(expires > time::OffsetDateTime::now_utc().unix_timestamp() + 300);
}
