//! The escalate use case and what it reads and stores.

pub mod service;

/// The request and pending payload models live in `handoff-core`.
pub use handoff_core::escalation::{pending, request};

pub use service::{EscalateCommand, EscalationConfig, EscalationError, Escalator, Outcome, TicketRef};
