//! Storage: the ports (traits) and their records come from `handoff-core` (re-exported here, so
//! `handoff::store::BotStore` and friends keep their paths); the adapters live here: DynamoDB and
//! Secrets Manager (`dynamodb`, `secrets_manager`), in-process ones (`memory`), and the one bounded TTL
//! cache type with the webhook path's profile cache on it (`cache`). The same conformance suite (tests/e2e) runs against all of
//! them, so the in-process adapters are honest stand-ins.

pub mod cache;
pub mod dynamo_update;
pub mod dynamodb;
pub mod memory;
pub mod secrets_manager;

pub use handoff_core::store::*;

// Names the adapters take from here with `use super::*`.
use crate::settings::BotSettings;
use crate::zendesk::types::TicketStatus;
use serde::Serialize;
