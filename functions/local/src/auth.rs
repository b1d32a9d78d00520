//! Local stand-in for API Gateway's JWT authorizer: HS256 tokens signed with a key made on first
//! run (`{data}/jwt-signing-key`, mode 0600). Verified claims are handed to the handlers in the
//! shape API Gateway uses (`requestContext.authorizer.jwt.claims` / `.scopes`).

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
                Ok(Self { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|e| key_error(e.to_string()))?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
                write_private(&path, encoded.as_bytes()).map_err(|e| key_error(e.to_string()))?;
                Ok(Self { key })
            }
            Err(e) => Err(key_error(e.to_string())),
        }
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

fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        ExpiredSignature => "it has expired; mint a new one".into(),
        InvalidSignature => "its signature does not match this runner's key (minted for another data folder?)".into(),
        InvalidIssuer | InvalidAudience => "it was not issued by handoff-local".into(),
        other => format!("{other:?}"),
    }
}
