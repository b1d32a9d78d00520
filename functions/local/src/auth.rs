//! Local stand-in for API Gateway's JWT authorizer: HS256 tokens signed with a key made on first
//! run (`{data}/jwt-signing-key`, mode 0600), and, with `--jwt-issuer`, an OpenID Connect
//! issuer's RS256 tokens checked against its published keys (issuer, audience, expiry), as API
//! Gateway checks them. Verified claims are handed to the handlers in the shape API Gateway uses
//! (`requestContext.authorizer.jwt.claims` / `.scopes`).

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizerJwtDescription;
use serde::{Deserialize, Serialize};

use crate::persist::write_private;

/// `iss` and `aud` of local tokens.
pub const ISSUER: &str = "handoff-local";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>` (mint one with `handoff-local token`)")]
    Missing,
    #[error("the token is not valid here: {0}")]
    Invalid(String),
    #[error("cannot use the signing key at {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("cannot use the token issuer {issuer}: {reason}")]
    Issuer { issuer: String, reason: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    bot_id: String,
    scope: String,
    iat: i64,
    exp: i64,
}

pub struct LocalAuth {
    key: Vec<u8>,
    issuer: Option<Issuer>,
}

/// An OpenID Connect issuer whose tokens are accepted: its name, the audiences a token must
/// name, and its signing keys by key id.
pub struct Issuer {
    name: String,
    audiences: Vec<String>,
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl Issuer {
    /// Reads the issuer's discovery document and its key set (once, at start).
    pub async fn discover(issuer: &url::Url, audiences: Vec<String>) -> Result<Self, AuthError> {
        let name = issuer.as_str().trim_end_matches('/').to_owned();
        let failed = |reason: String| AuthError::Issuer { issuer: name.clone(), reason };
        if !handoff::address::is_https_or_loopback(issuer) {
            return Err(failed("it must be https (or http on this machine): its keys decide who gets in".into()));
        }
        let client = handoff::tls::http_client(handoff::tls::Trust::PublicAndExtra, |b| {
            b.timeout(std::time::Duration::from_secs(10)).redirect(reqwest::redirect::Policy::none())
        })
        .map_err(|e| failed(e.to_string()))?;
        let get = |url: String| {
            let client = client.clone();
            async move {
                let response = client.get(&url).send().await.map_err(|e| format!("{url}: {}", e.without_url()))?;
                if !response.status().is_success() {
                    return Err(format!("{url} answered {}", response.status()));
                }
                response.json::<serde_json::Value>().await.map_err(|e| format!("{url}: {}", e.without_url()))
            }
        };
        let discovery = get(format!("{name}/.well-known/openid-configuration")).await.map_err(failed)?;
        if discovery["issuer"].as_str().map(|i| i.trim_end_matches('/')) != Some(name.as_str()) {
            return Err(failed("its discovery document names another issuer".into()));
        }
        let jwks_uri = discovery["jwks_uri"].as_str().ok_or_else(|| failed("no jwks_uri".into()))?.to_owned();
        if !secure_or_local(&jwks_uri) {
            return Err(failed("its jwks_uri must be https (or http on this machine)".into()));
        }
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(get(jwks_uri).await.map_err(failed)?)
            .map_err(|e| failed(format!("its key set does not read: {e}")))?;
        // RSA signing keys for RS256 only: a key published for encryption or another algorithm
        // never verifies a token.
        let keys = set
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)))
            .filter(|jwk| matches!(jwk.common.public_key_use, None | Some(jsonwebtoken::jwk::PublicKeyUse::Signature)))
            .filter(|jwk| matches!(jwk.common.key_algorithm, None | Some(jsonwebtoken::jwk::KeyAlgorithm::RS256)))
            .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok().map(|key| (jwk.common.key_id.clone(), key)))
            .collect::<Vec<_>>();
        if keys.is_empty() {
            return Err(failed("its key set has no usable key".into()));
        }
        Ok(Self { name, audiences, keys })
    }

    /// Verifies one of the issuer's tokens as API Gateway does: RS256, its key, this issuer (which
    /// it must name), an allowed audience (`aud`, or `client_id` when there is no `aud`, as in
    /// Cognito's access tokens), not expired, not before its `nbf`.
    fn verify(&self, token: &str, kid: Option<&str>) -> Result<serde_json::Map<String, serde_json::Value>, AuthError> {
        let key = self
            .keys
            .iter()
            .find(|(id, _)| kid.is_none() || id.as_deref() == kid)
            .map(|(_, key)| key)
            .ok_or_else(|| AuthError::Invalid("it is signed with a key the issuer does not publish".into()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.name]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, key, &validation)
            .map_err(|e| AuthError::Invalid(describe(e.kind())))?;
        let claims = data.claims;
        if claims.get("iss").and_then(serde_json::Value::as_str).map(|i| i.trim_end_matches('/')) != Some(&self.name) {
            return Err(AuthError::Invalid("it was not issued by the configured issuer".into()));
        }
        let named = |claim: &str| match claims.get(claim) {
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            Some(serde_json::Value::Array(many)) => many.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let audiences = if claims.contains_key("aud") { named("aud") } else { named("client_id") };
        if !audiences.iter().any(|a| self.audiences.contains(a)) {
            return Err(AuthError::Invalid("it is not meant for this API (audience)".into()));
        }
        Ok(claims)
    }
}

impl LocalAuth {
    /// Reads the key under `data_dir`, creating it (32 random bytes) on first run.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AuthError> {
        let path = data_dir.join("jwt-signing-key");
        let key_error = |reason: String| AuthError::Key { path: path.display().to_string(), reason };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|_| key_error("not base64; delete it to make a new one".into()))?;
                Ok(Self { key, issuer: None })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|e| key_error(e.to_string()))?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
                write_private(&path, encoded.as_bytes()).map_err(|e| key_error(e.to_string()))?;
                Ok(Self { key, issuer: None })
            }
            Err(e) => Err(key_error(e.to_string())),
        }
    }

    /// Also accepts `issuer`'s tokens.
    pub fn with_issuer(self, issuer: Issuer) -> Self {
        Self { issuer: Some(issuer), ..self }
    }

    /// A token for `bot_id` with `scopes`, valid for `ttl_seconds`.
    pub fn mint(&self, bot_id: &str, scopes: &[String], ttl_seconds: i64) -> Result<String, AuthError> {
        self.mint_as(&format!("local:{bot_id}"), bot_id, scopes, ttl_seconds)
    }

    /// A token for `bot_id` in `subject`'s name (who the audit trail says acted).
    pub fn mint_as(
        &self,
        subject: &str,
        bot_id: &str,
        scopes: &[String],
        ttl_seconds: i64,
    ) -> Result<String, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: ISSUER.into(),
            sub: subject.into(),
            bot_id: bot_id.into(),
            scope: scopes.join(" "),
            iat: now,
            exp: now + ttl_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.key))
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Verifies an `Authorization` header value; the claims as API Gateway would pass them.
    pub fn verify(&self, authorization: Option<&str>) -> Result<ApiGatewayRequestAuthorizerJwtDescription, AuthError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(describe(e.kind())))?;
        if let (Algorithm::RS256, Some(issuer)) = (header.alg, &self.issuer) {
            return Ok(description_of(issuer.verify(token, header.kid.as_deref())?));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.key), &validation)
            .map_err(|e| AuthError::Invalid(describe(e.kind())))?;
        let claims = data.claims;
        let mut description = ApiGatewayRequestAuthorizerJwtDescription::default();
        description.scopes = Some(claims.scope.split_whitespace().map(str::to_owned).collect());
        description.claims = HashMap::from([
            ("iss".to_owned(), claims.iss),
            ("aud".to_owned(), claims.aud),
            ("sub".to_owned(), claims.sub),
            ("bot_id".to_owned(), claims.bot_id),
            ("scope".to_owned(), claims.scope),
            ("iat".to_owned(), claims.iat.to_string()),
            ("exp".to_owned(), claims.exp.to_string()),
        ]);
        Ok(description)
    }
}

/// An https URL, or an http one on this machine (a test issuer): an issuer's keys fetched over
/// plain HTTP from elsewhere could be anyone's.
fn secure_or_local(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| handoff::address::is_https_or_loopback(&url))
}

/// An issuer's claims as API Gateway passes them: every claim as a string (arrays as API Gateway
/// writes them, `[a b]`), the scopes from `scope` (or `scp`).
fn description_of(claims: serde_json::Map<String, serde_json::Value>) -> ApiGatewayRequestAuthorizerJwtDescription {
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let items: Vec<String> =
                items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    };
    let scopes = claims
        .get("scope")
        .or_else(|| claims.get("scp"))
        .map(|s| match s {
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            other => text(other).split_whitespace().map(str::to_owned).collect(),
        })
        .unwrap_or_default();
    let mut description = ApiGatewayRequestAuthorizerJwtDescription::default();
    description.scopes = Some(scopes);
    description.claims = claims.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    description
}

fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        ExpiredSignature => "it has expired; mint a new one".into(),
        InvalidSignature => "its signature does not match this runner's key (minted for another data folder?)".into(),
        InvalidIssuer | InvalidAudience => "it was not issued by handoff-local".into(),
        other => format!("{other:?}"),
    }
}
