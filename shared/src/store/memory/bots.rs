//! The bots' port in memory: connections (versioned, with the refresh lease) and settings.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::*;

#[async_trait]
impl BotStore for MemoryStore {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError> {
        self.calls.read();
        Ok(self.bots.lock().expect("store lock").get(bot_id).cloned().unwrap_or_default())
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(connection.bot_id.clone()).or_default();
        profile.connection = Some(connection.clone());
        self.journal_bot(&connection.bot_id, profile)
    }

    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(bot_id.to_owned()).or_default();
        profile.settings = Some(settings.clone());
        self.journal_bot(bot_id, profile)
    }

    async fn put_settings_if(
        &self,
        bot_id: &str,
        settings: &BotSettings,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.entry(bot_id.to_owned()).or_default();
        if profile.settings.as_ref().map_or(0, |s| s.version) != expected_version {
            return Err(StoreError::Conflict);
        }
        profile.settings = Some(settings.clone());
        self.journal_bot(bot_id, profile)
    }

    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            let leased = c.refresh_lease_until_ms.is_some_and(|t| t >= now_ms);
            if c.version != expected_version || leased {
                return Err(StoreError::Conflict);
            }
            c.state = ConnectionState::Disconnected;
            c.refresh_lease_holder = None;
            c.refresh_lease_until_ms = None;
            c.access_token_expires_at = None;
            c.refresh_token_expires_at = None;
            c.version += 1;
            Ok(())
        })
    }

    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError> {
        self.with_connection(bot_id, |c| {
            let free = c.refresh_lease_until_ms.is_none_or(|t| t < now_ms);
            if c.state != ConnectionState::Connected || !free {
                return Ok(None);
            }
            c.refresh_lease_holder = Some(holder.to_owned());
            c.refresh_lease_until_ms = Some(until_ms);
            Ok(Some(c.clone()))
        })
        .or_else(|e| if matches!(e, StoreError::Conflict) { Ok(None) } else { Err(e) })
    }

    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError> {
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.refresh_lease_holder = Some(holder.to_owned());
            c.refresh_lease_until_ms = Some(until_ms);
            c.version += 1;
            Ok(c.clone())
        })
    }

    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.refresh_lease_holder.as_deref() != Some(holder) {
                return Err(StoreError::Conflict);
            }
            c.access_token_expires_at = refreshed.access_token_expires_at;
            c.refresh_token_expires_at = refreshed.refresh_token_expires_at.or(c.refresh_token_expires_at);
            c.last_refresh_at = Some(refreshed.refreshed_at);
            c.refresh_lease_holder = None;
            c.refresh_lease_until_ms = None;
            Ok(())
        })
    }

    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.refresh_lease_holder.as_deref() == Some(holder) {
                c.refresh_lease_holder = None;
                c.refresh_lease_until_ms = None;
            }
            Ok(())
        })
        .or_else(|e| if matches!(e, StoreError::Conflict) { Ok(()) } else { Err(e) })
    }

    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        self.calls.read();
        let bots = self.bots.lock().expect("store lock");
        let mut due: Vec<Connection> = bots
            .values()
            .filter_map(|p| p.connection.clone())
            .filter(|c| c.refresh_due_at_ms().is_some_and(|d| d <= now_ms))
            .collect();
        due.sort_by_key(|c| c.refresh_due_at_ms());
        due.truncate(limit);
        Ok(due)
    }

    async fn set_connection_state(
        &self,
        bot_id: &str,
        expected_version: u64,
        state: ConnectionState,
    ) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.state = state;
            c.version += 1;
            Ok(())
        })
    }

    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError> {
        done_unless_failed(self.with_connection(bot_id, |c| {
            c.last_webhook_at = Some(at_s);
            Ok(())
        }))
    }

    async fn set_webhook_id(&self, bot_id: &str, expected_version: u64, webhook_id: &str) -> Result<(), StoreError> {
        self.with_connection(bot_id, |c| {
            if c.version != expected_version {
                return Err(StoreError::Conflict);
            }
            c.webhook_id = Some(webhook_id.to_owned());
            c.version += 1;
            Ok(())
        })
    }
}

impl MemoryStore {
    fn with_connection<T>(
        &self,
        bot_id: &str,
        change: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.calls.write();
        let mut bots = self.bots.lock().expect("store lock");
        let profile = bots.get_mut(bot_id).filter(|p| p.connection.is_some()).ok_or(StoreError::Conflict)?;
        let changed = change(profile.connection.as_mut().expect("checked above"))?;
        self.journal_bot(bot_id, profile)?;
        Ok(changed)
    }
}
