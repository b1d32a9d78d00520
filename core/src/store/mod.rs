//! Storage ports (small traits) and their records, one module per kind of record: bots
//! (`bots`), conversations (`conversations`, with the claim rule in `claim`), OAuth states and
//! the audit trail (`audit`), secrets (`secrets`), the outbox (`outbox`), and one visitor's
//! data across them (`visitors`: export and erasure). The adapters (DynamoDB,
//! Secrets Manager, in-process) live in `handoff::store`; the same conformance suite (tests/e2e)
//! runs against all of them.

pub mod audit;
pub mod bots;
pub mod claim;
pub mod conversations;
pub mod error;
pub mod outbox;
pub mod secrets;
pub mod visitors;

pub use audit::*;
pub use bots::*;
pub use claim::next_claim;
pub use conversations::*;
pub use error::{StoreError, done_unless_failed};
pub use outbox::{CallbackOutbox, CallbackState, PendingCallback};
pub use secrets::*;
pub use visitors::{ERASED, Erased, VisitorData, VisitorMatcher, VisitorStore};

/// Counts of calls made to a backing service, for the per-operation budgets the tests assert.
#[derive(Debug, Default)]
pub struct CallCounter {
    pub reads: std::sync::atomic::AtomicU64,
    pub writes: std::sync::atomic::AtomicU64,
}

impl CallCounter {
    pub fn read(&self) {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn write(&self) {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    /// (reads, writes) so far.
    pub fn snapshot(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.reads.load(Relaxed), self.writes.load(Relaxed))
    }
}

/// The stores a function needs, shared behind `Arc`s.
#[derive(Clone)]
pub struct Stores {
    pub bots: std::sync::Arc<dyn BotStore>,
    pub conversations: std::sync::Arc<dyn ConversationStore>,
    pub secrets: std::sync::Arc<dyn SecretStore>,
    pub oauth_states: std::sync::Arc<dyn OAuthStateStore>,
    pub audit: std::sync::Arc<dyn AuditLog>,
    pub outbox: std::sync::Arc<dyn CallbackOutbox>,
    pub visitors: std::sync::Arc<dyn VisitorStore>,
}

impl Stores {
    /// Every table-backed port served by one adapter (DynamoDB, or the in-process store), with
    /// the secrets next to it.
    pub fn backed_by<S>(store: std::sync::Arc<S>, secrets: std::sync::Arc<dyn SecretStore>) -> Self
    where
        S: BotStore + ConversationStore + OAuthStateStore + AuditLog + CallbackOutbox + VisitorStore + 'static,
    {
        Self {
            bots: store.clone(),
            conversations: store.clone(),
            oauth_states: store.clone(),
            audit: store.clone(),
            outbox: store.clone(),
            visitors: store,
            secrets,
        }
    }
}
