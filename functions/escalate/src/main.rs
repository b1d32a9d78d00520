//! Lambda entry point for `POST /v1/bots/{bot_id}/conversations/{conversation_id}/escalations`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    handoff::api::serve(&handoff::api::ESCALATE).await
}
