//! Lambda entry point for `POST /v1/bots/{bot_id}/conversations/{conversation_id}/escalations`.
//! Builds the app once per cold start; every invocation goes to `handoff::api::escalate`.

use handoff::app::App;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(handoff::api::escalate::handle(app, request).await)
    }))
    .await
}
