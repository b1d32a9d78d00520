//! The settings console in a real headless Chromium against the local runner and its simulator:
//! a bot owner connects by OAuth through the simulator's consent page, sees diagnostics fail
//! with their fix, saves rules, meets a concurrent save, maps a field by name, reads the audit
//! trail, escalates by hand and disconnects. Each state is photographed (see `Browser`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser as _;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::support::unique;

const BOT: &str = "console-bot";

struct Console {
    api: String,
    sim: zendesk_sim::Simulator,
    data: PathBuf,
    _server: tokio::task::JoinHandle<()>,
}

impl Console {
    /// The local runner on free ports with a fresh data folder and no demo bot.
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// `start` with more of the runner's arguments.
    async fn start_with(extra: &[String]) -> Self {
        let data = std::env::temp_dir().join(unique("console-data"));
        let port = |_: ()| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (api_port, sim_port) = (port(()), port(()));
        let mut args = vec![
            "handoff-local".to_owned(),
            format!("--addr=127.0.0.1:{api_port}"),
            format!("--simulator-addr=127.0.0.1:{sim_port}"),
            format!("--data-dir={}", data.display()),
            "--demo-bot=none".to_owned(),
            "--sweep-every=0".to_owned(),
        ];
        args.extend_from_slice(extra);
        let cli = handoff_local::cli::Cli::try_parse_from(args).expect("runner arguments");
        let running = handoff_local::start(&cli.serve).await.expect("the runner starts");
        Self { api: running.api_url, sim: running.simulator.expect("the simulator"), data, _server: running.server }
    }

    /// A token of this runner for the bot, as `handoff-local token` mints it.
    fn token(&self) -> String {
        let auth = handoff_local::auth::LocalAuth::load_or_create(&self.data).expect("the runner's key");
        let scopes: Vec<String> = handoff_local::ALL_SCOPES.iter().map(|s| s.to_string()).collect();
        auth.mint(BOT, &scopes, 600).expect("a token")
    }

    /// Connects the bot to the simulator's agent by API token, through the API.
    async fn connect_by_api_token(&self) {
        let body = json!({"mode": "api_token", "subdomain": "acme", "email": handoff_local::SIMULATOR_AGENT_EMAIL,
                          "api_token": handoff_local::SIMULATOR_AGENT_TOKEN});
        let url = format!("{}/v1/bots/{BOT}/zendesk/connection", self.api);
        let put = reqwest::Client::new().put(url).bearer_auth(self.token()).json(&body).send().await.unwrap();
        assert_eq!(put.status(), 200);
    }

    async fn settings(&self) -> Value {
        let url = format!("{}/v1/bots/{BOT}/zendesk/settings", self.api);
        reqwest::Client::new().get(url).bearer_auth(self.token()).send().await.unwrap().json().await.unwrap()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self._server.abort();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// `path` matches one of the API description's path templates.
fn described(paths: &[String], path: &str) -> bool {
    paths.iter().any(|template| {
        let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_owner_clicks_through_the_console() {
    let console = Console::start().await;
    let browser = Browser::start(1200).await;
    browser.client.goto(&format!("{}/console?bot={BOT}", console.api)).await.unwrap();

    // The runner's admin token is for pages asked for by a loopback name only (DNS rebinding).
    let rebound = reqwest::Client::new()
        .get(format!("{}/console?bot={BOT}", console.api))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    assert!(!rebound.text().await.unwrap().contains("token="));

    // Not connected yet: Connect with Zendesk, through the simulator's consent page in a popup.
    browser.wait_until("#connection-state", "return el.dataset.state === 'disconnected'", "not connected").await;
    browser.screenshot("01-not-connected").await;
    let card = browser.client.window().await.unwrap();
    browser.type_into("#connect-subdomain", "acme").await;
    browser.click("#connect-oauth").await;
    let popup = wait_for_popup(&browser, &card).await;
    browser.client.switch_to_window(popup).await.unwrap();
    let allow = browser.deep("#allow").await;
    browser.screenshot("02-zendesk-consent").await;
    allow.click().await.unwrap();
    browser.client.switch_to_window(card.clone()).await.unwrap();
    browser.wait_until("#connection-state", "return el.dataset.state === 'connected'", "connected").await;
    let connected = browser.text("#tab-panel-connection, [role=tabpanel]").await;
    assert!(connected.contains("acme") && connected.contains(handoff_local::SIMULATOR_AGENT_EMAIL), "{connected}");
    browser.screenshot("03-connected").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Connection tab");

    // The webhook broken at Zendesk: the diagnostics fail it and say how to fix it.
    let webhook = console.sim.webhooks().pop().expect("registered on connect");
    console.sim.delete_webhook(&webhook.id);
    browser.click("#tab-diagnostics").await;
    browser.click("#run-diagnostics").await;
    browser.wait_until("[data-check=webhook]", "return el.dataset.status === 'fail'", "the webhook check fails").await;
    let check = browser.text("[data-check=webhook]").await;
    assert!(check.contains("Reconnect") || check.contains("reconnect"), "the fix is said: {check}");
    browser.screenshot("04-diagnostics").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Diagnostics tab");

    // A rule toggled and saved; a message tried.
    browser.click("#tab-rules").await;
    assert_eq!(console.settings().await["rules"]["low_confidence"]["enabled"], true);
    browser.click("#rule-low_confidence").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "saved").await;
    assert_eq!(console.settings().await["rules"]["low_confidence"]["enabled"], false, "the toggle was saved");
    browser.type_into("#try-message", "can I talk to a real person please").await;
    browser.click("#try-submit").await;
    browser.wait_until("#try-result", "return el.dataset.fires === 'true'", "the rule would fire").await;
    browser.show("#try-result").await;
    browser.screenshot("05-rules").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Rules tab");

    // Saved elsewhere meanwhile: the next save is refused with "changed elsewhere".
    let mut elsewhere = console.settings().await;
    elsewhere["customer_context_count"] = json!(7);
    let url = format!("{}/v1/bots/{BOT}/zendesk/settings", console.api);
    let put = reqwest::Client::new().put(&url).bearer_auth(console.token()).json(&elsewhere).send().await.unwrap();
    assert_eq!(put.status(), 200);
    browser.click("#rule-action").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'stale'", "changed elsewhere").await;
    browser.show("#save-status").await;
    browser.screenshot("06-changed-elsewhere").await;
    assert_eq!(console.settings().await["customer_context_count"], 7, "the other save stands");
    browser.click("#reload-settings").await;
    browser.wait_until("#save-status", "return el.dataset.kind !== 'stale'", "reloaded").await;

    // A field Handoff refuses is marked.
    browser.type_into("#low-confidence-threshold", "1.5").await;
    browser.click("#save-rules").await;
    browser
        .wait_until("#low-confidence-threshold", "return el.getAttribute('aria-invalid') === 'true'", "marked invalid")
        .await;
    browser.show("#low-confidence-threshold").await;
    browser.screenshot("07-invalid-field").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "a field marked invalid");
    browser.type_into("#low-confidence-threshold", "0.5").await;

    // A ticket field mapped by its name.
    browser.click("#tab-mapping").await;
    let select = browser.deep("#field-conversation-url").await;
    browser.wait_until("#field-conversation-url", "return el.options.length > 1", "the account's fields").await;
    select.select_by_label("Conversation link").await.unwrap();
    browser.click("#save-mapping").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "mapping saved").await;
    let field = console.sim.ticket_fields().into_iter().find(|f| f.title == "Conversation link").unwrap();
    assert_eq!(console.settings().await["mapping"]["conversation_url_field_id"], json!(field.id));
    browser.show("#field-conversation-url").await;
    browser.screenshot("08-field-mapping").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Mapping tab");

    // The audit trail, and a conversation escalated by hand in the console admin's name.
    browser.click("#tab-activity").await;
    browser.wait_until("#audit", "return el.textContent.includes('settings_changed')", "the audit trail").await;
    browser.type_into("#manual-conversation", "conv-console-1").await;
    browser.click("#manual-submit").await;
    browser.wait_until("#manual-result", "return /\\d/.test(el.textContent)", "the ticket number").await;
    let ticket = console.sim.tickets().pop().expect("a ticket");
    assert!(ticket.comments.iter().any(|c| c.body.contains("local:console-admin")), "{ticket:?}");
    browser.show("#manual-result").await;
    browser.screenshot("09-activity").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Activity tab");

    // Disconnect, confirmed.
    browser.click("#tab-connection").await;
    browser.click("#disconnect").await;
    browser.wait_until("#disconnect-dialog", "return el.open", "the confirmation").await;
    browser.screenshot("10-disconnect-confirm").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the confirmation");
    browser.click("#disconnect-confirm").await;
    browser.wait_until("#connection-state", "return el.dataset.state === 'disconnected'", "disconnected").await;
    browser.screenshot("11-disconnected").await;

    // Every request the page made is one the API description describes.
    let doc: Value = serde_json::from_str(handoff::api::OPENAPI_JSON).unwrap();
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let urls = browser.requested_urls().await;
    assert!(urls.len() > 10, "{urls:?}");
    for requested in urls {
        let url = url::Url::parse(&requested).unwrap();
        assert_eq!(url.origin().ascii_serialization(), console.api, "only Handoff's own origin: {requested}");
        assert!(described(&paths, url.path()), "{requested} is not in the API description");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_speaks_the_visitors_languages_in_the_dark_on_a_phone() {
    let console = Console::start().await;
    let browser = Browser::start(390).await;
    browser.client.goto(&format!("{}/console?bot={BOT}", console.api)).await.unwrap();
    browser.wait_until("#connection-state", "return !!el.dataset.state", "the card").await;
    let english = browser.text("#tab-rules").await;
    browser
        .client
        .execute("const c = document.querySelector('handoff-console'); c.setAttribute('lang', 'es'); c.setAttribute('theme', 'dark');", vec![])
        .await
        .unwrap();
    browser.wait_until("#tab-rules", &format!("return el.textContent.trim() !== {english:?}"), "Spanish").await;
    let spanish = browser.text("#tab-rules").await;
    assert_ne!(spanish, english);
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot("12-dark-spanish-phone").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "dark, Spanish, on a phone");
    // The check sees what it should: an unlabelled input inside the card's shadow root fails it.
    let unlabelled = format!(
        "{}\nconst input = document.createElement('input'); find(document).after(input);",
        crate::browser::DEEP_FIND
    );
    browser.client.execute(&unlabelled, vec![json!("#connect-subdomain")]).await.unwrap();
    let found = browser.accessibility_violations().await;
    assert!(found.iter().any(|v| v.starts_with("label ")), "axe misses an unlabelled input: {found:?}");
    // Nothing wider than the phone's screen.
    let overflow = browser
        .client
        .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(overflow, Value::Bool(true), "the card fits a 390-pixel screen");
}

async fn wait_for_popup(browser: &Browser, card: &fantoccini::wd::WindowHandle) -> fantoccini::wd::WindowHandle {
    for _ in 0..100 {
        let windows = browser.client.windows().await.unwrap();
        if let Some(other) = windows.into_iter().find(|w| w != card) {
            return other;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no OAuth popup opened (the card says: {:?})", browser.text("#oauth-status").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_token_connects_the_callback_secret_shows_once_and_a_revoked_token_asks_for_reconnect() {
    let console = Console::start().await;
    let browser = Browser::start(1200).await;
    let page = format!("{}/console?bot={BOT}", console.api);
    browser.client.goto(&page).await.unwrap();
    browser.wait_until("#connection-state", "return el.dataset.state === 'disconnected'", "not connected").await;

    // The legacy API-token form, with its retirement date; the token is not left in the form.
    let legacy = browser.text("#legacy-note").await;
    assert!(legacy.contains("2027"), "the retirement date is said: {legacy}");
    browser.type_into("#api-token-subdomain", "acme").await;
    browser.type_into("#api-token-email", handoff_local::SIMULATOR_AGENT_EMAIL).await;
    browser.type_into("#api-token-value", handoff_local::SIMULATOR_AGENT_TOKEN).await;
    browser.click("#api-token-submit").await;
    browser.wait_until("#connection-state", "return el.dataset.state === 'connected'", "connected").await;
    browser.wait_until("#api-token-value", "return el.value === ''", "the token cleared from the form").await;

    // Keyboard: the tabs move with the arrow keys.
    browser.deep("#tab-connection").await.send_keys("\u{E014}").await.unwrap();
    browser.wait_until("#tab-diagnostics", "return el.getAttribute('aria-selected') === 'true'", "the next tab").await;

    // Handoff's own message shows in each of its languages until the bot writes its own.
    browser.click("#tab-messages").await;
    browser
        .wait_until(
            "#message-de",
            "return el.value === '' && el.placeholder.includes('{ticket_id}')",
            "the German default",
        )
        .await;

    // The callback secret: shown once when made, again only when rotated, never after a reload.
    browser.type_into("#callback-url", "http://127.0.0.1:9/handoff-callback").await;
    browser.click("#save-messages").await;
    browser.wait_until("#callback-secret", "return el.value.length >= 32", "the new secret").await;
    let first = browser.client.execute(&secret_value(), vec![json!("#callback-secret")]).await.unwrap();
    // The photograph for the README shows where the secret appears, not this run's secret.
    let placeholder = format!("{}\nfind(document).value = '(the new secret, shown once)';", crate::browser::DEEP_FIND);
    browser.client.execute(&placeholder, vec![json!("#callback-secret")]).await.unwrap();
    browser.show("#callback-secret").await;
    browser.screenshot("13-callback-secret-once").await;
    assert_eq!(browser.accessibility_violations().await, Vec::<String>::new(), "the Messages tab");
    browser.click("#rotate-secret").await;
    browser
        .wait_until(
            "#callback-secret",
            &format!("return el.value.length >= 32 && el.value !== {first}"),
            "a rotated secret",
        )
        .await;
    browser.client.goto(&page).await.unwrap();
    browser.click("#tab-messages").await;
    browser.wait_until("#callback-secret-state", "return el.textContent.trim().length > 0", "a secret is set").await;
    let after = browser.client.execute(&secret_value(), vec![json!("#callback-secret")]).await.unwrap();
    assert_eq!(after, Value::Null, "the secret is not shown again");

    // Zendesk stops accepting the token: the card says reconnect, with a Reconnect button.
    console.sim.revoke_api_token(handoff_local::SIMULATOR_AGENT_EMAIL, handoff_local::SIMULATOR_AGENT_TOKEN);
    // (The card reads the account's ticket fields when it loads: Zendesk's 401 there tells.)
    browser.client.goto(&page).await.unwrap();
    browser
        .wait_until("#connection-state", "return el.dataset.state === 'reconnect_required'", "reconnect required")
        .await;
    browser.deep("#reconnect").await;
    browser.screenshot("14-reconnect-required").await;
}

/// A script answering the value of the element matching `arguments[0]` (null when none).
fn secret_value() -> String {
    format!("{}\nconst el = find(document); return el ? JSON.stringify(el.value) : null;", crate::browser::DEEP_FIND)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_at_the_openid_connect_issuer_and_keeps_the_token_in_the_tab() {
    let issuer = crate::test_issuer::TestIssuer::start(BOT).await;
    let client = crate::test_issuer::CLIENT_ID;
    let console = Console::start_with(&[
        format!("--jwt-issuer={}", issuer.url),
        format!("--jwt-audience={client}"),
        format!("--console-oidc-client-id={client}"),
    ])
    .await;
    let page = format!("{}/console?bot={BOT}", console.api);
    let html = reqwest::get(&page).await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("oidc-issuer=\"{}\"", issuer.url)), "the page signs in at the issuer");
    // (Failures say where a token is, never the token: test output is a log too.)
    assert!(!html.contains("token="), "the page carries a token");

    let browser = Browser::start(1200).await;
    browser.client.goto(&page).await.unwrap();
    browser.screenshot("15-sign-in").await;
    browser.click("#sign-in").await;
    // Out to the issuer and back with a code, exchanged with the PKCE verifier for a token.
    browser.wait_until("#connection-state", "return el.dataset.state === 'disconnected'", "the signed-in card").await;
    assert_eq!(*issuer.issued.lock().unwrap(), 1);
    let address = browser.client.execute("return location.href;", vec![]).await.unwrap();
    let address = address.as_str().unwrap();
    assert!(!address.contains("code=") && !address.contains("state="), "the code left the address bar: {address}");
    assert!(address.ends_with(&format!("/console?bot={BOT}")), "{address}");

    // The token works (a save goes through) and is kept nowhere but in the tab's memory.
    browser.click("#tab-rules").await;
    browser.click("#rule-action").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "saved with the issuer's token").await;
    assert_eq!(console.settings().await["rules"]["action"]["enabled"], false);
    let kept = browser
        .client
        .execute(
            &format!(
                "{}\nconst attributes = []; const walk = (root) => {{ for (const el of root.querySelectorAll('*')) {{ \
                 for (const a of el.attributes) attributes.push(a.value); if (el.shadowRoot) walk(el.shadowRoot); }} }}; \
                 walk(document); return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie + \
                 attributes.join(' ') + location.href;",
                crate::browser::DEEP_FIND
            ),
            vec![json!("body")],
        )
        .await
        .unwrap();
    let kept = kept.as_str().unwrap();
    let at = kept.find("eyJ");
    assert!(
        at.is_none(),
        "a token outside the tab's memory, at character {at:?} of storage, cookies, attributes, address"
    );

    // The runner checks the issuer's tokens as API Gateway would: issuer, audience, expiry.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let settings = format!("{}/v1/bots/{BOT}/zendesk/settings", console.api);
    let claims = |iss: &str, client: &str, exp: i64| json!({"iss": iss, "client_id": client, "bot_id": BOT, "scope": "ZENDESK_ACTIONS.READ_INTEGRATIONS", "exp": exp});
    let valid = crate::test_issuer::signed(&claims(&issuer.url, client, now + 600));
    let mut without_issuer = claims(&issuer.url, client, now + 600);
    without_issuer.as_object_mut().unwrap().remove("iss");
    let mut another_audience = claims(&issuer.url, client, now + 600);
    another_audience["aud"] = json!("another-api");
    let mut not_yet = claims(&issuer.url, client, now + 600);
    not_yet["nbf"] = json!(now + 300);
    for (token, status) in [
        (valid, 200),
        (crate::test_issuer::signed(&without_issuer), 401),
        (crate::test_issuer::signed(&another_audience), 401),
        (crate::test_issuer::signed(&not_yet), 401),
        (crate::test_issuer::signed(&claims("https://other.example", client, now + 600)), 401),
        (crate::test_issuer::signed(&claims(&issuer.url, "another-client", now + 600)), 401),
        (crate::test_issuer::signed(&claims(&issuer.url, client, now - 600)), 401),
    ] {
        let reply = reqwest::Client::new().get(&settings).bearer_auth(token).send().await.unwrap();
        assert_eq!(reply.status(), status);
    }
}

/// A platform's own dashboard on another origin: a page that embeds the card as the README
/// shows, with a token callback backed by the platform's server (`/token`).
struct Dashboard {
    url: String,
    tokens_given: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Dashboard {
    async fn start(
        listener: tokio::net::TcpListener,
        api: String,
        token: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tokens_given = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Acme dashboard</title></head>\
             <body><h1>Acme — bot settings</h1>\n\
             <script src=\"{api}/console/handoff-zendesk.js\"></script>\n\
             <script>\n\
               const card = document.createElement(\"handoff-zendesk\");\n\
               card.setAttribute(\"api-base\", \"{api}\");\n\
               card.setAttribute(\"bot-id\", \"{BOT}\");\n\
               card.getToken = async () => (await fetch(\"/token\")).text();\n\
               document.body.append(card);\n\
             </script></body></html>"
        );
        let (given, token) = (tokens_given.clone(), std::sync::Arc::new(token));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (page, given, token) = (page.clone(), given.clone(), token.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                        let body = if request.uri().path() == "/token" {
                            given.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            token()
                        } else {
                            page.clone()
                        };
                        async move {
                            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                                bytes::Bytes::from(body),
                            )))
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, tokens_given }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_embeds_the_card_in_its_own_dashboard_with_a_token_callback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dashboard_origin = format!("http://{}", listener.local_addr().unwrap());
    let console = Console::start_with(&[format!("--embed-origins={dashboard_origin}")]).await;
    let http = reqwest::Client::new();
    console.connect_by_api_token().await;
    let url = format!("{}/v1/bots/{BOT}/zendesk/connection", console.api);

    // Only the allowed origin may call the API from a browser.
    let preflight = |origin: &str| {
        http.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .send()
    };
    let allowed = preflight(&dashboard_origin).await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], dashboard_origin.as_str());
    let refused = preflight("http://elsewhere.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    let data = console.data.clone();
    let dashboard = Dashboard::start(listener, console.api.clone(), move || {
        let auth = handoff_local::auth::LocalAuth::load_or_create(&data).expect("the runner's key");
        let scopes: Vec<String> = handoff_local::ALL_SCOPES.iter().map(|s| s.to_string()).collect();
        auth.mint_as("platform:jane", BOT, &scopes, 300).expect("a token")
    })
    .await;
    let browser = Browser::start(1200).await;
    browser.client.goto(&dashboard.url).await.unwrap();
    browser.wait_until("#connection-state", "return el.dataset.state === 'connected'", "the embedded card").await;
    assert!(dashboard.tokens_given.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the card asked the callback");
    browser.screenshot("16-embedded").await;

    // Saves carry the ETag across origins: a save after someone else's is refused as stale.
    browser.click("#tab-rules").await;
    browser.click("#rule-action").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "saved across origins").await;
    let mut elsewhere = console.settings().await;
    elsewhere["customer_context_count"] = json!(3);
    let settings = format!("{}/v1/bots/{BOT}/zendesk/settings", console.api);
    assert_eq!(http.put(&settings).bearer_auth(console.token()).json(&elsewhere).send().await.unwrap().status(), 200);
    browser.click("#rule-action").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'stale'", "the ETag was sent").await;
}

#[tokio::test]
async fn the_runner_takes_an_issuers_keys_only_over_https_or_from_this_machine() {
    for issuer in ["http://login.example.com", "ftp://127.0.0.1"] {
        let url = url::Url::parse(issuer).unwrap();
        let refused = handoff_local::auth::Issuer::discover(&url, vec!["c".into()]).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("https"), "{issuer}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_pages_the_audit_trail_and_lists_unfinished_work_and_phrases_and_priorities_save() {
    let console = Console::start().await;
    let http = reqwest::Client::new();
    let api = |rest: &str| format!("{}/v1/bots/{BOT}/{rest}", console.api);
    console.connect_by_api_token().await;
    // More audit entries than a page holds: 21 saves.
    for count in 1..=21 {
        let mut settings = console.settings().await;
        settings["customer_context_count"] = json!(1 + count % 10);
        let saved =
            http.put(api("zendesk/settings")).bearer_auth(console.token()).json(&settings).send().await.unwrap();
        assert_eq!(saved.status(), 200);
    }
    // An escalation Zendesk refuses for good fails at once; one Zendesk keeps failing stays pending.
    console.sim.inject(
        zendesk_sim::Route::CreateTicket,
        zendesk_sim::Fault::Status { status: 422, retry_after_secs: None },
        1,
    );
    let body = json!({"messages": [{"role": "visitor", "text": "I want a human", "at": "2026-12-01T10:00:00Z"}]});
    let refused = http
        .post(api("conversations/refused-conv/escalations"))
        .bearer_auth(console.token())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error() || refused.status().is_server_error(), "{}", refused.status());
    console.sim.inject(
        zendesk_sim::Route::CreateTicket,
        zendesk_sim::Fault::Status { status: 503, retry_after_secs: None },
        100,
    );
    let body = json!({"messages": [{"role": "visitor", "text": "I want a human", "at": "2026-12-01T10:00:00Z"}]});
    let escalated = http
        .post(api("conversations/stuck-conv/escalations"))
        .bearer_auth(console.token())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 202);

    let browser = Browser::start(1200).await;
    browser.client.goto(&format!("{}/console?bot={BOT}", console.api)).await.unwrap();
    browser.wait_until("#connection-state", "return el.dataset.state === 'connected'", "connected").await;
    browser.click("#tab-activity").await;
    browser
        .wait_until(
            "#escalations tr[data-state=pending]",
            "return el.textContent.includes('stuck-conv') && el.textContent.includes('503')",
            "the pending escalation with its error",
        )
        .await;
    browser
        .wait_until(
            "#escalations tr[data-state=failed]",
            "return el.textContent.includes('refused-conv') && el.textContent.includes('422')",
            "the failed escalation with its error",
        )
        .await;
    browser.wait_until("#audit", "return el.querySelectorAll('tbody tr').length === 20", "one page").await;
    browser.click("#audit-more").await;
    browser.wait_until("#audit", "return el.querySelectorAll('tbody tr').length > 20", "the next page").await;
    browser.show("#escalations").await;
    browser.screenshot("17-unfinished-escalations").await;

    // An exclusion added by language, saved, and heard as such when a message is tried.
    browser.click("#tab-rules").await;
    browser.click("#exclusions-add").await;
    browser.type_into("#exclusions [data-row=exclusions] input.lang-code", "en").await;
    browser.type_into("#exclusions [data-row=exclusions] textarea.phrases", "human touch").await;
    browser.click("#save-rules").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "saved").await;
    assert_eq!(console.settings().await["rules"]["explicit_request"]["exclusions"], json!({"en": ["human touch"]}));
    browser.type_into("#try-message", "is the human touch plan any good").await;
    browser.click("#try-submit").await;
    browser.wait_until("#try-result", "return el.dataset.fires === 'false'", "the exclusion holds").await;

    // A priority for a rule.
    browser.click("#tab-mapping").await;
    browser.deep("#priority-explicit_request").await.select_by_value("urgent").await.unwrap();
    browser.click("#save-mapping").await;
    browser.wait_until("#save-status", "return el.dataset.kind === 'saved'", "saved").await;
    assert_eq!(console.settings().await["priority_by_rule"], json!({"explicit_request": "urgent"}));
}
