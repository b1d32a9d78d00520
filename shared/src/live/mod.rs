//! The live conversation after the handoff: the visitor's messages relayed to the ticket
//! (`relay`). The request model and the comment's text are pure (`handoff_core::live`).

pub mod relay;

pub use handoff_core::live::*;
