//! What a function needs to serve requests, built once per cold start and shared by every
//! invocation of a warm Lambda: the stores, the Zendesk client (its connection pool) and config.

use std::sync::Arc;

use url::Url;

use crate::callback::{CallbackSender, Forwarder};
use crate::connection::ConnectConfig;
use crate::escalation::EscalationConfig;
use crate::status::LookupCache;
use crate::store::Stores;
use crate::store::cache::{ProfileCache, Recheck};
use crate::store::dynamodb::DynamoStore;
use crate::store::secrets_manager::SecretsManagerStore;
use crate::zendesk::{ClientConfig, ZendeskClient};

pub struct App {
    pub stores: Stores,
    pub zendesk: ZendeskClient,
    pub escalation: EscalationConfig,
    pub connect: ConnectConfig,
    /// Bots' profiles for the webhook path (short-lived; see `store::cache`).
    pub profiles: ProfileCache,
    /// The HTTP client for callbacks to bots.
    pub callbacks: CallbackSender,
    /// Fetches the visitor's files from the platform's URLs (public addresses only).
    pub files: crate::live::files::FileFetcher,
    /// Callback URLs may use plain HTTP to localhost (the local runner only).
    pub allow_loopback_http_callbacks: bool,
    /// Recent status lookups and customer contexts (about 30 s).
    pub lookups: LookupCache,
    /// Limits forced re-reads of a bot's secret after a webhook signature fails to verify.
    pub secret_rechecks: Recheck,
    /// Limits audit entries for rejected webhook deliveries (one a minute per bot).
    pub rejection_audits: Recheck,
    /// Limits notes of the last webhook received (one a minute per bot).
    pub webhook_touches: Recheck,
    /// The connected accounts' ticket field ids (five minutes).
    pub ticket_fields: crate::ticket_fields::TicketFieldCache,
    /// How the settings console signs admins in.
    pub console: ConsoleConfig,
}

pub use crate::config::{ConfigError, ConsoleConfig};

/// The environment a function reads (see README "Configuration").
#[derive(Debug, Clone)]
pub struct Environment {
    pub table: String,
    pub secret_prefix: String,
    pub zendesk_base_url: Option<Url>,
    pub public_base_url: Url,
    pub allowed_return_urls: Vec<Url>,
    /// `HANDOFF_ESCALATION_GIVE_UP_HOURS`: how long pending escalations are tried (default 24).
    pub escalation_give_up_after: std::time::Duration,
    /// `HANDOFF_RETENTION_DAYS`: how long a conversation is kept after its last activity.
    pub retention_days: u32,
    /// `HANDOFF_CONSOLE_OIDC_ISSUER`, `HANDOFF_CONSOLE_OIDC_CLIENT_ID`, `HANDOFF_CONSOLE_OIDC_SCOPE`.
    pub console: ConsoleConfig,
}

impl Environment {
    pub fn from_env() -> Result<Self, ConfigError> {
        let table = std::env::var("HANDOFF_TABLE").map_err(|_| ConfigError::Missing("HANDOFF_TABLE"))?;
        let secret_prefix = std::env::var("HANDOFF_SECRET_PREFIX").unwrap_or_else(|_| "handoff/".to_owned());
        let zendesk_base_url = match std::env::var("HANDOFF_ZENDESK_BASE_URL") {
            Ok(raw) if !raw.is_empty() => Some(
                Url::parse(&raw)
                    .map_err(|e| ConfigError::Invalid { name: "HANDOFF_ZENDESK_BASE_URL", reason: e.to_string() })?,
            ),
            _ => None,
        };
        let public_base_url = match std::env::var("HANDOFF_PUBLIC_BASE_URL") {
            Ok(raw) if !raw.is_empty() => Url::parse(&raw)
                .map_err(|e| ConfigError::Invalid { name: "HANDOFF_PUBLIC_BASE_URL", reason: e.to_string() })?,
            _ => Url::parse("http://127.0.0.1:3000").expect("a valid default"),
        };
        let allowed_return_urls = parse_url_list(&std::env::var("HANDOFF_ALLOWED_RETURN_URLS").unwrap_or_default())?;
        let escalation_give_up_after =
            parse_hours(std::env::var("HANDOFF_ESCALATION_GIVE_UP_HOURS").ok().as_deref().unwrap_or(""))?;
        let retention_days = parse_days(std::env::var("HANDOFF_RETENTION_DAYS").ok().as_deref().unwrap_or(""))?;
        let console = console_config(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?;
        Ok(Self {
            table,
            secret_prefix,
            zendesk_base_url,
            public_base_url,
            allowed_return_urls,
            escalation_give_up_after,
            retention_days,
            console,
        })
    }
}

/// The console's sign-in: an issuer (an https URL) and a client id, both or neither.
fn console_config(var: impl Fn(&str) -> Option<String>) -> Result<ConsoleConfig, ConfigError> {
    let issuer = match var("HANDOFF_CONSOLE_OIDC_ISSUER") {
        Some(raw) => match Url::parse(&raw) {
            Ok(url) if url.scheme() == "https" => Some(url),
            _ => {
                let reason = "must be the issuer's https URL".to_owned();
                return Err(ConfigError::Invalid { name: "HANDOFF_CONSOLE_OIDC_ISSUER", reason });
            }
        },
        None => None,
    };
    let client_id = var("HANDOFF_CONSOLE_OIDC_CLIENT_ID");
    if issuer.is_some() != client_id.is_some() {
        let reason = "set both HANDOFF_CONSOLE_OIDC_ISSUER and HANDOFF_CONSOLE_OIDC_CLIENT_ID, or neither".to_owned();
        return Err(ConfigError::Invalid { name: "HANDOFF_CONSOLE_OIDC_CLIENT_ID", reason });
    }
    let oidc_scope = var("HANDOFF_CONSOLE_OIDC_SCOPE").unwrap_or_else(|| "openid".to_owned());
    let embed_origins = crate::config::parse_origins(&var("HANDOFF_EMBED_ORIGINS").unwrap_or_default())
        .map_err(|reason| ConfigError::Invalid { name: "HANDOFF_EMBED_ORIGINS", reason })?;
    Ok(ConsoleConfig { oidc_issuer: issuer, oidc_client_id: client_id, oidc_scope, embed_origins })
}

/// `HANDOFF_RETENTION_DAYS`: whole days from 1 to 3650; empty for the default, 400.
pub fn parse_days(raw: &str) -> Result<u32, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(crate::store::dynamodb::DEFAULT_RETENTION_DAYS);
    }
    match raw.parse::<u32>() {
        Ok(days) if (1..=3650).contains(&days) => Ok(days),
        _ => Err(ConfigError::Invalid {
            name: "HANDOFF_RETENTION_DAYS",
            reason: format!("`{raw}` is not a whole number of days from 1 to 3650"),
        }),
    }
}

/// `HANDOFF_ESCALATION_GIVE_UP_HOURS`: a number of hours above 0 and at most 720 (30 days);
/// empty for the default, 24.
pub fn parse_hours(raw: &str) -> Result<std::time::Duration, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(crate::escalation::EscalationConfig::default().give_up_after);
    }
    match raw.parse::<f64>() {
        Ok(hours) if hours > 0.0 && hours <= 720.0 => Ok(std::time::Duration::from_secs_f64(hours * 3600.0)),
        _ => Err(ConfigError::Invalid {
            name: "HANDOFF_ESCALATION_GIVE_UP_HOURS",
            reason: format!("`{raw}` is not a number of hours above 0 and at most 720"),
        }),
    }
}

/// A comma-separated list of URLs (`HANDOFF_ALLOWED_RETURN_URLS`).
pub fn parse_url_list(raw: &str) -> Result<Vec<Url>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Url::parse(s).map_err(|e| ConfigError::Invalid {
                name: "HANDOFF_ALLOWED_RETURN_URLS",
                reason: format!("`{s}`: {e}"),
            })
        })
        .collect()
}

impl Environment {
    /// What the connect routes need from the environment.
    pub fn connect_config(&self) -> ConnectConfig {
        ConnectConfig {
            public_base_url: self.public_base_url.clone(),
            allowed_return_urls: self.allowed_return_urls.clone(),
            zendesk_base_url: self.zendesk_base_url.clone(),
        }
    }
}

impl App {
    /// Builds the AWS-backed app from a Lambda's environment (`crate::aws_sdk`: region,
    /// credentials and `AWS_ENDPOINT_URL` from variables, nothing read from files). Nothing here
    /// makes a connection or reads a trust store: init stays near a hello-world function's.
    pub fn from_env() -> Result<Self, ConfigError> {
        let environment = Environment::from_env()?;
        let sdk = crate::aws_sdk::from_env(|name| std::env::var(name).ok())?;
        // The SDK clients are built on their first call (`aws_sdk::LazyClient`).
        let dynamo = Arc::new(
            DynamoStore::on_first_use(sdk.clone(), environment.table.clone())
                .with_retention_days(environment.retention_days),
        );
        let secrets = Arc::new(SecretsManagerStore::on_first_use(sdk, environment.secret_prefix.clone()));
        let stores = Stores::backed_by(dynamo, secrets);
        let mut app = Self::new(stores, environment.zendesk_base_url.clone())?;
        app.connect = environment.connect_config();
        app.escalation.give_up_after = environment.escalation_give_up_after;
        app.console = environment.console.clone();
        Ok(app)
    }

    pub fn new(stores: Stores, zendesk_base_url: Option<Url>) -> Result<Self, ConfigError> {
        let zendesk = ZendeskClient::new(ClientConfig::default())
            .map_err(|e| ConfigError::Invalid { name: "zendesk client", reason: e.to_string() })?;
        let connect = ConnectConfig {
            public_base_url: Url::parse("http://127.0.0.1:3000").expect("a valid default"),
            allowed_return_urls: Vec::new(),
            zendesk_base_url: zendesk_base_url.clone(),
        };
        // Built on their first request (most invocations send no callback and fetch no file);
        // their trust roots are checked now, so a bad `HANDOFF_EXTRA_CA_FILE` fails init.
        crate::tls::client_config()
            .map_err(|e| ConfigError::Invalid { name: crate::tls::EXTRA_CA_FILE_ENV, reason: e.to_string() })?;
        let callbacks = CallbackSender::new(std::time::Duration::from_secs(2));
        let files = crate::live::files::FileFetcher::new(std::time::Duration::from_secs(2));
        Ok(Self {
            stores,
            zendesk,
            files,
            escalation: EscalationConfig { zendesk_base_url, ..EscalationConfig::default() },
            connect,
            profiles: ProfileCache::default(),
            callbacks,
            allow_loopback_http_callbacks: false,
            lookups: LookupCache::default(),
            secret_rechecks: Recheck::default(),
            ticket_fields: Default::default(),
            rejection_audits: Recheck::new(std::time::Duration::from_secs(60)),
            webhook_touches: Recheck::new(std::time::Duration::from_secs(60)),
            console: Default::default(),
        })
    }
}

impl App {
    /// The callback use case over this app's stores and clients.
    pub fn forwarder(&self) -> Forwarder<'_> {
        Forwarder { stores: &self.stores, sender: &self.callbacks, profiles: &self.profiles }
    }

    /// The webhook use case over this app's stores, caches, rate gates and callbacks.
    pub fn receiver(&self) -> crate::webhook::receive::Receiver<'_> {
        crate::webhook::receive::Receiver {
            stores: &self.stores,
            profiles: &self.profiles,
            forwarder: self.forwarder(),
            secret_rechecks: &self.secret_rechecks,
            rejection_audits: &self.rejection_audits,
            webhook_touches: &self.webhook_touches,
        }
    }

    /// The settings use cases over this app's stores and caches.
    pub fn settings(&self) -> crate::bot_settings::SettingsService<'_> {
        crate::bot_settings::SettingsService {
            stores: &self.stores,
            accounts: self.accounts(),
            ticket_fields: &self.ticket_fields,
            profiles: &self.profiles,
            allow_loopback_http_callbacks: self.allow_loopback_http_callbacks,
        }
    }

    /// The visitor-messages use case (`live::relay`).
    pub fn relay(&self) -> crate::live::relay::Relay<'_> {
        crate::live::relay::Relay {
            stores: &self.stores,
            zendesk: &self.zendesk,
            accounts: self.accounts(),
            files: &self.files,
        }
    }

    /// Where a conversation's handoff stands (`live::state`).
    pub fn handoff_state(&self) -> crate::live::state::StateReader<'_> {
        crate::live::state::StateReader {
            stores: &self.stores,
            zendesk_base_url: self.escalation.zendesk_base_url.as_ref(),
        }
    }

    /// The bots' Zendesk credentials, resolved the one way (`connection::accounts`).
    pub fn accounts(&self) -> crate::connection::accounts::Accounts<'_> {
        crate::connection::accounts::Accounts {
            stores: &self.stores,
            zendesk: &self.zendesk,
            zendesk_base_url: self.escalation.zendesk_base_url.as_ref(),
        }
    }
}

impl App {
    /// Callback URLs (and the visitor's file URLs) may be plain HTTP to localhost and reach
    /// local addresses: for the local runner and tests, never in Lambda.
    pub fn allow_local_callbacks(&mut self) {
        self.allow_loopback_http_callbacks = true;
        self.callbacks.allow_local_addresses(true);
        self.files.allow_local_addresses(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn give_up_hours_default_to_a_day_and_refuse_nonsense() {
        assert_eq!(parse_hours("").unwrap(), std::time::Duration::from_secs(24 * 3600));
        assert_eq!(parse_hours("48").unwrap(), std::time::Duration::from_secs(48 * 3600));
        assert_eq!(parse_hours("0.5").unwrap(), std::time::Duration::from_secs(1800));
        for bad in ["0", "-1", "abc", "721", "NaN"] {
            assert!(parse_hours(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retention_defaults_to_400_days_and_refuses_nonsense() {
        assert_eq!(parse_days("").unwrap(), 400);
        assert_eq!(parse_days(" 30 ").unwrap(), 30);
        assert_eq!(parse_days("3650").unwrap(), 3650);
        for bad in ["0", "-1", "1.5", "abc", "3651"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_console_sign_in_needs_an_https_issuer_with_its_client_and_origins_that_are_origins() {
        let config = |vars: &[(&str, &str)]| {
            let vars: std::collections::HashMap<String, String> =
                vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            console_config(|name| vars.get(name).cloned())
        };
        let none = config(&[]).unwrap();
        assert!(none.oidc_issuer.is_none() && none.embed_origins.is_empty());
        assert_eq!(none.oidc_scope, "openid");
        let full = config(&[
            ("HANDOFF_CONSOLE_OIDC_ISSUER", "https://login.example.com/pool"),
            ("HANDOFF_CONSOLE_OIDC_CLIENT_ID", "console"),
            ("HANDOFF_EMBED_ORIGINS", "https://app.example.com,https://admin.example.com:8443/"),
        ])
        .unwrap();
        assert_eq!(full.embed_origins, ["https://app.example.com", "https://admin.example.com:8443"]);
        for bad in [
            vec![("HANDOFF_CONSOLE_OIDC_ISSUER", "http://login.example.com"), ("HANDOFF_CONSOLE_OIDC_CLIENT_ID", "c")],
            vec![("HANDOFF_CONSOLE_OIDC_ISSUER", "https://login.example.com")],
            vec![("HANDOFF_CONSOLE_OIDC_CLIENT_ID", "c")],
            vec![("HANDOFF_EMBED_ORIGINS", "app.example.com")],
        ] {
            assert!(config(&bad).is_err(), "{bad:?}");
        }
    }
}
