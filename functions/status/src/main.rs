//! Lambda entry point for the status routes: `GET /v1/bots/{bot_id}/tickets/{ticket_id}`,
//! `GET /v1/bots/{bot_id}/customers/context` and
//! `POST /v1/bots/{bot_id}/conversations/{conversation_id}/session`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    handoff::api::serve(&handoff::api::STATUS).await
}
