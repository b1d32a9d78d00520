//! A real headless Chromium for the console's tests: Debian's `chromium` driven through its
//! `chromedriver` (WebDriver), both started here as plain processes on loopback. `scripts/test`
//! installs the two packages when they are missing; `HANDOFF_TEST_CHROMIUM` and
//! `HANDOFF_TEST_CHROMEDRIVER` name other binaries.
//!
//! The component lives in shadow roots, so elements are found by a deep query (`deep`) that
//! walks every open shadow root; what is then clicked or typed goes through WebDriver as a
//! person's input would.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

/// A script function `find(root)`: the first element matching `arguments[0]` in `root` or in
/// any open shadow root below it.
macro_rules! deep_find {
    () => {
        r#"
const selector = arguments[0];
function find(root) {
  const hit = root.querySelector(selector);
  if (hit) return hit;
  for (const element of root.querySelectorAll("*")) {
    if (element.shadowRoot) {
      const found = find(element.shadowRoot);
      if (found) return found;
    }
  }
  return null;
}"#
    };
}

/// How long a condition is waited for before the test fails saying what it waited for.
const PATIENCE: Duration = Duration::from_secs(15);

/// Finds the first element matching `arguments[0]` in the document or any open shadow root.
const DEEP_QUERY: &str = concat!(deep_find!(), "\nreturn find(document);");

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

fn binary(variable: &str, default: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: run the tests with scripts/test, which installs Debian's chromium and chromium-driver \
         (or set {variable})"
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, `width` × 1000 pixels.
    pub async fn start(width: u32) -> Self {
        let chromium = binary("HANDOFF_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("HANDOFF_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(crate::support::unique("chromium-profile"));
        std::fs::create_dir_all(&profile).unwrap();
        // The flags a closed network needs (no background connections, no updates).
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--disable-popup-blocking".to_owned(),
            format!("--window-size={width},1000"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() < PATIENCE => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session with chromedriver: {e}"),
            }
        };
        Self { client, driver, profile }
    }

    /// The first element matching `selector`, in the page or any shadow root, once it exists.
    pub async fn deep(&self, selector: &str) -> Element {
        let started = Instant::now();
        loop {
            let found = self.client.execute(DEEP_QUERY, vec![json!(selector)]).await.expect("the query runs");
            if let Some(id) = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str) {
                return Element::from_element_id(self.client.clone(), ElementRef::from(id.to_owned()));
            }
            assert!(started.elapsed() < PATIENCE, "no element matches {selector}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `check` (a function body over `el`, the element matching `selector`) is true.
    pub async fn wait_until(&self, selector: &str, check: &str, what: &str) {
        let script = format!("{DEEP_FIND}\nconst el = find(document); return !!el && (() => {{ {check} }})();");
        let started = Instant::now();
        loop {
            let ok = self.client.execute(&script, vec![json!(selector)]).await.expect("the check runs");
            if ok == Value::Bool(true) {
                return;
            }
            if started.elapsed() > PATIENCE {
                let text = self.text(selector).await;
                panic!("{what}: not seen within {PATIENCE:?} ({selector} says: {text:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the element matching `selector` (empty when there is none).
    pub async fn text(&self, selector: &str) -> String {
        let script = format!("{DEEP_FIND}\nconst el = find(document); return el ? el.textContent : '';");
        let text = self.client.execute(&script, vec![json!(selector)]).await.expect("the query runs");
        text.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Scrolls the element matching `selector` to the middle of the window (for a screenshot).
    pub async fn show(&self, selector: &str) {
        let script = format!("{DEEP_FIND}\nconst el = find(document); if (el) el.scrollIntoView({{block: 'center'}});");
        self.client.execute(&script, vec![json!(selector)]).await.expect("the scroll runs");
    }

    pub async fn click(&self, selector: &str) {
        self.deep(selector).await.click().await.unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    /// Replaces the value of the input matching `selector` with `text`, typed.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let input = self.deep(selector).await;
        input.clear().await.unwrap_or_else(|e| panic!("cannot clear {selector}: {e}"));
        input.send_keys(text).await.unwrap_or_else(|e| panic!("cannot type into {selector}: {e}"));
    }

    /// Saves a screenshot of the whole window as `target/console-screenshots/{name}.png` (and in
    /// `docs/console/` with `HANDOFF_UPDATE_SCREENSHOTS=1`, for the README).
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut folders = vec![root.join("target/console-screenshots")];
        if std::env::var("HANDOFF_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            folders.push(root.join("docs/console"));
        }
        for folder in folders {
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(format!("{name}.png")), &png).unwrap();
        }
    }

    /// axe-core's WCAG 2 A and AA rules run on the page as it is now (shadow roots included):
    /// each violation as `rule (impact): the elements`. `HANDOFF_TEST_AXE` names axe.min.js,
    /// which `scripts/test` installs from npm.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let path = std::env::var("HANDOFF_TEST_AXE").unwrap_or_else(|_| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
            root.join(".tools/npm/node_modules/axe-core/axe.min.js").display().to_string()
        });
        let axe = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core is missing at {path} ({e}): run the tests with scripts/test"));
        self.client.execute(&format!("{axe}\nreturn typeof window.axe;"), vec![]).await.expect("axe loads");
        let run = r#"
const done = arguments[arguments.length - 1];
window.axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then((result) => done(result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`)))
  .catch((error) => done([`axe failed: ${error}`]));"#;
        let found = self.client.execute_async(run, vec![]).await.expect("axe runs");
        found.as_array().unwrap().iter().filter_map(Value::as_str).map(str::to_owned).collect()
    }

    /// Every URL the page has requested so far (the Resource Timing entries), the page itself first.
    pub async fn requested_urls(&self) -> Vec<String> {
        let script = "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));";
        let urls = self.client.execute(script, vec![]).await.expect("the entries read");
        urls.as_array().unwrap().iter().filter_map(Value::as_str).map(str::to_owned).collect()
    }
}

/// `DEEP_QUERY`'s `find`, for scripts that do more with the element.
pub const DEEP_FIND: &str = deep_find!();

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
