//! Embedded, persistent storage for the local runner: the in-process adapters (so the claim and
//! condition rules are exactly those the tests check against DynamoDB), with a save-on-change
//! journal that writes each change through to a `redb` database, loaded back at start. Secrets
//! go to a separate JSON file readable by the owner only (0600), rewritten whole on each change.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use handoff::store::memory::{Journal, MemorySecrets, MemoryStore, SecretsJournal, SecretsSnapshot};
use handoff::store::*;
use handoff::zendesk::oauth::OAuthClient;
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

fn conversation_key(bot_id: &str, conversation_id: &str) -> String {
    // Ids cannot contain NUL (see `http::valid_id`), so it separates them unambiguously.
    format!("{bot_id}\u{0}{conversation_id}")
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("local database: {e}"))
}

/// Bots, conversations and the audit trail, each change written to `redb` as it is made. OAuth
/// states, seen webhook events, callbacks and webhook checks stay in memory only (see README
/// "Run it locally").
struct RedbJournal {
    db: Database,
}

impl RedbJournal {
    fn write(&self, table: TableDefinition<&str, &[u8]>, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(table).map_err(unavailable)?.insert(key, value).map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }
}

impl Journal for RedbJournal {
    fn bot_changed(&self, bot_id: &str, profile: &BotProfile) -> Result<(), StoreError> {
        self.write(BOTS, bot_id, &serde_json::to_vec(profile).map_err(unavailable)?)
    }

    fn conversation_changed(&self, record: &ConversationRecord) -> Result<(), StoreError> {
        let key = conversation_key(&record.bot_id, &record.conversation_id);
        self.write(CONVERSATIONS, &key, &serde_json::to_vec(record).map_err(unavailable)?)
    }

    fn audit_appended(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut suffix = [0u8; 4];
        let _ = getrandom::fill(&mut suffix);
        let key = format!("{}\u{0}{}\u{0}{:08x}", entry.bot_id, entry.at, u32::from_le_bytes(suffix));
        self.write(AUDIT, &key, &serde_json::to_vec(entry).map_err(unavailable)?)
    }

    fn conversation_removed(&self, bot_id: &str, conversation_id: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(CONVERSATIONS)
            .map_err(unavailable)?
            .remove(conversation_key(bot_id, conversation_id).as_str())
            .map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }

    fn audit_rewritten(&self, bot_id: &str, entries: &[AuditEntry]) -> Result<(), StoreError> {
        // The bot's rows go and its entries come back under new keys, in one transaction.
        let prefix = format!("{bot_id}\u{0}");
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let mut table = txn.open_table(AUDIT).map_err(unavailable)?;
            table.retain(|key, _| !key.starts_with(&prefix)).map_err(unavailable)?;
            for (n, entry) in entries.iter().enumerate() {
                let key = format!("{bot_id}\u{0}{}\u{0}{n:08x}", entry.at);
                table
                    .insert(key.as_str(), serde_json::to_vec(entry).map_err(unavailable)?.as_slice())
                    .map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)
    }
}

/// Opens (or creates) the database at `path`, loads everything into a memory store and journals
/// every later change back to it.
pub fn open_store(path: &Path) -> Result<MemoryStore, PersistError> {
    let open_error = |e: &dyn std::fmt::Display| PersistError::Open { path: path.to_owned(), reason: e.to_string() };
    let corrupt = |e: &dyn std::fmt::Display| PersistError::Corrupt { path: path.to_owned(), reason: e.to_string() };
    let db = Database::create(path).map_err(|e| open_error(&e))?;
    {
        let setup = db.begin_write().map_err(|e| open_error(&e))?;
        for table in [BOTS, CONVERSATIONS, AUDIT] {
            setup.open_table(table).map_err(|e| open_error(&e))?;
        }
        setup.commit().map_err(|e| open_error(&e))?;
    }
    let mut rows: HashMap<&str, Vec<(String, Vec<u8>)>> = HashMap::new();
    {
        let read = db.begin_read().map_err(|e| open_error(&e))?;
        for (name, table) in [("bots", BOTS), ("conversations", CONVERSATIONS), ("audit", AUDIT)] {
            for row in read.open_table(table).map_err(|e| open_error(&e))?.iter().map_err(|e| open_error(&e))? {
                let (key, value) = row.map_err(|e| open_error(&e))?;
                rows.entry(name).or_default().push((key.value().to_owned(), value.value().to_vec()));
            }
        }
    }
    let memory = MemoryStore::with_journal(Box::new(RedbJournal { db }));
    for (key, value) in rows.remove("bots").unwrap_or_default() {
        let profile: BotProfile = serde_json::from_slice(&value).map_err(|e| corrupt(&e))?;
        memory.restore_bot(&key, profile);
    }
    for (_, value) in rows.remove("conversations").unwrap_or_default() {
        memory.restore_conversation(serde_json::from_slice(&value).map_err(|e| corrupt(&e))?);
    }
    for (_, value) in rows.remove("audit").unwrap_or_default() {
        memory.restore_audit(serde_json::from_slice(&value).map_err(|e| corrupt(&e))?);
    }
    Ok(memory)
}

/// The secrets file: each bot's credentials and webhook secret, and the app's OAuth client.
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

/// Writes every change of the secrets to the 0600 file, whole (via a temporary file and a
/// rename, so a crash never leaves half a file).
struct FileJournal {
    path: PathBuf,
}

impl SecretsJournal for FileJournal {
    fn secrets_changed(&self, all: &SecretsSnapshot) -> Result<(), StoreError> {
        use secrecy::ExposeSecret;
        let file = SecretsFile {
            bots: all.bots.clone(),
            webhooks: all.webhooks.clone(),
            oauth_client: all.oauth_client.as_ref().map(|c| StoredClient {
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.expose_secret().to_owned(),
            }),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(unavailable)?;
        write_private(&self.path, &json).map_err(unavailable)
    }
}

/// Opens the secrets file at `path` (none yet is fine), loads it, and writes every later change
/// back to it.
pub fn open_secrets(path: &Path) -> Result<MemorySecrets, PersistError> {
    let memory = MemorySecrets::with_journal(Box::new(FileJournal { path: path.to_owned() }));
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
    Ok(memory)
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
