//! Lambda entry point for `POST /webhooks/zendesk/{bot_id}` (Zendesk's signed ticket events; no
//! JWT: the signature authenticates the delivery).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    handoff::api::serve(&handoff::api::ZENDESK_WEBHOOK).await
}
