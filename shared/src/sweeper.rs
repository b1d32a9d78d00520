//! The sweeper (EventBridge Scheduler, every minute): finishes what could not finish when it
//! was asked for. Pending escalations (the escalate function's 202s), callbacks the bot did not
//! take, and the webhook health check, each found through the sparse due index, each claimed
//! with a conditional write so overlapping runs never do the same work twice. Counts go out as
//! metrics; failures for good are also in the audit trail.

use std::time::Duration;

use serde::Serialize;
use tracing::{info, warn};

use crate::app::App;
use crate::callback::forward::CallbackSweep;
use crate::connection::Connector;
use crate::connection::service::WEBHOOK_CHECK_INTERVAL;
use crate::connection::webhook_health::WebhookHealth;
use crate::deadline::{Deadline, now_ms};
use crate::escalation::Escalator;
use crate::escalation::service::Resumed;
use crate::metrics;

/// Work items taken per run and kind; the rest are due again on the next run.
pub const ESCALATION_BATCH: usize = 25;
pub const CALLBACK_BATCH: usize = 100;
pub const WEBHOOK_CHECK_BATCH: usize = 20;
/// Time one pending escalation may take.
const ESCALATION_BUDGET: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationSweep {
    pub finished: u32,
    pub still_pending: u32,
    pub failed: u32,
    /// Seconds the most overdue escalation had waited past its due time.
    pub oldest_overdue_seconds: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSweep {
    pub healthy: u32,
    pub repaired: u32,
    pub failed: u32,
    /// Checks dropped because the bot is no longer connected.
    pub dropped: u32,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub escalations: EscalationSweep,
    pub callbacks_delivered: u32,
    pub callbacks_retrying: u32,
    pub callbacks_failed: u32,
    pub webhooks: WebhookSweep,
    /// Parts that could not run (storage unavailable); they run again next minute.
    pub errors: Vec<String>,
}

/// One run at the current time.
pub async fn sweep(app: &App, deadline: Deadline) -> SweepReport {
    sweep_at(app, now_ms(), deadline).await
}

/// One run that takes what is due at `now_ms` (tests move time forward with it).
pub async fn sweep_at(app: &App, now_ms: i64, deadline: Deadline) -> SweepReport {
    let mut report = SweepReport::default();
    // Each kind gets its own share of the run, so one bot whose Zendesk (or receiver) is down
    // cannot use it all up: escalations until 40% of it, callbacks until 70%, webhook checks
    // the rest.
    let total = deadline.remaining();
    let escalations_until = Deadline::after(total.mul_f64(0.4));
    let callbacks_until = Deadline::after(total.mul_f64(0.7));
    match escalations(app, now_ms, escalations_until, deadline).await {
        Ok(sweep) => report.escalations = sweep,
        Err(e) => report.errors.push(format!("escalations: {e}")),
    }
    match app.forwarder().retry_due(now_ms, CALLBACK_BATCH, callbacks_until).await {
        Ok(CallbackSweep { delivered, retrying, failed }) => {
            (report.callbacks_delivered, report.callbacks_retrying, report.callbacks_failed) =
                (delivered, retrying, failed)
        }
        Err(e) => report.errors.push(format!("callbacks: {e}")),
    }
    match webhooks(app, now_ms, deadline).await {
        Ok(sweep) => report.webhooks = sweep,
        Err(e) => report.errors.push(format!("webhooks: {e}")),
    }
    let dimension = ("Function", "sweeper");
    metrics::emit("EscalationsFinished", report.escalations.finished.into(), "Count", dimension);
    metrics::emit("EscalationsFailed", report.escalations.failed.into(), "Count", dimension);
    metrics::emit("OldestPendingEscalationOverdue", report.escalations.oldest_overdue_seconds, "Seconds", dimension);
    metrics::emit("CallbacksFailed", report.callbacks_failed.into(), "Count", dimension);
    metrics::emit("WebhooksRepaired", report.webhooks.repaired.into(), "Count", dimension);
    info!(?report, "sweep finished");
    report
}

/// `run` is the whole invocation's time: a resume whose token Zendesk rejects refreshes it within
/// that (a refresh needs a whole lease), not within the resume's own budget.
async fn escalations(
    app: &App,
    now_ms: i64,
    deadline: Deadline,
    run: Deadline,
) -> Result<EscalationSweep, crate::store::StoreError> {
    let escalator = Escalator { stores: &app.stores, zendesk: &app.zendesk, config: &app.escalation };
    let mut sweep = EscalationSweep::default();
    let due = app.stores.conversations.list_due(now_ms, ESCALATION_BATCH).await?;
    sweep.oldest_overdue_seconds =
        due.iter().filter_map(|r| r.due_at_ms).map(|d| ((now_ms - d).max(0) / 1000) as u64).max().unwrap_or(0);
    for record in due {
        if deadline.remaining() < ESCALATION_BUDGET {
            sweep.still_pending += 1;
            continue;
        }
        match escalator.resume(&record, Deadline::after(ESCALATION_BUDGET), run).await {
            Ok(Resumed::Finished) => sweep.finished += 1,
            Ok(Resumed::StillPending) => sweep.still_pending += 1,
            Ok(Resumed::Failed) => sweep.failed += 1,
            Ok(Resumed::Skipped) => {}
            Err(e) => {
                warn!(bot_id = %record.bot_id, conversation_id = %record.conversation_id, error = %e,
                      "pending escalation could not be resumed");
                sweep.still_pending += 1;
            }
        }
    }
    Ok(sweep)
}

async fn webhooks(app: &App, now_ms: i64, deadline: Deadline) -> Result<WebhookSweep, crate::store::StoreError> {
    let connector = Connector { stores: &app.stores, zendesk: &app.zendesk, config: &app.connect };
    let mut sweep = WebhookSweep::default();
    let next = now_ms + WEBHOOK_CHECK_INTERVAL.as_millis() as i64;
    for (bot_id, due_at_ms) in app.stores.outbox.list_webhook_checks_due(now_ms, WEBHOOK_CHECK_BATCH).await? {
        if deadline.remaining() < Duration::from_secs(12) {
            break;
        }
        if !app.stores.outbox.claim_webhook_check(&bot_id, due_at_ms, next).await? {
            continue;
        }
        match connector.check_webhook(&bot_id, deadline).await {
            WebhookHealth::Healthy => sweep.healthy += 1,
            WebhookHealth::Reactivated | WebhookHealth::Reregistered { .. } => sweep.repaired += 1,
            WebhookHealth::NotConnected => {
                app.stores.outbox.remove_webhook_check(&bot_id).await?;
                sweep.dropped += 1;
            }
            WebhookHealth::Failed(_) => sweep.failed += 1,
        }
    }
    Ok(sweep)
}
