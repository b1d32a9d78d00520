//! Secrets Manager adapter: two secrets per bot, the Zendesk credentials at
//! `{prefix}bots/{bot}/zendesk` and the webhook secret (signing and callback secrets) at
//! `{prefix}bots/{bot}/webhook`, apart so the public webhook function's role can be allowed the
//! second only. Each is cached in a warm Lambda for at most five minutes (a warm escalation or
//! webhook makes no Secrets Manager call) and dropped from the cache sooner when it is seen to be
//! stale: Zendesk answers 401, a webhook signature does not verify, a bot refuses a callback's
//! signature.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use super::cache::TtlCache;
use super::*;

/// How long a warm Lambda uses a secret it read without reading it again.
const SECRET_TTL: Duration = Duration::from_secs(300);
/// How long a warm Lambda remembers that a bot has no credentials secret.
const MISSING_TTL: Duration = Duration::from_secs(30);
/// Most secrets of each kind kept per process.
const SECRETS_KEPT: u64 = 10_000;

pub struct SecretsManagerStore {
    /// Built on the first call (`aws_sdk::LazyClient`): init does not pay for it.
    client: crate::aws_sdk::LazyClient<Client>,
    prefix: String,
    /// Each secret is trusted for `SECRET_TTL`: bounds how stale another Lambda's change can look.
    cache: TtlCache<String, BotSecret>,
    /// Bots found to have no credentials secret, for `MISSING_TTL`: a request for a bot that is
    /// not connected reads its secret beside its profile (issue 16), and must not cost a
    /// Secrets Manager call every time. `Accounts` reads again when a profile says connected.
    missing: TtlCache<String, ()>,
    webhook_cache: TtlCache<String, WebhookSecret>,
    oauth_client: Mutex<Option<crate::zendesk::oauth::OAuthClient>>,
    pub calls: CallCounter,
}

impl SecretsManagerStore {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self::with_client(crate::aws_sdk::LazyClient::ready(client), prefix.into())
    }

    /// A store whose client is built from `config` on its first call (a Lambda's init).
    pub fn on_first_use(config: aws_types::SdkConfig, prefix: impl Into<String>) -> Self {
        Self::with_client(crate::aws_sdk::LazyClient::on_first_use(config, Client::new), prefix.into())
    }

    fn with_client(client: crate::aws_sdk::LazyClient<Client>, prefix: String) -> Self {
        Self {
            client,
            prefix,
            cache: TtlCache::new(SECRETS_KEPT, SECRET_TTL),
            missing: TtlCache::new(SECRETS_KEPT, MISSING_TTL),
            webhook_cache: TtlCache::new(SECRETS_KEPT, SECRET_TTL),
            oauth_client: Mutex::new(None),
            calls: CallCounter::default(),
        }
    }

    /// The prefix every secret of this deployment starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The credentials secret's name for a bot.
    pub fn secret_name(&self, bot_id: &str) -> String {
        format!("{}bots/{bot_id}/zendesk", self.prefix)
    }

    /// The webhook secret's name for a bot (the only kind the webhook function may read).
    pub fn webhook_secret_name(&self, bot_id: &str) -> String {
        format!("{}bots/{bot_id}/webhook", self.prefix)
    }

    /// The app's OAuth client secret's name.
    pub fn oauth_client_name(&self) -> String {
        format!("{}app/zendesk-oauth", self.prefix)
    }

    /// Writes a secret's value, creating the secret on first use.
    async fn write(&self, name: &str, value: &str, description: &str) -> Result<(), StoreError> {
        self.calls.write();
        let put = self.client.put_secret_value().secret_id(name).secret_string(value).send().await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) => {
                self.calls.write();
                self.client
                    .create_secret()
                    .name(name)
                    .description(description)
                    .secret_string(value)
                    .send()
                    .await
                    .map_err(unavailable)?;
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// A secret's value; None when the secret does not exist.
    async fn read(&self, name: String) -> Result<Option<String>, StoreError> {
        self.calls.read();
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(output) => Ok(output.secret_string().map(str::to_owned)),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Deletes a secret at once (no recovery window: a reconnect must be able to create it
    /// again); harmless when it does not exist.
    async fn delete(&self, name: String) -> Result<(), StoreError> {
        self.calls.write();
        let result = self.client.delete_secret().secret_id(name).force_delete_without_recovery(true).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Secrets Manager's errors can quote request parameters, never secret values; the context
/// display is still trimmed to the error kind and message.
fn unavailable(e: impl std::error::Error + 'static) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(&e).to_string())
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    // serde_json's messages can quote the value they choke on: report only the kind and place.
    serde_json::from_str(json).map_err(|e| {
        StoreError::Corrupt(format!(
            "bot secret is not of the expected shape ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

fn encode<T: Serialize>(secret: &T) -> Result<String, StoreError> {
    serde_json::to_string(secret).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        if let Some(secret) = self.cache.get(&bot_id.to_owned()) {
            return Ok(Some(secret));
        }
        if self.missing.get(&bot_id.to_owned()).is_some() {
            return Ok(None);
        }
        let Some(json) = self.read(self.secret_name(bot_id)).await? else {
            self.missing.insert(bot_id.to_owned(), ());
            return Ok(None);
        };
        let secret: BotSecret = decode(&json)?;
        self.cache.insert(bot_id.to_owned(), secret.clone());
        Ok(Some(secret))
    }

    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError> {
        let value = encode(secret)?;
        self.write(&self.secret_name(bot_id), &value, "Handoff: Zendesk credentials for one bot").await?;
        self.missing.remove(&bot_id.to_owned());
        self.cache.insert(bot_id.to_owned(), secret.clone());
        Ok(())
    }

    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError> {
        self.invalidate(bot_id);
        self.delete(self.webhook_secret_name(bot_id)).await?;
        self.delete(self.secret_name(bot_id)).await
    }

    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
        if let Some(secret) = self.webhook_cache.get(&bot_id.to_owned()) {
            return Ok(Some(secret));
        }
        let Some(json) = self.read(self.webhook_secret_name(bot_id)).await? else { return Ok(None) };
        let secret: WebhookSecret = decode(&json)?;
        self.webhook_cache.insert(bot_id.to_owned(), secret.clone());
        Ok(Some(secret))
    }

    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError> {
        let value = encode(secret)?;
        let description = "Handoff: one bot's webhook signing and callback secrets";
        self.write(&self.webhook_secret_name(bot_id), &value, description).await?;
        self.webhook_cache.insert(bot_id.to_owned(), secret.clone());
        Ok(())
    }

    fn invalidate(&self, bot_id: &str) {
        self.cache.remove(&bot_id.to_owned());
        self.missing.remove(&bot_id.to_owned());
        self.webhook_cache.remove(&bot_id.to_owned());
    }

    fn invalidate_oauth_client(&self) {
        *self.oauth_client.lock().expect("secret cache") = None;
    }

    async fn get_oauth_client(&self) -> Result<Option<crate::zendesk::oauth::OAuthClient>, StoreError> {
        if let Some(client) = self.oauth_client.lock().expect("secret cache").clone() {
            return Ok(Some(client));
        }
        self.calls.read();
        let result = self.client.get_secret_value().secret_id(self.oauth_client_name()).send().await;
        let json = match result {
            Ok(output) => output.secret_string().map(str::to_owned),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) => None,
            Err(e) => return Err(unavailable(e)),
        };
        let Some(json) = json else { return Ok(None) };
        let stored: StoredOAuthClient = serde_json::from_str(&json).map_err(|e| {
            StoreError::Corrupt(format!(
                "the app's OAuth client secret is not of the expected shape ({:?})",
                e.classify()
            ))
        })?;
        let client =
            crate::zendesk::oauth::OAuthClient { client_id: stored.client_id, client_secret: stored.client_secret };
        *self.oauth_client.lock().expect("secret cache") = Some(client.clone());
        Ok(Some(client))
    }

    async fn put_oauth_client(&self, client: &crate::zendesk::oauth::OAuthClient) -> Result<(), StoreError> {
        let stored =
            StoredOAuthClient { client_id: client.client_id.clone(), client_secret: client.client_secret.clone() };
        let value = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write(&self.oauth_client_name(), &value, "Handoff: the app's Zendesk OAuth client").await?;
        *self.oauth_client.lock().expect("secret cache") = Some(client.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_secret_is_reported_without_its_value() {
        for stored in [
            r#""zd-secret-value-123""#,
            r#"{"credentials": {"kind": "api_token", "email": 5, "api_token": "zd-secret-value-123"}}"#,
        ] {
            let error = decode::<BotSecret>(stored).unwrap_err().to_string();
            assert!(!error.contains("zd-secret-value-123"), "{error}");
            assert!(error.contains("line 1"), "{error}");
        }
    }
}
