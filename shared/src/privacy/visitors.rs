//! A visitor's data-protection requests, by email: the export of everything Handoff holds about
//! them, and its erasure, optionally with their Zendesk end user (soft, then permanent deletion).
//! The store decides what belongs to the visitor (`store::VisitorMatcher`); this adds Zendesk and
//! the audit entries, which never name the visitor.
//!
//! The Zendesk users deleted are only those Handoff recorded as the requesters of the visitor's
//! tickets in the bot's current account, and only while Zendesk still says they are end users with
//! this email: an email alone deletes nobody. They are deleted before Handoff's own records (which
//! hold their ids), so a failure leaves everything for a repeated request.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use tracing::{info, warn};

use crate::connection::accounts::{AccountError, Accounts, BotAccount, CallError};
use crate::deadline::Deadline;
use crate::store::{Erased, StoreError, Stores, VisitorData, VisitorMatcher};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// Time for all the Zendesk calls of one erasure (for each user: show, delete, delete permanently).
const ZENDESK_TIME: Duration = Duration::from_secs(10);

/// What became of the visitor's Zendesk end users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ZendeskUser {
    /// The request did not ask for it.
    NotRequested,
    /// Handoff recorded no Zendesk user for the visitor in the bot's account (or they are gone).
    NotFound,
    /// Deleted, and then deleted permanently; `spared_user_ids` are recorded users left alone
    /// (no longer end users with this email).
    Deleted {
        user_ids: Vec<u64>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        spared_user_ids: Vec<u64>,
    },
    /// The recorded users are no longer end users with this email (agents or admins now, or
    /// another address): Handoff deletes nobody else.
    NotAnEndUser { user_ids: Vec<u64> },
}

impl ZendeskUser {
    /// The `outcome` tag, as serialized (for the audit entry).
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::NotRequested => "not_requested",
            Self::NotFound => "not_found",
            Self::NotAnEndUser { .. } => "not_an_end_user",
            Self::Deleted { .. } => "deleted",
        }
    }
}

/// Why the Zendesk step failed: nothing was erased.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bot is not connected, or must be reconnected.
    #[error("the bot is not connected to Zendesk")]
    NotConnected,
    /// Zendesk refused or failed (the reason never holds the email); `user_id` when known.
    #[error("Zendesk did not delete the user: {reason}")]
    Zendesk { user_id: Option<u64>, reason: String },
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub erased: Erased,
    pub zendesk_user: ZendeskUser,
}

pub struct VisitorRequests<'a> {
    pub stores: &'a Stores,
    pub accounts: Accounts<'a>,
    pub zendesk: &'a ZendeskClient,
}

impl VisitorRequests<'_> {
    /// Everything Handoff holds about the visitor; audited by counts (who asked, never about whom).
    pub async fn export(&self, bot_id: &str, email: &str, actor: Option<&str>) -> Result<VisitorData, StoreError> {
        let data = self.stores.visitors.visitor_data(bot_id, email).await?;
        let counts = [
            ("conversations", data.conversations.len()),
            ("sessions", data.sessions.len()),
            ("callbacks", data.callbacks.len()),
            ("audit_entries", data.audit.len()),
        ];
        self.audit(bot_id, "visitor_exported", actor, email, &counts, None).await;
        Ok(data)
    }

    /// Deletes the visitor's Zendesk users first (when asked), then erases what Handoff holds,
    /// and audits it by counts only. Repeating it is harmless.
    pub async fn erase(
        &self,
        bot_id: &str,
        email: &str,
        delete_zendesk_user: bool,
        actor: Option<&str>,
    ) -> Result<Erasure, EraseError> {
        let zendesk_user = match delete_zendesk_user {
            false => ZendeskUser::NotRequested,
            true => {
                let data = self.stores.visitors.visitor_data(bot_id, email).await?;
                self.delete_zendesk_users(bot_id, email, &data).await.inspect_err(|e| {
                    warn!(bot_id, error = %e, "the visitor's Zendesk user was not deleted; Handoff's records were not erased");
                })?
            }
        };
        let erased = self.stores.visitors.erase_visitor(bot_id, email).await?;
        info!(bot_id, ?erased, zendesk_user = ?zendesk_user, "visitor erased");
        let counts = [
            ("conversations", erased.conversations as usize),
            ("pending_payloads", erased.pending_payloads as usize),
            ("sessions", erased.sessions as usize),
            ("callbacks", erased.callbacks as usize),
            ("audit_entries_scrubbed", erased.audit_entries_scrubbed as usize),
        ];
        self.audit(bot_id, "visitor_erased", actor, email, &counts, Some(zendesk_user.outcome())).await;
        Ok(Erasure { erased, zendesk_user })
    }

    /// The request's audit entry: who asked (scrubbed of the email, in case an issuer uses it as
    /// the subject) and the counts, never about whom; written after an erasure's scrub.
    async fn audit(
        &self,
        bot_id: &str,
        action: &str,
        actor: Option<&str>,
        email: &str,
        counts: &[(&str, usize)],
        zendesk_user: Option<&str>,
    ) {
        let counts: Vec<(&str, String)> = counts.iter().map(|(name, n)| (*name, n.to_string())).collect();
        let mut detail: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        detail.extend(zendesk_user.map(|outcome| ("zendesk_user", outcome)));
        let actor = actor.map(|a| VisitorMatcher::new(email).scrub_text(a));
        crate::audit::record(self.stores.audit.as_ref(), bot_id, action, "ok", actor.as_deref(), &detail).await;
    }

    /// Deletes, soft then permanently, each Zendesk user Handoff recorded as the requester of the
    /// visitor's tickets in the bot's current account (for a record from before requesters were
    /// kept, the requester its tickets name), while Zendesk says it is an end user with this
    /// email. A user an earlier attempt soft-deleted is deleted permanently once its email is
    /// checked among the deleted users.
    async fn delete_zendesk_users(
        &self,
        bot_id: &str,
        email: &str,
        data: &VisitorData,
    ) -> Result<ZendeskUser, EraseError> {
        if data.conversations.iter().all(|r| r.requester_id.is_none() && r.ticket_id.is_none()) {
            return Ok(ZendeskUser::NotFound);
        }
        let deadline = Deadline::after(ZENDESK_TIME);
        let mut bot = match self.accounts.connected_account(bot_id, deadline).await {
            Ok((bot, _)) => bot,
            Err(AccountError::NotConnected | AccountError::ReconnectRequired) => return Err(EraseError::NotConnected),
            Err(e) => return Err(zendesk_failure(None, &e.to_string(), email)),
        };
        let zendesk = self.zendesk;
        // Ticket ids and user ids are per account: a requester recorded in another account is not
        // this account's user of the same number.
        let account = bot.connection.subdomain.clone();
        let mut ids = BTreeSet::new();
        for record in
            data.conversations.iter().filter(|r| r.account.as_deref() == Some(&account) || r.account.is_none())
        {
            if let Some(id) = record.requester_id {
                ids.insert(id);
                continue;
            }
            for ticket_id in record.ticket_id.into_iter().chain(record.previous_ticket_id) {
                let ticket = self
                    .call(&mut bot, deadline, email, None, move |a| async move {
                        match zendesk.show_ticket(&a, ticket_id, deadline).await {
                            Ok(ticket) => Ok(Some(ticket)),
                            Err(ZendeskError::NotFound) => Ok(None),
                            Err(e) => Err(e),
                        }
                    })
                    .await?;
                ids.extend(ticket.and_then(|t| t.requester_id));
            }
        }
        let is_theirs = |user: &crate::zendesk::types::User| {
            user.email.as_deref().is_some_and(|e| crate::identity::same_email(e, email))
        };
        let (mut deleted, mut spared) = (Vec::new(), Vec::new());
        for user_id in ids {
            let user = self
                .call(&mut bot, deadline, email, Some(user_id), move |a| async move {
                    zendesk.show_user(&a, user_id, deadline).await
                })
                .await?;
            match user {
                Some(user) if user.active == Some(false) && is_theirs(&user) => {}
                Some(user) if user.role.as_deref() != Some("end-user") || !is_theirs(&user) => {
                    spared.push(user_id);
                    continue;
                }
                Some(_) => {
                    self.call(&mut bot, deadline, email, Some(user_id), move |a| async move {
                        zendesk.delete_user(&a, user_id, deadline).await
                    })
                    .await?;
                }
                // Not an active user: deleted by an earlier attempt (checked among the deleted
                // users), or gone.
                None => {
                    let deleted_user = self
                        .call(&mut bot, deadline, email, Some(user_id), move |a| async move {
                            zendesk.show_deleted_user(&a, user_id, deadline).await
                        })
                        .await?;
                    match deleted_user {
                        Some(user) if is_theirs(&user) => {}
                        Some(_) => {
                            spared.push(user_id);
                            continue;
                        }
                        None => continue,
                    }
                }
            }
            let removed = self
                .call(&mut bot, deadline, email, Some(user_id), move |a| async move {
                    zendesk.permanently_delete_user(&a, user_id, deadline).await
                })
                .await?;
            if removed {
                deleted.push(user_id);
            }
        }
        Ok(match (deleted.is_empty(), spared.is_empty()) {
            (false, _) => ZendeskUser::Deleted { user_ids: deleted, spared_user_ids: spared },
            (true, false) => ZendeskUser::NotAnEndUser { user_ids: spared },
            (true, true) => ZendeskUser::NotFound,
        })
    }

    /// One Zendesk call with the bot's credentials (again after a 401, see `Accounts::call`).
    async fn call<T, F, Fut>(
        &self,
        bot: &mut BotAccount,
        deadline: Deadline,
        email: &str,
        user_id: Option<u64>,
        call: F,
    ) -> Result<T, EraseError>
    where
        F: Fn(crate::zendesk::Account) -> Fut,
        Fut: std::future::Future<Output = Result<T, ZendeskError>>,
    {
        self.accounts
            .call(bot, "erasure", deadline, call)
            .await
            .map_err(|e| zendesk_failure(user_id, &call_reason(e), email))
    }
}

fn call_reason(e: CallError) -> String {
    match e {
        CallError::Zendesk(ZendeskError::Forbidden(_)) => {
            "Zendesk refused (403): the connection needs users:write and an admin's (or a permitted agent's) role"
                .to_owned()
        }
        other => other.to_string(),
    }
}

/// A failure, its reason scrubbed of the email (Zendesk's descriptions may quote it).
fn zendesk_failure(user_id: Option<u64>, reason: &str, email: &str) -> EraseError {
    EraseError::Zendesk { user_id, reason: VisitorMatcher::new(email).scrub_text(reason) }
}

#[cfg(test)]
mod tests {
    use super::ZendeskUser;

    #[test]
    fn the_audited_outcome_is_the_serialized_one() {
        let all = [
            ZendeskUser::NotRequested,
            ZendeskUser::NotFound,
            ZendeskUser::NotAnEndUser { user_ids: vec![1] },
            ZendeskUser::Deleted { user_ids: vec![1], spared_user_ids: vec![] },
        ];
        for user in all {
            assert_eq!(serde_json::to_value(&user).unwrap()["outcome"], user.outcome());
        }
    }
}
