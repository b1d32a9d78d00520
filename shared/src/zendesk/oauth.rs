//! Zendesk's OAuth token endpoint (`POST /oauth/tokens`, JSON body) and token revocation.
//! Expiry is always asked for explicitly: Zendesk's defaults changed in 2026 and may again.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::client::{Account, ZendeskClient};
use super::error::ZendeskError;
use crate::deadline::Deadline;

/// The smallest set of Zendesk OAuth scopes Handoff needs: create and read tickets, read users
/// (requester context, `users/me`), write users (a new visitor's user, so the ticket's first
/// comment is theirs; a verified visitor's phone), and manage its webhook.
pub const ZENDESK_SCOPES: &str = "tickets:read tickets:write users:read users:write webhooks:read webhooks:write";

/// Access-token lifetime asked for (Zendesk allows 300 s < x < 172,800 s).
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Refresh-token lifetime asked for (604,800 s ≤ x < 7,776,000 s); refreshing renews it.
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;

pub use handoff_core::zendesk::credentials::OAuthClient;

/// What the token endpoint grants.
#[derive(Clone, Deserialize)]
pub struct TokenGrant {
    pub access_token: SecretString,
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

fn token_url(base: &Url) -> Result<Url, ZendeskError> {
    Url::parse(&format!("{}/oauth/tokens", base.as_str().trim_end_matches('/')))
        .map_err(|e| ZendeskError::Unexpected(format!("bad Zendesk URL: {e}")))
}

impl ZendeskClient {
    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        base: &Url,
        client: &OAuthClient,
        code: &SecretString,
        redirect_uri: &str,
        verifier: &SecretString,
        deadline: Deadline,
    ) -> Result<TokenGrant, ZendeskError> {
        let body = json!({
            "grant_type": "authorization_code",
            "code": code.expose_secret(),
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose_secret(),
            "redirect_uri": redirect_uri,
            "code_verifier": verifier.expose_secret(),
            "scope": ZENDESK_SCOPES,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        });
        self.token_request(base, &body, deadline).await
    }

    /// Trades a (single-use) refresh token for a new pair.
    pub async fn refresh(
        &self,
        base: &Url,
        client: &OAuthClient,
        refresh_token: &SecretString,
        deadline: Deadline,
    ) -> Result<TokenGrant, ZendeskError> {
        let body = json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose_secret(),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        });
        self.token_request(base, &body, deadline).await
    }

    /// The client credentials grant (confidential clients of the bot's own account).
    pub async fn client_credentials(
        &self,
        base: &Url,
        client: &OAuthClient,
        deadline: Deadline,
    ) -> Result<TokenGrant, ZendeskError> {
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose_secret(),
            "scope": ZENDESK_SCOPES,
            "expires_in": ACCESS_TOKEN_SECONDS,
        });
        self.token_request(base, &body, deadline).await
    }

    /// Revokes the token the account signs in with (`DELETE /api/v2/oauth/tokens/current.json`).
    pub async fn revoke_current(&self, account: &Account, deadline: Deadline) -> Result<(), ZendeskError> {
        let url = account
            .base_url
            .join("/api/v2/oauth/tokens/current.json")
            .map_err(|e| ZendeskError::Unexpected(format!("bad Zendesk URL: {e}")))?;
        self.send_authorized(account, deadline, |http| http.request(Method::DELETE, url.clone())).await?;
        Ok(())
    }

    async fn token_request(
        &self,
        base: &Url,
        body: &serde_json::Value,
        deadline: Deadline,
    ) -> Result<TokenGrant, ZendeskError> {
        let url = token_url(base)?;
        let response = self.send_unauthenticated(deadline, |http| http.post(url.clone()).json(body)).await?;
        let bytes = response.bytes().await.map_err(|e| ZendeskError::Transport(e.without_url().to_string()))?;
        // The body holds tokens: a parse error reports its kind and place only.
        serde_json::from_slice(&bytes).map_err(|e| {
            ZendeskError::Unexpected(format!(
                "token answer not understood ({:?} at column {})",
                e.classify(),
                e.column()
            ))
        })
    }
}
