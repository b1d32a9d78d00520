//! The settings use cases behind `GET`/`PUT …/zendesk/settings`: read a bot's effective settings
//! (and whether it has a callback secret), and save them whole: validate, check the mapped
//! custom fields against the connected Zendesk, write conditionally on the version read, audit,
//! and issue a callback secret when one is first needed or a rotation is asked for.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use tracing::info;

use crate::connection::accounts::Accounts;
use crate::connection::secret_edit::edit_webhook_secret;
use crate::error::FieldError;
use crate::rules::{RuleSettings, Trial, try_explicit_request};
use crate::settings::{self, BotSettings};
use crate::store::cache::ProfileCache;
use crate::store::{BotProfile, ConnectionState, StoreError, Stores};
use crate::ticket_fields::{self, TicketFieldCache};

/// A bot's settings as stored now.
pub struct Current {
    pub profile: BotProfile,
    /// The effective settings (the defaults when never saved); `version` is the ETag's.
    pub settings: BotSettings,
    pub callback_secret_set: bool,
    credentials_stored: bool,
}

/// What a save asks for.
pub struct SaveRequest<'r> {
    pub settings: BotSettings,
    /// Make a new callback secret (the old one stops working at once).
    pub rotate_callback_secret: bool,
    /// Who saves, for the audit trail.
    pub actor: Option<&'r str>,
}

/// What a save did.
pub struct Saved {
    pub settings: BotSettings,
    pub callback_secret_set: bool,
    /// What was saved but could not be checked.
    pub warnings: Vec<String>,
    /// The callback secret this save issued: shown once, never again.
    pub callback_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another save landed since the settings at `version` were read.
    #[error("the settings changed since version {version} was read")]
    Stale { version: u64 },
    #[error("the settings are not valid")]
    Invalid(Vec<FieldError>),
    /// The mapped custom fields could not be checked against Zendesk: nothing was saved.
    #[error("the custom field ids could not be checked against Zendesk ({0})")]
    FieldsUnchecked(String),
    /// A callback secret belongs to a connection.
    #[error("the bot is not connected")]
    NotConnected,
    /// The settings were saved at `version`, the new callback secret was not.
    #[error("a new callback secret could not be stored ({error})")]
    SecretNotStored { version: u64, error: String },
    #[error("could not make a random value: {0}")]
    Random(String),
}

pub struct SettingsService<'a> {
    pub stores: &'a Stores,
    pub accounts: Accounts<'a>,
    pub ticket_fields: &'a TicketFieldCache,
    pub profiles: &'a ProfileCache,
    /// Callback URLs may be plain HTTP to localhost (the local runner only).
    pub allow_loopback_http_callbacks: bool,
}

impl SettingsService<'_> {
    /// The bot's settings and whether it has a callback secret, as stored now.
    pub async fn current(&self, bot_id: &str) -> Result<Current, SettingsError> {
        let profile = self.stores.bots.load_profile(bot_id).await?;
        let settings = profile.settings.clone().unwrap_or_default();
        // What is stored now, not a copy this Lambda cached before another one set the secret.
        self.stores.secrets.invalidate(bot_id);
        let webhook = self.stores.secrets.get_webhook_secret(bot_id).await?;
        let credentials = self.stores.secrets.get_bot_secret(bot_id).await?;
        // Counted too: one set before the webhook secret existed, not moved out of the credentials yet.
        let callback_secret_set = webhook.is_some_and(|s| s.callback_secret.is_some())
            || credentials.as_ref().is_some_and(|s| s.legacy_callback_secret.is_some());
        Ok(Current { profile, settings, callback_secret_set, credentials_stored: credentials.is_some() })
    }

    /// What the explicit-request rule makes of `message` under `form` (rules a settings screen
    /// holds, checked as a save checks them but for "at least one rule on") or the saved rules.
    /// Reads at most the profile; writes and audits nothing.
    pub async fn try_message(
        &self,
        bot_id: &str,
        message: &str,
        form: Option<RuleSettings>,
    ) -> Result<Trial, SettingsError> {
        let rules = match form {
            Some(rules) => {
                let form = BotSettings { rules, ..BotSettings::default() };
                let errors: Vec<FieldError> =
                    settings::validate(&form, true).into_iter().filter(|e| e.field.starts_with("rules.")).collect();
                if !errors.is_empty() {
                    return Err(SettingsError::Invalid(errors));
                }
                form.rules
            }
            None => self.stores.bots.load_profile(bot_id).await?.settings.unwrap_or_default().rules,
        };
        Ok(try_explicit_request(&rules, message))
    }

    /// Saves `request.settings` over `current` (conditional on its version).
    pub async fn save(&self, bot_id: &str, current: Current, request: SaveRequest<'_>) -> Result<Saved, SettingsError> {
        let mut new = request.settings;
        let mut errors = settings::validate(&new, self.allow_loopback_http_callbacks);
        let warnings = self.check_fields(&current.profile, &new, &mut errors).await?;
        if !errors.is_empty() {
            return Err(SettingsError::Invalid(errors));
        }
        let rotate = request.rotate_callback_secret;
        let wants_secret = rotate || (new.callback_url.is_some() && !current.callback_secret_set);
        let connected = current.profile.connection.as_ref().is_some_and(|c| c.state == ConnectionState::Connected);
        if wants_secret && (!current.credentials_stored || !connected) {
            return Err(SettingsError::NotConnected);
        }
        new.version = current.settings.version + 1;
        match self.stores.bots.put_settings_if(bot_id, &new, current.settings.version).await {
            Ok(()) => {}
            // Another save landed between the read and this write.
            Err(StoreError::Conflict) => return Err(SettingsError::Stale { version: current.settings.version }),
            Err(e) => return Err(e.into()),
        }
        self.profiles.invalidate(bot_id);
        let changed = changed_fields(&current.settings, &new);
        let audit = self.stores.audit.as_ref();
        let fields = [("fields", changed.as_str())];
        crate::audit::record(audit, bot_id, "settings_changed", "ok", request.actor, &fields).await;
        let issued = if wants_secret { self.issue_callback_secret(bot_id, rotate, new.version).await? } else { None };
        if issued.is_some() {
            crate::audit::record(audit, bot_id, "callback_secret_rotated", "ok", request.actor, &[]).await;
        }
        info!(bot_id = %bot_id, version = new.version, fields = %changed, "settings saved");
        let callback_secret_set = current.callback_secret_set || issued.is_some();
        Ok(Saved { settings: new, callback_secret_set, warnings, callback_secret: issued })
    }

    /// Mapped custom fields the connected account lacks become errors; without a connection they
    /// cannot be checked, which is a warning.
    async fn check_fields(
        &self,
        profile: &BotProfile,
        new: &BotSettings,
        errors: &mut Vec<FieldError>,
    ) -> Result<Vec<String>, SettingsError> {
        if ticket_fields::mapped_fields(new).is_empty() {
            return Ok(Vec::new());
        }
        let Some(connection) = profile.connection.as_ref().filter(|c| c.state == ConnectionState::Connected) else {
            return Ok(vec![
                "The bot is not connected, so the custom field ids were not checked against Zendesk; the \
                 diagnostics check them once it is."
                    .to_owned(),
            ]);
        };
        let needed: Vec<u64> = ticket_fields::mapped_fields(new).into_iter().map(|(_, id)| id).collect();
        let existing = self.ticket_fields.field_ids_with(&self.accounts, connection, &needed).await.map_err(|e| {
            tracing::warn!(bot_id = %connection.bot_id, error = %e, "could not read the ticket fields");
            SettingsError::FieldsUnchecked(e.to_string())
        })?;
        for (field, id) in ticket_fields::missing_fields(new, &existing) {
            errors.push(FieldError::new(field, format!("ticket field {id} does not exist in the connected Zendesk")));
        }
        Ok(Vec::new())
    }

    /// Stores a new callback secret under the lease and returns it when it is the one stored.
    /// Only a rotation replaces a secret the bot may already hold; a first secret is set only if
    /// another save did not set one meanwhile.
    async fn issue_callback_secret(
        &self,
        bot_id: &str,
        rotate: bool,
        saved_version: u64,
    ) -> Result<Option<String>, SettingsError> {
        let fresh = new_callback_secret()?;
        let holder = format!("settings-{}", fastrand::u64(..));
        let value = SecretString::from(fresh.clone());
        let edited = edit_webhook_secret(self.stores, bot_id, &holder, |stored| {
            if rotate || stored.callback_secret.is_none() {
                stored.callback_secret = Some(value);
            }
        })
        .await;
        match edited {
            Ok(stored) if stored.callback_secret.as_ref().is_some_and(|s| s.expose_secret() == fresh) => {
                Ok(Some(fresh))
            }
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::error!(bot_id = %bot_id, error = %e, "callback secret not stored");
                Err(SettingsError::SecretNotStored { version: saved_version, error: e.to_string() })
            }
        }
    }
}

/// Top-level settings whose value changed, comma-separated, for the audit trail (names only:
/// values may be long, and the audit never holds more than it needs).
fn changed_fields(old: &BotSettings, new: &BotSettings) -> String {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return String::new();
    };
    new.iter()
        .filter(|(k, v)| k.as_str() != "version" && old.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// 32 random bytes, base64url: what the bot's receiver keys its HMAC with.
fn new_callback_secret() -> Result<String, SettingsError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SettingsError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
