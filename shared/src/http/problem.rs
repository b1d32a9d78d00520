//! RFC 9457 problem details: every error the API answers is `application/problem+json` with a
//! stable `type` per kind of error, a human `title`, and a `detail` saying what to do.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::FieldError;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    /// `kind` is the short name (`not-connected`); the `type` URI is `urn:handoff:problem:{kind}`.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:handoff:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds.max(1));
        self
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_string(&self).unwrap_or_else(|_| format!("{{\"status\":{}}}", self.status));
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", "The request body is not valid JSON", detail)
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "The request has invalid fields",
            format!("Fix these fields and send the request again: {}.", fields.join(", ")),
        )
        .with_errors(errors)
    }

    /// The token's `visitor_email` claim names another visitor than the request or its
    /// conversation: one answer on every route.
    pub fn visitor_mismatch() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "visitor-mismatch",
            "The token is for another visitor",
            "This token's visitor_email claim names another visitor than this request or its conversation; act for that visitor only.",
        )
    }

    /// The bot has no Zendesk connection: one answer on every route that needs one.
    pub fn not_connected() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "not-connected",
            "Bot not connected to Zendesk",
            "Connect this bot to a Zendesk account first (PUT or POST …/zendesk/connection).",
        )
    }

    /// Zendesk refuses the bot's stored authorization for good: one answer on every route.
    pub fn reconnect_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "reconnect-required",
            "Reconnect Zendesk",
            "Zendesk no longer accepts this bot's authorization; an admin must connect it again.",
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side", detail)
    }

    /// Storage failed: 503, logged here once (the error names no secret, only the service's).
    pub fn storage(error: crate::store::StoreError) -> Self {
        tracing::error!(error = %error, "storage failed");
        Self::unavailable("Storage is unavailable; retry the request.", 2)
    }

    /// Zendesk failed a read (`what`: "a lookup"): 503 after Zendesk's own Retry-After (or 5 s)
    /// when trying again may help, else 502 `zendesk-error` pointing at the diagnostics. Logged
    /// here once.
    pub fn zendesk_read_failed(error: &crate::zendesk::ZendeskError, what: &str, hint: &str) -> Self {
        if error.is_transient() {
            tracing::warn!(error = %error, "Zendesk failed {what}");
            let wait = error.retry_after().map(|d| d.as_secs().max(1)).unwrap_or(5);
            return Self::unavailable("Zendesk could not answer now; try again after Retry-After.", wait);
        }
        tracing::warn!(error = %error, "Zendesk refused {what}");
        let detail = format!(
            "Zendesk answered with an error that retrying will not fix{hint}; the diagnostics route can help find why."
        );
        Self::new(StatusCode::BAD_GATEWAY, "zendesk-error", "Zendesk refused the request", detail)
    }

    pub fn unavailable(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily-unavailable", "Try again shortly", detail)
            .with_retry_after(retry_after_secs)
    }
}

/// The shared body parser's refusal: 400 for what is not JSON, 422 naming each field.
impl From<crate::error::BodyError> for Problem {
    fn from(error: crate::error::BodyError) -> Self {
        match error {
            crate::error::BodyError::Malformed(place) => {
                Self::bad_request(format!("The body is not valid JSON ({place})."))
            }
            crate::error::BodyError::Invalid(errors) => Self::invalid(errors),
        }
    }
}
