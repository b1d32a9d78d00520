//! Lambda entry point for `GET /oauth/zendesk/callback` (the admin's browser, after Zendesk's
//! authorize page; protected by the single-use `state`, not by a JWT).

use handoff::app::App;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    handoff::telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(handoff::api::oauth_callback::handle(app, request).await)
    }))
    .await
}
