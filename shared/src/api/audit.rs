//! `GET /v1/bots/{bot_id}/audit?limit=&cursor=`: the bot's audit trail, newest first, a page at a
//! time. The cursor is opaque to callers (base64url of the store's own position).

use base64::Engine as _;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::error::FieldError;
use crate::http::{Caller, Problem, checked_id, json_response, path_param, query_param, scopes};

pub const ROUTE: &str = "/v1/bots/{bot_id}/audit";
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    handle_checked(app, request).await.unwrap_or_else(Problem::into_response)
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let bot_id = path_param(&request, "bot_id").unwrap_or_default();
    checked_id("bot_id", &bot_id)?;
    let caller = Caller::from_request(&request)?;
    caller.authorize(&bot_id, scopes::READ_INTEGRATIONS)?;
    let mut errors = Vec::new();
    let limit = match query_param(&request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("limit", format!("must be a whole number from 1 to {MAX_LIMIT}")));
                DEFAULT_LIMIT
            }
        },
    };
    let cursor = match query_param(&request, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match decode_cursor(&raw) {
            Some(cursor) => Some(cursor),
            None => {
                errors.push(FieldError::new("cursor", "is not a cursor this API gave out"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let page = app.stores.audit.list(&bot_id, limit, cursor.as_deref()).await.map_err(Problem::storage)?;
    let next = page.cursor.as_deref().map(encode_cursor);
    Ok(json_response(StatusCode::OK, &json!({"entries": page.entries, "next_cursor": next})))
}

fn encode_cursor(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(encoded: &str) -> Option<String> {
    if encoded.len() > 400 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    // The stores' positions are audit sort keys (`AUDIT#…`): anything else would start a
    // DynamoDB query outside its key condition.
    text.starts_with("AUDIT#").then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        let raw = "AUDIT#2026-11-21T10:00:00.000000Z#0a1b2c3d";
        assert_eq!(decode_cursor(&encode_cursor(raw)).as_deref(), Some(raw));
        assert_eq!(decode_cursor(&encode_cursor("AUDIT#40")).as_deref(), Some("AUDIT#40"));
        assert_eq!(decode_cursor(&encode_cursor("40")), None);
        assert_eq!(decode_cursor(&encode_cursor("CONV#secret")), None);
        assert_eq!(decode_cursor("%%%"), None);
        assert_eq!(decode_cursor(&"A".repeat(500)), None);
    }
}
