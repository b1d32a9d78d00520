//! `GET /oauth/zendesk/callback?code&state` (the admin's browser; no JWT, protected by `state`).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::SecretString;

use crate::app::App;
use crate::connection::{CallbackOutcome, CallbackQuery, Connector};
use crate::http::Problem;

pub const ROUTE: &str = "/oauth/zendesk/callback";

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let params = request.query_string_parameters();
    let query = CallbackQuery {
        state: params.first("state").map(str::to_owned),
        code: params.first("code").map(|c| SecretString::from(c.to_owned())),
        error: params.first("error").map(str::to_owned),
    };
    let connector = Connector { stores: &app.stores, zendesk: &app.zendesk, config: &app.connect };
    let mut response = match connector.finish_oauth(query).await {
        CallbackOutcome::Redirect(location) => {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        CallbackOutcome::InvalidState => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-oauth-state",
            "This authorization link is not valid",
            "The link is unknown, was already used, or expired (after 10 minutes). Start connecting again.",
        )
        .into_response(),
    };
    // The URL that reached us carried a code: keep it out of caches and referrers.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}
