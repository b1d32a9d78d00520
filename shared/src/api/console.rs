//! The settings console: `GET /console` (the page), `GET /console/handoff-zendesk.js` (the
//! embeddable component, the page's only script) and `GET /console/oauth-done` (where the
//! OAuth popup lands, to tell the card it opened). Served without a token: the page signs the
//! admin in itself (OpenID Connect with PKCE, the token kept in the tab's memory), and every
//! API call it makes carries that token.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::app::App;
pub use crate::config::ConsoleConfig;
use crate::http::{query_param, valid_id};

pub const PAGE_ROUTE: &str = "/console";
pub const SCRIPT_ROUTE: &str = "/console/handoff-zendesk.js";
pub const OAUTH_DONE_ROUTE: &str = crate::connection::oauth_flow::CONSOLE_OAUTH_LANDING;

/// The component: one file, no build step, no dependencies (`shared/console/`).
pub const COMPONENT_JS: &str = include_str!("../../console/handoff-zendesk.js");

/// What a console page is rendered with.
pub struct ConsolePage<'a> {
    pub bot_id: Option<&'a str>,
    /// A token for the page to use as it is (the local runner's admin).
    pub token: Option<&'a str>,
    pub config: &'a ConsoleConfig,
}

pub async fn page_route(app: &App, request: Request) -> Response<Body> {
    let bot = query_param(&request, "bot").filter(|b| valid_id(b));
    let page = ConsolePage { bot_id: bot.as_deref(), token: None, config: &app.console };
    html(render_page(&page), connect_sources(&app.console))
}

pub async fn script_route(_app: &App, _request: Request) -> Response<Body> {
    let mut response = Response::new(Body::from(COMPONENT_JS));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert("cache-control", HeaderValue::from_static("public, max-age=300"));
    // Platforms load it from their own dashboards, as a module too.
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

pub async fn oauth_done_route(app: &App, _request: Request) -> Response<Body> {
    let origins = escape(&app.console.embed_origins.join(" "));
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Handoff — Zendesk</title>\n<link rel=\"icon\" href=\"data:,\">\n<script src=\"{SCRIPT_ROUTE}\" defer></script>\n\
         <body>\n<handoff-oauth-done origins=\"{origins}\"></handoff-oauth-done>\n<noscript>The Zendesk connection is done; \
         close this window.</noscript>\n</body>\n</html>\n"
    );
    html(page, "'self'".to_owned())
}

/// The console page: the component file and the `<handoff-console>` element, nothing inline.
pub fn render_page(page: &ConsolePage<'_>) -> String {
    let mut attributes = String::new();
    let mut attribute = |name: &str, value: &str| {
        attributes.push_str(&format!(" {name}=\"{}\"", escape(value)));
    };
    if let Some(bot) = page.bot_id {
        attribute("bot-id", bot);
    }
    if let Some(token) = page.token {
        attribute("token", token);
    }
    if let (Some(issuer), Some(client)) = (&page.config.oidc_issuer, &page.config.oidc_client_id) {
        attribute("oidc-issuer", issuer.as_str().trim_end_matches('/'));
        attribute("oidc-client-id", client);
        attribute("oidc-scope", &page.config.oidc_scope);
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Handoff — Zendesk settings</title>\n<link rel=\"icon\" href=\"data:,\">\n<script src=\"{SCRIPT_ROUTE}\" defer></script>\n\
         <body>\n<handoff-console{attributes}></handoff-console>\n\
         <noscript>The Handoff console needs JavaScript.</noscript>\n</body>\n</html>\n"
    )
}

/// Where the page may connect: Handoff itself, and any HTTPS origin when it signs in with an
/// issuer (whose token endpoint may live on another host than the issuer, as Cognito's does), and
/// the issuer's own origin when that is a plain-HTTP one on this machine (the local runner's).
pub fn connect_sources(config: &ConsoleConfig) -> String {
    match &config.oidc_issuer {
        None => "'self'".to_owned(),
        Some(issuer) if issuer.scheme() == "http" && crate::address::is_https_or_loopback(issuer) => {
            format!("'self' https: {}", issuer.origin().ascii_serialization())
        }
        Some(_) => "'self' https:".to_owned(),
    }
}

/// An HTML answer that runs only Handoff's own script, never framed, never cached.
pub fn html(page: String, connect_src: String) -> Response<Body> {
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = StatusCode::OK;
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src {connect_src}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert("content-security-policy", value);
    }
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn escape(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_is_given_and_names_only_its_own_script() {
        let config = ConsoleConfig {
            oidc_issuer: Some(url::Url::parse("https://login.example.com/").unwrap()),
            oidc_client_id: Some("console\"><script>".into()),
            oidc_scope: "openid handoff/admin".into(),
            embed_origins: Vec::new(),
        };
        let page = render_page(&ConsolePage { bot_id: Some("demo"), token: None, config: &config });
        assert!(page.contains("oidc-client-id=\"console&quot;&gt;&lt;script&gt;\""), "{page}");
        assert!(page.contains("oidc-issuer=\"https://login.example.com\""), "{page}");
        assert_eq!(page.matches("<script").count(), 1, "{page}");
        assert!(page.contains(&format!("<script src=\"{SCRIPT_ROUTE}\" defer></script>")));
        assert_eq!(connect_sources(&config), "'self' https:");
        assert_eq!(connect_sources(&ConsoleConfig::default()), "'self'");
    }
}
