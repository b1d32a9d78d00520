//! Logging: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), readable text
//! elsewhere. `RUST_LOG` sets the filter; the default is `info`.
//!
//! Whatever `RUST_LOG` says, the wire-level targets stay at `debug` or above: at `trace` they
//! print raw events and HTTP bodies. A `GetSecretValue` answer is a bot's tokens; the event
//! Lambda hands the runtime carries the caller's bearer JWT, an `api_token` or client secret in
//! a connection body, an OAuth `code` in the callback's query.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Targets that print events, requests or response bodies at `trace`: the AWS SDK's, the Lambda
/// runtime's (the raw invocation event) and the HTTP stacks under reqwest and the runtime client.
const WIRE_TARGETS: [&str; 16] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_secretsmanager",
    "aws_sdk_dynamodb",
    "aws_sigv4",
    "aws_runtime",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
    "h2",
    "tower_http",
];

/// The filter for `spec` (a `RUST_LOG` value: `level` and `target=level` directives, comma
/// separated) with the wire-level targets capped at `debug`, their sub-targets included; a target
/// set quieter keeps its level. `tracing_subscriber`'s `Targets`, not `EnvFilter`: no span or
/// field directives, and no regex engine in every binary. Nonsense means `info`.
pub fn filter(spec: &str) -> Targets {
    // An empty directive (`info,`, a stray comma, `=debug`) would parse as the target "" at
    // trace, more specific than the default: dropped, as are spaces around directives.
    let directives: Vec<&str> =
        spec.split(',').map(str::trim).filter(|d| !d.is_empty() && !d.starts_with('=')).collect();
    let parsed: Targets = match directives.join(",") {
        joined if joined.is_empty() => Targets::new().with_default(LevelFilter::INFO),
        joined => joined.parse().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO)),
    };
    // `Targets` matches a directive's target as a prefix of the event's, so does this.
    let capped = |target: &str, level: LevelFilter| {
        if WIRE_TARGETS.iter().any(|w| target.starts_with(w)) { level.min(LevelFilter::DEBUG) } else { level }
    };
    let level_for = |target: &str| {
        let directive = parsed.iter().filter(|(t, _)| target.starts_with(t)).max_by_key(|(t, _)| t.len());
        directive.map(|(_, level)| level).or(parsed.default_level()).unwrap_or(LevelFilter::OFF)
    };
    let mut filter = Targets::new().with_default(parsed.default_level().unwrap_or(LevelFilter::ERROR));
    for (target, level) in parsed.iter() {
        filter = filter.with_target(target.to_owned(), capped(target, level));
    }
    for target in WIRE_TARGETS {
        if !parsed.iter().any(|(t, _)| t == target) {
            filter = filter.with_target(target, level_for(target).min(LevelFilter::DEBUG));
        }
    }
    filter
}

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_max_level(LevelFilter::TRACE);
    let result = if in_lambda {
        let json = builder.json().with_current_span(true).with_span_list(false).with_ansi(false).without_time();
        json.finish().with(filter(&spec)).try_init()
    } else {
        let text = builder.compact().with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
        text.finish().with(filter(&spec)).try_init()
    };
    let _ = result;
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    /// Runs `check` with only `filter(spec)` deciding what is enabled.
    fn under(spec: &str, check: impl FnOnce() -> bool) -> bool {
        let subscriber = tracing_subscriber::registry().with(super::filter(spec));
        tracing::subscriber::with_default(subscriber, check)
    }

    #[test]
    fn the_wire_targets_stay_below_trace_even_when_a_sub_target_asks_for_it() {
        assert!(under("trace", || tracing::event_enabled!(target: "handoff::escalation", Level::TRACE)));
        assert!(!under("trace", || tracing::event_enabled!(target: "reqwest::connect", Level::TRACE)));
        assert!(under("trace", || tracing::event_enabled!(target: "reqwest::connect", Level::DEBUG)));
        // A more specific directive must not lift the cap.
        let spec = "trace,hyper_util::client=trace,aws_smithy_runtime::client::http=trace";
        assert!(!under(spec, || tracing::event_enabled!(target: "hyper_util::client::legacy", Level::TRACE)));
        assert!(!under(spec, || tracing::event_enabled!(target: "aws_smithy_runtime::client::http", Level::TRACE)));
        assert!(!under("lambda_runtime=trace", || tracing::event_enabled!(target: "lambda_runtime", Level::TRACE)));
        assert!(!under("trace", || tracing::event_enabled!(target: "rustls::client::hs", Level::TRACE)));
        assert!(!under("trace", || tracing::event_enabled!(target: "aws_sigv4::http_request::sign", Level::TRACE)));
    }

    #[test]
    fn empty_directives_do_not_turn_everything_up() {
        for spec in ["info,", ",", "", "=debug", "info, ,", "info,=trace"] {
            assert!(!under(spec, || tracing::event_enabled!(target: "handoff::escalation", Level::DEBUG)), "{spec:?}");
            assert!(under(spec, || tracing::event_enabled!(target: "handoff::escalation", Level::INFO)), "{spec:?}");
        }
        assert!(under("info, handoff=debug", || tracing::event_enabled!(target: "handoff::escalation", Level::DEBUG)));
    }

    #[test]
    fn the_spec_sets_the_default_and_quieter_targets_keep_their_level() {
        assert!(under("info", || tracing::event_enabled!(target: "handoff::webhook", Level::INFO)));
        assert!(!under("info", || tracing::event_enabled!(target: "handoff::webhook", Level::DEBUG)));
        assert!(!under("debug,hyper=warn", || tracing::event_enabled!(target: "hyper::proto", Level::INFO)));
        assert!(under("debug,hyper=warn", || tracing::event_enabled!(target: "hyper::proto", Level::WARN)));
        // Nonsense falls back to `info`.
        assert!(under("=!=", || tracing::event_enabled!(target: "handoff", Level::INFO)));
        assert!(!under("=!=", || tracing::event_enabled!(target: "handoff", Level::DEBUG)));
    }
}
