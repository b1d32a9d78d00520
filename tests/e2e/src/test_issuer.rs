//! An OpenID Connect issuer for the console's sign-in test, on loopback: discovery, its key set,
//! an authorize endpoint that approves at once (checking the client, the redirect URI and a
//! PKCE S256 challenge) and a token endpoint that checks the code's verifier and answers an RS256
//! access token with the claims the API wants (`bot_id`, `scope`). Its RSA key is a test fixture
//! (`fixtures/test-issuer-rsa.der`), nobody's secret.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use sha2::Digest as _;

pub const CLIENT_ID: &str = "handoff-console-test";
const KEY_ID: &str = "test-issuer-1";

struct Pending {
    challenge: String,
    redirect_uri: String,
}

pub struct TestIssuer {
    pub url: String,
    /// How many access tokens it issued.
    pub issued: Arc<Mutex<u32>>,
}

impl TestIssuer {
    /// Serves the issuer; its tokens name `bot_id` with every scope of the API.
    pub async fn start(bot_id: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let codes: Arc<Mutex<HashMap<String, Pending>>> = Arc::default();
        let issued: Arc<Mutex<u32>> = Arc::default();
        let (base, bot, count) = (url.clone(), bot_id.to_owned(), issued.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (base, bot, codes, count) = (base.clone(), bot.clone(), codes.clone(), count.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                        let (base, bot, codes, count) = (base.clone(), bot.clone(), codes.clone(), count.clone());
                        async move { Ok::<_, std::convert::Infallible>(answer(request, &base, &bot, &codes, &count).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, issued }
    }
}

fn json_answer(status: u16, body: Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        // The console's page calls the token endpoint from its own origin.
        .header("access-control-allow-origin", "*")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn answer(
    request: http::Request<hyper::body::Incoming>,
    base: &str,
    bot: &str,
    codes: &Mutex<HashMap<String, Pending>>,
    issued: &Mutex<u32>,
) -> http::Response<Full<Bytes>> {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/.well-known/openid-configuration") => json_answer(
            200,
            json!({"issuer": base, "authorization_endpoint": format!("{base}/authorize"),
                   "token_endpoint": format!("{base}/token"), "jwks_uri": format!("{base}/jwks"),
                   "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]}),
        ),
        ("GET", "/jwks") => {
            let jwk: Value = serde_json::from_str(include_str!("../fixtures/test-issuer-jwk.json")).unwrap();
            json_answer(200, json!({"keys": [jwk]}))
        }
        ("GET", "/authorize") => {
            let ok = query.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && query.get("response_type").map(String::as_str) == Some("code")
                && query.get("code_challenge_method").map(String::as_str) == Some("S256");
            let (Some(redirect_uri), Some(challenge), Some(state), true) =
                (query.get("redirect_uri"), query.get("code_challenge"), query.get("state"), ok)
            else {
                return json_answer(400, json!({"error": "invalid_request"}));
            };
            let code = crate::support::unique("code");
            let pending = Pending { challenge: challenge.clone(), redirect_uri: redirect_uri.clone() };
            codes.lock().unwrap().insert(code.clone(), pending);
            let mut location = url::Url::parse(redirect_uri).unwrap();
            location.query_pairs_mut().append_pair("code", &code).append_pair("state", state).append_pair("iss", base);
            http::Response::builder().status(302).header("location", location.as_str()).body(Full::default()).unwrap()
        }
        ("POST", "/token") => {
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
            let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
            let Some(pending) = codes.lock().unwrap().remove(field("code")) else {
                return json_answer(400, json!({"error": "invalid_grant"}));
            };
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(field("code_verifier").as_bytes()));
            if field("grant_type") != "authorization_code"
                || field("client_id") != CLIENT_ID
                || field("redirect_uri") != pending.redirect_uri
                || challenge != pending.challenge
            {
                return json_answer(400, json!({"error": "invalid_grant"}));
            }
            *issued.lock().unwrap() += 1;
            json_answer(
                200,
                json!({"access_token": access_token(base, bot), "token_type": "Bearer", "expires_in": 600}),
            )
        }
        _ => json_answer(404, json!({"error": "not_found"})),
    }
}

/// An access token as Cognito issues them: `client_id` names the client, `scope` the API's scopes.
pub fn access_token(issuer: &str, bot: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    signed(&json!({
        "iss": issuer, "sub": "admin@platform.example", "client_id": CLIENT_ID, "token_use": "access",
        "bot_id": bot, "scope": handoff_local::ALL_SCOPES.join(" "), "iat": now, "exp": now + 600,
    }))
}

/// `claims` signed with the issuer's key.
pub fn signed(claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KEY_ID.to_owned());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!("../fixtures/test-issuer-rsa.der"));
    jsonwebtoken::encode(&header, claims, &key).expect("the test issuer signs")
}
