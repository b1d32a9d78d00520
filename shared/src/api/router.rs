//! Which handler serves a request: a typed router per function, built from the route table.
//!
//! Each Lambda serves only its own function's endpoints (`serve(&api::ESCALATE)`), so a binary
//! links only its own handlers and answers 404 to another function's route; the local runner and
//! the tests serve the union of all of them. Matching is `matchit` (axum's own router engine:
//! API Gateway's `{param}` templates as they are, one lookup per request) and path segments are
//! percent-decoded by `percent-encoding`; see docs/decisions.md for why not a whole axum `Router`.

use std::future::Future;
use std::pin::Pin;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use super::Route;
use crate::app::App;
use crate::http::Problem;

/// A handler's future, borrowing the warm app.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

/// What serves one route: the app kept warm and the request, with its path parameters set.
pub type Handler = for<'a> fn(&'a App, Request) -> Answer<'a>;

/// One route and its handler.
pub struct Endpoint {
    pub route: Route,
    pub handle: Handler,
}

/// One Lambda function's endpoints (the crate under `functions/` named `name`).
pub struct Function {
    pub name: &'static str,
    pub endpoints: &'static [Endpoint],
}

/// The endpoint found for a request and its path parameters, percent-decoded.
pub type Found = (&'static Endpoint, Vec<(String, String)>);

/// Why no endpoint serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// No endpoint has this path.
    NotFound,
    /// Endpoints have this path, with other methods.
    MethodNotAllowed,
}

/// The endpoints of some functions, by path template.
pub struct Router {
    paths: matchit::Router<Vec<&'static Endpoint>>,
}

impl Router {
    /// A router over `functions`' endpoints. Two functions may not serve the same method and path
    /// (a test checks the table), so the first one listed wins.
    pub fn new(functions: &[&'static Function]) -> Self {
        let mut by_path: Vec<(&'static str, Vec<&'static Endpoint>)> = Vec::new();
        for endpoint in functions.iter().flat_map(|f| f.endpoints) {
            match by_path.iter_mut().find(|(path, _)| *path == endpoint.route.path) {
                Some((_, endpoints)) => endpoints.push(endpoint),
                None => by_path.push((endpoint.route.path, vec![endpoint])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, endpoints) in by_path {
            paths.insert(path, endpoints).unwrap_or_else(|e| panic!("route table: {path}: {e}"));
        }
        Self { paths }
    }

    /// The endpoint for `method` and `path`, with the path's parameters percent-decoded.
    pub fn find(&self, method: &Method, path: &str) -> Result<Found, Miss> {
        // API Gateway treats `/x/` as `/x`.
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        let matched = self.paths.at(path).map_err(|_| Miss::NotFound)?;
        let mut params = Vec::new();
        for (name, raw) in matched.params.iter() {
            // A segment that is not percent-encoded UTF-8 names nothing Handoff serves.
            let value = percent_encoding::percent_decode_str(raw).decode_utf8().map_err(|_| Miss::NotFound)?;
            params.push((name.to_owned(), value.into_owned()));
        }
        let endpoint =
            matched.value.iter().find(|e| e.route.method == method.as_str()).ok_or(Miss::MethodNotAllowed)?;
        Ok((endpoint, params))
    }

    /// Serves one request: its path parameters are set from the template (as API Gateway does);
    /// an unknown path answers 404, a known path with another method 405.
    pub async fn dispatch(&self, app: &App, request: Request) -> Response<Body> {
        let (endpoint, params) = match self.find(request.method(), request.uri().path()) {
            Ok(found) => found,
            Err(miss) => return miss_problem(miss, &request).into_response(),
        };
        let params: std::collections::HashMap<String, String> = params.into_iter().collect();
        (endpoint.handle)(app, request.with_path_parameters(params)).await
    }
}

fn miss_problem(miss: Miss, request: &Request) -> Problem {
    let (status, kind, title) = match miss {
        Miss::NotFound => (StatusCode::NOT_FOUND, "not-found", "No such route"),
        Miss::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
    };
    let detail = format!("{} {} is not part of Handoff's API.", request.method(), request.uri().path());
    Problem::new(status, kind, title, detail)
}
