//! How a bot signs in to Zendesk, and the app's OAuth client: values only (the client turns
//! them into headers and token requests).

use secrecy::{ExposeSecret, SecretString};

/// How one bot authenticates to its Zendesk account.
#[derive(Clone)]
pub enum Credentials {
    /// Legacy: `Basic base64("{email}/token:{api_token}")`.
    ApiToken { email: String, token: SecretString },
    /// OAuth access token (authorization code or client credentials grant).
    Bearer { access_token: SecretString },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiToken { email, .. } => f.debug_struct("ApiToken").field("email", email).finish_non_exhaustive(),
            Self::Bearer { .. } => f.write_str("Bearer { .. }"),
        }
    }
}

impl Credentials {
    /// True when both sign in the same way with the same secret (a reload found nothing new).
    pub fn same_as(&self, other: &Credentials) -> bool {
        match (self, other) {
            (Self::ApiToken { email: a, token: t }, Self::ApiToken { email: b, token: u }) => {
                a == b && t.expose_secret() == u.expose_secret()
            }
            (Self::Bearer { access_token: a }, Self::Bearer { access_token: b }) => {
                a.expose_secret() == b.expose_secret()
            }
            _ => false,
        }
    }
}

/// The app's OAuth client (its "Unique Identifier", not the numeric id, and its secret).
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}
