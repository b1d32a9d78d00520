//! Sends one callback: an HTTPS POST of the JSON body, signed like Zendesk signs its webhooks
//! (`base64(HMAC-SHA256(callback secret, timestamp + body))`) so a bot verifies both the same
//! way. Redirects are not followed and the time is bounded: a slow bot never holds a webhook.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use time::format_description::well_known::Rfc3339;

use super::address::{PublicClient, is_local_host};
use crate::webhook::signature;

pub const SIGNATURE_HEADER: &str = "x-handoff-signature";
pub const TIMESTAMP_HEADER: &str = "x-handoff-signature-timestamp";
pub const DELIVERY_HEADER: &str = "x-handoff-delivery-id";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("the callback URL answered {0}")]
    Status(u16),
    #[error("the callback URL did not answer in time")]
    Timeout,
    #[error("the callback URL could not be reached: {0}")]
    Transport(String),
    #[error("the callback URL is not valid or not a public address")]
    BadUrl,
}

/// The HTTP client for callbacks, built once per cold start.
#[derive(Clone)]
pub struct CallbackSender {
    client: PublicClient,
}

impl CallbackSender {
    pub fn new(connect_timeout: Duration) -> Self {
        Self { client: PublicClient::new(connect_timeout) }
    }

    /// Lets callbacks reach local and private addresses (the local runner and tests only).
    pub fn allow_local_addresses(&self, allow: bool) {
        self.client.allow_local_addresses(allow);
    }

    /// Posts `body` to `url`, signed with `secret` at the current time; Ok on any 2xx.
    pub async fn deliver(
        &self,
        url: &str,
        secret: &SecretString,
        delivery_id: &str,
        body: &str,
        timeout: Duration,
    ) -> Result<(), DeliveryError> {
        let url = url::Url::parse(url).map_err(|_| DeliveryError::BadUrl)?;
        let local = url.host().is_none_or(|host| is_local_host(&host));
        if local && !self.client.allows_local_addresses() {
            return Err(DeliveryError::BadUrl);
        }
        let timestamp = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        let signature = signature::sign(secret.expose_secret().as_bytes(), &timestamp, body.as_bytes());
        let http = self.client.http().map_err(|e| DeliveryError::Transport(e.to_string()))?;
        let result = http
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp)
            .header(DELIVERY_HEADER, delivery_id)
            .body(body.to_owned())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(DeliveryError::Status(response.status().as_u16())),
            Err(e) if e.is_timeout() => Err(DeliveryError::Timeout),
            // Without the URL: it may carry a token the bot put in its query string.
            Err(e) => Err(DeliveryError::Transport(e.without_url().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::webhook::signature;

    /// The worked example in README "Two-way sync": a bot's verifier gets exactly this.
    #[test]
    fn the_readme_example_signature_is_what_handoff_sends() {
        let secret = "hcs_example_Yk3v9Qm2Lw8Rt5Nd1Hs7Jp4Xc6Bz0Fa";
        let timestamp = "2026-11-21T10:20:03Z";
        let body = "{\"type\":\"agent_reply\",\"delivery_id\":\"01JD4K5R2S3T4V5W6X7Y8Z9A0B\",\"bot_id\":\"demo-bot\",\"conversation_id\":\"conv-1001\",\"ticket_id\":35436,\"at\":\"2026-11-21T10:19:30.5Z\",\"status\":\"open\",\"author\":{\"name\":\"Carla Agent\"},\"text\":\"Hi Ana,\\nYour parcel left our warehouse this morning & arrives tomorrow.\"}";
        assert_eq!(
            signature::sign(secret.as_bytes(), timestamp, body.as_bytes()),
            "Q4/RlbtdTAi0IXZ9TahbAT4ZG77QcBPE1T77O8eJIvc="
        );
        let readme = include_str!("../../../README.md");
        for part in [secret, timestamp, body, "Q4/RlbtdTAi0IXZ9TahbAT4ZG77QcBPE1T77O8eJIvc="] {
            assert!(readme.contains(part), "README shows {part}");
        }
    }
}
