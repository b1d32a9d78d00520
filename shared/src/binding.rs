//! A conversation's visitor binding, read from storage and checked: the one check every route
//! that names a conversation makes before it reads or writes the conversation (the rule itself is
//! pure, `identity::check_binding`).

use crate::identity::{self, VisitorMismatch};
use crate::store::{ConversationRecord, StoreError, Stores, VisitorRecord};

/// Why a conversation may not be used by this caller, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error(transparent)]
    VisitorMismatch(#[from] VisitorMismatch),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The conversation's session visitor and record (read at once), once the caller's claim is
/// checked against them: a claim must be the conversation's visitor, and a conversation a claim
/// bound refuses callers without one.
pub async fn checked(
    stores: &Stores,
    bot_id: &str,
    conversation_id: &str,
    claim: Option<&str>,
) -> Result<(Option<VisitorRecord>, Option<ConversationRecord>), BindingError> {
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
    Ok((session, record))
}
