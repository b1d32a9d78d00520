//! Where a conversation's handoff stands, for a bot that missed a callback: the same facts the
//! callbacks carry (escalated or not, the ticket and its status, whether an agent took it, the
//! newest agent reply), read from the conversation's record — no Zendesk call.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{BindingError, HandoffPhase};
use crate::escalation::{TicketRef, ticket_at};
use crate::store::Stores;
use crate::zendesk::Account;

/// The answer of `GET …/conversations/{conversation_id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffState {
    pub conversation_id: String,
    /// A ticket was asked for (it may still be being made, or be finished).
    pub escalated: bool,
    pub state: HandoffPhase,
    /// Whether the bot should answer the visitor now (nobody else has the conversation).
    pub bot_should_answer: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRef>,
    /// Whether an agent took the ticket this handoff (assigned, or replied publicly).
    pub with_agent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_joined_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_agent_reply_at: Option<String>,
    /// 1 for the conversation's first handoff, +1 for each after a finished one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<u32>,
}

pub struct StateReader<'a> {
    pub stores: &'a Stores,
    pub zendesk_base_url: Option<&'a url::Url>,
}

impl StateReader<'_> {
    /// The conversation's handoff state; the visitor binding applies as on every route.
    pub async fn state(
        &self,
        bot_id: &str,
        conversation_id: &str,
        visitor_claim: Option<&str>,
    ) -> Result<HandoffState, BindingError> {
        let record = super::bound_record(self.stores, bot_id, conversation_id, visitor_claim).await?;
        let phase = HandoffPhase::of(record.as_ref());
        let ticket = match record.as_ref().and_then(|r| r.ticket_id.map(|id| (r, id))) {
            Some((r, id)) => {
                // The ticket's account is on the record; one written before accounts were kept
                // belongs to the bot's current account.
                let subdomain = match &r.account {
                    Some(account) => Some(account.clone()),
                    None => self.stores.bots.load_profile(bot_id).await?.connection.map(|c| c.subdomain),
                };
                let base = subdomain.and_then(|s| Account::base_url(&s, self.zendesk_base_url).ok());
                Some(match base {
                    Some(base) => ticket_at(&base, id, r.ticket_status),
                    None => TicketRef { id, url: String::new(), status: r.ticket_status },
                })
            }
            None => None,
        };
        let time = |ms: Option<i64>| {
            ms.and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok())
                .and_then(|t| t.format(&Rfc3339).ok())
        };
        let joined = record.as_ref().and_then(|r| r.agent_joined_at_ms);
        Ok(HandoffState {
            conversation_id: conversation_id.to_owned(),
            escalated: record.is_some(),
            state: phase,
            bot_should_answer: !phase.person_has_it(),
            ticket,
            with_agent: phase == HandoffPhase::WithAgent,
            agent_joined_at: time(joined.filter(|_| phase == HandoffPhase::WithAgent)),
            last_agent_reply_at: time(record.as_ref().and_then(|r| r.last_agent_reply_at_ms)),
            episode: record.as_ref().map(|r| r.episode),
        })
    }
}
