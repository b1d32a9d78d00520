//! What can go wrong talking to Zendesk. Messages never carry credentials: they name the
//! status, Zendesk's error code and description, or the kind of transport failure.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZendeskError {
    #[error("Zendesk rejected the credentials (401)")]
    Unauthorized,
    #[error("Zendesk refused the request (403): {0}")]
    Forbidden(String),
    #[error("Zendesk found no such resource (404)")]
    NotFound,
    #[error("Zendesk rejected the request ({status} {code}): {description}")]
    Rejected { status: u16, code: String, description: String },
    #[error("an Idempotency-Key was reused with different parameters")]
    IdempotencyConflict,
    #[error("Zendesk rate limit reached (429); retry after {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },
    #[error("Zendesk is unavailable ({status})")]
    Unavailable { status: u16, retry_after: Option<Duration> },
    #[error("Zendesk did not answer before the deadline")]
    Timeout,
    #[error("could not reach Zendesk: {0}")]
    Transport(String),
    /// Zendesk's API and token endpoint do not redirect; a redirect (a misconfigured base URL,
    /// a proxy, a hijacked DNS name) is refused rather than followed with the credentials.
    #[error("Zendesk answered a redirect ({status}), which is not followed")]
    Redirected { status: u16 },
    #[error("unexpected answer from Zendesk: {0}")]
    Unexpected(String),
    /// The OAuth token endpoint refused the grant (`invalid_grant`: a code or refresh token that
    /// is used, expired or revoked; `invalid_client`: wrong client id or secret).
    #[error("Zendesk refused the OAuth grant ({error}): {description}")]
    OAuth { error: String, description: String },
}

impl ZendeskError {
    /// True when Zendesk may have carried out the request even though no answer arrived
    /// (timeouts, dropped connections, 5xx): the caller must look before trying again.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Timeout | Self::Transport(_) | Self::Unavailable { .. } | Self::Unexpected(_))
    }

    /// True when Zendesk may have done (or may still be doing) the work although the answer says
    /// nothing of it: no answer arrived (timeout, reset), the answer was unreadable, or Zendesk's
    /// gateway answered 502, 503 or 504, which it also does when the backend finished the request
    /// or is still finishing it. A create that ended so is never sent again blindly: the next
    /// attempt looks for what it made first. A 500 is the application's own finished answer.
    pub fn maybe_done(&self) -> bool {
        match self {
            Self::Timeout | Self::Transport(_) | Self::Unexpected(_) => true,
            Self::Unavailable { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// True when trying again later can succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        self.is_ambiguous() || matches!(self, Self::RateLimited { .. })
    }

    /// How long Zendesk asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_errors_may_have_done_the_work_and_a_500_did_not() {
        for status in [502, 503, 504] {
            assert!(ZendeskError::Unavailable { status, retry_after: None }.maybe_done(), "{status}");
        }
        assert!(!ZendeskError::Unavailable { status: 500, retry_after: None }.maybe_done());
        assert!(ZendeskError::Timeout.maybe_done());
        assert!(!ZendeskError::RateLimited { retry_after: None }.maybe_done());
    }
}
