//! The connected account's ticket field ids, kept five minutes per warm Lambda: settings are
//! checked against them (a mapping onto a field that does not exist would be dropped or refused by
//! Zendesk at escalation time), and the diagnostics report mappings that went stale.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::accounts::{AccountError, Accounts, CallError};
use crate::deadline::Deadline;
use crate::settings::BotSettings;
use crate::store::Connection;
use crate::store::cache::TtlCache;
use crate::zendesk::ZendeskError;
use crate::zendesk::types::TicketField;

/// Bot → (the account's subdomain, its field ids): a bot reconnected to another account does
/// not see the old account's fields.
pub struct TicketFieldCache {
    entries: TtlCache<String, (String, Arc<Vec<u64>>)>,
}

impl Default for TicketFieldCache {
    fn default() -> Self {
        Self { entries: TtlCache::new(10_000, Duration::from_secs(300)) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FieldsError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
}

impl TicketFieldCache {
    /// The account's field ids (from the cache when fresh).
    pub async fn field_ids(
        &self,
        accounts: &Accounts<'_>,
        connection: &Connection,
    ) -> Result<Arc<Vec<u64>>, FieldsError> {
        match self.cached(connection) {
            Some(ids) => Ok(ids),
            None => self.fresh_field_ids(accounts, connection).await,
        }
    }

    /// The account's field ids, read again once when the cached list lacks one of `needed` (a
    /// field created in Zendesk a moment ago); the cached list if that read fails. At most one
    /// Zendesk call.
    pub async fn field_ids_with(
        &self,
        accounts: &Accounts<'_>,
        connection: &Connection,
        needed: &[u64],
    ) -> Result<Arc<Vec<u64>>, FieldsError> {
        match self.cached(connection) {
            Some(ids) if needed.iter().all(|id| ids.contains(id)) => Ok(ids),
            Some(ids) => Ok(self.fresh_field_ids(accounts, connection).await.unwrap_or(ids)),
            None => self.fresh_field_ids(accounts, connection).await,
        }
    }

    fn cached(&self, connection: &Connection) -> Option<Arc<Vec<u64>>> {
        self.entries.get(&connection.bot_id).filter(|(account, _)| *account == connection.subdomain).map(|(_, ids)| ids)
    }

    /// The account's field ids read now (a field just created in Zendesk is found at once).
    pub async fn fresh_field_ids(
        &self,
        accounts: &Accounts<'_>,
        connection: &Connection,
    ) -> Result<Arc<Vec<u64>>, FieldsError> {
        let fields = self.fresh_fields(accounts, connection).await?;
        Ok(Arc::new(fields.into_iter().map(|f| f.id).collect()))
    }

    /// The account's ticket fields read now, system fields included; the ids are cached.
    async fn fresh_fields(
        &self,
        accounts: &Accounts<'_>,
        connection: &Connection,
    ) -> Result<Vec<TicketField>, FieldsError> {
        let deadline = Deadline::after(Duration::from_secs(8));
        let mut bot = accounts.resolve(connection, deadline).await?;
        let zendesk = accounts.zendesk;
        let fields = accounts
            .call(&mut bot, "ticket_fields", deadline, |account| async move {
                zendesk.ticket_fields(&account, deadline).await
            })
            .await
            .map_err(|e| match e {
                CallError::Account(e) => FieldsError::Account(e),
                CallError::Zendesk(e) => FieldsError::Zendesk(e),
            })?;
        let ids = Arc::new(fields.iter().map(|f| f.id).collect::<Vec<_>>());
        self.entries.insert(connection.bot_id.clone(), (connection.subdomain.clone(), ids));
        Ok(fields)
    }

    /// The connected account's own (custom) ticket fields, for a person to map settings onto by
    /// name; read now, so a field created a moment ago is offered.
    pub async fn custom_fields(&self, accounts: &Accounts<'_>, bot_id: &str) -> Result<Vec<TicketField>, FieldsError> {
        let (connection, _) = accounts.connected(bot_id).await?;
        let mut fields = self.fresh_fields(accounts, &connection).await?;
        fields.retain(TicketField::is_custom);
        Ok(fields)
    }
}

impl TicketFieldCache {
    /// Drops a bot's cached fields (after its mapping or its account changed).
    pub fn forget(&self, bot_id: &str) {
        self.entries.remove(&bot_id.to_owned());
    }
}

/// Every custom field id the settings map onto, with the setting that names it.
pub fn mapped_fields(settings: &BotSettings) -> Vec<(String, u64)> {
    let mapping = &settings.mapping;
    let mut fields = Vec::new();
    if let Some(id) = mapping.conversation_url_field_id {
        fields.push(("mapping.conversation_url_field_id".to_owned(), id));
    }
    if let Some(id) = mapping.rating_field_id {
        fields.push(("mapping.rating_field_id".to_owned(), id));
    }
    for (key, id) in &mapping.metadata_fields {
        fields.push((format!("mapping.metadata_fields.{key}"), *id));
    }
    fields
}

/// The mapped fields the account does not have.
pub fn missing_fields(settings: &BotSettings, existing: &[u64]) -> Vec<(String, u64)> {
    mapped_fields(settings).into_iter().filter(|(_, id)| !existing.contains(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_name_their_setting() {
        let mut settings = BotSettings::default();
        settings.mapping.conversation_url_field_id = Some(11);
        settings.mapping.rating_field_id = Some(12);
        settings.mapping.metadata_fields.insert("plan".into(), 13);
        assert_eq!(
            missing_fields(&settings, &[11]),
            vec![("mapping.rating_field_id".to_owned(), 12), ("mapping.metadata_fields.plan".to_owned(), 13)]
        );
        assert!(missing_fields(&BotSettings::default(), &[]).is_empty());
    }
}
