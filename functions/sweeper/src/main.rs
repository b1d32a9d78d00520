//! Lambda entry point for the sweeper (EventBridge Scheduler, every minute). The event carries
//! nothing it needs: it finds due work through the sparse index and stops in time for the
//! Lambda's own deadline (what it leaves is due again next minute).

use std::time::{Duration, SystemTime};

use handoff::app::App;
use handoff::deadline::Deadline;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

/// Kept back from the invocation's deadline to write the last results.
const MARGIN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env()?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
        let deadline = Deadline::after(left.saturating_sub(MARGIN).max(Duration::from_secs(1)));
        let report = handoff::sweeper::sweep(app, deadline).await;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
