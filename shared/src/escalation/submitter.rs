//! The ticket as the visitor's own. Zendesk credits a ticket's first comment to its submitter,
//! and the submitter of an API create is the authenticated user unless the request names another
//! ("By default, the first comment author is the authenticated user making the API request"):
//! a create that only names the requester would send the visitor's words out as the
//! integration's. So the request names the visitor's Zendesk user as requester, submitter and
//! author of the first comment, which takes one call before the create: a search for a real
//! email (a read), or a create for Handoff's placeholder email and for an email Zendesk does not
//! know yet.

use tracing::warn;

use super::service::Escalator;
use crate::connection::accounts::BotAccount;
use crate::deadline::Deadline;
use crate::mapping::PLACEHOLDER_EMAIL_TAG;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::TicketCreateInput;

impl Escalator<'_> {
    /// `ticket` with the visitor's user as requester, submitter and first comment author. An
    /// account that does not let Handoff create users (an OAuth connection made before Handoff
    /// asked for `users:write`) keeps the ticket as it was, with a warning: better a ticket whose
    /// first comment is credited to the integration than none.
    pub(super) async fn as_visitors_ticket(
        &self,
        bot: &BotAccount,
        ticket: &TicketCreateInput,
        deadline: Deadline,
    ) -> Result<TicketCreateInput, ZendeskError> {
        let Some(requester) = &ticket.requester else { return Ok(ticket.clone()) };
        let placeholder = ticket.tags.iter().any(|t| t == PLACEHOLDER_EMAIL_TAG);
        if !placeholder
            && let Some(id) =
                self.zendesk.user_by_email(&bot.account, &requester.email, deadline).await?.and_then(|u| u.id)
        {
            return Ok(ticket.clone().submitted_by(id));
        }
        match self.zendesk.create_end_user(&bot.account, &requester.name, &requester.email, deadline).await {
            Ok(user) => Ok(match user.id {
                Some(id) => ticket.clone().submitted_by(id),
                None => ticket.clone(),
            }),
            Err(ZendeskError::Forbidden(reason)) => {
                warn!(%reason, "may not create the visitor's Zendesk user (reconnect to grant users:write); the first comment is credited to the connected user");
                Ok(ticket.clone())
            }
            Err(e) => Err(e),
        }
    }
}
