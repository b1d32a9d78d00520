//! Zendesk's client follows no redirect: a 307 answered to a token request would otherwise send
//! the client secret and the refresh token (in the body) to wherever `Location` points, and a 30x
//! to an API call would send the request there. The simulator answers redirects to a second
//! loopback listener, which must see nothing, and every call fails with an error naming no secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use handoff::deadline::Deadline;
use handoff::zendesk::client::{Account, Credentials};
use handoff::zendesk::oauth::OAuthClient;
use secrecy::SecretString;
use zendesk_sim::{Fault, Route, Simulator};

use crate::support::*;

const REFRESH_TOKEN: &str = "refresh-token-93b1c7";
const ACCESS_TOKEN: &str = "access-token-4e2d8a";

/// A listener that only counts who connects to it.
struct Elsewhere {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl Elsewhere {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/stolen", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((_stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { url, connections }
    }
}

#[tokio::test]
async fn redirects_from_zendesk_are_refused_not_followed() {
    let sim = Simulator::start().await.unwrap();
    sim.add_api_token(AGENT_EMAIL, API_TOKEN);
    sim.add_oauth_client(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, AGENT_EMAIL);
    let elsewhere = Elsewhere::start().await;
    let zendesk = fast_client(Duration::from_secs(5));
    let base = url::Url::parse(&sim.base_url).unwrap();
    let api = Account {
        base_url: base.clone(),
        credentials: Credentials::ApiToken { email: AGENT_EMAIL.into(), token: SecretString::from(API_TOKEN) },
    };
    let bearer = Account {
        base_url: base.clone(),
        credentials: Credentials::Bearer { access_token: SecretString::from(ACCESS_TOKEN) },
    };
    let client =
        OAuthClient { client_id: OAUTH_CLIENT_ID.into(), client_secret: SecretString::from(OAUTH_CLIENT_SECRET) };
    let deadline = || Deadline::after(Duration::from_secs(10));
    let mut errors = Vec::new();
    let outcome = |name: String, result: Result<String, handoff::zendesk::ZendeskError>| match result {
        Ok(answer) => format!("{name}: succeeded ({answer})"),
        Err(e) => format!("{name}: {e}"),
    };
    for status in [301, 302, 307, 308] {
        let redirect = || Fault::Redirect { status, location: elsewhere.url.clone() };
        sim.inject(Route::OAuthToken, redirect(), 1);
        let refreshed = zendesk.refresh(&base, &client, &SecretString::from(REFRESH_TOKEN), deadline()).await;
        errors.push(outcome(format!("{status} refresh"), refreshed.map(|g| format!("{g:?}"))));
        sim.inject(Route::OAuthToken, redirect(), 1);
        let granted = zendesk.client_credentials(&base, &client, deadline()).await;
        errors.push(outcome(format!("{status} client credentials"), granted.map(|g| format!("{g:?}"))));
        sim.inject(Route::Me, redirect(), 1);
        let me = zendesk.me(&api, deadline()).await;
        errors.push(outcome(format!("{status} me"), me.map(|u| format!("user {:?}", u.id))));
        sim.inject(Route::RevokeToken, redirect(), 1);
        let revoked = zendesk.revoke_current(&bearer, deadline()).await;
        errors.push(outcome(format!("{status} revoke"), revoked.map(|()| "revoked".to_owned())));
    }
    assert_eq!(elsewhere.connections.load(Ordering::SeqCst), 0, "a redirect was followed: {errors:#?}");
    for error in &errors {
        assert!(!error.contains("succeeded") && error.contains("redirect"), "the error says what happened: {error}");
        for secret in [API_TOKEN, OAUTH_CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN, elsewhere.url.as_str()] {
            assert!(!error.contains(secret), "the error names a secret or the redirect target: {error}");
        }
    }
    // Each redirect was asked once: a redirect is not an ambiguous failure to retry.
    assert_eq!(sim.count(Route::Me), 4, "{errors:#?}");
    assert_eq!(sim.count(Route::OAuthToken), 8);
}
