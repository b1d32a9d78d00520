//! The escalate use case and what it reads and stores.

pub mod pending;
pub mod request;
pub mod service;

pub use service::{EscalateCommand, EscalationConfig, EscalationError, Escalator, Outcome, TicketRef};
