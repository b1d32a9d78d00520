//! Zendesk back to the chat: what Handoff tells the bot when an agent replies or a ticket's
//! status changes, how it is signed, and how it is delivered (now, or later by the sweeper).

pub mod address;
pub mod delivery;
pub mod forward;
pub mod payload;

pub use delivery::{CallbackSender, DeliveryError};
pub use forward::Forwarder;
pub use payload::{CallbackBody, CallbackKind};
