//! The troubleshooting list, run live for one bot: each check answers pass, warn or fail, with
//! what was found and the fix in words. It reads from Zendesk (users/me, the webhook, the ticket
//! fields when fields are mapped) and changes nothing, beyond refreshing an expiring token.

use std::time::Duration;

use serde::Serialize;

use crate::connection::accounts::{Accounts, BotAccount};
use crate::connection::service::API_TOKEN_END;
use crate::deadline::Deadline;
use crate::store::{ConnectionMode, ConnectionState, EscalationState, StoreError};
use crate::ticket_fields::{TicketFieldCache, missing_fields};
use crate::zendesk::ZendeskError;
use crate::zendesk::oauth::ZENDESK_SCOPES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do about it (absent when it passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn pass(check: &'static str, detail: impl Into<String>) -> Check {
    Check { check, status: Outcome::Pass, detail: detail.into(), fix: None }
}

fn warn(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { check, status: Outcome::Warn, detail: detail.into(), fix: Some(fix.into()) }
}

fn fail(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { check, status: Outcome::Fail, detail: detail.into(), fix: Some(fix.into()) }
}

/// A pending escalation older than this fails the check (the sweeper should have finished it).
const STUCK_AFTER_S: i64 = 3600;
/// No webhook for this long warns (quiet accounts exist, so never a failure on its own).
const QUIET_AFTER_S: i64 = 7 * 86_400;

pub struct Diagnostics<'a> {
    pub accounts: Accounts<'a>,
    pub fields: &'a TicketFieldCache,
}

impl Diagnostics<'_> {
    /// Every check, in the order of the README's troubleshooting list.
    pub async fn run(&self, bot_id: &str, now_s: i64) -> Result<Vec<Check>, StoreError> {
        let stores = self.accounts.stores;
        let profile = stores.bots.load_profile(bot_id).await?;
        let settings = profile.settings.clone().unwrap_or_default();
        let mut checks = Vec::new();
        let connection = match profile.connection {
            Some(c) if c.state == ConnectionState::Connected => {
                checks.push(pass("connection", format!("connected to {} ({})", c.subdomain, c.mode.as_str())));
                Some(c)
            }
            Some(c) if c.state == ConnectionState::ReconnectRequired => {
                checks.push(fail(
                    "connection",
                    "Zendesk no longer accepts this bot's authorization (reconnect_required)",
                    "An admin connects the bot again (POST …/zendesk/connect); the audit trail says why it stopped.",
                ));
                None
            }
            _ => {
                checks.push(fail(
                    "connection",
                    "the bot is not connected",
                    "Connect it: POST …/zendesk/connect (OAuth) or PUT …/zendesk/connection.",
                ));
                None
            }
        };
        let deadline = Deadline::after(Duration::from_secs(15));
        match &connection {
            None => {
                for check in ["credentials", "subdomain", "scopes", "token_expiry", "api_token_deprecation", "webhook"]
                {
                    checks.push(warn(check, "not checked: the bot is not connected", "Connect the bot first."));
                }
            }
            Some(c) => {
                // Credentials and the subdomain, with one users/me call.
                let me = match self.accounts.resolve(c, deadline).await {
                    Ok(bot) => Some((self.accounts.zendesk.me(&bot.account, deadline).await, bot)),
                    Err(e) => {
                        checks.push(fail(
                            "credentials",
                            format!("the stored credentials cannot be used: {e}"),
                            "Connect the bot again.",
                        ));
                        None
                    }
                };
                if let Some((me, bot)) = me {
                    match &me {
                        Ok(user) if user.is_agent() => checks.push(pass(
                            "credentials",
                            format!(
                                "Zendesk accepts them; Handoff acts as {}",
                                user.name.as_deref().unwrap_or("an agent")
                            ),
                        )),
                        Ok(_) => checks.push(fail(
                            "credentials",
                            "Zendesk accepts them, but not as an agent or admin",
                            "Connect as an agent or admin: end users cannot create tickets for others.",
                        )),
                        Err(ZendeskError::Unauthorized) => checks.push(fail(
                            "credentials",
                            "Zendesk answered 401: the token was revoked, expired or deactivated",
                            "Connect the bot again; with an API token, check it is active in Admin Center.",
                        )),
                        Err(e) => checks.push(warn(
                            "credentials",
                            format!("could not be checked: {e}"),
                            "Run the diagnostics again shortly.",
                        )),
                    }
                    checks.push(match &me {
                        Err(ZendeskError::NotFound) | Err(ZendeskError::Transport(_)) | Err(ZendeskError::Timeout) => {
                            fail(
                                "subdomain",
                                format!("{} did not answer as a Zendesk account", c.subdomain),
                                "Check the subdomain (the part before .zendesk.com) and connect again.",
                            )
                        }
                        _ => pass("subdomain", format!("{} answers", c.subdomain)),
                    });
                    self.webhook_check(c, &bot, &mut checks, deadline).await;
                }
                checks.push(scopes_check(c));
                checks.push(expiry_check(c, now_s));
                checks.push(match c.mode {
                    ConnectionMode::ApiToken => warn(
                        "api_token_deprecation",
                        format!("connected with a legacy API token; Zendesk switches them all off on {API_TOKEN_END}"),
                        "Connect with OAuth (POST …/zendesk/connect) before then.",
                    ),
                    _ => pass("api_token_deprecation", "not an API token"),
                });
            }
        }
        checks.push(if settings.rules.any_enabled() {
            pass("rules", "at least one escalation rule is enabled")
        } else {
            fail("rules", "every escalation rule is off: nothing is ever escalated", "Enable a rule in the settings.")
        });
        checks.push(self.fields_check(connection.as_ref(), &settings).await);
        checks.push(match connection.as_ref().and_then(|c| c.last_webhook_at) {
            Some(at) if now_s - at <= QUIET_AFTER_S => pass("last_webhook", format!("last delivery {} s ago", now_s - at)),
            Some(at) => warn(
                "last_webhook",
                format!("no webhook delivery for {} days", (now_s - at) / 86_400),
                "If tickets changed meanwhile, check the webhook in Admin Center (Apps and integrations > Webhooks) and its activity log.",
            ),
            None => warn(
                "last_webhook",
                "no webhook delivery received yet",
                "Deliveries arrive when a ticket Handoff made changes; if one did, check HANDOFF_PUBLIC_BASE_URL is reachable from Zendesk.",
            ),
        });
        let unfinished = stores.conversations.unfinished_for_bot(bot_id, 1000).await?;
        let pending: Vec<_> = unfinished.into_iter().filter(|r| r.state == EscalationState::Pending).collect();
        let now_ms = now_s * 1000;
        let oldest = pending.iter().filter_map(|r| r.due_at_ms).map(|d| (now_ms - d).max(0) / 1000).max();
        checks.push(match (pending.len(), oldest) {
            (0, _) => pass("pending_escalations", "none"),
            (n, Some(age)) if age > STUCK_AFTER_S => fail(
                "pending_escalations",
                format!("{n} pending; the oldest overdue by {} minutes", age / 60),
                "Check the sweeper runs (its schedule and logs) and that Zendesk is reachable; the conversations' last_error says why.",
            ),
            (n, age) => warn(
                "pending_escalations",
                format!("{n} pending, overdue by at most {} s", age.unwrap_or(0)),
                "They are finished by the sweeper within minutes once Zendesk answers.",
            ),
        });
        Ok(checks)
    }

    async fn webhook_check(
        &self,
        c: &crate::store::Connection,
        bot: &BotAccount,
        checks: &mut Vec<Check>,
        deadline: Deadline,
    ) {
        let Some(id) = &c.webhook_id else {
            checks.push(fail(
                "webhook",
                "no webhook is registered: status changes and agent replies do not reach the bot",
                "Reconnect, or let the sweeper's health check register it (every 15 minutes); OAuth needs the webhooks scopes.",
            ));
            return;
        };
        // Where the webhook function reads it (one left in the credentials secret by an older
        // version does not count: the health check moves it).
        let has_secret = match self.accounts.stores.secrets.get_webhook_secret(&c.bot_id).await {
            Ok(secret) => secret.is_some_and(|s| s.webhook_signing_secret.is_some()),
            Err(e) => {
                checks.push(warn(
                    "webhook",
                    format!("could not be checked: {e}"),
                    "Run the diagnostics again shortly.",
                ));
                return;
            }
        };
        checks.push(match self.accounts.zendesk.webhook_status(&bot.account, id, deadline).await {
            Ok(Some(status)) if status == "active" && has_secret => pass("webhook", format!("webhook {id} is registered and active")),
            Ok(Some(status)) if status == "active" => fail(
                "webhook",
                format!(
                    "webhook {id} is active, but its signing secret is not in the bot's webhook secret: deliveries \
                     are answered 503 (Zendesk retries them) until it is"
                ),
                "The sweeper's health check stores it (or moves it from the credentials secret of an older \
                 version) at its next run; or reconnect.",
            ),
            Ok(Some(status)) => fail(
                "webhook",
                format!("webhook {id} is {status}"),
                "Zendesk deactivates webhooks that keep failing; the health check switches it on again within 15 minutes (check HANDOFF_PUBLIC_BASE_URL is reachable).",
            ),
            Ok(None) => fail(
                "webhook",
                format!("webhook {id} no longer exists at Zendesk"),
                "The sweeper's health check registers it again within 15 minutes; or reconnect.",
            ),
            Err(e) => warn("webhook", format!("could not be checked: {e}"), "Run the diagnostics again shortly."),
        });
    }

    async fn fields_check(
        &self,
        connection: Option<&crate::store::Connection>,
        settings: &crate::settings::BotSettings,
    ) -> Check {
        let mapped = crate::ticket_fields::mapped_fields(settings);
        if mapped.is_empty() {
            return pass("custom_fields", "no custom fields are mapped");
        }
        let Some(c) = connection else {
            return warn("custom_fields", "not checked: the bot is not connected", "Connect the bot first.");
        };
        match self.fields.field_ids(&self.accounts, c).await {
            Ok(existing) => {
                let missing = missing_fields(settings, &existing);
                if missing.is_empty() {
                    pass("custom_fields", format!("all {} mapped fields exist", mapped.len()))
                } else {
                    let names: Vec<String> = missing.iter().map(|(setting, id)| format!("{setting} = {id}")).collect();
                    fail(
                        "custom_fields",
                        format!("mapped fields missing in Zendesk: {}", names.join(", ")),
                        "Fix the field ids in the settings (Admin Center > Objects and rules > Ticket fields lists them).",
                    )
                }
            }
            Err(e) => warn("custom_fields", format!("could not be checked: {e}"), "Run the diagnostics again shortly."),
        }
    }
}

/// OAuth connections need every scope Handoff asks for; `read` is optional (the last updater).
fn scopes_check(c: &crate::store::Connection) -> Check {
    if c.mode == ConnectionMode::ApiToken {
        return pass("scopes", "API tokens act with the user's full access");
    }
    let missing: Vec<&str> =
        ZENDESK_SCOPES.split_whitespace().filter(|s| !c.scopes.iter().any(|have| have == s)).collect();
    if c.scopes.is_empty() {
        return warn(
            "scopes",
            "Zendesk did not say which scopes it granted",
            "Nothing to do unless actions fail with 403.",
        );
    }
    if !missing.is_empty() {
        return fail(
            "scopes",
            format!("missing scopes: {}", missing.join(" ")),
            "Connect again and approve every scope Handoff asks for (the OAuth client may not restrict them).",
        );
    }
    pass("scopes", format!("granted: {}", c.scopes.join(" ")))
}

/// Tokens close to their end (the refresher should renew them well before).
fn expiry_check(c: &crate::store::Connection, now_s: i64) -> Check {
    match (c.mode, c.access_token_expires_at, c.refresh_token_expires_at) {
        (ConnectionMode::ApiToken, ..) => pass("token_expiry", "API tokens do not expire"),
        (_, _, Some(refresh)) if refresh <= now_s => fail(
            "token_expiry",
            "the refresh token has expired",
            "Connect the bot again; then check the token-refresh schedule runs.",
        ),
        (_, _, Some(refresh)) if refresh - now_s < 3 * 86_400 => warn(
            "token_expiry",
            format!("the refresh token ends in {} hours", (refresh - now_s) / 3600),
            "The token-refresh function renews it; check its schedule and logs if this persists.",
        ),
        (_, Some(access), _) if access + 600 < now_s => warn(
            "token_expiry",
            format!("the access token expired {} minutes ago and was not renewed", (now_s - access) / 60),
            "Check the token-refresh schedule runs; requests renew it on demand meanwhile.",
        ),
        _ => pass("token_expiry", "tokens are current"),
    }
}
