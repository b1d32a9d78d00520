//! The escalate use case and what it reads and stores.

mod follow_up;
mod resume;
mod rounds;
pub mod service;
mod settle;
mod submitter;
pub mod unfinished;

/// The request and pending payload models and the episode's keys live in `handoff-core`.
pub use handoff_core::escalation::{episode, pending, request};

pub use service::{EscalateCommand, EscalationConfig, EscalationError, Escalator, Outcome, TicketRef};
pub(crate) use service::{claim_token, ticket_at, ticket_ref};
