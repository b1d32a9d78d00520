//! Zendesk → Handoff: webhook deliveries (signature, events) and what they change.

pub mod event;
pub mod receive;
pub mod signature;
