//! Writing the audit trail: one helper, so every entry has the same shape and time format, and
//! an audit failure never fails the action it records.

use std::collections::BTreeMap;

use crate::store::{AuditEntry, AuditLog, Connection, ConnectionState, StoreError, Stores};

/// Audit times: RFC 3339, UTC, fixed-width microseconds, so they sort as text in time order.
pub fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// Appends an entry; a failure is logged, never returned.
pub async fn record(
    log: &dyn AuditLog,
    bot_id: &str,
    action: &str,
    outcome: &str,
    actor: Option<&str>,
    detail: &[(&str, &str)],
) {
    let entry = AuditEntry {
        bot_id: bot_id.to_owned(),
        at: now(),
        action: action.to_owned(),
        outcome: outcome.to_owned(),
        actor: actor.map(str::to_owned),
        detail: detail.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
    };
    if let Err(e) = log.append(&entry).await {
        tracing::warn!(error = %e, action, "could not write the audit entry");
    }
}

/// Zendesk no longer accepts the connection's authorization: mark it `reconnect_required` (if it
/// is still the version read: a reconnect that landed meanwhile wins) and record why.
pub async fn reconnect_required(stores: &Stores, connection: &Connection, action: &str, reason: &str, actor: &str) {
    tracing::warn!(bot_id = %connection.bot_id, reason, "reconnect required");
    let state = ConnectionState::ReconnectRequired;
    match stores.bots.set_connection_state(&connection.bot_id, connection.version, state).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => tracing::warn!(error = %e, "could not mark the connection reconnect_required"),
    }
    record(stores.audit.as_ref(), &connection.bot_id, action, reason, Some(actor), &[("state", "reconnect_required")])
        .await;
}
