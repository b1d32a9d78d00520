//! `GET /v1/bots/{bot_id}/conversations/{conversation_id}`: where the conversation's handoff
//! stands (`live::state`), for a bot that missed a callback.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::app::App;
use crate::http::{Problem, authorized_conversation, json_response, scopes};
use crate::live::BindingError;

pub const ROUTE: &str = "/v1/bots/{bot_id}/conversations/{conversation_id}";

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    handle_checked(app, request).await.unwrap_or_else(Problem::into_response)
}

async fn handle_checked(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, conversation_id, caller) = authorized_conversation(&request, scopes::READ_TICKET_STATUS)?;
    let state = app.handoff_state().state(&bot_id, &conversation_id, caller.visitor_email.as_deref()).await;
    match state {
        Ok(state) => Ok(json_response(StatusCode::OK, &state)),
        Err(BindingError::VisitorMismatch(_)) => Err(Problem::visitor_mismatch()),
        Err(BindingError::Store(e)) => Err(Problem::storage(e)),
    }
}
