//! A short per-process cache of bots' profiles (connection + settings) for the webhook path,
//! which would otherwise read them on every event. Entries live `ttl` (30 s by default): a
//! settings change reaches every warm Lambda within that time, and at once in the process that
//! saved it (it invalidates its own entry). An unknown bot's empty profile is kept too, so junk
//! deliveries for a bot id that does not exist are answered from memory; the cache is bounded
//! (`mini_moka`), so a flood of random ids cannot grow it without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BotProfile, BotStore, StoreError};

/// Most profiles kept per process.
const PROFILES: u64 = 10_000;

pub struct ProfileCache {
    entries: mini_moka::sync::Cache<String, Arc<BotProfile>>,
}

impl ProfileCache {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

    pub fn new(ttl: Duration) -> Self {
        Self { entries: mini_moka::sync::Cache::builder().max_capacity(PROFILES).time_to_live(ttl).build() }
    }

    /// The bot's profile, read from the store when not cached or older than the ttl.
    pub async fn get(&self, bots: &dyn BotStore, bot_id: &str) -> Result<Arc<BotProfile>, StoreError> {
        if let Some(profile) = self.entries.get(&bot_id.to_owned()) {
            return Ok(profile);
        }
        let profile = Arc::new(bots.load_profile(bot_id).await?);
        self.entries.insert(bot_id.to_owned(), profile.clone());
        Ok(profile)
    }

    pub fn invalidate(&self, bot_id: &str) {
        self.entries.invalidate(&bot_id.to_owned());
    }
}

impl Default for ProfileCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_TTL)
    }
}

/// Allows an action at most once per `every` per key: a forced re-read of a bot's secret after a
/// signature fails to verify, so a forger cannot turn every forged delivery into a Secrets
/// Manager call.
pub struct Recheck {
    every: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl Recheck {
    pub fn new(every: Duration) -> Self {
        Self { every, last: Mutex::new(HashMap::new()) }
    }

    /// True (and remembered) when `key` was not allowed within the last `every`.
    pub fn allow(&self, key: &str) -> bool {
        let mut last = self.last.lock().expect("recheck");
        match last.get(key) {
            Some(at) if at.elapsed() < self.every => false,
            _ => {
                if last.len() > 10_000 {
                    last.clear();
                }
                last.insert(key.to_owned(), Instant::now());
                true
            }
        }
    }
}

impl Default for Recheck {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}
