//! Request handlers, one module per route family: parse and check the request, call the use
//! case, shape the answer. Every function binary and the local runner serve requests through
//! `dispatch` and the route table below, which the SAM template's and the API description's
//! checks also read.
//! `OPENAPI_JSON` describes these routes (OpenAPI 3.1); a test keeps the two in step.

pub mod audit;
pub mod connection;
pub mod diagnostics;
pub mod escalate;
pub mod oauth_callback;
pub mod settings;
pub mod status;
pub mod webhook;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::app::App;
use crate::http::{Problem, match_path, scopes};

/// The OpenAPI 3.1 description of every route in `ROUTES` (`shared/openapi.json`). The local
/// runner serves it at `/openapi.json`; `tests/e2e` checks it against the route table, and
/// Schemathesis runs it against the runner (`scripts/test`).
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// One route of Handoff's HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway's path template, e.g. `/v1/bots/{bot_id}/tickets/{ticket_id}`.
    pub path: &'static str,
    /// The scope the caller's JWT must carry; None for routes API Gateway leaves unauthenticated.
    pub scope: Option<&'static str>,
    /// The Lambda function (crate under `functions/`) that serves it.
    pub function: &'static str,
}

/// Every route the functions serve.
pub const ROUTES: &[Route] = &[
    Route { method: "POST", path: escalate::ROUTE, scope: Some(scopes::CREATE_TICKET), function: "escalate" },
    Route {
        method: "POST",
        path: connection::CONNECT_ROUTE,
        scope: Some(scopes::CREATE_OAUTH),
        function: "connection",
    },
    Route {
        method: "PUT",
        path: connection::CONNECTION_ROUTE,
        scope: Some(scopes::CREATE_OAUTH),
        function: "connection",
    },
    Route {
        method: "GET",
        path: connection::CONNECTION_ROUTE,
        scope: Some(scopes::READ_INTEGRATIONS),
        function: "connection",
    },
    Route {
        method: "DELETE",
        path: connection::CONNECTION_ROUTE,
        scope: Some(scopes::DELETE_INTEGRATIONS),
        function: "connection",
    },
    Route { method: "GET", path: settings::ROUTE, scope: Some(scopes::READ_INTEGRATIONS), function: "connection" },
    Route { method: "GET", path: audit::ROUTE, scope: Some(scopes::READ_INTEGRATIONS), function: "connection" },
    Route { method: "GET", path: diagnostics::ROUTE, scope: Some(scopes::READ_INTEGRATIONS), function: "connection" },
    Route { method: "PUT", path: settings::ROUTE, scope: Some(scopes::CREATE_OAUTH), function: "connection" },
    Route { method: "GET", path: status::TICKET_ROUTE, scope: Some(scopes::READ_TICKET_STATUS), function: "status" },
    Route {
        method: "GET",
        path: status::CONTEXT_ROUTE,
        scope: Some(scopes::READ_CUSTOMER_CONTEXT),
        function: "status",
    },
    Route { method: "POST", path: status::SESSION_ROUTE, scope: Some(scopes::CREATE_TICKET), function: "status" },
    Route { method: "GET", path: oauth_callback::ROUTE, scope: None, function: "oauth-callback" },
    Route { method: "POST", path: webhook::ROUTE, scope: None, function: "zendesk-webhook" },
];

/// Serves any route, as API Gateway would route it to its function: path parameters are set
/// from the template; unknown paths answer 404 and known paths with another method 405.
pub async fn dispatch(app: &App, request: Request) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().as_str().to_owned();
    let matching: Vec<(&Route, Vec<(String, String)>)> =
        ROUTES.iter().filter_map(|r| match_path(r.path, &path).map(|params| (r, params))).collect();
    let Some((route, params)) = matching.iter().find(|(r, _)| r.method == method) else {
        let (status, kind, title) = if matching.is_empty() {
            (StatusCode::NOT_FOUND, "not-found", "No such route")
        } else {
            (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
        };
        return Problem::new(status, kind, title, format!("{method} {path} is not part of Handoff's API."))
            .into_response();
    };
    let params: std::collections::HashMap<String, String> = params.iter().cloned().collect();
    let request = request.with_path_parameters(params);
    match route.function {
        "escalate" => escalate::handle(app, request).await,
        "connection" if route.path == settings::ROUTE => settings::handle(app, request).await,
        "connection" if route.path == audit::ROUTE => audit::handle(app, request).await,
        "connection" if route.path == diagnostics::ROUTE => diagnostics::handle(app, request).await,
        "connection" => connection::handle(app, request).await,
        "oauth-callback" => oauth_callback::handle(app, request).await,
        "zendesk-webhook" => webhook::handle(app, request).await,
        "status" => status::handle(app, request).await,
        other => Problem::internal(format!("route table names an unknown function `{other}`")).into_response(),
    }
}

/// The whole of an HTTP function's `main`: logging, the app built once per cold start, and every
/// invocation through `dispatch` (API Gateway sends each function only its own routes).
pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(dispatch(app, request).await)
    }))
    .await
}
