//! Why a storage operation failed; its own module so the ports (`store`, `store::outbox`) both
//! name it without importing each other.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage service failed or could not be reached; the operation may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored item could not be read back (a bug or a hand-edited item).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A conditional write lost: someone else changed the item first.
    #[error("the item changed underneath this write")]
    Conflict,
    /// The item is too large to store.
    #[error("the item is too large to store ({0} bytes)")]
    TooLarge(usize),
}

/// A conditional write whose condition lost because someone else already did, or undid, what it
/// was for (a lease released, a mark set): nothing is left to do, so `Conflict` is success.
pub fn done_unless_failed<T>(result: Result<T, StoreError>) -> Result<(), StoreError> {
    match result {
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e),
    }
}
