//! The values of an OAuth authorization-code flow with PKCE: `state` (32 random bytes, single
//! use), the code verifier and its S256 challenge, the authorize URL, and the check of the
//! return URL against the allow-list (no open redirect). Randomness comes from the OS CSPRNG.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use url::Url;

use crate::zendesk::oauth::ZENDESK_SCOPES;

/// How long a `state` (and its verifier) may wait for the callback.
pub const STATE_TTL_SECONDS: i64 = 600;

fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh `state` value: 32 random bytes, base64url.
pub fn new_state() -> Result<String, getrandom::Error> {
    random_token()
}

/// A PKCE code verifier (43 characters of base64url) and its S256 challenge.
pub fn new_pkce() -> Result<(String, String), getrandom::Error> {
    let verifier = random_token()?;
    let challenge = pkce_challenge(&verifier);
    Ok((verifier, challenge))
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636's S256.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Zendesk's authorize endpoint with every parameter of the flow.
pub fn authorize_url(
    account_base: &Url,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<Url, url::ParseError> {
    let mut url = Url::parse(&format!("{}/oauth/authorizations/new", account_base.as_str().trim_end_matches('/')))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", ZENDESK_SCOPES)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url)
}

/// Handoff's own page where the console's OAuth popup lands (`/console/oauth-done`): it only tells
/// the card that opened it the outcome, so it is a return URL without being on the allow-list.
pub const CONSOLE_OAUTH_LANDING: &str = "/console/oauth-done";

/// True when `candidate` is an absolute http(s) URL under one of `allowed` (same scheme, host and
/// port, and a path starting with the allowed path). Anything else could send the admin's browser
/// somewhere an attacker chose.
pub fn return_url_allowed(candidate: &str, allowed: &[Url]) -> bool {
    let Ok(url) = Url::parse(candidate) else { return false };
    if !matches!(url.scheme(), "https" | "http") || url.username() != "" || url.password().is_some() {
        return false;
    }
    allowed.iter().any(|base| {
        base.scheme() == url.scheme()
            && base.host_str() == url.host_str()
            && base.port_or_known_default() == url.port_or_known_default()
            && path_within(url.path(), base.path())
    })
}

/// `path` is `base` or below it, on a segment boundary (`/settings` allows `/settings/x`, never
/// `/settings-evil`).
fn path_within(path: &str, base: &str) -> bool {
    match path.strip_prefix(base) {
        Some(rest) => base.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// `return_url` with the outcome appended as query parameters (`zendesk=connected`, or
/// `zendesk=error&reason=…`). Never a code or a token.
pub fn outcome_url(return_url: &str, outcome: Result<(), &str>) -> String {
    let Ok(mut url) = Url::parse(return_url) else { return return_url.to_owned() };
    match outcome {
        Ok(()) => url.query_pairs_mut().append_pair("zendesk", "connected"),
        Err(reason) => url.query_pairs_mut().append_pair("zendesk", "error").append_pair("reason", reason),
    };
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (verifier, challenge) = new_pkce().unwrap();
        assert_eq!(verifier.len(), 43);
        assert_eq!(pkce_challenge(&verifier), challenge);
        assert_ne!(new_state().unwrap(), new_state().unwrap());
    }

    #[test]
    fn authorize_url_carries_every_parameter() {
        let base = Url::parse("https://acme.zendesk.com").unwrap();
        let url =
            authorize_url(&base, "zdg-handoff", "https://api.example.com/oauth/zendesk/callback", "st", "ch").unwrap();
        assert_eq!(url.path(), "/oauth/authorizations/new");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "zdg-handoff");
        assert_eq!(query["scope"], ZENDESK_SCOPES);
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!((query["state"].as_str(), query["code_challenge"].as_str()), ("st", "ch"));
    }

    #[test]
    fn return_urls_must_be_on_the_allow_list() {
        let allowed = vec![Url::parse("https://app.example.com/settings/").unwrap()];
        assert!(return_url_allowed("https://app.example.com/settings/zendesk?tab=1", &allowed));
        for bad in [
            "https://app.example.com/other",
            "https://evil.example.com/settings/",
            "http://app.example.com/settings/",
            "https://app.example.com:8443/settings/",
            "https://user@app.example.com/settings/",
            "javascript:alert(1)",
            "/settings/",
            "",
        ] {
            assert!(!return_url_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn a_base_without_a_trailing_slash_allows_only_whole_segments() {
        let allowed = vec![Url::parse("https://app.example.com/settings").unwrap()];
        assert!(return_url_allowed("https://app.example.com/settings", &allowed));
        assert!(return_url_allowed("https://app.example.com/settings/zendesk?x=1", &allowed));
        for bad in [
            "https://app.example.com/settings-evil",
            "https://app.example.com/settingsX",
            "https://app.example.com/set",
        ] {
            assert!(!return_url_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn outcome_urls_keep_the_query_and_add_the_outcome() {
        assert_eq!(
            outcome_url("https://app.example.com/s?tab=1", Ok(())),
            "https://app.example.com/s?tab=1&zendesk=connected"
        );
        assert_eq!(
            outcome_url("https://app.example.com/s", Err("access_denied")),
            "https://app.example.com/s?zendesk=error&reason=access_denied"
        );
    }
}
