//! The status function's short per-Lambda cache (about 30 s): what Zendesk said about a ticket and
//! a requester's recent tickets, so a chatty visitor does not eat the account's rate limit.

use std::time::{Duration, Instant};

use super::context::ContextTicket;
use super::summary::Updater;
use crate::store::cache::TtlCache;
use crate::zendesk::types::{Ticket, User};

/// Entries kept per cache before the least useful are dropped.
const CACHE_ENTRIES: u64 = 2_000;

/// What Zendesk said about a ticket, kept briefly.
#[derive(Debug, Clone)]
pub(super) struct TicketSnapshot {
    pub(super) ticket: Ticket,
    pub(super) users: Vec<User>,
    /// None until the newest audit was read; Some(None) when it could not tell.
    pub(super) updater: Option<Option<Updater>>,
}

impl TicketSnapshot {
    pub(super) fn user(&self, id: Option<u64>) -> Option<&User> {
        id.and_then(|id| self.users.iter().find(|u| u.id == Some(id)))
    }
}

/// Entries stamped with when they were first fetched (an entry updated in place keeps its stamp).
pub(super) type Timed<K, V> = TtlCache<K, (Instant, V)>;

/// A per-Lambda cache of recent lookups (about 30 s).
pub struct LookupCache {
    pub(super) ttl: Duration,
    /// (bot, subdomain, ticket id) → what Zendesk said (None: no such ticket).
    pub(super) tickets: Timed<(String, String, u64), Option<TicketSnapshot>>,
    /// (bot, subdomain, email) → the requester's tickets, newest first, each with whether this
    /// bot created it.
    pub(super) contexts: Timed<(String, String, String), Vec<(ContextTicket, bool)>>,
}

impl Default for LookupCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

pub(super) fn fresh<K, V>(cache: &Timed<K, V>, key: &K, ttl: Duration) -> Option<V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    cache.get(key).filter(|(at, _)| at.elapsed() < ttl).map(|(_, v)| v)
}

/// Stores a fresh answer, or updates one keeping the time it was first fetched (so an entry read
/// again and again still expires).
pub(super) fn keep<K, V>(cache: &Timed<K, V>, key: K, value: V, ttl: Duration)
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let fetched = cache.get(&key).filter(|(at, _)| at.elapsed() < ttl).map(|(at, _)| at).unwrap_or_else(Instant::now);
    cache.insert(key, (fetched, value));
}

impl LookupCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, tickets: TtlCache::new(CACHE_ENTRIES, ttl), contexts: TtlCache::new(CACHE_ENTRIES, ttl) }
    }
}
