//! `GET /v1/bots/{bot_id}/zendesk/ticket-fields`: the connected account's own ticket fields, so
//! that a person maps settings onto fields by name rather than by typed ids.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::app::App;
use crate::connection::accounts::AccountError;
use crate::http::{Problem, authorized_bot, json_response, scopes};
use crate::ticket_fields::FieldsError;

pub const ROUTE: &str = "/v1/bots/{bot_id}/zendesk/ticket-fields";

#[derive(Serialize)]
struct Field {
    id: u64,
    title: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    active: bool,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    listed(app, &request).await.unwrap_or_else(Problem::into_response)
}

async fn listed(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(request, scopes::READ_INTEGRATIONS)?;
    let fields = app.ticket_fields.custom_fields(&app.accounts(), &bot_id).await.map_err(problem_for)?;
    let fields: Vec<Field> = fields
        .into_iter()
        .map(|f| Field {
            title: f.title.unwrap_or_else(|| format!("Field {}", f.id)),
            id: f.id,
            kind: f.kind,
            active: f.active.unwrap_or(true),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &serde_json::json!({ "ticket_fields": fields })))
}

fn problem_for(error: FieldsError) -> Problem {
    match error {
        FieldsError::Account(AccountError::NotConnected) => Problem::not_connected(),
        FieldsError::Account(AccountError::ReconnectRequired) => Problem::reconnect_required(),
        FieldsError::Account(AccountError::RefreshDeferred(error)) => {
            tracing::warn!(%error, "token not renewed");
            Problem::unavailable("The bot's Zendesk token is being renewed; try again after Retry-After.", 5)
        }
        FieldsError::Account(AccountError::Store(e)) => Problem::storage(e),
        FieldsError::Zendesk(e) => Problem::zendesk_read_failed(
            &e,
            "the ticket fields' listing",
            " (the connection may lack the tickets:read scope)",
        ),
    }
}
