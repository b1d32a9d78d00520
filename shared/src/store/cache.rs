//! A short per-process cache of bots' profiles (connection + settings) for the webhook path,
//! which would otherwise read them on every event. Entries live `ttl` (30 s by default): a
//! settings change reaches every warm Lambda within that time, and at once in the process that
//! saved it (it invalidates its own entry).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BotProfile, BotStore, StoreError};

pub struct ProfileCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<BotProfile>)>>,
}

impl ProfileCache {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The bot's profile, read from the store when not cached or older than the ttl.
    pub async fn get(&self, bots: &dyn BotStore, bot_id: &str) -> Result<Arc<BotProfile>, StoreError> {
        if let Some((at, profile)) = self.entries.lock().expect("profile cache").get(bot_id)
            && at.elapsed() < self.ttl
        {
            return Ok(profile.clone());
        }
        let profile = Arc::new(bots.load_profile(bot_id).await?);
        self.entries.lock().expect("profile cache").insert(bot_id.to_owned(), (Instant::now(), profile.clone()));
        Ok(profile)
    }

    pub fn invalidate(&self, bot_id: &str) {
        self.entries.lock().expect("profile cache").remove(bot_id);
    }
}

impl Default for ProfileCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_TTL)
    }
}
