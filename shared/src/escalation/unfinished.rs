//! The bot's unfinished escalations as a person reads them (the console's activity): pending and
//! failed work with its age and last error, nothing of the conversation's content.

use serde::Serialize;

use crate::rules::RuleKind;
use crate::store::{ConversationRecord, EscalationState, StoreError, Stores};

/// One unfinished escalation.
#[derive(Debug, Serialize)]
pub struct Unfinished {
    pub conversation_id: String,
    pub episode: u32,
    pub state: EscalationState,
    pub rule: Option<RuleKind>,
    /// When the episode's work started (RFC 3339).
    pub started_at: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When the sweeper tries again (RFC 3339; pending only).
    pub due_at: Option<String>,
    pub ticket_id: Option<u64>,
}

impl From<ConversationRecord> for Unfinished {
    fn from(r: ConversationRecord) -> Self {
        let due = (r.state == EscalationState::Pending).then_some(r.due_at_ms).flatten();
        Self {
            conversation_id: r.conversation_id,
            episode: r.episode,
            state: r.state,
            rule: r.rule,
            started_at: r.work_started_at_ms.and_then(rfc3339_ms),
            attempts: r.attempts,
            last_error: r.last_error,
            due_at: due.and_then(rfc3339_ms),
            ticket_id: r.ticket_id,
        }
    }
}

fn rfc3339_ms(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

/// At most `limit` of the bot's unfinished escalations, the longest-running first.
pub async fn unfinished(stores: &Stores, bot_id: &str, limit: usize) -> Result<Vec<Unfinished>, StoreError> {
    let records = stores.conversations.unfinished_for_bot(bot_id, limit).await?;
    Ok(records.into_iter().map(Unfinished::from).collect())
}
