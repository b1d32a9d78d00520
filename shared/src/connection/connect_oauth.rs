//! Connecting with OAuth (authorization code with PKCE): the authorize URL, and the callback that
//! trades the code for tokens under the state's one-time use.

use secrecy::SecretString;
use tracing::warn;

use super::oauth_flow::{self, STATE_TTL_SECONDS};
use super::service::*;
use crate::deadline::Deadline;
use crate::store::*;
use crate::zendesk::oauth::TokenGrant;
use crate::zendesk::subdomain::{InvalidSubdomain, normalize_subdomain};
use crate::zendesk::{Account, Credentials, ZendeskError};

impl Connector<'_> {
    /// `POST /v1/bots/{bot}/zendesk/connect`: state + PKCE stored for ten minutes.
    pub async fn start_oauth(
        &self,
        bot_id: &str,
        subdomain: &str,
        return_url: &str,
        actor: Option<&str>,
    ) -> Result<OAuthStart, ConnectError> {
        let subdomain = normalize_subdomain(subdomain)?;
        if !self.config.return_url_allowed(return_url) {
            return Err(ConnectError::ReturnUrlNotAllowed);
        }
        let client = self.stores.secrets.get_oauth_client().await?.ok_or(ConnectError::OAuthNotConfigured)?;
        let state = oauth_flow::new_state().map_err(random)?;
        let (verifier, challenge) = oauth_flow::new_pkce().map_err(random)?;
        let expires_at = now() + STATE_TTL_SECONDS;
        let base = self.config.account_base(&subdomain)?;
        let url = oauth_flow::authorize_url(&base, &client.client_id, &self.config.redirect_uri(), &state, &challenge)
            .map_err(|_| ConnectError::InvalidSubdomain(InvalidSubdomain(subdomain.clone())))?;
        self.stores
            .oauth_states
            .put_state(&OAuthState {
                state,
                bot_id: bot_id.to_owned(),
                subdomain: subdomain.clone(),
                verifier: SecretString::from(verifier),
                return_url: return_url.to_owned(),
                expires_at,
            })
            .await?;
        self.audit(bot_id, "connect_started", "ok", actor, [("subdomain", subdomain.as_str())]).await;
        Ok(OAuthStart { authorize_url: url.to_string(), expires_at: rfc3339(expires_at) })
    }

    /// `GET /oauth/zendesk/callback`: consumes the state once, exchanges the code, verifies the
    /// user, stores the tokens, and sends the browser back with the outcome.
    pub async fn finish_oauth(&self, query: CallbackQuery) -> CallbackOutcome {
        let taken = match query.state.as_deref() {
            Some(state) if !state.is_empty() => self.stores.oauth_states.take_state(state, now()).await,
            _ => Ok(None),
        };
        let pending = match taken {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                warn!("OAuth callback with an unknown, used or expired state");
                return CallbackOutcome::InvalidState;
            }
            Err(e) => {
                warn!(error = %e, "could not read the OAuth state");
                return CallbackOutcome::InvalidState;
            }
        };
        let bot_id = pending.bot_id.clone();
        let outcome = match (query.error, query.code) {
            (Some(error), _) => Err(if error == "access_denied" { "access_denied" } else { "authorization_failed" }),
            (None, None) => Err("missing_code"),
            (None, Some(code)) => self.complete_oauth(&pending, &code).await,
        };
        let reason = match outcome {
            Ok(()) => "ok",
            Err(reason) => reason,
        };
        self.audit(&bot_id, "oauth_callback", reason, None, [("subdomain", pending.subdomain.as_str())]).await;
        CallbackOutcome::Redirect(oauth_flow::outcome_url(&pending.return_url, outcome))
    }

    pub(super) async fn complete_oauth(&self, pending: &OAuthState, code: &SecretString) -> Result<(), &'static str> {
        let deadline = Deadline::after(BUDGET);
        let client = match self.stores.secrets.get_oauth_client().await {
            Ok(Some(client)) => client,
            _ => return Err("oauth_not_configured"),
        };
        let base = self.config.account_base(&pending.subdomain).map_err(|_| "invalid_subdomain")?;
        let grant = self
            .zendesk
            .exchange_code(&base, &client, code, &self.config.redirect_uri(), &pending.verifier, deadline)
            .await
            .map_err(|e| {
                warn!(error = %e, "OAuth code exchange failed");
                "exchange_failed"
            })?;
        let account =
            Account { base_url: base, credentials: Credentials::Bearer { access_token: grant.access_token.clone() } };
        let verified = self.verify(&account, deadline).await.map_err(|e| match e {
            ConnectError::NotAgent(_) => "not_agent",
            _ => "verification_failed",
        });
        let saved = match verified {
            Ok(user) => {
                let secret = oauth_secret(&grant);
                self.save(
                    &pending.bot_id,
                    &pending.subdomain,
                    ConnectionMode::Oauth,
                    &grant,
                    &user,
                    &account,
                    secret,
                    None,
                )
                .await
                .map(|_| ())
                .map_err(|_| "storage_failed")
            }
            Err(reason) => Err(reason),
        };
        if saved.is_err() {
            // Tokens that will not be used must not stay valid at Zendesk.
            self.revoke(&pending.subdomain, oauth_secret(&grant)).await;
        }
        saved
    }
}

pub(super) fn grant_error(e: ZendeskError) -> ConnectError {
    match e {
        ZendeskError::OAuth { .. } | ZendeskError::Unauthorized => ConnectError::CredentialsRejected,
        ZendeskError::NotFound => ConnectError::UnknownSubdomain,
        ZendeskError::Transport(ref m) if m.starts_with("connection failed") => ConnectError::UnknownSubdomain,
        e => ConnectError::Zendesk(e),
    }
}

pub(super) fn oauth_secret(grant: &TokenGrant) -> BotSecret {
    BotSecret::new(StoredCredentials::Oauth {
        access_token: grant.access_token.clone(),
        refresh_token: grant.refresh_token.clone(),
        access_token_expires_at: grant.expires_in.map(|s| now() + s),
    })
}
