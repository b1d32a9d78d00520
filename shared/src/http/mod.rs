//! The HTTP edge shared by every function: who is calling, problem+json errors, route
//! parameters and body checks. Handlers (in `api`) use these and the use cases; nothing here
//! knows about Zendesk or storage.

pub mod caller;
pub mod problem;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

pub use caller::{Caller, scopes};
pub use problem::Problem;

/// A path parameter, from API Gateway's `pathParameters` (the router sets them from its template).
pub fn path_param(request: &Request, name: &str) -> Option<String> {
    request.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

/// The bot in the path, for a caller whose token is for that bot and carries `scope`: the
/// check every bot route starts with (401 without a token, 403 for another bot or scope, 422 for
/// an id that cannot be one).
pub fn authorized_bot(request: &Request, scope: &str) -> Result<(String, Caller), Problem> {
    let bot_id = path_param(request, "bot_id").unwrap_or_default();
    let caller = Caller::from_request(request)?;
    checked_id("bot_id", &bot_id)?;
    caller.authorize(&bot_id, scope)?;
    Ok((bot_id, caller))
}

/// The bot and the conversation in the path, for a caller whose token is for that bot and
/// carries `scope` (as `authorized_bot`; both ids are checked before the token's rights).
pub fn authorized_conversation(request: &Request, scope: &str) -> Result<(String, String, Caller), Problem> {
    let bot_id = path_param(request, "bot_id").unwrap_or_default();
    let conversation_id = path_param(request, "conversation_id").unwrap_or_default();
    let caller = Caller::from_request(request)?;
    checked_id("bot_id", &bot_id)?;
    checked_id("conversation_id", &conversation_id)?;
    caller.authorize(&bot_id, scope)?;
    Ok((bot_id, conversation_id, caller))
}

/// Bot and conversation ids: 1–128 characters of letters, digits and `-_.:@`, safe in keys and URLs.
pub fn valid_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
}

/// A query-string parameter (its first value).
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// A 422 naming `field` unless `value` is a valid id (see `valid_id`).
pub fn checked_id(field: &str, value: &str) -> Result<(), Problem> {
    if valid_id(value) {
        return Ok(());
    }
    Err(Problem::invalid(vec![crate::error::FieldError::new(
        field,
        "must be 1-128 characters of letters, digits and -_.:@",
    )]))
}

/// The body of a JSON request: 415 unless the content type is JSON, 413 past `max_bytes`.
pub fn json_body(request: &Request, max_bytes: usize) -> Result<&[u8], Problem> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/json" && !(media.starts_with("application/") && media.ends_with("+json")) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send JSON",
            format!("The body must be application/json (got `{}`).", if media.is_empty() { "nothing" } else { &media }),
        ));
    }
    let body: &[u8] = request.body().as_ref();
    if body.len() > max_bytes {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The body is too large",
            format!("The body has {} bytes; the limit is {max_bytes}.", body.len()),
        ));
    }
    Ok(body)
}

/// Parses a JSON body into `T` through the one shared parser (`error::parse_json_object`): 400
/// when it is not JSON, 422 when it is not an object or a field is wrong (named by its path).
/// Messages never quote a value, so bodies holding credentials may use it too.
pub fn parse_json_scrubbed<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    crate::error::parse_json_object(body).map_err(Problem::from)
}

/// Reads `value` as `T` strictly: a wrong type is a 422 naming its path, and so is a field `T`
/// does not know (`unknown` says why, e.g. "is not a setting"): a typo must not be taken for
/// "the default".
pub fn parse_strict<T: serde::de::DeserializeOwned>(value: serde_json::Value, unknown: &str) -> Result<T, Problem> {
    let mut ignored = Vec::new();
    // An `Option`'s level shows as `?` in the path; a person's path has none.
    let mut note = |path: serde_ignored::Path<'_>| {
        ignored.push(path.to_string().split('.').filter(|segment| *segment != "?").collect::<Vec<_>>().join("."))
    };
    let ignoring = serde_ignored::Deserializer::new(value, &mut note);
    let parsed: T =
        serde_path_to_error::deserialize(ignoring).map_err(|e| Problem::from(crate::error::describe(&e)))?;
    if !ignored.is_empty() {
        return Err(Problem::invalid(
            ignored.into_iter().map(|path| crate::error::FieldError::new(path, unknown)).collect(),
        ));
    }
    Ok(parsed)
}

/// A JSON answer.
pub fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_restricted() {
        assert!(valid_id("conv_01H:abc@x.y-z"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("a#b"));
        assert!(!valid_id(&"a".repeat(129)));
    }
}
