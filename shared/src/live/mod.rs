//! The live conversation after the handoff: the visitor's messages relayed to the ticket
//! (`relay`) and where the handoff stands (`state`). The request model, the comment's text and
//! the handoff's phases are pure (`handoff_core::live`).

mod comment;
pub mod files;
pub mod relay;
pub mod state;

pub use handoff_core::live::*;

use crate::identity::{self, VisitorMismatch};
use crate::store::{ConversationRecord, StoreError, Stores};

/// Why a conversation's record may not be used by this caller, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error(transparent)]
    VisitorMismatch(#[from] VisitorMismatch),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The conversation's record, after the visitor binding is checked as for an escalation (its
/// record and the session's visitor, read at once): a token's claim must be the conversation's
/// visitor, and a conversation a claim bound refuses callers without one.
pub(crate) async fn bound_record(
    stores: &Stores,
    bot_id: &str,
    conversation_id: &str,
    claim: Option<&str>,
) -> Result<Option<ConversationRecord>, BindingError> {
    let conversations = &stores.conversations;
    let (session, record) = tokio::join!(
        conversations.get_visitor(bot_id, conversation_id),
        conversations.get_conversation(bot_id, conversation_id)
    );
    let (session, record) = (session?, record?);
    let verified =
        session.as_ref().is_some_and(|s| s.email_verified) || record.as_ref().is_some_and(|r| r.requester_verified);
    identity::check_binding(
        claim,
        [session.as_ref().and_then(|s| s.email.as_deref()), record.as_ref().and_then(|r| r.requester_email.as_deref())],
        verified,
    )?;
    // After the handoff a claim must name the handoff's own visitor: a conversation handed over
    // for nobody in particular (no email) is not any claim's to read or write in.
    if let (Some(claim), Some(record)) = (claim, &record)
        && !record.requester_email.as_deref().is_some_and(|email| identity::same_email(email, claim))
    {
        return Err(VisitorMismatch.into());
    }
    Ok(record)
}
