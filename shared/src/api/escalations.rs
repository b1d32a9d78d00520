//! `GET /v1/bots/{bot_id}/escalations`: the bot's unfinished escalations, pending or failed,
//! with their age and last error (the console's activity).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::App;
use crate::error::FieldError;
use crate::escalation::unfinished::unfinished;
use crate::http::{Problem, authorized_bot, json_response, query_param, scopes};

pub const ROUTE: &str = "/v1/bots/{bot_id}/escalations";
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    listed(app, &request).await.unwrap_or_else(Problem::into_response)
}

async fn listed(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(request, scopes::READ_INTEGRATIONS)?;
    let limit = match query_param(request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                let message = format!("must be a whole number from 1 to {MAX_LIMIT}");
                return Err(Problem::invalid(vec![FieldError::new("limit", message)]));
            }
        },
    };
    let escalations = unfinished(&app.stores, &bot_id, limit).await.map_err(Problem::storage)?;
    Ok(json_response(StatusCode::OK, &serde_json::json!({ "escalations": escalations })))
}
