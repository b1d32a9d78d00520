//! Lambda entry point for the token refresher (EventBridge Scheduler, every 5 minutes). The
//! event carries nothing it needs: it finds due connections through the sparse index.

use handoff::app::App;
use std::time::Duration;

use handoff::connection::refresh::Refresher;
use handoff::deadline::Deadline;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

/// Connections refreshed per run at most; the rest are due again on the next run.
const BATCH: usize = 100;
/// Time kept back from the function's timeout for the metrics and the answer.
const RESERVE: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env()?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The run stops before a refresh it could not finish before the function's timeout.
        let run_until = Deadline::from_lambda(event.context.deadline, RESERVE, Duration::MAX);
        let refresher = Refresher {
            stores: &app.stores,
            zendesk: &app.zendesk,
            zendesk_base_url: app.escalation.zendesk_base_url.as_ref(),
        };
        let summary = refresher.refresh_due(BATCH, run_until).await?;
        tracing::info!(?summary, "token refresh run");
        // The alarm on refresh failures watches these.
        let dimension = ("Function", "token-refresh");
        let failed = (summary.failed + summary.reconnect_required) as u64;
        handoff::metrics::emit("RefreshFailures", failed, "Count", dimension);
        handoff::metrics::emit("RefreshesDone", summary.refreshed as u64, "Count", dimension);
        Ok::<_, Error>(serde_json::to_value(summary)?)
    }))
    .await
}
