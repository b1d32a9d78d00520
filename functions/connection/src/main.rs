//! Lambda entry point for the connection routes: `POST /v1/bots/{bot_id}/zendesk/connect` and
//! `PUT`/`GET`/`DELETE /v1/bots/{bot_id}/zendesk/connection`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    handoff::api::serve(&handoff::api::CONNECTION).await
}
