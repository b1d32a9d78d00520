//! Request handlers, one module per route family: parse and check the request, call the use
//! case, shape the answer. The route table below says which function serves which route; each
//! function binary serves its own endpoints through `serve`, the local runner and the tests all
//! of them through `dispatch` (see `router`).
//! `OPENAPI_JSON` describes these routes (OpenAPI 3.1); a test keeps the two in step.

pub mod audit;
pub mod connection;
pub mod console;
pub mod conversation;
pub mod diagnostics;
pub mod escalate;
pub mod escalations;
pub mod messages;
pub mod oauth_callback;
pub mod router;
pub mod rules_try;
pub mod settings;
pub mod status;
pub mod ticket_fields;
pub mod visitors;
pub mod webhook;

use lambda_http::{Body, Request, Response};

pub use self::router::{Endpoint, Function, Router};
use crate::app::App;
use crate::http::scopes;

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

/// A handler from an `async fn(&App, Request) -> Response<Body>`.
macro_rules! handler {
    ($handle:path) => {{
        fn handle(app: &App, request: Request) -> router::Answer<'_> {
            Box::pin($handle(app, request))
        }
        handle as router::Handler
    }};
}

const fn route(method: &'static str, path: &'static str, scope: Option<&'static str>, function: &'static str) -> Route {
    Route { method, path, scope, function }
}

const ESCALATE_ROUTE: Route = route("POST", escalate::ROUTE, Some(scopes::CREATE_TICKET), "escalate");
const MESSAGES: Route = route("POST", messages::ROUTE, Some(scopes::CREATE_TICKET), "escalate");
const CONNECT: Route = route("POST", connection::CONNECT_ROUTE, Some(scopes::CREATE_OAUTH), "connection");
const CONNECTION_PUT: Route = route("PUT", connection::CONNECTION_ROUTE, Some(scopes::CREATE_OAUTH), "connection");
const CONNECTION_GET: Route = route("GET", connection::CONNECTION_ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const CONNECTION_DELETE: Route =
    route("DELETE", connection::CONNECTION_ROUTE, Some(scopes::DELETE_INTEGRATIONS), "connection");
const SETTINGS_GET: Route = route("GET", settings::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const AUDIT: Route = route("GET", audit::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const DIAGNOSTICS: Route = route("GET", diagnostics::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const VISITOR_EXPORT: Route = route("GET", visitors::ROUTE, Some(scopes::READ_VISITOR_DATA), "connection");
const VISITOR_ERASE: Route = route("DELETE", visitors::ROUTE, Some(scopes::DELETE_VISITOR_DATA), "connection");
const TICKET_FIELDS: Route = route("GET", ticket_fields::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const RULES_TRY: Route = route("POST", rules_try::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const ESCALATIONS: Route = route("GET", escalations::ROUTE, Some(scopes::READ_INTEGRATIONS), "connection");
const CONSOLE_PAGE: Route = route("GET", console::PAGE_ROUTE, None, "connection");
const CONSOLE_SCRIPT: Route = route("GET", console::SCRIPT_ROUTE, None, "connection");
const CONSOLE_OAUTH_DONE: Route = route("GET", console::OAUTH_DONE_ROUTE, None, "connection");
const SETTINGS_PUT: Route = route("PUT", settings::ROUTE, Some(scopes::CREATE_OAUTH), "connection");
const TICKET: Route = route("GET", status::TICKET_ROUTE, Some(scopes::READ_TICKET_STATUS), "status");
const CONTEXT: Route = route("GET", status::CONTEXT_ROUTE, Some(scopes::READ_CUSTOMER_CONTEXT), "status");
const SESSION: Route = route("POST", status::SESSION_ROUTE, Some(scopes::CREATE_TICKET), "status");
const CONVERSATION: Route = route("GET", conversation::ROUTE, Some(scopes::READ_TICKET_STATUS), "status");
const OAUTH_CALLBACK: Route = route("GET", oauth_callback::ROUTE, None, "oauth-callback");
const WEBHOOK: Route = route("POST", webhook::ROUTE, None, "zendesk-webhook");

/// Every route the functions serve (the SAM template's and the API description's checks read
/// it); each is served by exactly one of `FUNCTIONS` (a test keeps the two in step).
pub const ROUTES: &[Route] = &[
    ESCALATE_ROUTE,
    MESSAGES,
    CONNECT,
    CONNECTION_PUT,
    CONNECTION_GET,
    CONNECTION_DELETE,
    SETTINGS_GET,
    AUDIT,
    DIAGNOSTICS,
    SETTINGS_PUT,
    VISITOR_EXPORT,
    VISITOR_ERASE,
    TICKET_FIELDS,
    RULES_TRY,
    ESCALATIONS,
    CONSOLE_PAGE,
    CONSOLE_SCRIPT,
    CONSOLE_OAUTH_DONE,
    TICKET,
    CONTEXT,
    SESSION,
    CONVERSATION,
    OAUTH_CALLBACK,
    WEBHOOK,
];

/// `functions/escalate`: the handoff and the visitor's messages after it.
pub static ESCALATE: Function = Function {
    name: "escalate",
    endpoints: &[
        Endpoint { route: ESCALATE_ROUTE, handle: handler!(escalate::handle) },
        Endpoint { route: MESSAGES, handle: handler!(messages::handle) },
    ],
};

/// `functions/connection`: connecting, settings, audit, diagnostics, visitors' data requests and
/// the settings console (the admin's routes).
pub static CONNECTION: Function = Function {
    name: "connection",
    endpoints: &[
        Endpoint { route: CONNECT, handle: handler!(connection::connect_route) },
        Endpoint { route: CONNECTION_PUT, handle: handler!(connection::put_route) },
        Endpoint { route: CONNECTION_GET, handle: handler!(connection::get_route) },
        Endpoint { route: CONNECTION_DELETE, handle: handler!(connection::delete_route) },
        Endpoint { route: SETTINGS_GET, handle: handler!(settings::get_route) },
        Endpoint { route: SETTINGS_PUT, handle: handler!(settings::put_route) },
        Endpoint { route: AUDIT, handle: handler!(audit::handle) },
        Endpoint { route: DIAGNOSTICS, handle: handler!(diagnostics::handle) },
        Endpoint { route: VISITOR_EXPORT, handle: handler!(visitors::export_route) },
        Endpoint { route: VISITOR_ERASE, handle: handler!(visitors::erase_route) },
        Endpoint { route: TICKET_FIELDS, handle: handler!(ticket_fields::handle) },
        Endpoint { route: RULES_TRY, handle: handler!(rules_try::handle) },
        Endpoint { route: ESCALATIONS, handle: handler!(escalations::handle) },
        Endpoint { route: CONSOLE_PAGE, handle: handler!(console::page_route) },
        Endpoint { route: CONSOLE_SCRIPT, handle: handler!(console::script_route) },
        Endpoint { route: CONSOLE_OAUTH_DONE, handle: handler!(console::oauth_done_route) },
    ],
};

/// `functions/status`: ticket status, customer context, session start, the handoff's state.
pub static STATUS: Function = Function {
    name: "status",
    endpoints: &[
        Endpoint { route: TICKET, handle: handler!(status::ticket_route) },
        Endpoint { route: CONTEXT, handle: handler!(status::context_route) },
        Endpoint { route: SESSION, handle: handler!(status::session_route) },
        Endpoint { route: CONVERSATION, handle: handler!(conversation::handle) },
    ],
};

/// `functions/oauth-callback`.
pub static OAUTH_CALLBACK_FUNCTION: Function = Function {
    name: "oauth-callback",
    endpoints: &[Endpoint { route: OAUTH_CALLBACK, handle: handler!(oauth_callback::handle) }],
};

/// `functions/zendesk-webhook`.
pub static ZENDESK_WEBHOOK: Function =
    Function { name: "zendesk-webhook", endpoints: &[Endpoint { route: WEBHOOK, handle: handler!(webhook::handle) }] };

/// Every HTTP function, for the local runner and the tests (a Lambda names only its own).
pub static FUNCTIONS: &[&Function] = &[&ESCALATE, &CONNECTION, &STATUS, &OAUTH_CALLBACK_FUNCTION, &ZENDESK_WEBHOOK];

/// The union of every function's routes, built once.
pub fn all_routes() -> &'static Router {
    static ALL: std::sync::LazyLock<Router> = std::sync::LazyLock::new(|| Router::new(FUNCTIONS));
    &ALL
}

/// Serves any route, as API Gateway would route it to its function (the local runner and the
/// tests): path parameters are set from the template; unknown paths answer 404 and known paths
/// with another method 405.
pub async fn dispatch(app: &App, request: Request) -> Response<Body> {
    all_routes().dispatch(app, request).await
}

/// The whole of an HTTP function's `main`: logging, the app built once per cold start, and every
/// invocation through `function`'s own router (another function's route answers 404).
pub async fn serve(function: &'static Function) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let router = Router::new(&[function]);
    let app = App::from_env()?;
    let (app, router) = (&app, &router);
    lambda_http::run(lambda_http::service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(router.dispatch(app, request).await)
    }))
    .await
}
