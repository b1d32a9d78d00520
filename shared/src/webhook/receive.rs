//! The use case behind the webhook route, after the delivery is authenticated: find the
//! conversation, apply the status in event order, deduplicate on the event id, forward agent
//! replies and status changes to the bot.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tracing::{Instrument, info, warn};

use super::event::{self, EventError, EventKind, TicketEvent};
use super::signature;
use crate::callback::forward::{self, Forwarder};
use crate::callback::payload;
use crate::store::cache::{ProfileCache, Recheck};
use crate::store::{AgentActivity, BotProfile, ConnectionState, EscalationState, StoreError, Stores};

/// What became of an authenticated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Nothing to do, and why.
    Ignored(&'static str),
    /// Seen before (Zendesk delivers at least once).
    Duplicate,
    /// Taken: whether the status was the newest, the event's kind, and whether the callback was
    /// delivered now (`delivered`), left to the sweeper (`pending`) or not needed (`no`).
    Applied { applied: bool, kind: &'static str, forwarded: &'static str },
}

impl Handled {
    /// The route's answer body.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Ignored(reason) => json!({ "ignored": reason }),
            Self::Duplicate => json!({ "duplicate": true }),
            Self::Applied { applied, kind, forwarded } => {
                json!({ "applied": applied, "kind": kind, "forwarded": forwarded })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The signature does not verify (or the bot has no webhook): nothing was read or written.
    #[error("the delivery could not be authenticated")]
    Unauthenticated,
    /// Authenticated, but not a ticket event.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The bot's webhook secret could not be read: Zendesk should deliver again.
    #[error("the webhook secret could not be read")]
    SecretUnreadable,
    /// The bot's webhook is registered but its signing secret is not stored yet (the health
    /// check is brought forward): Zendesk should deliver again.
    #[error("the webhook's signing secret is being stored")]
    SecretPending,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The conversation's ticket was created but the record does not know it yet (its answer
    /// was lost): Zendesk should deliver again shortly rather than an agent's reply be dropped.
    #[error("the ticket is being recorded")]
    TicketNotRecordedYet,
    #[error("callback not serialisable: {0}")]
    Callback(serde_json::Error),
}

/// What Zendesk sent: the signature headers and the raw body they sign.
pub struct Delivery<'r> {
    pub signature: Option<&'r str>,
    pub timestamp: Option<&'r str>,
    pub body: &'r [u8],
}

pub struct Receiver<'a> {
    pub stores: &'a Stores,
    pub profiles: &'a ProfileCache,
    pub forwarder: Forwarder<'a>,
    /// Limits forced re-reads of a bot's secret after a signature fails to verify.
    pub secret_rechecks: &'a Recheck,
    /// Limits audit entries for rejected deliveries (one a minute per bot).
    pub rejection_audits: &'a Recheck,
    /// Limits notes of the last webhook received (one a minute per bot).
    pub webhook_touches: &'a Recheck,
}

impl Receiver<'_> {
    /// A delivery from Zendesk, from signature to effect. Verified on the raw body before anything
    /// is read or written; every way of failing to authenticate looks the same from outside.
    pub async fn receive(
        &self,
        bot_id: &str,
        delivery: &Delivery<'_>,
        now: time::OffsetDateTime,
    ) -> Result<Handled, ReceiveError> {
        let verify = |secret: &secrecy::SecretString| {
            signature::verify(
                secret.expose_secret().as_bytes(),
                delivery.signature,
                delivery.timestamp,
                delivery.body,
                now,
            )
        };
        // A bot with no live connection has no webhook: refused from the cached profile (an unknown
        // id's empty profile is cached too), with the same signature work and the same answer as a
        // bad signature for a known bot, and no Secrets Manager call.
        let profile = self.profiles.get(self.stores.bots.as_ref(), bot_id).await?;
        if !has_webhook(&profile) {
            let _ = verify(&secrecy::SecretString::from(DECOY_SECRET));
            return Err(ReceiveError::Unauthenticated);
        }
        let mut known = self.signing_secret(bot_id).await?;
        let mut verified = match &known {
            Some((secret, _)) => verify(secret),
            None => Err(signature::SignatureError::Mismatch),
        };
        // The secret may have changed in another Lambda (the health check registered the webhook
        // again): for a known bot whose signature did not match, read it once more, at most every
        // 30 s per bot.
        if known.is_some() && verified == Err(signature::SignatureError::Mismatch) && self.secret_rechecks.allow(bot_id)
        {
            self.stores.secrets.invalidate(bot_id);
            if let Some(reread) = self.signing_secret(bot_id).await? {
                verified = verify(&reread.0);
                known = Some(reread);
            }
        }
        if let Err(reason) = verified {
            warn!(bot_id, %reason, "webhook rejected");
            // Audited for known bots, at most once a minute per bot and Lambda: a flood of forged
            // deliveries must not turn into a flood of writes.
            if known.is_some() && self.rejection_audits.allow(bot_id) {
                let reason = reason.to_string();
                crate::audit::record(
                    self.stores.audit.as_ref(),
                    bot_id,
                    "webhook_rejected",
                    "unauthenticated",
                    None,
                    &[("reason", reason.as_str())],
                )
                .await;
            }
            return Err(ReceiveError::Unauthenticated);
        }
        // Read before anything is written: a delivery that is not an event changes nothing.
        let event = event::parse(delivery.body)?;
        // For the diagnostics' "last webhook received", at most once a minute per bot and Lambda.
        if self.webhook_touches.allow(bot_id)
            && let Err(e) = self.stores.bots.touch_last_webhook(bot_id, now.unix_timestamp()).await
        {
            warn!(bot_id, error = %e, "could not note the webhook's arrival");
        }
        let span = tracing::info_span!(
            "webhook",
            bot_id = %bot_id,
            ticket_id = event.ticket_id,
            event_id = %event.id,
            conversation_id = tracing::field::Empty,
        );
        // The account whose webhook signed it (kept with its secret), else the connected one.
        let signed_for = known.and_then(|(_, account)| account);
        // Instrumented, not entered: a span held across an await would tag other tasks' lines.
        self.handle_event(bot_id, signed_for, &event, now).instrument(span).await
    }

    /// Everything after authentication. Order matters for "nothing lost": the status is applied
    /// before the event is marked seen (applying is idempotent, so a crash in between is repaired
    /// by Zendesk's retry), and a callback is written down with the seen marker before it is tried.
    async fn handle_event(
        &self,
        bot_id: &str,
        signed_for: Option<String>,
        event: &TicketEvent,
        now: time::OffsetDateTime,
    ) -> Result<Handled, ReceiveError> {
        let stores = self.stores;
        let profile = self.profiles.get(stores.bots.as_ref(), bot_id).await?;
        // Ticket ids are per Zendesk account: the event is about a ticket of the account whose
        // webhook signed it (a Lambda may still hold the previous account's secret for a few minutes
        // after the bot moved), never a ticket another account numbered alike.
        let Some(account) = signed_for.or_else(|| profile.connection.as_ref().map(|c| c.subdomain.clone())) else {
            return Ok(Handled::Ignored("the bot is not connected"));
        };
        let conversation = match &event.external_id {
            Some(conversation) => Some(conversation.clone()),
            None => stores.conversations.conversation_for_ticket(bot_id, &account, event.ticket_id).await?,
        };
        let Some(conversation) = conversation else {
            info!("not a Handoff ticket; ignored");
            return Ok(Handled::Ignored("not a ticket Handoff created"));
        };
        tracing::Span::current().record("conversation_id", conversation.as_str());
        let status_is_current = match event.status {
            Some(status) => {
                let at_ms = crate::deadline::millis(event.time);
                stores
                    .conversations
                    .apply_ticket_status(bot_id, &conversation, &account, event.ticket_id, status, at_ms)
                    .await?
            }
            None => false,
        };
        if !status_is_current && event.external_id.is_some() {
            // Not applied: stale, or a ticket that only carries this conversation's id (another
            // integration's, or an earlier episode's). Only the conversation's own ticket goes on.
            let record = stores.conversations.get_conversation(bot_id, &conversation).await?;
            if record.as_ref().is_some_and(|r| r.state == EscalationState::Pending && r.ticket_id.is_none()) {
                // The ticket was made but its answer was lost: until the record knows it, ask Zendesk
                // to deliver again later (it retries a 503) rather than drop an agent's reply.
                info!("the conversation does not know its ticket yet; asking for a retry");
                return Err(ReceiveError::TicketNotRecordedYet);
            }
            if !record.is_some_and(|r| r.ticket_id == Some(event.ticket_id) && r.in_account(&account)) {
                info!("not the conversation's current ticket; ignored");
                return Ok(Handled::Ignored("not the conversation's current ticket"));
            }
        }
        // The callback secret is read at delivery time (a warm Lambda's cached copy may predate it).
        let forwarding = profile.settings.as_ref().is_some_and(|s| s.callback_url.is_some());
        let handoff_user = profile.connection.as_ref().and_then(|c| c.zendesk_user_id);
        let now_ms = crate::deadline::millis(now);
        let agent_joined = self.note_agent(bot_id, &conversation, &account, event, handoff_user).await?;
        let context = payload::EventContext {
            bot_id,
            conversation_id: &conversation,
            handoff_user_id: handoff_user,
            status_is_current,
            agent_joined,
        };
        // An agent's first public reply is also the news that an agent joined: that callback has a
        // seen marker of its own (its delivery id), written before the event's, so a retry of the
        // event finds it and goes on to the reply.
        if let Some(joined) = payload::agent_joined_by_reply(&context, event).filter(|_| agent_joined && forwarding) {
            let callback = forward::pending(bot_id, &joined, now_ms).map_err(ReceiveError::Callback)?;
            let first = stores
                .outbox
                .mark_event_seen(bot_id, &joined.delivery_id, now.unix_timestamp(), Some(&callback))
                .await?;
            if first && !self.forwarder.deliver_now(&callback).await {
                info!("agent_joined left to the sweeper");
            }
        }
        let callback = payload::for_event(&context, event)
            .filter(|_| forwarding)
            .map(|body| forward::pending(bot_id, &body, now_ms))
            .transpose()
            .map_err(ReceiveError::Callback)?;
        let first = stores.outbox.mark_event_seen(bot_id, &event.id, now.unix_timestamp(), callback.as_ref()).await?;
        if !first {
            info!("duplicate delivery");
            return Ok(Handled::Duplicate);
        }
        let forwarded = match &callback {
            Some(callback) => {
                if self.forwarder.deliver_now(callback).await {
                    "delivered"
                } else {
                    "pending"
                }
            }
            None => "no",
        };
        let kind = match &event.kind {
            EventKind::Created => "created",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::CommentAdded(_) => "comment_added",
            EventKind::AssigneeChanged { .. } => "assignee_changed",
            EventKind::Other(_) => "other",
        };
        info!(status_is_current, kind, forwarded, "webhook handled");
        Ok(Handled::Applied { applied: status_is_current, kind, forwarded })
    }

    /// Whether this event is the first sign of an agent on the conversation's ticket this episode
    /// (an assignment to an agent, or an agent's public reply), noted on the record (with the time
    /// of the newest reply) so the state route can answer it; retries of that event say so again.
    async fn note_agent(
        &self,
        bot_id: &str,
        conversation: &str,
        account: &str,
        event: &TicketEvent,
        handoff_user: Option<u64>,
    ) -> Result<bool, ReceiveError> {
        let reply = match &event.kind {
            EventKind::AssigneeChanged { .. } if event.assignee_id.is_some() => false,
            EventKind::CommentAdded(comment) if payload::is_agent_reply(comment, handoff_user) => true,
            _ => return Ok(false),
        };
        let activity = AgentActivity { event_id: event.id.clone(), at_ms: crate::deadline::millis(event.time), reply };
        let noted =
            self.stores.conversations.note_agent(bot_id, conversation, account, event.ticket_id, &activity).await?;
        Ok(noted.unwrap_or(false))
    }

    /// The bot's webhook signing secret and the account its webhook belongs to (None for an unknown
    /// bot or one without a webhook), from
    /// the bot's webhook secret: the only secret this public function's role may read.
    ///
    /// A connected bot with a registered webhook but no signing secret here is waiting for the
    /// health check: its secrets are still in the credentials secret (written before the webhook
    /// secret existed), or the secret could not be read when the webhook was registered. Its
    /// deliveries answer 503, which Zendesk retries (a 401 it drops), and the check is brought
    /// forward to now, at most once per 30 s per bot.
    async fn signing_secret(&self, bot_id: &str) -> Result<Option<(SecretString, Option<String>)>, ReceiveError> {
        let signing = match self.stores.secrets.get_webhook_secret(bot_id).await {
            Ok(secret) => secret.and_then(|s| Some((s.webhook_signing_secret?, s.account))),
            Err(e) => {
                warn!(bot_id, error = %e, "could not read the bot's secret");
                return Err(ReceiveError::SecretUnreadable);
            }
        };
        if signing.is_some() {
            return Ok(signing);
        }
        let profile = self.profiles.get(self.stores.bots.as_ref(), bot_id).await?;
        let awaited = profile
            .connection
            .as_ref()
            .is_some_and(|c| c.state == ConnectionState::Connected && c.webhook_id.is_some());
        if !awaited {
            return Ok(None);
        }
        if self.secret_rechecks.allow(bot_id) {
            self.stores.secrets.invalidate(bot_id);
            if let Ok(Some(signing)) = self
                .stores
                .secrets
                .get_webhook_secret(bot_id)
                .await
                .map(|s| s.and_then(|s| Some((s.webhook_signing_secret?, s.account))))
            {
                return Ok(Some(signing));
            }
            let now_ms = crate::deadline::now_ms();
            if let Err(e) = self.stores.outbox.schedule_webhook_check(bot_id, now_ms).await {
                warn!(bot_id, error = %e, "could not bring the webhook health check forward");
            }
            info!(bot_id, "no webhook signing secret stored yet; the health check is due now");
        }
        Err(ReceiveError::SecretPending)
    }
}

/// Verified against (and always refused) for a bot that has no webhook, so that refusing an
/// unknown bot costs what refusing a bad signature costs.
const DECOY_SECRET: &str = "handoff-decoy-signing-secret-for-unknown-bots";

/// A bot that may receive deliveries: it has a connection that is not disconnected (a
/// disconnected bot's secrets are deleted; an unknown bot has no profile at all).
fn has_webhook(profile: &BotProfile) -> bool {
    profile.connection.as_ref().is_some_and(|c| c.state != ConnectionState::Disconnected)
}
