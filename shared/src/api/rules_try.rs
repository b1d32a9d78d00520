//! `POST /v1/bots/{bot_id}/rules/try`: what the explicit-request rule makes of one message,
//! under the bot's saved rules or the unsaved ones a settings form sends. Creates nothing.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::app::App;
use crate::bot_settings::SettingsError;
use crate::error::FieldError;
use crate::http::{Problem, authorized_bot, json_body, json_response, parse_json_scrubbed, parse_strict, scopes};
use crate::rules::RuleSettings;

pub const ROUTE: &str = "/v1/bots/{bot_id}/rules/try";
/// A message and a rules form; more is not one.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest message tried, in characters (the detector reads at most 4,000 of a message).
const MAX_MESSAGE_CHARS: usize = 5_000;

#[derive(Deserialize)]
struct TryBody {
    message: String,
    #[serde(default)]
    rules: Option<RuleSettings>,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    tried(app, &request).await.unwrap_or_else(Problem::into_response)
}

async fn tried(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(request, scopes::READ_INTEGRATIONS)?;
    let value: serde_json::Value = parse_json_scrubbed(json_body(request, MAX_BODY_BYTES)?)?;
    let body: TryBody = parse_strict(value, "is not known here")?;
    let chars = body.message.chars().count();
    if body.message.trim().is_empty() || chars > MAX_MESSAGE_CHARS {
        let message = format!("must be 1 to {MAX_MESSAGE_CHARS} characters of text");
        return Err(Problem::invalid(vec![FieldError::new("message", message)]));
    }
    let trial = app.settings().try_message(&bot_id, &body.message, body.rules).await.map_err(|e| match e {
        SettingsError::Invalid(errors) => Problem::invalid(errors),
        SettingsError::Store(e) => Problem::storage(e),
        other => Problem::internal(other.to_string()),
    })?;
    Ok(json_response(StatusCode::OK, &trial))
}
