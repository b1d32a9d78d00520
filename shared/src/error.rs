//! Errors shared across the domain. Each layer has its own `thiserror` type; the HTTP edge turns
//! them into problem+json (see `http::problem`).

use serde::Serialize;

/// One invalid field of a request, as reported in a 422 problem's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}
