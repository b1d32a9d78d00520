//! Zendesk's OAuth endpoints as the simulator plays them: the authorize page approves at once (a
//! test can make the next one deny), codes are single use and live 120 s, PKCE S256 is checked,
//! refresh tokens are single use and rotate (a refresh deletes the previous pair), client
//! credentials are granted to confidential clients, and access tokens expire.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::State;

/// An OAuth client registered with the simulator, acting for one agent.
#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub user_id: u64,
}

#[derive(Debug, Clone)]
pub struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    user_id: u64,
    issued: Instant,
}

#[derive(Debug, Clone)]
pub struct Refresh {
    client_id: String,
    user_id: u64,
    access_token: String,
    expires: Instant,
}

#[derive(Debug, Default)]
pub struct OAuthState {
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, Code>,
    pub refresh_tokens: HashMap<String, Refresh>,
    /// Access token → when it stops working.
    pub expiries: HashMap<String, Instant>,
    pub deny_next: bool,
    /// Show a consent page before granting, as Zendesk does (tests that drive a browser).
    pub ask_consent: bool,
    pub counter: u64,
}

fn token(prefix: &str, state: &mut OAuthState) -> String {
    state.counter += 1;
    format!(
        "{prefix}-{}-{:016x}",
        state.counter,
        (std::process::id() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ state.counter.wrapping_mul(0xD6E8_FEB8_6659_FD93)
    )
}

fn oauth_error(error: &str, description: &str) -> (u16, Value) {
    (400, json!({"error": error, "error_description": description}))
}

/// What the authorize endpoint answers the browser.
pub enum Authorization {
    /// Redirect here (to the client's redirect URI, with a code or an error).
    Redirect(String),
    /// Show this page: the admin allows or denies (when the simulator asks for consent).
    AskConsent(String),
}

/// `GET /oauth/authorizations/new`: a redirect to the client, or the consent page first.
pub fn authorize(state: &mut State, query: &[(String, String)]) -> Result<Authorization, (u16, Value)> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (Some(client_id), Some(redirect_uri)) = (get("client_id"), get("redirect_uri")) else {
        return Err(oauth_error("invalid_request", "client_id and redirect_uri are required"));
    };
    let Some(client) = state.oauth.clients.get(&client_id).cloned() else {
        return Err(oauth_error("invalid_client", "unknown client"));
    };
    if get("response_type").as_deref() != Some("code") {
        return Err(oauth_error("unsupported_response_type", "response_type must be code"));
    }
    if get("code_challenge").is_some() && get("code_challenge_method").as_deref() != Some("S256") {
        return Err(oauth_error("invalid_request", "code_challenge_method must be S256"));
    }
    let mut location =
        url::Url::parse(&redirect_uri).map_err(|_| oauth_error("invalid_request", "bad redirect_uri"))?;
    if state.oauth.ask_consent && get("decision").is_none() {
        return Ok(Authorization::AskConsent(consent_page(state, client.user_id, query)));
    }
    if std::mem::take(&mut state.oauth.deny_next) || get("decision").as_deref() == Some("deny") {
        location.query_pairs_mut().append_pair("error", "access_denied");
    } else {
        let code = token("code", &mut state.oauth);
        state.oauth.codes.insert(
            code.clone(),
            Code {
                client_id,
                redirect_uri,
                challenge: get("code_challenge"),
                user_id: client.user_id,
                issued: Instant::now(),
            },
        );
        location.query_pairs_mut().append_pair("code", &code);
    }
    if let Some(st) = get("state") {
        location.query_pairs_mut().append_pair("state", &st);
    }
    Ok(Authorization::Redirect(location.to_string()))
}

/// The page Zendesk shows an admin before granting a client access: Allow or Deny, each a GET
/// of this endpoint again with the same parameters and a `decision`.
fn consent_page(state: &State, user_id: u64, query: &[(String, String)]) -> String {
    let escape = crate::model::escape_html;
    let who = state.users.iter().find(|u| u.id == user_id).map(|u| u.email.clone()).unwrap_or_default();
    let hidden: String = query
        .iter()
        .filter(|(k, _)| k != "decision")
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Allow access? — Zendesk simulator</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:3rem auto;max-width:28rem;color:#1f2933}}\
         button{{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:4px;border:1px solid #3e7bfa}}\
         #allow{{background:#3e7bfa;color:#fff}}</style></head><body><h1>Allow access?</h1>\
         <p>An app wants to act in this Zendesk account as <strong>{}</strong>: read and write tickets and users, \
         and manage webhooks.</p><form method=\"get\" action=\"/oauth/authorizations/new\">{hidden}\
         <button id=\"allow\" name=\"decision\" value=\"allow\">Allow</button>\
         <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>",
        escape(&who)
    )
}

/// `POST /oauth/tokens`.
pub fn tokens(state: &mut State, body: &Value) -> (u16, Value) {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(client_id) = field("client_id") else { return oauth_error("invalid_client", "client_id is required") };
    let Some(client) = state.oauth.clients.get(&client_id).cloned() else {
        return oauth_error("invalid_client", "unknown client");
    };
    let secret_ok = field("client_secret").is_some_and(|s| s == client.secret);
    if field("client_secret").is_some() && !secret_ok {
        return oauth_error("invalid_client", "client_secret is wrong");
    }
    let access_seconds = body.get("expires_in").and_then(Value::as_i64).unwrap_or(1800).clamp(301, 172_799);
    let refresh_seconds = body.get("refresh_token_expires_in").and_then(Value::as_i64).unwrap_or(2_592_000);
    match field("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some(code) = field("code").and_then(|c| state.oauth.codes.remove(&c)) else {
                return oauth_error("invalid_grant", "the code is unknown or was used");
            };
            if code.client_id != client_id || code.issued.elapsed() > Duration::from_secs(120) {
                return oauth_error("invalid_grant", "the code expired or belongs to another client");
            }
            if field("redirect_uri").as_deref() != Some(code.redirect_uri.as_str()) {
                return oauth_error("invalid_grant", "redirect_uri does not match");
            }
            if let Some(challenge) = &code.challenge {
                let verifier = field("code_verifier").unwrap_or_default();
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
                if &computed != challenge {
                    return oauth_error("invalid_grant", "code_verifier does not match the challenge");
                }
            } else if !secret_ok {
                return oauth_error("invalid_client", "client_secret is wrong");
            }
            issue(state, &client_id, code.user_id, access_seconds, Some(refresh_seconds))
        }
        Some("refresh_token") => {
            let Some(old) = field("refresh_token").and_then(|t| state.oauth.refresh_tokens.remove(&t)) else {
                return oauth_error("invalid_grant", "the refresh token is unknown, used or revoked");
            };
            if old.client_id != client_id || old.expires < Instant::now() {
                return oauth_error("invalid_grant", "the refresh token expired or belongs to another client");
            }
            // Rotation: the previous access token stops working too.
            state.bearer_tokens.remove(&old.access_token);
            state.oauth.expiries.remove(&old.access_token);
            issue(state, &client_id, old.user_id, access_seconds, Some(refresh_seconds))
        }
        Some("client_credentials") => {
            if !secret_ok {
                return oauth_error("invalid_client", "client_secret is wrong");
            }
            issue(state, &client_id, client.user_id, access_seconds, None)
        }
        _ => oauth_error("unsupported_grant_type", "grant_type is not supported"),
    }
}

fn issue(state: &mut State, client_id: &str, user_id: u64, access_seconds: i64, refresh: Option<i64>) -> (u16, Value) {
    let access = token("access", &mut state.oauth);
    state.bearer_tokens.insert(access.clone(), user_id);
    state.oauth.expiries.insert(access.clone(), Instant::now() + Duration::from_secs(access_seconds as u64));
    let mut answer = json!({
        "access_token": access, "token_type": "bearer", "expires_in": access_seconds,
        "scope": "tickets:read tickets:write users:read users:write webhooks:read webhooks:write",
    });
    if let Some(seconds) = refresh {
        let refresh_token = token("refresh", &mut state.oauth);
        state.oauth.refresh_tokens.insert(
            refresh_token.clone(),
            Refresh {
                client_id: client_id.to_owned(),
                user_id,
                access_token: access,
                expires: Instant::now() + Duration::from_secs(seconds as u64),
            },
        );
        answer["refresh_token"] = json!(refresh_token);
        answer["refresh_token_expires_in"] = json!(seconds);
    }
    (200, answer)
}

/// True when a bearer token has passed its expiry.
pub fn expired(state: &State, token: &str) -> bool {
    state.oauth.expiries.get(token).is_some_and(|at| *at < Instant::now())
}

/// Revokes an access token and any refresh token issued with it.
pub fn revoke(state: &mut State, access_token: &str) {
    state.bearer_tokens.remove(access_token);
    state.oauth.expiries.remove(access_token);
    state.oauth.refresh_tokens.retain(|_, r| r.access_token != access_token);
}
