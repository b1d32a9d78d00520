//! Logging: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), readable text
//! elsewhere. `RUST_LOG` sets the filter; the default is `info`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if in_lambda {
        builder.json().with_current_span(true).with_span_list(false).with_ansi(false).without_time().try_init()
    } else {
        builder.compact().with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())).try_init()
    };
    let _ = result;
}
