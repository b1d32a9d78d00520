//! A visitor's data-protection requests, by email: the export of everything Handoff holds about
//! them, and its erasure, optionally with their Zendesk end user (soft, then permanent deletion).
//! The store decides what belongs to the visitor (`store::VisitorMatcher`); this adds Zendesk and
//! the audit entry, which never names the visitor.

use std::time::Duration;

use serde::Serialize;
use tracing::{info, warn};

use crate::connection::accounts::{AccountError, Accounts, CallError};
use crate::deadline::Deadline;
use crate::store::{Erased, StoreError, Stores, VisitorData, VisitorMatcher};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// Time for the Zendesk calls of one erasure (search, delete, delete permanently).
const ZENDESK_TIME: Duration = Duration::from_secs(10);

/// What became of the visitor's Zendesk end user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ZendeskUser {
    /// The request did not ask for it.
    NotRequested,
    /// The bot is not connected, or must be reconnected: nothing was asked of Zendesk.
    NotConnected,
    /// Zendesk has no user with this email (or has deleted it already).
    NotFound,
    /// The email is an agent's or an admin's: Handoff never deletes team members.
    NotAnEndUser { user_id: u64 },
    /// Deleted, and then deleted permanently.
    Deleted { user_id: u64 },
    /// Zendesk refused or failed; `user_id` when it was found (finish it in Zendesk's deleted
    /// users, or repeat the request). The reason never holds the email.
    Failed {
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<u64>,
        reason: String,
    },
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
    /// Everything Handoff holds about the visitor.
    pub async fn export(&self, bot_id: &str, email: &str) -> Result<VisitorData, StoreError> {
        self.stores.visitors.visitor_data(bot_id, email).await
    }

    /// Erases what Handoff holds about the visitor, then (when asked) their Zendesk end user, and
    /// audits it by counts only. Repeating it is harmless.
    pub async fn erase(
        &self,
        bot_id: &str,
        email: &str,
        delete_zendesk_user: bool,
        actor: Option<&str>,
    ) -> Result<Erasure, StoreError> {
        let erased = self.stores.visitors.erase_visitor(bot_id, email).await?;
        let zendesk_user = match delete_zendesk_user {
            false => ZendeskUser::NotRequested,
            true => self.delete_zendesk_user(bot_id, email).await,
        };
        info!(bot_id, ?erased, zendesk_user = ?zendesk_user, "visitor erased");
        let counts = [
            ("conversations", erased.conversations),
            ("pending_payloads", erased.pending_payloads),
            ("sessions", erased.sessions),
            ("callbacks", erased.callbacks),
            ("audit_entries_scrubbed", erased.audit_entries_scrubbed),
        ]
        .map(|(name, n)| (name, n.to_string()));
        let outcome = match &zendesk_user {
            ZendeskUser::NotRequested => "not_requested",
            ZendeskUser::NotConnected => "not_connected",
            ZendeskUser::NotFound => "not_found",
            ZendeskUser::NotAnEndUser { .. } => "not_an_end_user",
            ZendeskUser::Deleted { .. } => "deleted",
            ZendeskUser::Failed { .. } => "failed",
        };
        let mut detail: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        detail.push(("zendesk_user", outcome));
        crate::audit::record(self.stores.audit.as_ref(), bot_id, "visitor_erased", "ok", actor, &detail).await;
        Ok(Erasure { erased, zendesk_user })
    }

    async fn delete_zendesk_user(&self, bot_id: &str, email: &str) -> ZendeskUser {
        let deadline = Deadline::after(ZENDESK_TIME);
        let mut bot = match self.accounts.connected_account(bot_id, deadline).await {
            Ok((bot, _)) => bot,
            Err(AccountError::NotConnected | AccountError::ReconnectRequired) => return ZendeskUser::NotConnected,
            Err(e) => return failed(bot_id, None, &e.to_string(), email),
        };
        let found = self
            .accounts
            .call(&mut bot, "erasure", deadline, |account| async move {
                self.zendesk.user_by_email(&account, email, deadline).await
            })
            .await;
        let user = match found {
            Ok(Some(user)) => user,
            Ok(None) => return ZendeskUser::NotFound,
            Err(e) => return failed(bot_id, None, &call_reason(e), email),
        };
        let Some(user_id) = user.id else { return ZendeskUser::NotFound };
        if user.is_agent() {
            return ZendeskUser::NotAnEndUser { user_id };
        }
        let deleted = self
            .accounts
            .call(&mut bot, "erasure", deadline, |account| async move {
                self.zendesk.delete_user(&account, user_id, deadline).await?;
                self.zendesk.permanently_delete_user(&account, user_id, deadline).await
            })
            .await;
        match deleted {
            Ok(()) => ZendeskUser::Deleted { user_id },
            Err(e) => failed(bot_id, Some(user_id), &call_reason(e), email),
        }
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
fn failed(bot_id: &str, user_id: Option<u64>, reason: &str, email: &str) -> ZendeskUser {
    let reason = VisitorMatcher::new(email).scrub_text(reason);
    warn!(bot_id, user_id, %reason, "could not delete the visitor's Zendesk user");
    ZendeskUser::Failed { user_id, reason }
}
