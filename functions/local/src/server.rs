//! The HTTP front: what API Gateway does in AWS, done locally. It authorizes JWT routes with
//! the local key, turns each request into the `lambda_http::Request` a Lambda would receive
//! (payload 2.0 request context, claims under `authorizer.jwt`), and hands it to the same
//! handlers through `handoff::api::dispatch`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use handoff::api::console::{self, ConsolePage};
use handoff::api::{OPENAPI_JSON, all_routes, dispatch};
use handoff::app::App;
use handoff::http::Problem;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::http::{HeaderValue, Request, Response, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use tokio::net::TcpListener;

use crate::auth::LocalAuth;

/// API Gateway's HTTP API payload limit.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub struct Front {
    pub app: App,
    pub auth: LocalAuth,
    /// The bot `/console` opens when the address names none (`--demo-bot`).
    pub console_bot: Option<String>,
}

/// Who the console's admin is in the audit trail.
pub const CONSOLE_ADMIN: &str = "local:console-admin";
/// How long the console's token lasts (a reload mints another).
const CONSOLE_TOKEN_SECONDS: i64 = 8 * 3600;

/// Serves until the process ends.
pub async fn serve(listener: TcpListener, front: Arc<Front>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let front = front.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let front = front.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&front, request, peer).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle(front: &Front, request: Request<Incoming>, peer: std::net::SocketAddr) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if path == "/connected" {
        // The default return URL of the local OAuth walk-through: show the outcome to a person.
        let outcome = request.uri().query().unwrap_or("").to_owned();
        let page = format!(
            "<!doctype html><meta charset=utf-8><title>Handoff</title><h1>Zendesk connection</h1><p>{}</p>",
            outcome.replace('<', "&lt;")
        );
        let mut response = Response::new(Full::new(Bytes::from(page)));
        response
            .headers_mut()
            .insert("content-type", lambda_http::http::HeaderValue::from_static("text/html; charset=utf-8"));
        return response;
    }
    if path == handoff::api::console::PAGE_ROUTE && method == lambda_http::http::Method::GET {
        return console_page(front, &request, peer);
    }
    if path == "/openapi.json" && method == lambda_http::http::Method::GET {
        // The API's description, for people and for Schemathesis; no token needed (it is public).
        let mut response = Response::new(Full::new(Bytes::from_static(OPENAPI_JSON.as_bytes())));
        response.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
        return response;
    }
    // CORS for the dashboards that embed the card, as API Gateway answers it in AWS.
    let origin = request.headers().get("origin").and_then(|o| o.to_str().ok()).map(str::to_owned);
    let allowed = origin.filter(|o| front.app.console.embed_origins.iter().any(|allowed| allowed == o));
    if method == lambda_http::http::Method::OPTIONS {
        let mut preflight = Response::new(Full::new(Bytes::new()));
        *preflight.status_mut() = StatusCode::NO_CONTENT;
        if let Some(origin) = &allowed {
            let headers = preflight.headers_mut();
            cors(headers, origin);
            headers.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, PUT, DELETE"));
            headers.insert(
                "access-control-allow-headers",
                HeaderValue::from_static("authorization, content-type, if-match"),
            );
            headers.insert("access-control-max-age", HeaderValue::from_static("600"));
        }
        return preflight;
    }
    let mut response = match to_lambda_request(front, request).await {
        Ok(lambda_request) => dispatch(&front.app, lambda_request).await,
        Err(problem) => problem.into_response(),
    };
    if let Some(origin) = &allowed {
        cors(response.headers_mut(), origin);
    }
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    respond(response)
}

/// `/console` locally: the page with a token the runner signs for its admin, so nobody signs in.
/// Only to this machine (the runner may listen on every address) under a loopback host name: a
/// page of another site that resolves its own name to this machine (DNS rebinding) gets no token.
fn console_page(front: &Front, request: &Request<Incoming>, peer: std::net::SocketAddr) -> Response<Full<Bytes>> {
    let host = request.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(name, port)| if port.contains(']') { host } else { name });
    if !peer.ip().is_loopback() || !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        let problem = Problem::new(
            StatusCode::FORBIDDEN,
            "console-host",
            "Open the console on a loopback address",
            "The local console signs you in as the admin only at http://127.0.0.1 or http://localhost.",
        );
        return respond(problem.into_response());
    }
    let query = request.uri().query().unwrap_or("");
    let asked = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "bot").map(|(_, v)| v.into_owned());
    let bot = asked.or_else(|| front.console_bot.clone()).filter(|b| handoff::http::valid_id(b));
    let token = match &bot {
        // Signed in at the issuer, as in AWS.
        _ if front.app.console.oidc_issuer.is_some() => None,
        Some(bot) => {
            let scopes: Vec<String> = crate::ALL_SCOPES.iter().map(|s| s.to_string()).collect();
            front.auth.mint_as(CONSOLE_ADMIN, bot, &scopes, CONSOLE_TOKEN_SECONDS).ok()
        }
        None => None,
    };
    let page = ConsolePage { bot_id: bot.as_deref(), token: token.as_deref(), config: &front.app.console };
    respond(console::html(console::render_page(&page), console::connect_sources(&front.app.console)))
}

/// The answer's CORS headers for an allowed `origin`: the ETag readable for the settings' If-Match.
fn cors(headers: &mut lambda_http::http::HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert("access-control-allow-origin", value);
        headers.insert("access-control-expose-headers", HeaderValue::from_static("etag"));
        headers.insert("vary", HeaderValue::from_static("origin"));
    }
}

fn respond(response: Response<Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Full::new(Bytes::from(body.to_vec())))
}

async fn to_lambda_request(front: &Front, request: Request<Incoming>) -> Result<lambda_http::Request, Problem> {
    let (parts, body) = request.into_parts();
    let bytes = Limited::new(body, MAX_BODY_BYTES).collect().await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The body is too large",
            format!("API Gateway accepts at most {MAX_BODY_BYTES} bytes."),
        )
    })?;
    let path = parts.uri.path().to_owned();
    let route = all_routes().find(&parts.method, &path).ok().map(|(endpoint, _)| &endpoint.route);
    let mut context = ApiGatewayV2httpRequestContext::default();
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = parts.method.clone();
    http.path = Some(path.clone());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some("127.0.0.1".into());
    context.http = http;
    context.stage = Some("$default".into());
    context.request_id = Some(format!("local-{:016x}", fastrand_u64()));
    if let Some(route) = route {
        context.route_key = Some(format!("{} {}", route.method, route.path));
        if route.scope.is_some() {
            let header = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
            let jwt = front.auth.verify(header).map_err(|e| {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "No valid token", e.to_string())
            })?;
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            context.authorizer = Some(authorizer);
        }
    }
    let query: HashMap<String, Vec<String>> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes()).into_owned().fold(HashMap::new(), |mut map, (k, v)| {
                map.entry(k).or_insert_with(Vec::new).push(v);
                map
            })
        })
        .unwrap_or_default();
    let request = Request::from_parts(parts, Body::from(bytes.to_bytes().to_vec()))
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_query_string_parameters(query);
    Ok(request)
}

fn fastrand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}
