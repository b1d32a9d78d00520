//! The one bounded cache type of a warm Lambda (`TtlCache`, over `mini_moka`), and what is built
//! on it here: bots' profiles (connection + settings) for the webhook path, which would
//! otherwise read them on every event, and the once-per-interval gate (`Recheck`).
//!
//! Profiles: Entries live `ttl` (30 s by default): a
//! settings change reaches every warm Lambda within that time, and at once in the process that
//! saved it (it invalidates its own entry). An unknown bot's empty profile is kept too, so junk
//! deliveries for a bot id that does not exist are answered from memory; the cache is bounded
//! (`mini_moka`), so a flood of random ids cannot grow it without limit.

use std::hash::Hash;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{BotProfile, BotStore, StoreError};

/// Most profiles kept per process.
const PROFILES: u64 = 10_000;

/// A bounded map whose entries expire `ttl` after they were written: at most `capacity` entries
/// (the least useful go first), so no stream of distinct keys grows a warm Lambda's memory.
/// The cache itself is built on the first insert: a function builds several and most
/// invocations use one or two, so init does not pay for the rest.
pub struct TtlCache<K, V> {
    entries: OnceLock<mini_moka::sync::Cache<K, V>>,
    capacity: u64,
    ttl: Duration,
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self { entries: OnceLock::new(), capacity, ttl }
    }

    /// The value, unless absent or expired.
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries.get()?.get(key)
    }

    /// Stores `value`; its time to live starts now.
    pub fn insert(&self, key: K, value: V) {
        let entries = self.entries.get_or_init(|| {
            mini_moka::sync::Cache::builder().max_capacity(self.capacity).time_to_live(self.ttl).build()
        });
        entries.insert(key, value);
    }

    pub fn remove(&self, key: &K) {
        if let Some(entries) = self.entries.get() {
            entries.invalidate(key);
        }
    }
}

pub struct ProfileCache {
    entries: TtlCache<String, Arc<BotProfile>>,
}

impl ProfileCache {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

    pub fn new(ttl: Duration) -> Self {
        Self { entries: TtlCache::new(PROFILES, ttl) }
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
        self.entries.remove(&bot_id.to_owned());
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
    /// Keys allowed within the last `every`.
    last: TtlCache<String, ()>,
}

impl Recheck {
    pub fn new(every: Duration) -> Self {
        Self { last: TtlCache::new(10_000, every) }
    }

    /// True (and remembered) when `key` was not allowed within the last `every`. Two callers at
    /// the same instant may both be allowed: the gate bounds a rate, it is not a lock.
    pub fn allow(&self, key: &str) -> bool {
        let key = key.to_owned();
        if self.last.get(&key).is_some() {
            return false;
        }
        self.last.insert(key, ());
        true
    }
}

impl Default for Recheck {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}
