//! A real function binary, as Lambda runs it: built by this test, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a stand-in for the Lambda Runtime API (a loopback HTTP
//! server here), `RUST_LOG=trace`, DynamoDB and Secrets Manager on moto and Zendesk on the
//! simulator. It is handed API Gateway events carrying a bearer JWT, an API token and an OAuth
//! code; its whole stdout and stderr must hold none of them. The runtime and HTTP crates log raw
//! events and bodies at `trace`, so this holds only because `telemetry` caps them.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::*;

const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJib3RfaWQiOiJsb2ctYm90Iiwic2NvcGUiOiJhbGwifQ.c2lnbmF0dXJlLW9mLXRoZS1qd3Q";
const SECRET_API_TOKEN: &str = "zd-api-token-never-logged-51c9";
const OAUTH_CODE: &str = "oauth-code-never-logged-7d20";

/// What the function posted back for one invocation: `response` or `error`, and the body.
#[derive(Debug, Clone)]
struct Posted {
    request_id: String,
    kind: String,
    body: String,
}

/// The Lambda Runtime API's invocation endpoints, on loopback: hands out queued events one by
/// one (then holds `next` open, as Lambda does between invocations) and records what comes back.
#[derive(Clone, Default)]
struct RuntimeApi {
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    posted: Arc<Mutex<Vec<Posted>>>,
}

impl RuntimeApi {
    async fn start(events: Vec<(String, Value)>) -> (Self, String) {
        let api = RuntimeApi { events: Arc::new(Mutex::new(events.into())), ..Default::default() };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let served = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let api = api.clone();
                        async move { Ok::<_, std::convert::Infallible>(api.answer(request).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        (api, addr)
    }

    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let segments: Vec<&str> = path.trim_start_matches("/2018-06-01/runtime/").split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["invocation", "next"]) => {
                let next = self.events.lock().unwrap().pop_front();
                let Some((request_id, event)) = next else {
                    // No more work: hold the long poll, as Lambda does, until the test ends.
                    std::future::pending::<()>().await;
                    unreachable!()
                };
                let deadline = (time::OffsetDateTime::now_utc().unix_timestamp() + 60) * 1000;
                Response::builder()
                    .header("lambda-runtime-aws-request-id", request_id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:logs",
                    )
                    .header(
                        "lambda-runtime-trace-id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    )
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(event.to_string())))
                    .unwrap()
            }
            ("POST", ["invocation", request_id, kind]) => {
                self.posted.lock().unwrap().push(Posted {
                    request_id: (*request_id).to_owned(),
                    kind: (*kind).to_owned(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                Response::builder().status(202).body(Full::new(Bytes::from_static(br#"{"status":"OK"}"#))).unwrap()
            }
            ("POST", ["init", "error"]) => {
                self.posted.lock().unwrap().push(Posted {
                    request_id: String::new(),
                    kind: "init-error".into(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                Response::builder().status(202).body(Full::new(Bytes::new())).unwrap()
            }
            _ => Response::builder().status(404).body(Full::new(Bytes::new())).unwrap(),
        }
    }

    fn posted(&self) -> Vec<Posted> {
        self.posted.lock().unwrap().clone()
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Builds a function crate's binary as `cargo build` does (the same target directory as this
/// test run) and returns its path, read from cargo's own report of what it built.
fn build_function(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", name, "--bin", name, "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo build runs");
    assert!(output.status.success(), "cargo build -p {name} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo did not report the {name} executable"))
}

/// The function process; killed when dropped.
struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An API Gateway HTTP API (payload 2.0) event as Lambda delivers it: the bearer JWT in the
/// `authorization` header (API Gateway passes it on) and its claims under `authorizer.jwt`.
fn gateway_event(method: &str, path: &str, query: &str, body: Option<&Value>, bot: &str) -> Value {
    let scopes = ["ZENDESK_ACTIONS.CREATE_OAUTH", "ZENDESK_ACTIONS.READ_INTEGRATIONS"];
    let mut event = api_event(method, path, query, body.map(Value::to_string).as_deref(), Some((bot, &scopes)));
    event["headers"]["authorization"] = json!(format!("Bearer {JWT}"));
    event["requestContext"]["authorizer"]["jwt"]["claims"]["iat"] = json!("1795000000");
    event["cookies"] = json!([format!("session={JWT}")]);
    event
}

#[tokio::test]
async fn a_function_binary_at_trace_logs_no_token_secret_or_code() {
    let binary = tokio::task::spawn_blocking(|| build_function("connection")).await.unwrap();
    let sim = zendesk_sim::Simulator::start().await.unwrap();
    sim.add_api_token(AGENT_EMAIL, SECRET_API_TOKEN);
    let moto = endpoint(MOTO_ENV);
    let table = unique("handoff-logs");
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk_config(&moto).await);
    handoff::store::dynamodb::DynamoStore::create_table(&dynamo, &table).await.expect("create table");
    let bot = unique("log-bot");

    let connect =
        json!({"mode": "api_token", "subdomain": "acme", "email": AGENT_EMAIL, "api_token": SECRET_API_TOKEN});
    let events = vec![
        (
            "req-connect".to_owned(),
            gateway_event("PUT", &format!("/v1/bots/{bot}/zendesk/connection"), "", Some(&connect), &bot),
        ),
        (
            "req-callback".to_owned(),
            gateway_event(
                "GET",
                "/oauth/zendesk/callback",
                &format!("code={OAUTH_CODE}&state=unknown-state"),
                None,
                &bot,
            ),
        ),
    ];
    let (runtime, runtime_addr) = RuntimeApi::start(events).await;
    let logs = std::env::temp_dir().join(format!("{}.log", unique("handoff-function")));
    let log_file = std::fs::File::create(&logs).unwrap();
    let child = Command::new(&binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", runtime_addr.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "handoff-test-connection"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/handoff-test-connection"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/21/[$LATEST]0123456789abcdef"),
            ("RUST_LOG", "trace"),
            ("AWS_ENDPOINT_URL", moto.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("HANDOFF_TABLE", table.as_str()),
            ("HANDOFF_SECRET_PREFIX", &format!("{}/", unique("handoff-logs"))),
            ("HANDOFF_ZENDESK_BASE_URL", sim.base_url.as_str()),
        ])
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("the function starts");
    let mut function = Function(child);

    // Waits for both answers (a failsafe, not a timing assertion), or for the process to end.
    let give_up = Instant::now() + Duration::from_secs(120);
    while runtime.posted().len() < 2 && Instant::now() < give_up {
        if let Some(status) = function.0.try_wait().unwrap() {
            panic!("the function exited ({status}): {}", std::fs::read_to_string(&logs).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(function);
    let output = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let posted = runtime.posted();

    assert_eq!(posted.len(), 2, "the function answered both invocations: {posted:#?}\n{output}");
    let connect_answer = posted.iter().find(|p| p.request_id == "req-connect").expect("connect answered");
    assert_eq!(connect_answer.kind, "response", "{connect_answer:?}");
    let answer: Value = serde_json::from_str(&connect_answer.body).unwrap();
    assert_eq!(answer["statusCode"], 200, "the connection was made: {answer}");
    let callback_answer = posted.iter().find(|p| p.request_id == "req-callback").expect("callback answered");
    assert_eq!(callback_answer.kind, "response", "{callback_answer:?}");

    // Not vacuous: the function logged below info, and logged the invocations.
    let lines: Vec<&str> = output.lines().collect();
    assert!(lines.iter().any(|l| l.contains("\"level\":\"DEBUG\"") || l.contains("\"level\":\"TRACE\"")), "{output}");
    assert!(output.contains(&bot), "the bot id is logged as a field: {output}");

    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{AGENT_EMAIL}/token:{SECRET_API_TOKEN}"))
    };
    let jwt_signature = JWT.rsplit('.').next().unwrap();
    for (what, secret) in [
        ("the JWT", JWT),
        ("the JWT's signature", jwt_signature),
        ("the API token", SECRET_API_TOKEN),
        ("the Basic credentials", basic.as_str()),
        ("the OAuth code", OAUTH_CODE),
    ] {
        let leaks: Vec<&&str> = lines.iter().filter(|l| l.contains(secret)).take(3).collect();
        assert!(leaks.is_empty(), "{what} reached the function's output:\n{leaks:#?}");
        for answer in &posted {
            assert!(!answer.body.contains(secret), "{what} reached an answer: {}", answer.body);
        }
    }
}
