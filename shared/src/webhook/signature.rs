//! Zendesk webhook signatures: `x-zendesk-webhook-signature` is
//! `base64(HMAC-SHA256(key = signing secret as bytes, message = timestamp + raw body))`, with the
//! timestamp in `x-zendesk-webhook-signature-timestamp`. Verified on the raw body, in constant
//! time, and only while the timestamp is fresh (replays of old deliveries are refused).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The secret Zendesk signs test deliveries with before a webhook exists (its documentation's).
pub const TEST_SIGNING_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
/// Oldest accepted timestamp.
pub const MAX_AGE: time::Duration = time::Duration::minutes(5);
/// Furthest ahead accepted (clock skew).
pub const MAX_AHEAD: time::Duration = time::Duration::minutes(1);

/// Why a delivery is refused. The handler answers every kind with the same 401: the difference is
/// for logs and tests, never for a forger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature or timestamp header missing")]
    Missing,
    #[error("signature or timestamp malformed")]
    Malformed,
    #[error("timestamp too old")]
    Stale,
    #[error("timestamp in the future")]
    Future,
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    mac
}

/// The signature Zendesk would send (for tests and the simulator).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// Checks a delivery's signature and freshness at `now`.
pub fn verify(
    secret: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else { return Err(SignatureError::Missing) };
    let at = OffsetDateTime::parse(timestamp.trim(), &Rfc3339).map_err(|_| SignatureError::Malformed)?;
    if at < now - MAX_AGE {
        return Err(SignatureError::Stale);
    }
    if at > now + MAX_AHEAD {
        return Err(SignatureError::Future);
    }
    let given =
        base64::engine::general_purpose::STANDARD.decode(signature.trim()).map_err(|_| SignatureError::Malformed)?;
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body).verify_slice(&given).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const BODY: &[u8] = br#"{"type":"zen:event-type:ticket.status_changed","id":"01HXYZ"}"#;
    const AT: &str = "2026-11-21T10:00:00Z";
    /// Computed with Python's hmac module (an independent implementation).
    const EXPECTED: &str = "dMJs21IrUmNs8nE8PAZf6dwMRyCnkI1TolLBUYpTs/w=";

    fn now() -> OffsetDateTime {
        datetime!(2026-11-21 10:01:00 UTC)
    }

    #[test]
    fn matches_an_independent_implementation_with_zendesks_test_secret() {
        assert_eq!(sign(TEST_SIGNING_SECRET.as_bytes(), AT, BODY), EXPECTED);
        assert_eq!(verify(TEST_SIGNING_SECRET.as_bytes(), Some(EXPECTED), Some(AT), BODY, now()), Ok(()));
    }

    #[test]
    fn a_generated_secret_round_trips() {
        let secret = b"a-secret-generated-by-zendesk-for-one-webhook";
        let signature = sign(secret, AT, BODY);
        assert_eq!(verify(secret, Some(&signature), Some(AT), BODY, now()), Ok(()));
    }

    #[test]
    fn every_forgery_is_refused() {
        let secret = TEST_SIGNING_SECRET.as_bytes();
        let tampered = br#"{"type":"zen:event-type:ticket.status_changed","id":"01HXYZ "}"#;
        assert_eq!(verify(secret, Some(EXPECTED), Some(AT), tampered, now()), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"wrong", Some(EXPECTED), Some(AT), BODY, now()), Err(SignatureError::Mismatch));
        let other_time = "2026-11-21T10:00:01Z";
        assert_eq!(
            verify(secret, Some(EXPECTED), Some(other_time), BODY, now()),
            Err(SignatureError::Mismatch),
            "the timestamp is signed"
        );
        let stale = datetime!(2026-11-21 10:05:01 UTC);
        assert_eq!(verify(secret, Some(EXPECTED), Some(AT), BODY, stale), Err(SignatureError::Stale));
        let early = datetime!(2026-11-21 09:58:59 UTC);
        assert_eq!(verify(secret, Some(EXPECTED), Some(AT), BODY, early), Err(SignatureError::Future));
        assert_eq!(verify(secret, None, Some(AT), BODY, now()), Err(SignatureError::Missing));
        assert_eq!(verify(secret, Some(EXPECTED), None, BODY, now()), Err(SignatureError::Missing));
        assert_eq!(verify(secret, Some("not base64!"), Some(AT), BODY, now()), Err(SignatureError::Malformed));
        assert_eq!(verify(secret, Some(EXPECTED), Some("yesterday"), BODY, now()), Err(SignatureError::Malformed));
    }
}
