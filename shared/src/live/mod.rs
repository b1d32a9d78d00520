//! The live conversation after the handoff: the visitor's messages relayed to the ticket
//! (`relay`) and where the handoff stands (`state`). The request model, the comment's text and
//! the handoff's phases are pure (`handoff_core::live`).

mod comment;
pub mod files;
pub mod relay;
pub mod state;

pub use handoff_core::live::*;

pub use crate::binding::BindingError;
use crate::identity::{self, VisitorMismatch};
use crate::store::{ConversationRecord, Stores};

/// The conversation's record, once the caller's claim is checked (`binding::checked`), and more
/// strictly than before the handoff: a claim must name the handoff's own visitor, so a
/// conversation handed over for nobody in particular (no email) is no claim's to read or write in.
pub(crate) async fn bound_record(
    stores: &Stores,
    bot_id: &str,
    conversation_id: &str,
    claim: Option<&str>,
) -> Result<Option<ConversationRecord>, BindingError> {
    let (_, record) = crate::binding::checked(stores, bot_id, conversation_id, claim).await?;
    if let (Some(claim), Some(record)) = (claim, &record)
        && !record.requester_email.as_deref().is_some_and(|email| identity::same_email(email, claim))
    {
        return Err(VisitorMismatch.into());
    }
    Ok(record)
}
