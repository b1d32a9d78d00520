//! `GET`/`PUT /v1/bots/{bot_id}/zendesk/settings`: the bot's effective settings (defaults when
//! never saved) and saving them whole, with optimistic concurrency (`ETag` / `If-Match`) and
//! validation that names each bad field. Saving a callback URL for the first time, or asking
//! for `rotate_callback_secret`, answers the new callback secret once; it is never shown again.

use base64::Engine as _;
use lambda_http::http::header::{ETAG, HeaderValue, IF_MATCH};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tracing::info;

use crate::app::App;
use crate::connection::secret_edit::edit_webhook_secret;
use crate::error::FieldError;
use crate::http::{Caller, Problem, checked_id, json_body, json_response, parse_json_scrubbed, path_param, scopes};
use crate::settings::{self, BotSettings};
use crate::store::StoreError;

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
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignoring = serde_ignored::Deserializer::new(value, &mut note);
    let settings: BotSettings =
        serde_path_to_error::deserialize(ignoring).map_err(|e| Problem::from(crate::error::describe(&e)))?;
    if !unknown.is_empty() {
        return Err(Problem::invalid(
            unknown.into_iter().map(|path| FieldError::new(path, "is not a setting")).collect(),
        ));
    }
    Ok(SettingsBody { settings, rotate_callback_secret: rotate })
}

#[derive(Serialize)]
struct SettingsAnswer<'a> {
    #[serde(flatten)]
    settings: &'a BotSettings,
    callback_secret_set: bool,
    /// What was saved but could not be checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// Present only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_secret: Option<&'a str>,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    match handle_checked(app, request).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let bot_id = path_param(&request, "bot_id").unwrap_or_default();
    let caller = Caller::from_request(&request)?;
    checked_id("bot_id", &bot_id)?;
    let scope = if request.method() == Method::PUT { scopes::CREATE_OAUTH } else { scopes::READ_INTEGRATIONS };
    caller.authorize(&bot_id, scope)?;
    let profile = app.stores.bots.load_profile(&bot_id).await.map_err(Problem::storage)?;
    let current = profile.settings.clone().unwrap_or_default();
    // What is stored now, not a copy this Lambda cached before another one set the secret.
    app.stores.secrets.invalidate(&bot_id);
    let webhook = app.stores.secrets.get_webhook_secret(&bot_id).await.map_err(Problem::storage)?;
    let credentials = app.stores.secrets.get_bot_secret(&bot_id).await.map_err(Problem::storage)?;
    // Counted too: one set before the webhook secret existed, not moved out of the credentials yet.
    let callback_secret_set = webhook.is_some_and(|s| s.callback_secret.is_some())
        || credentials.as_ref().is_some_and(|s| s.legacy_callback_secret.is_some());
    if request.method() != Method::PUT {
        let answer =
            SettingsAnswer { settings: &current, callback_secret_set, warnings: Vec::new(), callback_secret: None };
        return Ok(with_etag(json_response(StatusCode::OK, &answer), current.version));
    }

    let if_match = match request.headers().get(IF_MATCH).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value.trim()),
        // A condition that cannot be read cannot be met: never write unconditionally instead.
        Some(Err(_)) => return Err(stale("an unreadable value")),
    };
    if let Some(expected) = if_match
        && expected != "*"
        && expected != etag(current.version)
    {
        return Err(stale(expected));
    }
    let body = parse_settings(json_body(&request, MAX_BODY_BYTES)?)?;
    let mut new = body.settings;
    let mut errors = settings::validate(&new, app.allow_loopback_http_callbacks);
    let mut warnings = Vec::new();
    let mapped = crate::ticket_fields::mapped_fields(&new);
    if !mapped.is_empty() {
        match profile.connection.as_ref().filter(|c| c.state == crate::store::ConnectionState::Connected) {
            Some(connection) => {
                let accounts = app.accounts();
                let existing = app.ticket_fields.field_ids(&accounts, connection).await.map_err(|e| {
                    tracing::warn!(bot_id = %bot_id, error = %e, "could not read the ticket fields");
                    Problem::unavailable(
                        format!("The custom field ids could not be checked against Zendesk ({e}); nothing was saved."),
                        5,
                    )
                })?;
                // A field the cached list lacks may have been created a moment ago: read again once.
                let existing = if crate::ticket_fields::missing_fields(&new, &existing).is_empty() {
                    existing
                } else {
                    app.ticket_fields.fresh_field_ids(&accounts, connection).await.unwrap_or(existing)
                };
                for (field, id) in crate::ticket_fields::missing_fields(&new, &existing) {
                    errors.push(FieldError::new(
                        field,
                        format!("ticket field {id} does not exist in the connected Zendesk"),
                    ));
                }
            }
            None => warnings.push(
                "The bot is not connected, so the custom field ids were not checked against Zendesk; the \
                 diagnostics check them once it is."
                    .to_owned(),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let wants_secret = body.rotate_callback_secret || (new.callback_url.is_some() && !callback_secret_set);
    let connected = profile.connection.as_ref().is_some_and(|c| c.state == crate::store::ConnectionState::Connected);
    if wants_secret && (credentials.is_none() || !connected) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not-connected",
            "Connect Zendesk first",
            "A callback secret belongs to a connection (it is forgotten on disconnect): connect the bot, then save \
             the callback URL.",
        ));
    }
    new.version = current.version + 1;
    match app.stores.bots.put_settings_if(&bot_id, &new, current.version).await {
        Ok(()) => {}
        // Another save landed between the read and this write.
        Err(StoreError::Conflict) => return Err(stale(&etag(current.version))),
        Err(e) => return Err(Problem::storage(e)),
    }
    app.profiles.invalidate(&bot_id);
    let changed = changed_fields(&current, &new);
    crate::audit::record(
        app.stores.audit.as_ref(),
        &bot_id,
        "settings_changed",
        "ok",
        caller.subject.as_deref(),
        &[("fields", changed.as_str())],
    )
    .await;
    let mut issued = None;
    if wants_secret {
        let fresh = new_callback_secret()?;
        let holder = format!("settings-{}", fastrand::u64(..));
        let value = SecretString::from(fresh.clone());
        // Only a rotation replaces a secret the bot may already hold; a first secret is set
        // only if another save did not set one meanwhile.
        let rotate = body.rotate_callback_secret;
        let edited = edit_webhook_secret(&app.stores, &bot_id, &holder, |stored| {
            if rotate || stored.callback_secret.is_none() {
                stored.callback_secret = Some(value);
            }
        })
        .await;
        match edited {
            Ok(stored) if stored.callback_secret.as_ref().map(|s| s.expose_secret() == fresh).unwrap_or(false) => {
                issued = Some(fresh)
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(bot_id = %bot_id, error = %e, "callback secret not stored");
                return Err(Problem::unavailable(
                    format!(
                        "The settings were saved (ETag {}) but a new callback secret could not be stored ({e}): \
                         repeat the request with rotate_callback_secret and that ETag.",
                        etag(new.version)
                    ),
                    3,
                ));
            }
        }
        if issued.is_some() {
            crate::audit::record(
                app.stores.audit.as_ref(),
                &bot_id,
                "callback_secret_rotated",
                "ok",
                caller.subject.as_deref(),
                &[],
            )
            .await;
        }
    }
    info!(bot_id = %bot_id, version = new.version, fields = %changed, "settings saved");
    let answer = SettingsAnswer {
        settings: &new,
        callback_secret_set: callback_secret_set || issued.is_some(),
        warnings,
        callback_secret: issued.as_deref(),
    };
    Ok(with_etag(json_response(StatusCode::OK, &answer), new.version))
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

/// Top-level settings whose value changed, comma-separated, for the audit trail (names only:
/// values may be long, and the audit never holds more than it needs).
fn changed_fields(old: &BotSettings, new: &BotSettings) -> String {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return String::new();
    };
    new.iter()
        .filter(|(k, v)| k.as_str() != "version" && old.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// 32 random bytes, base64url: what the bot's receiver keys its HMAC with.
fn new_callback_secret() -> Result<String, Problem> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Problem::internal(format!("could not make a random value: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
