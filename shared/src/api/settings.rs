//! `GET`/`PUT /v1/bots/{bot_id}/zendesk/settings`: the bot's effective settings (defaults when
//! never saved) and saving them whole, with optimistic concurrency (`ETag` / `If-Match`) and
//! validation that names each bad field. Saving a callback URL for the first time, or asking
//! for `rotate_callback_secret`, answers the new callback secret once; it is never shown again.

use lambda_http::http::StatusCode;
use lambda_http::http::header::{ETAG, HeaderValue, IF_MATCH};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::bot_settings::{SaveRequest, SettingsError};
use crate::error::FieldError;
use crate::http::{Problem, authorized_bot, json_body, json_response, parse_json_scrubbed, parse_strict, scopes};
use crate::settings::BotSettings;

pub const ROUTE: &str = "/v1/bots/{bot_id}/zendesk/settings";
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A settings body: the settings, plus `rotate_callback_secret` (make a new callback secret; the
/// old one stops working at once). What `GET` answers may be sent back as it is.
struct SettingsBody {
    settings: BotSettings,
    rotate_callback_secret: bool,
}

/// Parses a settings body strictly: a field that is not a setting, or a value of the wrong type,
/// is a 422 naming its path (a typo must not be saved as "the default").
fn parse_settings(body: &[u8]) -> Result<SettingsBody, Problem> {
    let mut value: serde_json::Value = parse_json_scrubbed(body)?;
    let Some(object) = value.as_object_mut() else {
        return Err(Problem::invalid(vec![FieldError::new("body", "must be a JSON object of settings")]));
    };
    let rotate = match object.remove("rotate_callback_secret") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => b,
        Some(_) => {
            return Err(Problem::invalid(vec![FieldError::new("rotate_callback_secret", "must be true or false")]));
        }
    };
    // Read-only parts of GET's answer.
    object.remove("callback_secret_set");
    object.remove("version");
    object.remove("default_handoff_messages");
    let settings: BotSettings = parse_strict(value, "is not a setting")?;
    Ok(SettingsBody { settings, rotate_callback_secret: rotate })
}

#[derive(Serialize)]
struct SettingsAnswer<'a> {
    #[serde(flatten)]
    settings: &'a BotSettings,
    callback_secret_set: bool,
    /// Handoff's own message per language, used where `handoff_messages` has none.
    default_handoff_messages: std::collections::BTreeMap<&'static str, &'static str>,
    /// What was saved but could not be checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// Present only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_secret: Option<&'a str>,
}

/// `GET …/zendesk/settings`: the effective settings, with their `ETag`.
pub async fn get_route(app: &App, request: Request) -> Response<Body> {
    get(app, request).await.unwrap_or_else(Problem::into_response)
}

/// `PUT …/zendesk/settings`: save them whole, conditional on `If-Match` when sent.
pub async fn put_route(app: &App, request: Request) -> Response<Body> {
    put(app, request).await.unwrap_or_else(Problem::into_response)
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

async fn get(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(&request, scopes::READ_INTEGRATIONS)?;
    let current = app.settings().current(&bot_id).await.map_err(problem_for)?;
    let answer = SettingsAnswer {
        settings: &current.settings,
        callback_secret_set: current.callback_secret_set,
        default_handoff_messages: crate::settings::default_handoff_messages(),
        warnings: Vec::new(),
        callback_secret: None,
    };
    Ok(with_etag(json_response(StatusCode::OK, &answer), current.settings.version))
}

async fn put(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::CREATE_OAUTH)?;
    let service = app.settings();
    let current = service.current(&bot_id).await.map_err(problem_for)?;
    let if_match = match request.headers().get(IF_MATCH).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value.trim()),
        // A condition that cannot be read cannot be met: never write unconditionally instead.
        Some(Err(_)) => return Err(stale("an unreadable value")),
    };
    if let Some(expected) = if_match
        && expected != "*"
        && expected != etag(current.settings.version)
    {
        return Err(stale(expected));
    }
    let body = parse_settings(json_body(&request, MAX_BODY_BYTES)?)?;
    let save = SaveRequest {
        settings: body.settings,
        rotate_callback_secret: body.rotate_callback_secret,
        actor: caller.subject.as_deref(),
    };
    let saved = service.save(&bot_id, current, save).await.map_err(problem_for)?;
    let answer = SettingsAnswer {
        settings: &saved.settings,
        callback_secret_set: saved.callback_secret_set,
        default_handoff_messages: crate::settings::default_handoff_messages(),
        warnings: saved.warnings,
        callback_secret: saved.callback_secret.as_deref(),
    };
    Ok(with_etag(json_response(StatusCode::OK, &answer), saved.settings.version))
}

fn problem_for(error: SettingsError) -> Problem {
    match error {
        SettingsError::Store(e) => Problem::storage(e),
        SettingsError::Stale { version } => stale(&etag(version)),
        SettingsError::Invalid(errors) => Problem::invalid(errors),
        SettingsError::FieldsUnchecked(why) => Problem::unavailable(
            format!("The custom field ids could not be checked against Zendesk ({why}); nothing was saved."),
            5,
        ),
        SettingsError::NotConnected => Problem::new(
            StatusCode::CONFLICT,
            "not-connected",
            "Connect Zendesk first",
            "A callback secret belongs to a connection (it is forgotten on disconnect): connect the bot, then save \
             the callback URL.",
        ),
        SettingsError::SecretNotStored { version, error } => Problem::unavailable(
            format!(
                "The settings were saved (ETag {}) but a new callback secret could not be stored ({error}): \
                 repeat the request with rotate_callback_secret and that ETag.",
                etag(version)
            ),
            3,
        ),
        SettingsError::Random(e) => Problem::internal(format!("could not make a random value: {e}")),
    }
}

/// 412: the settings moved on since the caller read them.
fn stale(expected: &str) -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "settings-changed",
        "The settings changed since they were read",
        format!(
            "If-Match was {expected}, but the settings have changed since. Read them again and reapply the change."
        ),
    )
}

fn with_etag(mut response: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}
