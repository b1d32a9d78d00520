//! What a claimed escalation stores so that anyone (a repeated request, the sweeper) can finish
//! it later: the request and the rule that fired, deflate-compressed and base64-encoded so a
//! long conversation fits in one DynamoDB item.

use std::io::{Read, Write};

use base64::Engine as _;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};

use super::request::EscalationRequest;
use crate::redaction::RedactionCounts;
use crate::rules::Firing;

/// Largest encoded payload kept on a conversation item (DynamoDB items cap at 400 KB).
pub const MAX_PAYLOAD_BYTES: usize = 300 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEscalation {
    pub request: EscalationRequest,
    pub rule: crate::rules::RuleKind,
    pub reason: String,
    #[serde(default)]
    pub escalated_by: Option<String>,
    /// How many items of each class redaction masked in `request` (the audit entry says so).
    #[serde(default, skip_serializing_if = "RedactionCounts::is_empty")]
    pub redacted: RedactionCounts,
}

impl PendingEscalation {
    pub fn new(request: &EscalationRequest, firing: &Firing) -> Self {
        Self {
            request: request.clone(),
            rule: firing.rule,
            reason: firing.reason.clone(),
            escalated_by: firing.escalated_by.clone(),
            redacted: RedactionCounts::default(),
        }
    }

    pub fn firing(&self) -> Firing {
        Firing { rule: self.rule, reason: self.reason.clone(), escalated_by: self.escalated_by.clone() }
    }

    pub fn encode(&self) -> Result<String, PayloadError> {
        let json = serde_json::to_vec(self).map_err(|e| PayloadError::Corrupt(e.to_string()))?;
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&json).map_err(|e| PayloadError::Corrupt(e.to_string()))?;
        let compressed = encoder.finish().map_err(|e| PayloadError::Corrupt(e.to_string()))?;
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(compressed);
        if encoded.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge(encoded.len()));
        }
        Ok(encoded)
    }

    pub fn decode(encoded: &str) -> Result<Self, PayloadError> {
        let compressed = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|e| PayloadError::Corrupt(e.to_string()))?;
        let mut json = Vec::new();
        DeflateDecoder::new(compressed.as_slice())
            .take(64 * 1024 * 1024)
            .read_to_end(&mut json)
            .map_err(|e| PayloadError::Corrupt(e.to_string()))?;
        serde_json::from_slice(&json).map_err(|e| PayloadError::Corrupt(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the conversation is too large to hold for a later retry ({0} bytes compressed)")]
    TooLarge(usize),
    #[error("the stored escalation could not be read: {0}")]
    Corrupt(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleKind;

    #[test]
    fn round_trips_and_compresses() {
        let request: EscalationRequest = serde_json::from_value(serde_json::json!({
            "messages": (0..2000).map(|i| serde_json::json!({"role": "visitor", "text": format!("message {i} about my order")})).collect::<Vec<_>>()
        }))
        .unwrap();
        let firing = Firing { rule: RuleKind::Manual, reason: "by hand".into(), escalated_by: Some("ops".into()) };
        let pending = PendingEscalation::new(&request, &firing);
        let encoded = pending.encode().unwrap();
        assert!(encoded.len() < serde_json::to_string(&pending).unwrap().len() / 3);
        assert_eq!(PendingEscalation::decode(&encoded).unwrap(), pending);
        assert!(PendingEscalation::decode("not base64!").is_err());
    }
}
