//! Handoff's domain crate, shared by every Lambda function.
//!
//! The pure modules (`rules`, `settings`, `mapping`, `transcript`, `text`, the request and
//! record models, the store ports) live in `handoff-core`, which can do no I/O, and are
//! re-exported here under their old paths. Everything that talks to
//! the outside world sits behind the traits of `store` and the typed client in `zendesk`, so each
//! use case runs the same against in-process adapters and against DynamoDB, Secrets Manager and
//! Zendesk (or its simulator) over HTTP.

/// The pure modules, from `handoff-core`, under the paths the rest of the crate uses.
pub use handoff_core::{address, backoff, error, identity, mapping, redaction, rules, settings, text, transcript};

pub mod api;
pub mod app;
pub mod audit;
pub mod aws_sdk;
pub mod binding;
pub mod bot_settings;
pub mod callback;
pub mod config;
pub mod connection;
pub mod deadline;
pub mod diagnostics;
pub mod escalation;
pub mod http;
pub mod live;
pub mod metrics;
pub mod privacy;
pub mod status;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod ticket_fields;
pub mod tls;
pub mod webhook;
pub mod zendesk;

/// Dependency rules of this crate, read from its source (ARCHITECTURE.md, "Architecture
/// invariants"): each fails when a change breaks the rule, naming the file.
#[cfg(test)]
mod architecture {
    use std::path::Path;

    /// (path under src/, the source before its tests) for every file of the crate.
    fn sources() -> Vec<(String, String)> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                    let relative = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                    out.push((relative, code));
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        assert!(out.len() > 50, "the crate's files were found");
        out
    }

    fn files_with(needle: &str) -> Vec<String> {
        let mut files: Vec<String> =
            sources().into_iter().filter(|(_, code)| code.contains(needle)).map(|(path, _)| path).collect();
        files.sort();
        files
    }

    /// Turning stored credentials into request credentials (`for_requests`) is how an `Account`
    /// is made from the secret store: only the resolver does it for the use cases, and the
    /// disconnect flow for the credentials it is about to revoke.
    #[test]
    fn only_the_resolver_makes_accounts_from_stored_credentials() {
        assert_eq!(files_with(".for_requests()"), ["connection/accounts.rs", "connection/disconnect.rs"]);
    }

    /// Handlers reach storage and Zendesk through their use case, never directly; the audit route's
    /// one read of a page is its whole use case.
    #[test]
    fn handlers_do_not_call_storage_or_zendesk_themselves() {
        let direct: Vec<String> = sources()
            .into_iter()
            .filter(|(path, _)| path.starts_with("api/"))
            .flat_map(|(path, code)| {
                code.lines()
                    .filter(|line| line.contains("app.stores.") || line.contains("app.zendesk."))
                    .map(|line| format!("{path}: {}", line.trim()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            direct,
            [
                "api/audit.rs: let page = app.stores.audit.list(&bot_id, limit, cursor.as_deref()).await.map_err(Problem::storage)?;"
            ]
        );
    }

    /// Every HTTP client trusts what `tls` says: only it (and the AWS connector, with the AWS
    /// roots from `tls`) builds a reqwest client.
    #[test]
    fn every_http_client_is_built_with_the_tls_module_s_roots() {
        assert_eq!(files_with("reqwest::Client::builder()"), ["aws_sdk/connector.rs", "tls.rs"]);
        assert_eq!(files_with("tls_backend_preconfigured("), ["aws_sdk/connector.rs", "tls.rs"]);
    }

    /// A Lambda serves one function's routes: no binary names the union router.
    #[test]
    fn lambda_mains_serve_their_own_function() {
        let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
        for name in ["escalate", "connection", "status", "oauth-callback", "zendesk-webhook"] {
            let main = std::fs::read_to_string(functions.join(name).join("src/main.rs")).unwrap();
            assert!(main.contains("handoff::api::serve(&handoff::api::"), "{name} serves its own function: {main}");
            assert!(!main.contains("dispatch"), "{name} does not dispatch over every route");
        }
    }
}
