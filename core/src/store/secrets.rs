//! What is kept in the secret store per bot (the credentials, the webhook secret) and for the
//! app (its OAuth client), with the port. Debug output never shows a secret.

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::error::StoreError;

/// What the bot's credentials secret (`{prefix}bots/{bot}/zendesk`) holds: what Zendesk
/// accepts. Only functions that call Zendesk may read it.
#[derive(Clone, Serialize, Deserialize)]
pub struct BotSecret {
    pub credentials: StoredCredentials,
    /// Written before the webhook secret existed: the signing and callback secrets sat here.
    /// Read only to move them into the [`WebhookSecret`] (`connection::secret_edit`), which
    /// empties them; whoever rewrites the credentials carries them over until then.
    #[serde(
        default,
        rename = "webhook_signing_secret",
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_opt"
    )]
    pub legacy_signing_secret: Option<SecretString>,
    #[serde(
        default,
        rename = "callback_secret",
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_opt"
    )]
    pub legacy_callback_secret: Option<SecretString>,
}

impl BotSecret {
    /// Just the credentials (nothing left to move).
    pub fn new(credentials: StoredCredentials) -> Self {
        Self { credentials, legacy_signing_secret: None, legacy_callback_secret: None }
    }

    /// True while a signing or callback secret still waits to be moved out.
    pub fn holds_legacy(&self) -> bool {
        self.legacy_signing_secret.is_some() || self.legacy_callback_secret.is_some()
    }
}

impl std::fmt::Debug for BotSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSecret").field("credentials", &self.credentials).finish_non_exhaustive()
    }
}

/// What the bot's webhook secret (`{prefix}bots/{bot}/webhook`) holds: all the public webhook
/// function may read, so a flaw there cannot reach the Zendesk credentials.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct WebhookSecret {
    /// Verifies Zendesk's deliveries (read from Zendesk when the webhook is registered).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
    pub webhook_signing_secret: Option<SecretString>,
    /// Signs callbacks to the bot (set and rotated through the settings route; kept across
    /// reconnects, forgotten on disconnect).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
    pub callback_secret: Option<SecretString>,
    /// The Zendesk account (subdomain) whose webhook the signing secret belongs to: an event that
    /// verifies with it is about that account's ticket, even in a Lambda that cached it before the
    /// bot moved to another account. None when stored by an older version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("webhook_signing_secret", &self.webhook_signing_secret.as_ref().map(|_| "[redacted]"))
            .field("callback_secret", &self.callback_secret.as_ref().map(|_| "[redacted]"))
            .field("account", &self.account)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoredCredentials {
    ApiToken {
        email: String,
        #[serde(serialize_with = "expose")]
        api_token: SecretString,
    },
    Oauth {
        #[serde(serialize_with = "expose")]
        access_token: SecretString,
        #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
        refresh_token: Option<SecretString>,
        #[serde(default)]
        access_token_expires_at: Option<i64>,
    },
    /// The client credentials grant: the bot's own confidential client, kept to grant again.
    ClientCredentials {
        client_id: String,
        #[serde(serialize_with = "expose")]
        client_secret: SecretString,
        #[serde(serialize_with = "expose")]
        access_token: SecretString,
        #[serde(default)]
        access_token_expires_at: Option<i64>,
    },
}

impl StoredCredentials {
    /// True when both hold the same kind and values (a refresher checks that no one else wrote
    /// the secret since it read it).
    pub fn same_as(&self, other: &Self) -> bool {
        use secrecy::ExposeSecret;
        let opt = |s: &Option<SecretString>| s.as_ref().map(|v| v.expose_secret().to_owned());
        match (self, other) {
            (Self::ApiToken { email: a, api_token: t }, Self::ApiToken { email: b, api_token: u }) => {
                a == b && t.expose_secret() == u.expose_secret()
            }
            (
                Self::Oauth { access_token: a, refresh_token: r, .. },
                Self::Oauth { access_token: b, refresh_token: s, .. },
            ) => a.expose_secret() == b.expose_secret() && opt(r) == opt(s),
            (
                Self::ClientCredentials { client_id: i, client_secret: c, access_token: a, .. },
                Self::ClientCredentials { client_id: j, client_secret: d, access_token: b, .. },
            ) => i == j && c.expose_secret() == d.expose_secret() && a.expose_secret() == b.expose_secret(),
            _ => false,
        }
    }

    /// What a Zendesk API request authenticates with.
    pub fn for_requests(&self) -> crate::zendesk::Credentials {
        use crate::zendesk::Credentials;
        match self {
            Self::ApiToken { email, api_token } => {
                Credentials::ApiToken { email: email.clone(), token: api_token.clone() }
            }
            Self::Oauth { access_token, .. } | Self::ClientCredentials { access_token, .. } => {
                Credentials::Bearer { access_token: access_token.clone() }
            }
        }
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiToken { email, .. } => f.debug_struct("ApiToken").field("email", email).finish_non_exhaustive(),
            Self::Oauth { access_token_expires_at, .. } => f
                .debug_struct("Oauth")
                .field("access_token_expires_at", access_token_expires_at)
                .finish_non_exhaustive(),
            Self::ClientCredentials { client_id, access_token_expires_at, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("access_token_expires_at", access_token_expires_at)
                .finish_non_exhaustive(),
        }
    }
}

pub(crate) fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    s.serialize_str(secret.expose_secret())
}

fn expose_opt<S: serde::Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    match secret {
        Some(v) => s.serialize_some(v.expose_secret()),
        None => s.serialize_none(),
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The bot's credentials secret, from the warm cache when present.
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError>;
    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError>;
    /// Deletes both of the bot's secrets (credentials and webhook); harmless when absent.
    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError>;
    /// The bot's webhook secret (signing and callback secrets), from the warm cache when present.
    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError>;
    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError>;
    /// Drops the cached copies of both of the bot's secrets so the next read goes to the service
    /// (after a 401 from Zendesk, a signature that did not verify).
    fn invalidate(&self, bot_id: &str);
    /// Drops the cached app OAuth client (after Zendesk refused it: it may have been rotated).
    fn invalidate_oauth_client(&self) {}
    /// The app's OAuth client at `{prefix}app/zendesk-oauth`.
    async fn get_oauth_client(&self) -> Result<Option<crate::zendesk::OAuthClient>, StoreError>;
    async fn put_oauth_client(&self, client: &crate::zendesk::OAuthClient) -> Result<(), StoreError>;
}

/// The app's OAuth client as stored in its secret (JSON); the secret store adapters read and
/// write it.
#[derive(Serialize, Deserialize)]
pub struct StoredOAuthClient {
    pub client_id: String,
    #[serde(serialize_with = "expose")]
    pub client_secret: SecretString,
}
