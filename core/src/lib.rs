//! Handoff's pure core: what an escalation, a setting, a ticket, a transcript and a stored record
//! are, and the rules between them. Values in, values out: no I/O, no clock, no randomness. The
//! store ports are traits here; their adapters (DynamoDB, Secrets Manager, in-process) live in the
//! `handoff` crate with everything else that talks to the outside world.
//!
//! Purity is a dependency rule, not a convention: this crate's `Cargo.toml` lists no AWS SDK, no
//! HTTP client, no Lambda crate, no async runtime, and `tests::core_links_nothing_that_does_io`
//! fails if one appears in its dependency tree.

pub mod address;
pub mod error;
pub mod escalation;
pub mod identity;
pub mod mapping;
pub mod rules;
pub mod settings;
pub mod status;
pub mod store;
pub mod text;
pub mod transcript;
pub mod zendesk;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::process::Command;

    /// Crates that do I/O (or exist only to): none may be in the core's dependency tree, on any
    /// target. A name matches when it is the crate or starts with it (`hyper` also catches
    /// `hyper-util` and `hyper-rustls`, `aws-` every SDK crate).
    const FORBIDDEN: [&str; 12] = [
        "aws-",
        "reqwest",
        "hyper",
        "h2",
        "lambda_",
        "lambda-",
        "tokio",
        "mio",
        "tracing-subscriber",
        "rustls",
        "native-tls",
        "openssl",
    ];

    /// `name` is a forbidden crate, or one of its family (`aws-config`, `hyper-util`, `tokio-rustls`).
    fn forbidden(name: &str) -> bool {
        FORBIDDEN.iter().any(|f| {
            let stem = f.trim_end_matches(['-', '_']);
            name == stem || name.strip_prefix(stem).is_some_and(|rest| rest.starts_with(['-', '_']))
        })
    }

    /// What `cargo tree` says the core links (normal dependencies, every target).
    fn dependency_names() -> BTreeSet<String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let output = Command::new(cargo)
            .args(["tree", "--manifest-path", manifest, "-p", "handoff-core", "-e", "normal", "--prefix", "none"])
            .args(["--target", "all", "--format", "{p}"])
            .output()
            .expect("cargo tree runs");
        assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_forbidden_names_catch_their_families_only() {
        for name in ["aws-config", "aws-sdk-dynamodb", "reqwest", "hyper-util", "lambda_http", "tokio", "tokio-rustls"]
        {
            assert!(forbidden(name), "{name}");
        }
        for name in ["serde", "hypertext", "tokionic", "rustlsish", "h2o", "time"] {
            assert!(!forbidden(name), "{name}");
        }
    }

    /// The core's dependency rule, checked against what Cargo resolves rather than what the
    /// manifest says: an allowed crate that pulls in tokio or an HTTP client fails here too.
    #[test]
    fn core_links_nothing_that_does_io() {
        let names = dependency_names();
        assert!(names.contains("handoff-core") && names.contains("serde"), "{names:?}");
        let found: Vec<&String> = names.iter().filter(|name| forbidden(name)).collect();
        assert!(found.is_empty(), "handoff-core must do no I/O, but depends on {found:?}");
    }
}
