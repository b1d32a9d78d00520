//! Logging: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), readable text
//! elsewhere. `RUST_LOG` sets the filter; the default is `info`.
//!
//! Whatever `RUST_LOG` says, the wire-level targets stay at `debug` or above: at `trace` they
//! print raw events and HTTP bodies. A `GetSecretValue` answer is a bot's tokens; the event
//! Lambda hands the runtime carries the caller's bearer JWT, an `api_token` or client secret in
//! a connection body, an OAuth `code` in the callback's query.

use tracing_subscriber::EnvFilter;

/// Targets that print events, requests or response bodies at `trace`: the AWS SDK's, the Lambda
/// runtime's (the raw invocation event) and the HTTP stacks under reqwest and the runtime client.
const WIRE_TARGETS: [&str; 12] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_secretsmanager",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "hyper",
    "hyper_util",
    "reqwest",
    "h2",
    "tower_http",
];

/// The filter for `spec` (a `RUST_LOG` value) with the wire-level targets capped.
pub fn filter(spec: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in WIRE_TARGETS {
        if let Ok(directive) = format!("{target}=debug").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter(&spec));
    let result = if in_lambda {
        builder.json().with_current_span(true).with_span_list(false).with_ansi(false).without_time().try_init()
    } else {
        builder.compact().with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())).try_init()
    };
    let _ = result;
}
