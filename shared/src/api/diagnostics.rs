//! `GET /v1/bots/{bot_id}/zendesk/diagnostics`: the troubleshooting list, run live.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::diagnostics::{Diagnostics, Outcome};
use crate::http::{Caller, Problem, checked_id, json_response, path_param, scopes};

pub const ROUTE: &str = "/v1/bots/{bot_id}/zendesk/diagnostics";

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    handle_checked(app, request).await.unwrap_or_else(Problem::into_response)
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let bot_id = path_param(&request, "bot_id").unwrap_or_default();
    checked_id("bot_id", &bot_id)?;
    Caller::from_request(&request)?.authorize(&bot_id, scopes::READ_INTEGRATIONS)?;
    let diagnostics = Diagnostics { accounts: app.accounts(), fields: &app.ticket_fields };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let checks = diagnostics.run(&bot_id, now).await.map_err(Problem::storage)?;
    let worst = if checks.iter().any(|c| c.status == Outcome::Fail) {
        "fail"
    } else if checks.iter().any(|c| c.status == Outcome::Warn) {
        "warn"
    } else {
        "pass"
    };
    Ok(json_response(StatusCode::OK, &json!({"bot_id": bot_id, "status": worst, "checks": checks})))
}
