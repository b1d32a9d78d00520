//! Secrets in memory, with an optional journal (the local runner's 0600 file).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::*;

/// Everything `MemorySecrets` holds, as one value.
pub struct SecretsSnapshot {
    pub bots: HashMap<String, BotSecret>,
    pub webhooks: HashMap<String, WebhookSecret>,
    pub oauth_client: Option<crate::zendesk::oauth::OAuthClient>,
}

/// What `MemorySecrets::change` may change.
struct SecretsSnapshotMut<'a> {
    bots: &'a mut HashMap<String, BotSecret>,
    webhooks: &'a mut HashMap<String, WebhookSecret>,
    oauth_client: &'a mut Option<crate::zendesk::oauth::OAuthClient>,
}

/// Told of every change to the secrets held, with all of them, one change at a time (the local
/// runner's 0600 file is one).
pub trait SecretsJournal: Send + Sync {
    fn secrets_changed(&self, all: &SecretsSnapshot) -> Result<(), StoreError>;
}

/// Secrets held in memory (tests, and the local runner writes them through to a file).
#[derive(Default)]
pub struct MemorySecrets {
    secrets: Mutex<HashMap<String, BotSecret>>,
    webhook_secrets: Mutex<HashMap<String, WebhookSecret>>,
    oauth_client: Mutex<Option<crate::zendesk::oauth::OAuthClient>>,
    journal: Option<Box<dyn SecretsJournal>>,
    pub calls: CallCounter,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Secrets that tell `journal` of every change (what `restore*` loads is not told).
    pub fn with_journal(journal: Box<dyn SecretsJournal>) -> Self {
        Self { journal: Some(journal), ..Self::default() }
    }

    /// Changes what is held under all three locks (always taken in this order), then tells the
    /// journal while still holding them, so the journal's last word is the newest state.
    fn change(&self, change: impl FnOnce(&mut SecretsSnapshotMut<'_>)) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.secrets.lock().expect("secret lock");
        let mut webhooks = self.webhook_secrets.lock().expect("secret lock");
        let mut oauth_client = self.oauth_client.lock().expect("secret lock");
        change(&mut SecretsSnapshotMut { bots: &mut bots, webhooks: &mut webhooks, oauth_client: &mut oauth_client });
        match &self.journal {
            Some(journal) => journal.secrets_changed(&SecretsSnapshot {
                bots: bots.clone(),
                webhooks: webhooks.clone(),
                oauth_client: oauth_client.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Replaces everything held with `secrets` (loaded from the local runner's file).
    pub fn restore(&self, secrets: HashMap<String, BotSecret>) {
        *self.secrets.lock().expect("secret lock") = secrets;
    }

    /// Replaces every webhook secret held (loaded from the local runner's file).
    pub fn restore_webhook_secrets(&self, secrets: HashMap<String, WebhookSecret>) {
        *self.webhook_secrets.lock().expect("secret lock") = secrets;
    }

    pub fn restore_oauth_client(&self, client: crate::zendesk::oauth::OAuthClient) {
        *self.oauth_client.lock().expect("secret lock") = Some(client);
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        self.calls.read();
        Ok(self.secrets.lock().expect("secret lock").get(bot_id).cloned())
    }

    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError> {
        self.change(|all| {
            all.bots.insert(bot_id.to_owned(), secret.clone());
        })
    }

    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError> {
        self.change(|all| {
            all.webhooks.remove(bot_id);
            all.bots.remove(bot_id);
        })
    }

    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
        self.calls.read();
        Ok(self.webhook_secrets.lock().expect("secret lock").get(bot_id).cloned())
    }

    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError> {
        self.change(|all| {
            all.webhooks.insert(bot_id.to_owned(), secret.clone());
        })
    }

    fn invalidate(&self, _bot_id: &str) {}

    async fn get_oauth_client(&self) -> Result<Option<crate::zendesk::oauth::OAuthClient>, StoreError> {
        self.calls.read();
        Ok(self.oauth_client.lock().expect("secret lock").clone())
    }

    async fn put_oauth_client(&self, client: &crate::zendesk::oauth::OAuthClient) -> Result<(), StoreError> {
        self.change(|all| *all.oauth_client = Some(client.clone()))
    }
}
