//! The connection function's routes: `POST …/zendesk/connect`, and `PUT`/`GET`/`DELETE`
//! `…/zendesk/connection`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use crate::app::App;
use crate::connection::{ConnectError, Connector};
use crate::error::FieldError;
use crate::http::{Problem, authorized_bot, json_body, json_response, parse_json_scrubbed, scopes};
use crate::zendesk::oauth::OAuthClient;

pub const CONNECT_ROUTE: &str = "/v1/bots/{bot_id}/zendesk/connect";
pub const CONNECTION_ROUTE: &str = "/v1/bots/{bot_id}/zendesk/connection";
/// Connection bodies are small; anything bigger is not one.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectBody {
    subdomain: String,
    return_url: String,
}

/// `PUT …/connection`'s body as sent: one flat object whose `mode` says which fields it needs.
/// Flat rather than an internally tagged enum, whose buffering would hide a wrong field's name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionFields {
    mode: ConnectionMode,
    #[serde(default)]
    subdomain: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    api_token: Option<SecretString>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<SecretString>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum ConnectionMode {
    ApiToken,
    ClientCredentials,
    Oauth,
}

enum ConnectionBody {
    ApiToken { subdomain: String, email: String, api_token: SecretString },
    ClientCredentials { subdomain: String, client_id: String, client_secret: SecretString },
    Oauth,
}

impl ConnectionFields {
    /// The body for its mode: every field the mode needs is present, and none it does not use.
    fn for_mode(self) -> Result<ConnectionBody, Problem> {
        let mode_name = match self.mode {
            ConnectionMode::ApiToken => "api_token",
            ConnectionMode::ClientCredentials => "client_credentials",
            ConnectionMode::Oauth => "oauth",
        };
        let given = [
            ("subdomain", self.subdomain.is_some()),
            ("email", self.email.is_some()),
            ("api_token", self.api_token.is_some()),
            ("client_id", self.client_id.is_some()),
            ("client_secret", self.client_secret.is_some()),
        ];
        let needed: &[&str] = match self.mode {
            ConnectionMode::ApiToken => &["subdomain", "email", "api_token"],
            ConnectionMode::ClientCredentials => &["subdomain", "client_id", "client_secret"],
            ConnectionMode::Oauth => &[],
        };
        let mut errors = Vec::new();
        for (field, present) in given {
            match (needed.contains(&field), present) {
                (true, false) => errors.push(FieldError::new(field, format!("is required with mode {mode_name}"))),
                (false, true) => errors.push(FieldError::new(field, format!("is not used with mode {mode_name}"))),
                _ => {}
            }
        }
        if !errors.is_empty() {
            return Err(Problem::invalid(errors));
        }
        Ok(match (self.mode, self.subdomain, self.email, self.api_token, self.client_id, self.client_secret) {
            (ConnectionMode::ApiToken, Some(subdomain), Some(email), Some(api_token), ..) => {
                ConnectionBody::ApiToken { subdomain, email, api_token }
            }
            (ConnectionMode::ClientCredentials, Some(subdomain), _, _, Some(client_id), Some(client_secret)) => {
                ConnectionBody::ClientCredentials { subdomain, client_id, client_secret }
            }
            (ConnectionMode::Oauth, ..) => ConnectionBody::Oauth,
            // Unreachable after the checks above; refused rather than trusted.
            _ => return Err(Problem::invalid(vec![FieldError::new("mode", "does not match the fields sent")])),
        })
    }
}

/// `POST …/zendesk/connect`: the authorize URL for the OAuth walk.
pub async fn connect_route(app: &App, request: Request) -> Response<Body> {
    connect(app, request).await.unwrap_or_else(Problem::into_response)
}

/// `PUT …/zendesk/connection`: connect with an API token or client credentials.
pub async fn put_route(app: &App, request: Request) -> Response<Body> {
    put(app, request).await.unwrap_or_else(Problem::into_response)
}

/// `GET …/zendesk/connection`: the connection's status.
pub async fn get_route(app: &App, request: Request) -> Response<Body> {
    get(app, request).await.unwrap_or_else(Problem::into_response)
}

/// `DELETE …/zendesk/connection`: disconnect.
pub async fn delete_route(app: &App, request: Request) -> Response<Body> {
    delete(app, request).await.unwrap_or_else(Problem::into_response)
}

fn connector(app: &App) -> Connector<'_> {
    Connector { stores: &app.stores, zendesk: &app.zendesk, config: &app.connect }
}

async fn connect(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::CREATE_OAUTH)?;
    let body: ConnectBody = parse_json_scrubbed(json_body(&request, MAX_BODY_BYTES)?)?;
    let started = connector(app)
        .start_oauth(&bot_id, &body.subdomain, &body.return_url, caller.subject.as_deref())
        .await
        .map_err(problem_for)?;
    Ok(json_response(StatusCode::OK, &started))
}

async fn put(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::CREATE_OAUTH)?;
    let actor = caller.subject.as_deref();
    let connector = connector(app);
    let fields: ConnectionFields = parse_json_scrubbed(json_body(&request, MAX_BODY_BYTES)?)?;
    let status = match fields.for_mode()? {
        ConnectionBody::ApiToken { subdomain, email, api_token } => {
            if !crate::text::looks_like_email(&email) {
                return Err(Problem::invalid(vec![FieldError::new("email", "is not an email address")]));
            }
            connector.connect_api_token(&bot_id, &subdomain, &email, api_token, actor).await
        }
        ConnectionBody::ClientCredentials { subdomain, client_id, client_secret } => {
            let client = OAuthClient { client_id, client_secret };
            connector.connect_client_credentials(&bot_id, &subdomain, client, actor).await
        }
        ConnectionBody::Oauth => {
            return Err(Problem::invalid(vec![FieldError::new(
                "mode",
                "OAuth connects in the browser: POST /v1/bots/{bot_id}/zendesk/connect for the authorize URL",
            )]));
        }
    }
    .map_err(problem_for)?;
    // This process may have cached the bot as unknown (a junk delivery for its id).
    app.profiles.invalidate(&bot_id);
    Ok(json_response(StatusCode::OK, &status))
}

async fn get(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, _) = authorized_bot(&request, scopes::READ_INTEGRATIONS)?;
    Ok(json_response(StatusCode::OK, &connector(app).status(&bot_id).await.map_err(problem_for)?))
}

async fn delete(app: &App, request: Request) -> Result<Response<Body>, Problem> {
    let (bot_id, caller) = authorized_bot(&request, scopes::DELETE_INTEGRATIONS)?;
    let disconnected = connector(app).disconnect(&bot_id, caller.subject.as_deref()).await.map_err(problem_for)?;
    app.profiles.invalidate(&bot_id);
    Ok(json_response(StatusCode::OK, &disconnected))
}

fn problem_for(error: ConnectError) -> Problem {
    let invalid = |field: &str, message: String| Problem::invalid(vec![FieldError::new(field, message)]);
    match error {
        ConnectError::InvalidSubdomain(e) => invalid("subdomain", e.to_string()),
        ConnectError::ReturnUrlNotAllowed => invalid(
            "return_url",
            "is not on this deployment's allow-list (HANDOFF_ALLOWED_RETURN_URLS); the browser is only sent back to those".into(),
        ),
        ConnectError::CredentialsRejected => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "zendesk-credentials-rejected",
            "Zendesk did not accept these credentials",
            "Zendesk answered 401. Likely causes: the email is not the owner of the API token; token access \
             is turned off in Admin Center (Apps and integrations > Zendesk API); the token was deactivated \
             (tokens idle for 30 days are) or deleted; for client credentials, a wrong client id or secret.",
        ),
        ConnectError::NotAgent(role) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "zendesk-user-not-agent",
            "The Zendesk user is not an agent",
            format!("Handoff acts as the connecting user, who must be an agent or admin (this one is `{role}`)."),
        ),
        ConnectError::UnknownSubdomain => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "zendesk-subdomain-unknown",
            "No Zendesk account at this subdomain",
            "Nothing answered as a Zendesk account there: check the subdomain (the part before .zendesk.com).",
        ),
        ConnectError::OAuthNotConfigured => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "oauth-not-configured",
            "OAuth is not set up on this deployment",
            "The app's Zendesk OAuth client id and secret are missing from Secrets Manager ({prefix}app/zendesk-oauth); see README, Connect Zendesk.",
        ),
        ConnectError::Zendesk(e) => Problem::unavailable(format!("Zendesk could not be reached: {e}"), 5),
        ConnectError::Store(e) => {
            tracing::error!(error = %e, "storage failed");
            Problem::unavailable("Storage is unavailable; nothing was changed. Retry the request.", 2)
        }
        ConnectError::Random(e) => Problem::internal(format!("could not make a random value: {e}")),
        ConnectError::Busy => Problem::unavailable("A token refresh for this bot is in progress; try again in a few seconds.", 3),
    }
}
