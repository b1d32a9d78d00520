//! Lambda entry point for the connection routes: `POST /v1/bots/{bot_id}/zendesk/connect` and
//! `PUT`/`GET`/`DELETE /v1/bots/{bot_id}/zendesk/connection`.

use handoff::app::App;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(handoff::api::connection::handle(app, request).await)
    }))
    .await
}
