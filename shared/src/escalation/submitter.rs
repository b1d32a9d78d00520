//! The ticket as the visitor's own. Zendesk credits a ticket's first comment to its submitter,
//! and the submitter of an API create is the authenticated user unless the request names another
//! ("By default, the first comment author is the authenticated user making the API request"):
//! a create that only names the requester would send the visitor's words out as the
//! integration's. So the request names the visitor's Zendesk user as requester, submitter and
//! author of the first comment, which takes one call before the create: a search for a real
//! email (a read), or a create for Handoff's placeholder email and for an email Zendesk does not
//! know yet.
//!
//! An email from a body is the platform's unverified word, so it may only name an end user: an
//! existing user is named only when it is an end user (or the email is the token's verified
//! claim), and a user is only ever created, never updated (`POST /api/v2/users` refuses an email
//! that exists). Otherwise the ticket names the requester by email, as before.

use tracing::warn;

use super::service::Escalator;
use crate::connection::accounts::BotAccount;
use crate::deadline::Deadline;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::{TicketCreateInput, User};

/// The visitor as a ticket names them.
pub(super) struct Visitor {
    /// The email is the token's verified claim.
    pub verified: bool,
    /// The email is Handoff's placeholder for a visitor who gave none (unique to the conversation).
    pub placeholder: bool,
}

impl Escalator<'_> {
    /// `ticket` with the visitor's user as requester, submitter and first comment author, when
    /// there is one that may be named; else `ticket` as it was (its first comment credited to
    /// the connected user), with a warning when Handoff may not create users (an OAuth grant
    /// from before Handoff asked for `users:write`).
    pub(super) async fn as_visitors_ticket(
        &self,
        bot: &BotAccount,
        ticket: &TicketCreateInput,
        visitor: Visitor,
        deadline: Deadline,
    ) -> Result<TicketCreateInput, ZendeskError> {
        let Some(requester) = &ticket.requester else { return Ok(ticket.clone()) };
        let nameable = |user: &User| visitor.verified || user.role.as_deref() == Some("end-user");
        let search = async {
            self.zendesk.user_by_email(&bot.account, &requester.email, deadline).await.map(|found| match found {
                Some(user) if nameable(&user) => Ok(user.id),
                Some(_) => Err(()),
                None => Ok(None),
            })
        };
        if !visitor.placeholder {
            match search.await? {
                Ok(Some(id)) => return Ok(ticket.clone().submitted_by(id)),
                Ok(None) => {}
                // Staff, named by an unverified email: the ticket names them by email, as before.
                Err(()) => return Ok(ticket.clone()),
            }
        }
        match self.zendesk.create_end_user(&bot.account, &requester.name, &requester.email, deadline).await {
            Ok(user) => Ok(user.id.map_or_else(|| ticket.clone(), |id| ticket.clone().submitted_by(id))),
            // The email exists after all (Zendesk's search lags behind new users, or the
            // placeholder's user was made by an earlier episode): named only if it may be.
            Err(ZendeskError::Rejected { status: 422, .. }) => {
                let found = self.zendesk.user_by_email(&bot.account, &requester.email, deadline).await?;
                Ok(match found.filter(|u| nameable(u)).and_then(|u| u.id) {
                    Some(id) => ticket.clone().submitted_by(id),
                    None => ticket.clone(),
                })
            }
            Err(ZendeskError::Forbidden(reason)) => {
                warn!(%reason, "may not create the visitor's Zendesk user (reconnect to grant users:write); the first comment is credited to the connected user");
                Ok(ticket.clone())
            }
            Err(e) => Err(e),
        }
    }
}
