//! Ticket status and customer context, the pure part: the sentence in seven languages, who may
//! see which ticket, the context summary. The lookups against Zendesk live in
//! `handoff::status::service`.

pub mod context;
pub mod summary;
pub mod visibility;
