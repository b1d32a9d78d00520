//! Lambda entry point for `GET /oauth/zendesk/callback` (the admin's browser, after Zendesk's
//! authorize page; protected by the single-use `state`, not by a JWT).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    handoff::api::serve(&handoff::api::OAUTH_CALLBACK_FUNCTION).await
}
