//! What identifies an episode's work across retries: the `Idempotency-Key` Zendesk dedupes the
//! create by, and the fingerprint of the last message synced to the ticket. Pure, so every retry
//! and every Lambda derives the same values.

use sha2::{Digest, Sha256};

use crate::transcript::Message;

/// `Idempotency-Key` for one conversation episode: the same on every retry, different per episode.
pub fn idempotency_key(bot_id: &str, conversation_id: &str, episode: u32) -> String {
    let digest = Sha256::digest(format!("{bot_id}\u{0}{conversation_id}\u{0}{episode}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("handoff-{hex}")
}

/// Identifies a message for "what is new since the last sync".
pub fn fingerprint(message: &Message) -> String {
    let at = message.at.map(|t| t.unix_timestamp_nanos().to_string()).unwrap_or_default();
    let digest = Sha256::digest(format!("{:?}\u{0}{at}\u{0}{}", message.role, message.text).as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Messages after the last one already on the ticket; all of them when that one is not among
/// them (a windowed history): a repeated message is better than a lost one.
pub fn messages_after<'m>(messages: &'m [Message], last_synced: Option<&str>) -> &'m [Message] {
    let Some(last) = last_synced else { return messages };
    match messages.iter().rposition(|m| fingerprint(m) == last) {
        Some(idx) => &messages[idx + 1..],
        None => messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Role;

    fn msg(text: &str) -> Message {
        Message { role: Role::Visitor, text: text.into(), at: None }
    }

    #[test]
    fn idempotency_key_is_stable_per_episode() {
        assert_eq!(idempotency_key("b", "c", 1), idempotency_key("b", "c", 1));
        assert_ne!(idempotency_key("b", "c", 1), idempotency_key("b", "c", 2));
        assert_ne!(idempotency_key("b", "c", 1), idempotency_key("b2", "c", 1));
    }

    #[test]
    fn messages_after_the_last_synced_one() {
        let all = vec![msg("a"), msg("b"), msg("c")];
        assert_eq!(messages_after(&all, None).len(), 3);
        assert_eq!(messages_after(&all, Some(&fingerprint(&all[1]))), &all[2..]);
        assert!(messages_after(&all, Some(&fingerprint(&all[2]))).is_empty());
        assert_eq!(messages_after(&all, Some("unknown")).len(), 3);
    }
}
