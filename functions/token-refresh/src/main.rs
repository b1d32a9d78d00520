//! Lambda entry point for the token refresher (EventBridge Scheduler, every 5 minutes). The
//! event carries nothing it needs: it finds due connections through the sparse index.

use handoff::app::App;
use handoff::connection::refresh::Refresher;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

/// Connections refreshed per run at most; the rest are due again on the next run.
const BATCH: usize = 100;

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let refresher = Refresher {
            stores: &app.stores,
            zendesk: &app.zendesk,
            zendesk_base_url: app.escalation.zendesk_base_url.as_ref(),
        };
        let summary = refresher.refresh_due(BATCH).await?;
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
