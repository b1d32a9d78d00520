//! Embedded, persistent storage for the local runner: the in-process adapters (so the claim and
//! condition rules are exactly those the tests check against DynamoDB), written through to a
//! `redb` database on every change and loaded back at start. Secrets go to a separate JSON file
//! readable by the owner only (0600).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use handoff::settings::BotSettings;
use handoff::store::memory::{MemorySecrets, MemoryStore};
use handoff::store::*;
use handoff::zendesk::oauth::OAuthClient;
use handoff::zendesk::types::TicketStatus;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const BOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("bots");
const CONVERSATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("conversations");
const AUDIT: TableDefinition<&str, &[u8]> = TableDefinition::new("audit");

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot use {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path} holds data this version cannot read: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

pub struct PersistentStore {
    memory: MemoryStore,
    db: Database,
}

fn conversation_key(bot_id: &str, conversation_id: &str) -> String {
    // Ids cannot contain NUL (see `http::valid_id`), so it separates them unambiguously.
    format!("{bot_id}\u{0}{conversation_id}")
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("local database: {e}"))
}

impl PersistentStore {
    /// Opens (or creates) `path` and loads everything into memory.
    pub fn open(path: &Path) -> Result<Self, PersistError> {
        let open_error =
            |e: &dyn std::fmt::Display| PersistError::Open { path: path.to_owned(), reason: e.to_string() };
        let db = Database::create(path).map_err(|e| open_error(&e))?;
        let memory = MemoryStore::new();
        {
            let setup = db.begin_write().map_err(|e| open_error(&e))?;
            setup.open_table(BOTS).map_err(|e| open_error(&e))?;
            setup.open_table(CONVERSATIONS).map_err(|e| open_error(&e))?;
            setup.open_table(AUDIT).map_err(|e| open_error(&e))?;
            setup.commit().map_err(|e| open_error(&e))?;
        }
        let read = db.begin_read().map_err(|e| open_error(&e))?;
        let corrupt =
            |e: &dyn std::fmt::Display| PersistError::Corrupt { path: path.to_owned(), reason: e.to_string() };
        for row in read.open_table(BOTS).map_err(|e| open_error(&e))?.iter().map_err(|e| open_error(&e))? {
            let (key, value) = row.map_err(|e| open_error(&e))?;
            let profile: BotProfile = serde_json::from_slice(value.value()).map_err(|e| corrupt(&e))?;
            memory.restore_bot(key.value(), profile);
        }
        for row in read.open_table(CONVERSATIONS).map_err(|e| open_error(&e))?.iter().map_err(|e| open_error(&e))? {
            let (_, value) = row.map_err(|e| open_error(&e))?;
            memory.restore_conversation(serde_json::from_slice(value.value()).map_err(|e| corrupt(&e))?);
        }
        for row in read.open_table(AUDIT).map_err(|e| open_error(&e))?.iter().map_err(|e| open_error(&e))? {
            let (_, value) = row.map_err(|e| open_error(&e))?;
            memory.restore_audit(serde_json::from_slice(value.value()).map_err(|e| corrupt(&e))?);
        }
        Ok(Self { memory, db })
    }

    fn write(&self, table: TableDefinition<&str, &[u8]>, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(table).map_err(unavailable)?.insert(key, value).map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }

    fn save_bot(&self, bot_id: &str) -> Result<(), StoreError> {
        let json = serde_json::to_vec(&self.memory.profile(bot_id)).map_err(unavailable)?;
        self.write(BOTS, bot_id, &json)
    }

    fn save_conversation(&self, bot_id: &str, conversation_id: &str) -> Result<(), StoreError> {
        match self.memory.conversation(bot_id, conversation_id) {
            Some(record) => {
                let json = serde_json::to_vec(&record).map_err(unavailable)?;
                self.write(CONVERSATIONS, &conversation_key(bot_id, conversation_id), &json)
            }
            None => Ok(()),
        }
    }

    /// Persists the conversation after a change that succeeded.
    fn saved<T>(&self, bot_id: &str, conversation_id: &str, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let value = result?;
        self.save_conversation(bot_id, conversation_id)?;
        Ok(value)
    }
}

#[async_trait]
impl BotStore for PersistentStore {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError> {
        self.memory.load_profile(bot_id).await
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.memory.put_connection(connection).await?;
        self.save_bot(&connection.bot_id)
    }

    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError> {
        self.memory.put_settings(bot_id, settings).await?;
        self.save_bot(bot_id)
    }

    async fn put_settings_if(&self, bot_id: &str, settings: &BotSettings, version: u64) -> Result<(), StoreError> {
        self.memory.put_settings_if(bot_id, settings, version).await?;
        self.save_bot(bot_id)
    }

    async fn set_connection_state(&self, bot_id: &str, version: u64, state: ConnectionState) -> Result<(), StoreError> {
        self.memory.set_connection_state(bot_id, version, state).await?;
        self.save_bot(bot_id)
    }

    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError> {
        self.memory.touch_last_webhook(bot_id, at_s).await?;
        self.save_bot(bot_id)
    }

    async fn set_webhook_id(&self, bot_id: &str, version: u64, webhook_id: &str) -> Result<(), StoreError> {
        self.memory.set_webhook_id(bot_id, version, webhook_id).await?;
        self.save_bot(bot_id)
    }

    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError> {
        self.memory.mark_disconnected(bot_id, expected_version, now_ms).await?;
        self.save_bot(bot_id)
    }

    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError> {
        let taken = self.memory.acquire_refresh_lease(bot_id, holder, now_ms, until_ms).await?;
        if taken.is_some() {
            self.save_bot(bot_id)?;
        }
        Ok(taken)
    }

    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError> {
        let taken = self.memory.take_refresh_lease(bot_id, holder, expected_version, until_ms).await?;
        self.save_bot(bot_id)?;
        Ok(taken)
    }

    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError> {
        self.memory.finish_refresh(bot_id, holder, refreshed).await?;
        self.save_bot(bot_id)
    }

    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError> {
        self.memory.release_refresh_lease(bot_id, holder).await?;
        self.save_bot(bot_id)
    }

    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        self.memory.list_refresh_due(now_ms, limit).await
    }
}

#[async_trait]
impl ConversationStore for PersistentStore {
    async fn get_conversation(
        &self,
        bot_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        self.memory.get_conversation(bot_id, conversation_id).await
    }

    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StoreError> {
        let outcome = self.memory.claim(claim).await;
        self.saved(&claim.bot_id, &claim.conversation_id, outcome)
    }

    async fn record_ticket(
        &self,
        bot: &str,
        conv: &str,
        token: &str,
        ticket: &RecordedTicket,
    ) -> Result<(), StoreError> {
        let result = self.memory.record_ticket(bot, conv, token, ticket).await;
        self.saved(bot, conv, result)
    }

    async fn mark_pending(&self, bot: &str, conv: &str, token: &str, update: &PendingUpdate) -> Result<(), StoreError> {
        let result = self.memory.mark_pending(bot, conv, token, update).await;
        self.saved(bot, conv, result)
    }

    async fn mark_failed(&self, bot: &str, conv: &str, token: &str, error: &str) -> Result<(), StoreError> {
        let result = self.memory.mark_failed(bot, conv, token, error).await;
        self.saved(bot, conv, result)
    }

    async fn acquire_sync_lease(&self, bot: &str, conv: &str, lease: &SyncLease) -> Result<(), StoreError> {
        let result = self.memory.acquire_sync_lease(bot, conv, lease).await;
        self.saved(bot, conv, result)
    }

    async fn record_synced(&self, bot: &str, conv: &str, holder: &str, fingerprint: &str) -> Result<(), StoreError> {
        let result = self.memory.record_synced(bot, conv, holder, fingerprint).await;
        self.saved(bot, conv, result)
    }

    async fn release_sync_lease(&self, bot: &str, conv: &str, holder: &str) -> Result<(), StoreError> {
        let result = self.memory.release_sync_lease(bot, conv, holder).await;
        self.saved(bot, conv, result)
    }

    async fn record_status(
        &self,
        bot: &str,
        conv: &str,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<ConversationRecord, StoreError> {
        let result = self.memory.record_status(bot, conv, ticket_id, status).await;
        self.saved(bot, conv, result)
    }

    async fn list_due(&self, now_ms: i64, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.memory.list_due(now_ms, limit).await
    }

    async fn apply_ticket_status(
        &self,
        bot: &str,
        conv: &str,
        account: &str,
        ticket_id: u64,
        status: TicketStatus,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let applied = self.memory.apply_ticket_status(bot, conv, account, ticket_id, status, at_ms).await?;
        if applied {
            self.save_conversation(bot, conv)?;
        }
        Ok(applied)
    }

    async fn conversation_for_ticket(
        &self,
        bot_id: &str,
        account: &str,
        ticket_id: u64,
    ) -> Result<Option<String>, StoreError> {
        self.memory.conversation_for_ticket(bot_id, account, ticket_id).await
    }

    async fn assign_account(&self, bot_id: &str, account: &str) -> Result<usize, StoreError> {
        let stamped = self.memory.assign_account(bot_id, account).await?;
        for conversation_id in self.memory.conversation_ids(bot_id) {
            self.save_conversation(bot_id, &conversation_id)?;
        }
        Ok(stamped)
    }

    async fn pending_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.memory.pending_for_bot(bot_id, limit).await
    }

    /// Visitors' session details are kept in memory only locally (a restart forgets them; the
    /// bot records them again at the next session start).
    async fn put_visitor(&self, visitor: &VisitorRecord) -> Result<(), StoreError> {
        self.memory.put_visitor(visitor).await
    }

    async fn get_visitor(&self, bot_id: &str, conversation_id: &str) -> Result<Option<VisitorRecord>, StoreError> {
        self.memory.get_visitor(bot_id, conversation_id).await
    }
}

/// Bots' secrets (credentials and webhook secrets) and the app's OAuth client in one JSON file, mode 0600, rewritten whole (via a
/// temporary file and a rename, so a crash never leaves half a file) on every change.
pub struct FileSecrets {
    memory: MemorySecrets,
    path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SecretsFile {
    #[serde(default)]
    bots: HashMap<String, BotSecret>,
    /// Each bot's webhook secret, apart from its credentials as in Secrets Manager (a file from
    /// before the split has none: the sweeper's health check moves them out of `bots`).
    #[serde(default)]
    webhooks: HashMap<String, WebhookSecret>,
    #[serde(default)]
    oauth_client: Option<StoredClient>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredClient {
    client_id: String,
    client_secret: String,
}

impl FileSecrets {
    pub fn open(path: &Path) -> Result<Self, PersistError> {
        let memory = MemorySecrets::new();
        match std::fs::read(path) {
            Ok(bytes) => {
                let file: SecretsFile = serde_json::from_slice(&bytes).map_err(|e| PersistError::Corrupt {
                    path: path.to_owned(),
                    // Only the kind and place: serde's message could quote a secret.
                    reason: format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column()),
                })?;
                memory.restore(file.bots);
                memory.restore_webhook_secrets(file.webhooks);
                if let Some(client) = file.oauth_client {
                    let client_secret = client.client_secret.into();
                    memory.restore_oauth_client(OAuthClient { client_id: client.client_id, client_secret });
                }
                restrict(path).map_err(|e| PersistError::Open { path: path.to_owned(), reason: e.to_string() })?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PersistError::Open { path: path.to_owned(), reason: e.to_string() }),
        }
        Ok(Self { memory, path: path.to_owned() })
    }

    fn save(&self) -> Result<(), StoreError> {
        use secrecy::ExposeSecret;
        let file = SecretsFile {
            bots: self.memory.snapshot(),
            webhooks: self.memory.webhook_snapshot(),
            oauth_client: self.memory.oauth_client_snapshot().map(|c| StoredClient {
                client_id: c.client_id,
                client_secret: c.client_secret.expose_secret().to_owned(),
            }),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(unavailable)?;
        write_private(&self.path, &json).map_err(unavailable)
    }
}

/// Writes `bytes` to `path` readable and writable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    restrict(&tmp)?;
    std::fs::rename(&tmp, path)
}

fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[async_trait]
impl SecretStore for FileSecrets {
    async fn get_bot_secret(&self, bot_id: &str) -> Result<Option<BotSecret>, StoreError> {
        self.memory.get_bot_secret(bot_id).await
    }

    async fn put_bot_secret(&self, bot_id: &str, secret: &BotSecret) -> Result<(), StoreError> {
        self.memory.put_bot_secret(bot_id, secret).await?;
        self.save()
    }

    async fn delete_bot_secret(&self, bot_id: &str) -> Result<(), StoreError> {
        self.memory.delete_bot_secret(bot_id).await?;
        self.save()
    }

    async fn get_webhook_secret(&self, bot_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
        self.memory.get_webhook_secret(bot_id).await
    }

    async fn put_webhook_secret(&self, bot_id: &str, secret: &WebhookSecret) -> Result<(), StoreError> {
        self.memory.put_webhook_secret(bot_id, secret).await?;
        self.save()
    }

    fn invalidate(&self, _bot_id: &str) {}

    async fn get_oauth_client(&self) -> Result<Option<OAuthClient>, StoreError> {
        self.memory.get_oauth_client().await
    }

    async fn put_oauth_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
        self.memory.put_oauth_client(client).await?;
        self.save()
    }
}

/// OAuth states live ten minutes: kept in memory only (a restart in between means connecting again).
#[async_trait]
impl OAuthStateStore for PersistentStore {
    async fn put_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        self.memory.put_state(state).await
    }

    async fn take_state(&self, state: &str, now: i64) -> Result<Option<OAuthState>, StoreError> {
        self.memory.take_state(state, now).await
    }
}

#[async_trait]
impl AuditLog for PersistentStore {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.memory.append(entry).await?;
        let json = serde_json::to_vec(entry).map_err(unavailable)?;
        let mut suffix = [0u8; 4];
        let _ = getrandom::fill(&mut suffix);
        let key = format!("{}\u{0}{}\u{0}{:08x}", entry.bot_id, entry.at, u32::from_le_bytes(suffix));
        self.write(AUDIT, &key, &json)
    }

    async fn list(&self, bot_id: &str, limit: usize, cursor: Option<&str>) -> Result<AuditPage, StoreError> {
        self.memory.list(bot_id, limit, cursor).await
    }
}
