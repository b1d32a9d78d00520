//! Handoff's pure core: what an escalation, a setting, a ticket, a transcript and a stored record
//! are, and the rules between them. Values in, values out: no I/O, no clock, no randomness. The
//! store ports are traits here; their adapters (DynamoDB, Secrets Manager, in-process) live in the
//! `handoff` crate with everything else that talks to the outside world.
//!
//! Purity is a dependency rule, not a convention: this crate's `Cargo.toml` lists no AWS SDK, no
//! HTTP client, no Lambda crate, no async runtime, and `tests::core_links_nothing_that_does_io`
//! fails if one appears in its dependency tree.

pub mod address;
pub mod backoff;
pub mod error;
pub mod escalation;
pub mod identity;
pub mod live;
pub mod mapping;
pub mod redaction;
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

/// "No module of the core imports one that imports it back", checked on the sources: every path
/// a module names (`crate::…`, `super::…`, a child's `pub use`), outside its tests, is an edge.
#[cfg(test)]
mod module_graph {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Module path (`status::context`) → the source before its tests.
    fn sources() -> BTreeMap<String, String> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let relative = path.strip_prefix(base).unwrap().with_extension("");
                    let parts: Vec<String> =
                        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                    let module = match parts.last().map(String::as_str) {
                        Some("lib") => continue,
                        Some("mod") => parts[..parts.len() - 1].join("::"),
                        _ => parts.join("::"),
                    };
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                    out.insert(module, code);
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = BTreeMap::new();
        walk(&base, &base, &mut out);
        out
    }

    /// The lowercase path segments after each occurrence of `marker` (`crate::status::summary::Language`
    /// gives `status::summary`).
    fn paths_after<'a>(code: &'a str, marker: &'a str) -> impl Iterator<Item = Vec<&'a str>> + 'a {
        code.match_indices(marker).map(move |(i, _)| {
            let rest = &code[i + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end].split("::").filter(|s| !s.is_empty()).collect()
        })
    }

    /// Which modules each module imports.
    fn edges(sources: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
        let longest_module = |segments: &[&str]| {
            (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|m| sources.contains_key(m))
        };
        let mut graph = BTreeMap::new();
        for (module, code) in sources {
            let parent: Vec<&str> = module.split("::").collect::<Vec<_>>()[..module.matches("::").count()].to_vec();
            let mut targets = BTreeSet::new();
            for path in paths_after(code, "crate::") {
                targets.extend(longest_module(&path));
            }
            for path in paths_after(code, "super::") {
                let full: Vec<&str> = parent.iter().copied().chain(path).collect();
                targets.extend(longest_module(&full));
            }
            for marker in ["\nuse ", "\npub use "] {
                for path in paths_after(code, marker) {
                    let child: Vec<&str> = module.split("::").chain(path).collect();
                    if child.len() > module.split("::").count() {
                        targets.extend(longest_module(&child).filter(|m| m != module));
                    }
                }
            }
            targets.remove(module);
            graph.insert(module.clone(), targets);
        }
        graph
    }

    #[test]
    fn no_module_of_the_core_imports_one_that_imports_it_back() {
        let sources = sources();
        let graph = edges(&sources);
        assert!(
            graph["mapping"].contains("settings")
                && graph["store::outbox"].contains("store::error")
                && graph["store"].contains("store::outbox"),
            "{graph:?}"
        );
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_owned()];
            while let Some(module) = stack.pop() {
                for next in graph.get(&module).into_iter().flatten() {
                    if next == to {
                        return true;
                    }
                    if seen.insert(next.clone()) {
                        stack.push(next.clone());
                    }
                }
            }
            false
        };
        let cycles: Vec<(&String, &String)> = graph
            .iter()
            .flat_map(|(module, targets)| targets.iter().map(move |t| (module, t)))
            .filter(|(module, target)| reaches(target, module))
            .collect();
        assert!(cycles.is_empty(), "modules that import one that imports them back: {cycles:?}");
    }
}
