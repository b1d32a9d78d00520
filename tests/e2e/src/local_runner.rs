//! The local runner as a user meets it: started with the README's command line (plus free ports
//! and a temporary data folder), driven with the walk-through's requests over HTTP, stopped and
//! started again on the same data.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use handoff_local::auth::LocalAuth;
use serde_json::{Value, json};

/// The README's run command: `cargo run -p handoff-local --` and flags.
fn readme_command(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root()).args(["run", "--quiet", "-p", "handoff-local", "--"]).args(args);
    command
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The runner process; killed when dropped.
struct Runner {
    child: Child,
    api: String,
    simulator: String,
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_with(data: &Path, env: &[(&str, String)]) -> Runner {
    start_on(data, (free_port(), free_port()), env)
}

/// Starts on given ports (a restart keeps them, as the README's fixed ports would: the webhook
/// registered with the simulator points at the API's address).
fn start_on(data: &Path, (api_port, sim_port): (u16, u16), env: &[(&str, String)]) -> Runner {
    let api_addr = format!("127.0.0.1:{api_port}");
    let sim_addr = format!("127.0.0.1:{sim_port}");
    let child =
        readme_command(&["--addr", &api_addr, "--simulator-addr", &sim_addr, "--data-dir", data.to_str().unwrap()])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo run starts");
    let mut runner = Runner { child, api: format!("http://{api_addr}"), simulator: format!("http://{sim_addr}") };
    // The first start may build the binary; later ones are ready at once.
    let deadline = Instant::now() + Duration::from_secs(300);
    while std::net::TcpStream::connect(&api_addr).is_err() {
        if let Some(status) = runner.child.try_wait().unwrap() {
            panic!("the runner exited before serving: {status}");
        }
        assert!(Instant::now() < deadline, "the runner did not start in time");
        std::thread::sleep(Duration::from_millis(100));
    }
    runner
}

fn token(data: &Path) -> String {
    let output =
        readme_command(&["token", "--bot", "demo-bot", "--data-dir", data.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn escalate(
    client: &reqwest::Client,
    runner: &Runner,
    token: &str,
    conversation: &str,
    body: &Value,
) -> (u16, Value) {
    let response = client
        .post(format!("{}/v1/bots/demo-bot/conversations/{conversation}/escalations", runner.api))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A read from the simulator's Zendesk API as its support agent.
async fn agent_get(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).header("Authorization", agent_auth()).send().await.unwrap().json().await.unwrap()
}

fn agent_auth() -> String {
    let pair = format!("{}/token:{}", handoff_local::SIMULATOR_AGENT_EMAIL, handoff_local::SIMULATOR_AGENT_TOKEN);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// The walk-through's support agent, Carla.
fn support_auth() -> String {
    let pair = format!("{}/token:{}", handoff_local::SIMULATOR_SUPPORT_EMAIL, handoff_local::SIMULATOR_SUPPORT_TOKEN);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// Waits (up to 10 s) until the receiver has accepted `n` callbacks.
async fn callbacks(receiver: &crate::support::CallbackReceiver, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got: Vec<Value> = receiver.accepted().into_iter().map(|(_, _, body)| body).collect();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_readme_walk_through_works_and_data_survives_a_restart() {
    let data = std::env::temp_dir().join(format!("handoff-runner-{}", fastrand::u64(..)));
    // No pooled connections: the restarted runner listens on the same port.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let body = json!({
        "visitor": {"name": "Ana Souza", "email": "ana@example.com"},
        "agent_name": "Acme Bot",
        "messages": [
            {"role": "visitor", "text": "My order never arrived", "at": "2026-11-21T10:00:00Z"},
            {"role": "bot", "text": "Sorry! Let me check.", "at": "2026-11-21T10:00:02Z"},
            {"role": "visitor", "text": "Can I talk to a human, please?", "at": "2026-11-21T10:00:09Z"}
        ]
    });

    let ports = (free_port(), free_port());
    let runner = start_on(&data, ports, &[]);
    let token = token(&data);
    // The API's description is served as it is in the repository, without a token.
    let described = client.get(format!("{}/openapi.json", runner.api)).send().await.unwrap();
    assert_eq!(described.status().as_u16(), 200);
    assert_eq!(described.headers()["content-type"], "application/json");
    assert_eq!(described.text().await.unwrap(), handoff::api::OPENAPI_JSON);
    // Escalate: one ticket.
    let (status, created) = escalate(&client, &runner, &token, "conv-1001", &body).await;
    assert_eq!(status, 201, "{created}");
    let ticket_id = created["ticket"]["id"].as_u64().unwrap();
    // Without a token: 401 problem.
    let anonymous = client
        .post(format!("{}/v1/bots/demo-bot/conversations/x/escalations", runner.api))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    // Look at the ticket: the simulator's page and API.
    let page = client
        .get(format!("{}/agent/tickets/{ticket_id}", runner.simulator))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Can I talk to a human, please?") && page.contains("internal note"), "{page}");
    let shown: Value = agent_get(&client, &format!("{}/api/v2/tickets/{ticket_id}.json", runner.simulator)).await;
    assert_eq!(shown["ticket"]["external_id"], "conv-1001");
    drop(runner);

    // Restart on the same data: the conversation and the simulator's ticket are still there.
    let runner = start_on(&data, ports, &[]);
    let (status, again) = escalate(&client, &runner, &token, "conv-1001", &body).await;
    assert_eq!(
        (status, again["deduplicated"].clone(), again["ticket"]["id"].as_u64()),
        (200, json!(true), Some(ticket_id)),
        "{again}"
    );
    // The bot gets a callback URL (the README's receiver prints what it gets; this one records).
    let receiver = crate::support::CallbackReceiver::start().await;
    let settings = client
        .put(format!("{}/v1/bots/demo-bot/zendesk/settings", runner.api))
        .bearer_auth(&token)
        .json(&json!({"callback_url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status().as_u16(), 200);
    let settings: Value = settings.json().await.unwrap();
    assert!(settings["callback_secret"].as_str().is_some_and(|s| !s.is_empty()), "{settings}");
    // The support agent replies in the simulator; its webhook reaches the runner signed, and the
    // bot hears that an agent joined, and the reply.
    let agent = |update: Value| {
        client
            .put(format!("{}/api/v2/tickets/{ticket_id}.json", runner.simulator))
            .header("Authorization", support_auth())
            .json(&update)
            .send()
    };
    let reply =
        json!({"ticket": {"comment": {"html_body": "<p>Hi Ana, it ships <b>tomorrow</b>!</p>", "public": true}}});
    assert_eq!(agent(reply).await.unwrap().status().as_u16(), 200);
    let heard = callbacks(&receiver, 2).await;
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert_eq!(heard[0]["type"], "agent_joined");
    assert_eq!(
        (heard[1]["type"].as_str(), heard[1]["text"].as_str()),
        (Some("agent_reply"), Some("Hi Ana, it ships tomorrow!"))
    );
    assert_eq!(heard[1]["author"]["name"], handoff_local::SIMULATOR_SUPPORT_NAME);
    // The visitor answers from the chat: the simulator's page shows the customer's own comment.
    let messages = client
        .post(format!("{}/v1/bots/demo-bot/conversations/conv-1001/messages", runner.api))
        .bearer_auth(&token)
        .json(&json!({"messages": [{"id": "msg-1", "text": "Great, thanks! Can it go to my office instead?"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(messages.status().as_u16(), 200);
    let page = client.get(format!("{}/agent/tickets/{ticket_id}", runner.simulator)).send().await.unwrap();
    let page = page.text().await.unwrap();
    let comment = page.split("<div class=\"comment").last().unwrap_or_default();
    assert!(
        comment.contains("public reply · Ana Souza")
            && comment.contains("(customer)")
            && comment.contains("office instead"),
        "{comment}"
    );
    let state: Value = client
        .get(format!("{}/v1/bots/demo-bot/conversations/conv-1001", runner.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((state["state"].as_str(), state["bot_should_answer"].as_bool()), (Some("with_agent"), Some(false)));
    // The agent solves it: the bot has the conversation back.
    assert_eq!(agent(json!({"ticket": {"status": "solved"}})).await.unwrap().status().as_u16(), 200);
    let heard = callbacks(&receiver, 3).await;
    assert_eq!((heard[2]["type"].as_str(), heard[2]["status"].as_str()), (Some("handoff_ended"), Some("solved")));
    // Look up the status as the visitor's bot: the sentence names the agent; another number is a 404.
    let status: Value = client
        .get(format!("{}/v1/bots/demo-bot/tickets/{ticket_id}?conversation_id=conv-1001", runner.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "solved", "{status}");
    assert_eq!(
        status["summary"],
        format!("Solved — last updated just now by agent {}", handoff_local::SIMULATOR_SUPPORT_NAME)
    );
    let other = client
        .get(format!("{}/v1/bots/demo-bot/tickets/{}?conversation_id=conv-1001", runner.api, ticket_id + 999))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    let (status, next) = escalate(&client, &runner, &token, "conv-1001", &body).await;
    assert_eq!(status, 201, "{next}");
    assert_ne!(next["ticket"]["id"].as_u64(), Some(ticket_id));
    let listed: Value =
        agent_get(&client, &format!("{}/api/v2/tickets.json?external_id=conv-1001", runner.simulator)).await;
    let statuses: Vec<&str> =
        listed["tickets"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["solved", "new"], "the first ticket's status is read back as solved");
    drop(runner);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for private in ["secrets.json", "jwt-signing-key"] {
            let mode = std::fs::metadata(data.join(private)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{private}");
        }
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn the_runner_works_on_dynamodb_and_secrets_manager_through_the_emulator() {
    let data = std::env::temp_dir().join(format!("handoff-runner-{}", fastrand::u64(..)));
    let endpoint = crate::support::endpoint(crate::support::MOTO_ENV);
    let table = crate::support::unique("runner");
    let env = [
        ("HANDOFF_STORE", "dynamodb".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.clone()),
        ("HANDOFF_TABLE", table.clone()),
        ("HANDOFF_SECRET_PREFIX", format!("{table}/")),
    ];
    let runner = start_with(&data, &env);
    let token = token(&data);
    let client = reqwest::Client::new();
    let body = json!({"messages": [{"role": "visitor", "text": "I want a real person", "at": "2026-11-21T10:00:00Z"}]});
    let (status, created) = escalate(&client, &runner, &token, "conv-ddb", &body).await;
    assert_eq!(status, 201, "{created}");
    // The conversation is in the emulator's table, not in the data folder.
    let client = aws_sdk_dynamodb::Client::new(&crate::support::sdk_config(&endpoint).await);
    let store = handoff::store::dynamodb::DynamoStore::new(client, table);
    let record =
        handoff::store::ConversationStore::get_conversation(&store, "demo-bot", "conv-ddb").await.unwrap().unwrap();
    assert_eq!(record.ticket_id, created["ticket"]["id"].as_u64());
    assert!(!data.join("handoff.redb").exists());
    drop(runner);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn friendly_errors_are_one_line() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let data = std::env::temp_dir().join(format!("handoff-runner-{}", fastrand::u64(..)));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--addr".into(), format!("127.0.0.1:{port}")], "is already in use"),
        (vec!["--store".into(), "sqlite".into()], "invalid value 'sqlite'"),
        (vec!["--zendesk".into(), "real".into()], "--zendesk real needs"),
        (vec!["--data-dir".into(), "/proc/handoff".into()], "cannot use the data folder /proc/handoff"),
    ];
    for (args, expected) in cases {
        let mut args = args;
        if !args.contains(&"--data-dir".to_owned()) {
            args.extend(["--data-dir".into(), data.to_str().unwrap().into()]);
        }
        args.extend(["--simulator-addr".into(), format!("127.0.0.1:{}", free_port())]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = readme_command(&refs).env_remove("HANDOFF_ZENDESK_API_TOKEN").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: one line, got: {stderr}");
    }
    drop(busy);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn local_tokens_verify_and_forged_ones_do_not() {
    let dir = std::env::temp_dir().join(format!("handoff-auth-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let auth = LocalAuth::load_or_create(&dir).unwrap();
    let token = auth.mint("demo-bot", &["ZENDESK_ACTIONS.CREATE_TICKET".into()], 60).unwrap();
    let jwt = auth.verify(Some(&format!("Bearer {token}"))).unwrap();
    assert_eq!(jwt.claims["bot_id"], "demo-bot");
    assert_eq!(jwt.scopes.unwrap(), ["ZENDESK_ACTIONS.CREATE_TICKET"]);
    assert!(
        LocalAuth::load_or_create(&dir).unwrap().verify(Some(&format!("Bearer {token}"))).is_ok(),
        "the key persists"
    );
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = LocalAuth::load_or_create(&other_dir).unwrap();
    assert!(matches!(other.verify(Some(&format!("Bearer {token}"))), Err(handoff_local::auth::AuthError::Invalid(_))));
    assert!(matches!(auth.verify(None), Err(handoff_local::auth::AuthError::Missing)));
    let expired = auth.mint("demo-bot", &[], -120).unwrap();
    assert!(
        matches!(auth.verify(Some(&format!("Bearer {expired}"))), Err(handoff_local::auth::AuthError::Invalid(m)) if m.contains("expired"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A runner started with extra flags, its stderr kept in a file (read with `stderr_of`).
fn start_logged(data: &Path, api_addr: &str, extra: &[&str], env: &[(&str, String)]) -> (Runner, PathBuf) {
    let sim_addr = format!("127.0.0.1:{}", free_port());
    let stderr = data.with_extension("stderr");
    std::fs::create_dir_all(data).unwrap();
    let mut args = vec!["--addr", api_addr, "--simulator-addr", &sim_addr, "--data-dir", data.to_str().unwrap()];
    args.extend(extra);
    let child = readme_command(&args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
        .spawn()
        .expect("cargo run starts");
    let port = api_addr.rsplit(':').next().unwrap();
    let mut runner = Runner { child, api: format!("http://127.0.0.1:{port}"), simulator: format!("http://{sim_addr}") };
    let deadline = Instant::now() + Duration::from_secs(300);
    while std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err() {
        if let Some(status) = runner.child.try_wait().unwrap() {
            panic!("the runner exited before serving: {status}: {}", std::fs::read_to_string(&stderr).unwrap());
        }
        assert!(Instant::now() < deadline, "the runner did not start in time");
        std::thread::sleep(Duration::from_millis(100));
    }
    (runner, stderr)
}

/// A token for `bot` from this data folder's key.
fn token_for(data: &Path, bot: &str) -> String {
    let output = readme_command(&["token", "--bot", bot, "--data-dir", data.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Saves a callback URL on the local network for a bot that is not connected: the answer says
/// whether the callback guard refused the URL (422 on `callback_url`) or let it through to the
/// next check (409 not-connected).
async fn save_local_callback(runner: &Runner, token: &str, bot: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .put(format!("{}/v1/bots/{bot}/zendesk/settings", runner.api))
        .bearer_auth(token)
        .json(&json!({"callback_url": "http://127.0.0.1:9/handoff"}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn with_a_real_zendesk_the_runner_keeps_the_callback_guard() {
    let data = std::env::temp_dir().join(format!("handoff-runner-{}", fastrand::u64(..)));
    let real = [
        "--zendesk",
        "real",
        "--zendesk-subdomain",
        "acme",
        "--zendesk-email",
        "agent@acme.example",
        "--demo-bot",
        "none",
        "--sweep-every",
        "0",
    ];
    let env = [("HANDOFF_ZENDESK_API_TOKEN", "not-a-real-token".to_owned())];
    let (runner, _) = start_logged(&data, &format!("127.0.0.1:{}", free_port()), &real, &env);
    let token = token_for(&data, "other-bot");
    let (status, answer) = save_local_callback(&runner, &token, "other-bot").await;
    assert_eq!(status, 422, "a local callback URL is refused with a real Zendesk: {answer}");
    assert_eq!(answer["errors"][0]["field"], "callback_url", "{answer}");
    drop(runner);

    // With the simulator (the bot runs on this machine too) the guard is relaxed.
    let (runner, _) = start_logged(&data, &format!("127.0.0.1:{}", free_port()), &["--sweep-every", "0"], &[]);
    let (status, answer) = save_local_callback(&runner, &token, "other-bot").await;
    assert_eq!(status, 409, "the URL passed the guard and met the next check (not connected): {answer}");
    drop(runner);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn the_runner_warns_when_it_listens_beyond_loopback() {
    let data = std::env::temp_dir().join(format!("handoff-runner-{}", fastrand::u64(..)));
    let port = free_port();
    let (runner, stderr) = start_logged(&data, &format!("0.0.0.0:{port}"), &["--sweep-every", "0"], &[]);
    let wide = std::fs::read_to_string(&stderr).unwrap();
    drop(runner);
    let (runner, stderr) = start_logged(&data, &format!("127.0.0.1:{}", free_port()), &["--sweep-every", "0"], &[]);
    let narrow = std::fs::read_to_string(&stderr).unwrap();
    drop(runner);
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(&stderr);
    let warning: Vec<&str> = wide.lines().filter(|l| l.contains("warning") && l.contains("0.0.0.0")).collect();
    assert_eq!(warning.len(), 1, "one clear line on stderr: {wide}");
    assert!(warning[0].contains("loopback"), "{}", warning[0]);
    assert!(!narrow.contains("warning"), "no warning on loopback: {narrow}");
}
