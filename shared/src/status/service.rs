//! Status lookups and customer context against Zendesk: at most two Zendesk calls per lookup
//! (the ticket with its people sideloaded; its newest audit for who changed it last), none for a
//! repeat within 30 seconds (a per-Lambda cache, so a chatty visitor does not eat the account's
//! rate limit), and none at all when the caller could not see any ticket anyway.

use std::time::Duration;

use time::OffsetDateTime;
use tracing::{info, warn};

use super::cache::{LookupCache, TicketSnapshot, fresh, keep};
use super::context::{self, ContextTicket};
use super::summary::{Language, Updater};
use super::view::{CustomerContext, TicketStatusView, last_updater, view};
use super::visibility::{self, TicketFacts, Viewer};
use crate::connection::accounts::{AccountError, Accounts, BotAccount, CallError};
use crate::deadline::Deadline;
use crate::escalation::EscalationConfig;
use crate::identity;
use crate::store::{StoreError, Stores, VisitorRecord};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// Time for one lookup's Zendesk calls.
const BUDGET: Duration = Duration::from_secs(8);
/// A lookup's time in all (the status function's timeout, less a margin): a token refresh
/// fits in it only when it leaves a whole lease, so lookups rarely refresh; the scheduled
/// refresher and escalations do.
const REQUEST_TIME: Duration = Duration::from_secs(14);

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("this bot is not connected to Zendesk")]
    NotConnected,
    #[error("this bot's Zendesk connection must be reconnected")]
    ReconnectRequired,
    /// No such ticket, or one the caller may not see: the same answer for both.
    #[error("no such ticket")]
    NotFound,
    /// The token names its visitor, and the request is about someone else.
    #[error("the token is for another visitor")]
    VisitorMismatch,
    #[error(transparent)]
    Zendesk(ZendeskError),
    /// Zendesk refused the token and it could not be renewed just now; worth retrying.
    #[error("the bot's Zendesk token could not be renewed just now")]
    RefreshDeferred,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AccountError> for StatusError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotConnected => Self::NotConnected,
            AccountError::ReconnectRequired => Self::ReconnectRequired,
            AccountError::RefreshDeferred(_) => Self::RefreshDeferred,
            AccountError::Store(e) => Self::Store(e),
        }
    }
}

impl From<CallError> for StatusError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Account(e) => e.into(),
            CallError::Zendesk(e) => Self::Zendesk(e),
        }
    }
}

/// Who is asking, as the request says.
#[derive(Debug, Clone, Default)]
pub struct WhoAsks {
    /// The token's `visitor_email` claim.
    pub visitor_email: Option<String>,
    /// `?conversation_id=`: the visitor's conversation.
    pub conversation_id: Option<String>,
}

pub struct Lookup<'a> {
    pub stores: &'a Stores,
    pub zendesk: &'a ZendeskClient,
    pub config: &'a EscalationConfig,
    pub cache: &'a LookupCache,
}

impl Lookup<'_> {
    fn accounts(&self) -> Accounts<'_> {
        Accounts { stores: self.stores, zendesk: self.zendesk, zendesk_base_url: self.config.zendesk_base_url.as_ref() }
    }

    async fn account(&self, bot_id: &str) -> Result<(BotAccount, crate::settings::BotSettings), StatusError> {
        Ok(self.accounts().connected_account(bot_id, Deadline::after(REQUEST_TIME)).await?)
    }

    /// Runs `call` with the bot's credentials, once more after a 401 (see `Accounts::call`).
    async fn with_account<T, F, Fut>(&self, mut bot: BotAccount, call: F) -> Result<T, StatusError>
    where
        F: Fn(crate::zendesk::Account) -> Fut,
        Fut: std::future::Future<Output = Result<T, ZendeskError>>,
    {
        Ok(self.accounts().call(&mut bot, "status", Deadline::after(REQUEST_TIME), call).await?)
    }

    /// The viewer behind the request. Only the token's `visitor_email` claim is a verified email:
    /// an email recorded on a conversation (session start, an escalation's body) is the
    /// platform's unverified word and unlocks nothing. The named conversation adds the tickets
    /// Handoff created there: without a claim, its current and previous ones; with a claim, only
    /// its current one, and only when the conversation is that visitor's (recorded for the same
    /// email), so another visitor's conversation id opens nothing.
    async fn viewer(&self, bot_id: &str, account: &str, who: &WhoAsks) -> Result<Viewer, StatusError> {
        let claim = who.visitor_email.as_deref().map(identity::normalize_email);
        let mut viewer = Viewer { verified_email: claim.clone(), linked_tickets: Vec::new() };
        let Some(conversation) = &who.conversation_id else { return Ok(viewer) };
        let conversations = &self.stores.conversations;
        let (record, visitor) = tokio::join!(
            conversations.get_conversation(bot_id, conversation),
            conversations.get_visitor(bot_id, conversation)
        );
        // A conversation whose ticket lives in another Zendesk account links nothing here: the same
        // number names another ticket in this one.
        let (Some(record), visitor) = (record?.filter(|r| r.in_account(account)), visitor?) else {
            return Ok(viewer);
        };
        let claimed = record.requester_verified || visitor.as_ref().is_some_and(|v| v.email_verified);
        match &claim {
            // A conversation a claim bound opens nothing to a caller without one.
            None if claimed => {}
            None => viewer.linked_tickets.extend(record.ticket_id.into_iter().chain(record.previous_ticket_id)),
            Some(claim) => {
                let recorded_for_claim =
                    record.requester_email.as_deref().is_some_and(|e| identity::same_email(e, claim));
                let bound =
                    identity::check_binding(Some(claim), [visitor.as_ref().and_then(|v| v.email.as_deref())], false);
                if recorded_for_claim && bound.is_ok() {
                    viewer.linked_tickets.extend(record.ticket_id);
                }
            }
        }
        Ok(viewer)
    }

    /// `GET /v1/bots/{bot}/tickets/{id}`.
    pub async fn ticket_status(
        &self,
        bot_id: &str,
        ticket_id: u64,
        who: &WhoAsks,
        language: Language,
        now: OffsetDateTime,
    ) -> Result<TicketStatusView, StatusError> {
        let (bot, settings) = self.account(bot_id).await?;
        let scope = settings.status_lookup_scope;
        let viewer = match scope {
            visibility::LookupScope::Visitor => {
                let viewer = self.viewer(bot_id, &bot.connection.subdomain, who).await?;
                if viewer.is_anonymous() {
                    info!(bot_id, ticket_id, "status lookup without a visitor identity: not found");
                    return Err(StatusError::NotFound);
                }
                viewer
            }
            _ => Viewer::default(),
        };
        let key = (bot_id.to_owned(), bot.connection.subdomain.clone(), ticket_id);
        let cached = fresh(&self.cache.tickets, &key, self.cache.ttl);
        let mut snapshot = match cached {
            Some(Some(snapshot)) => snapshot,
            // Known not to exist: the same answer as a ticket that may not be seen, no call.
            Some(None) => return Err(StatusError::NotFound),
            None => {
                let deadline = Deadline::after(BUDGET);
                let shown = self
                    .with_account(bot.clone(), |account| async move {
                        self.zendesk.show_ticket_with_users(&account, ticket_id, deadline).await
                    })
                    .await;
                match shown {
                    Ok(shown) => TicketSnapshot { ticket: shown.ticket, users: shown.users, updater: None },
                    // One the connected user may not open reads as one that does not exist.
                    Err(StatusError::Zendesk(ZendeskError::NotFound | ZendeskError::Forbidden(_))) => {
                        keep(&self.cache.tickets, key, None, self.cache.ttl);
                        return Err(StatusError::NotFound);
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let requester_email = snapshot.user(snapshot.ticket.requester_id).and_then(|u| u.email.clone());
        let facts =
            TicketFacts { id: ticket_id, requester_email: requester_email.as_deref(), tags: &snapshot.ticket.tags };
        if !visibility::may_see(scope, bot_id, &facts, &viewer) {
            keep(&self.cache.tickets, key, Some(snapshot), self.cache.ttl);
            info!(bot_id, ticket_id, "status lookup for a ticket the caller may not see: not found");
            return Err(StatusError::NotFound);
        }
        if snapshot.updater.is_none() {
            let deadline = Deadline::after(BUDGET);
            let audits = self
                .with_account(bot.clone(), |account| async move {
                    self.zendesk.recent_audits(&account, ticket_id, deadline).await
                })
                .await;
            let handoff_user = bot.connection.zendesk_user_id;
            let updater = match audits {
                Ok(answer) => last_updater(&answer.audits, handoff_user).and_then(|author| {
                    let user =
                        snapshot.user(Some(author)).or_else(|| answer.users.iter().find(|u| u.id == Some(author)));
                    user.and_then(|u| u.name.clone().map(|name| Updater { name, is_agent: u.is_agent() }))
                }),
                // Without the `read` scope (OAuth) Zendesk refuses audits: answer without.
                Err(StatusError::Zendesk(ZendeskError::Forbidden(_))) => {
                    warn!(bot_id, ticket_id, "audits refused (the connection lacks the `read` scope)");
                    None
                }
                Err(e) => return Err(e),
            };
            snapshot.updater = Some(updater);
        }
        keep(&self.cache.tickets, key, Some(snapshot.clone()), self.cache.ttl);
        Ok(view(&snapshot, language, now))
    }

    /// `GET /v1/bots/{bot}/customers/context?email=`: the requester's newest `count` tickets,
    /// within the bot's lookup scope: under `visitor` a token that names its visitor may only ask
    /// for that visitor; under `bot` only this bot's tickets are listed.
    pub async fn customer_context(
        &self,
        bot_id: &str,
        email: &str,
        count: Option<u8>,
        who: &WhoAsks,
        now: OffsetDateTime,
    ) -> Result<CustomerContext, StatusError> {
        let email = email.trim().to_ascii_lowercase();
        let (bot, settings) = self.account(bot_id).await?;
        let scope = settings.status_lookup_scope;
        if scope == visibility::LookupScope::Visitor
            && who.visitor_email.as_deref().is_some_and(|claim| !claim.trim().eq_ignore_ascii_case(&email))
        {
            return Err(StatusError::VisitorMismatch);
        }
        let key = (bot_id.to_owned(), bot.connection.subdomain.clone(), email.clone());
        let listed = match fresh(&self.cache.contexts, &key, self.cache.ttl) {
            Some(listed) => listed,
            None => {
                let deadline = Deadline::after(BUDGET);
                let user = self
                    .with_account(bot.clone(), |account| {
                        let email = email.clone();
                        async move { self.zendesk.user_by_email(&account, &email, deadline).await }
                    })
                    .await?;
                let tag = crate::mapping::bot_tag(bot_id);
                let listed: Vec<(ContextTicket, bool)> = match user.and_then(|u| u.id) {
                    None => Vec::new(),
                    Some(user_id) => self
                        .with_account(bot.clone(), |account| async move {
                            self.zendesk.requested_tickets(&account, user_id, 100, deadline).await
                        })
                        .await?
                        .into_iter()
                        .map(|t| {
                            let mine = t.tags.contains(&tag);
                            let ticket = ContextTicket {
                                id: t.id,
                                subject: t.subject.unwrap_or_default(),
                                status: t.status,
                                updated_at: t.updated_at.unwrap_or_default(),
                            };
                            (ticket, mine)
                        })
                        .collect(),
                };
                keep(&self.cache.contexts, key, listed.clone(), self.cache.ttl);
                listed
            }
        };
        let tickets: Vec<ContextTicket> = listed
            .into_iter()
            .filter(|(_, mine)| scope != visibility::LookupScope::Bot || *mine)
            .map(|(ticket, _)| ticket)
            .take(count.unwrap_or(settings.customer_context_count).into())
            .collect();
        let summary = context::summary(&tickets, now);
        Ok(CustomerContext { email, tickets, summary })
    }

    /// `POST …/conversations/{id}/session`: records the visitor (what this call gives replaces
    /// what was recorded; what it leaves out is kept); their recent tickets when the bot asks for
    /// context on session start (and the token may read it). A token that names its visitor may
    /// only record that visitor's email.
    pub async fn start_session(
        &self,
        visitor: &VisitorRecord,
        who: &WhoAsks,
        may_read_context: bool,
        now: OffsetDateTime,
    ) -> Result<(bool, Option<Result<CustomerContext, StatusError>>), StatusError> {
        let claim = who.visitor_email.as_deref();
        if let (Some(claim), Some(email)) = (claim, &visitor.email)
            && !identity::same_email(claim, email)
        {
            return Err(StatusError::VisitorMismatch);
        }
        let (bot_id, conversation_id) = (&visitor.bot_id, &visitor.conversation_id);
        let conversations = &self.stores.conversations;
        let (earlier, record) = tokio::join!(
            conversations.get_visitor(bot_id, conversation_id),
            conversations.get_conversation(bot_id, conversation_id)
        );
        let (earlier, record) = (earlier?, record?);
        // A claim binds the conversation: one recorded for another visitor is not re-recorded, and
        // one a claim recorded is not re-recorded without a claim.
        let verified =
            earlier.as_ref().is_some_and(|v| v.email_verified) || record.as_ref().is_some_and(|r| r.requester_verified);
        identity::check_binding(
            claim,
            [
                earlier.as_ref().and_then(|v| v.email.as_deref()),
                record.as_ref().and_then(|r| r.requester_email.as_deref()),
            ],
            verified,
        )
        .map_err(|_| StatusError::VisitorMismatch)?;
        let mut visitor = visitor.clone();
        if let Some(claim) = claim {
            visitor.email = Some(identity::normalize_email(claim));
            visitor.email_verified = true;
        }
        let merged = match earlier {
            Some(earlier) => VisitorRecord {
                name: visitor.name.clone().or(earlier.name),
                email: visitor.email.clone().or(earlier.email),
                phone: visitor.phone.clone().or(earlier.phone),
                locale: visitor.locale.clone().or(earlier.locale),
                email_verified: visitor.email_verified || earlier.email_verified,
                ..visitor.clone()
            },
            None => visitor.clone(),
        };
        self.stores.conversations.put_visitor(&merged).await?;
        let settings = self.stores.bots.load_profile(&visitor.bot_id).await?.settings.unwrap_or_default();
        let wanted = settings.customer_context_on_session_start;
        let context = match (&merged.email, wanted && may_read_context) {
            (Some(email), true) => Some(self.customer_context(&visitor.bot_id, email, None, who, now).await),
            _ => None,
        };
        Ok((wanted, context))
    }
}
