//! What a function is configured with, apart from the code that reads it (`app::Environment`):
//! the errors of reading it and the settings console's sign-in, which the app and the edge both
//! hold.

use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How the console signs an admin in, in AWS (template parameters `ConsoleIssuer`,
/// `ConsoleClientId`; without them the page says what to configure).
#[derive(Debug, Clone, Default)]
pub struct ConsoleConfig {
    pub oidc_issuer: Option<Url>,
    pub oidc_client_id: Option<String>,
    /// Scopes asked for; the API's own scopes must be among those the issuer grants.
    pub oidc_scope: String,
    /// `HANDOFF_EMBED_ORIGINS`: the dashboards that embed the card (template parameter
    /// `EmbedOrigins`); the OAuth landing page tells only them, and Handoff's own console, how the
    /// connection went.
    pub embed_origins: Vec<String>,
}

/// A list of web origins, comma- or space-separated (`EmbedOrigins`, `--embed-origins`): each
/// http(s) with a host, written as browsers send `Origin`. The first item that is not one is the
/// error.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split([',', ' '])
        .filter(|item| !item.is_empty())
        .map(|item| match Url::parse(item) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => {
                Ok(url.origin().ascii_serialization())
            }
            _ => Err(format!("`{item}` is not an origin such as https://app.example.com")),
        })
        .collect()
}
