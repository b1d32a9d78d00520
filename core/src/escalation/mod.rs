//! The escalation request the chatbot sends, and the stored "finish later" payload. The use case
//! itself (`handoff::escalation::service`) does I/O and lives in the `handoff` crate.

pub mod episode;
pub mod pending;
pub mod request;
