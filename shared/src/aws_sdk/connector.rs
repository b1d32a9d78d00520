//! The AWS SDK's HTTP client: the SDK's requests sent through reqwest, the HTTP stack the rest of
//! Handoff already links, trusting the Amazon Trust Services roots only. Instead of the SDK's own
//! hyper client this leaves out a second connection stack, HTTP/2 (`h2`) and aws-lc: about a
//! fifth of each binary (docs/decisions.md). DynamoDB's and Secrets Manager's request bodies are
//! always whole in memory, so they are sent as bytes; answers are streamed to the SDK.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;

/// The SDK's default connect timeout (behavior version 2024-03-28 and later), when it sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// The SDK's HTTP client for every AWS client of the process.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestClient::default())
}

/// Builds its reqwest client on the first request (not at init), for the timeouts the SDK asks.
#[derive(Debug, Default)]
struct ReqwestClient {
    connector: OnceLock<Result<SharedHttpConnector, String>>,
}

impl HttpClient for ReqwestClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        // Every AWS client of a function uses the same settings; the first ones asked are kept.
        let built = self.connector.get_or_init(|| {
            connector(settings.connect_timeout().unwrap_or(CONNECT_TIMEOUT), settings.read_timeout())
                .map(SharedHttpConnector::new)
        });
        match built {
            Ok(connector) => connector.clone(),
            Err(reason) => SharedHttpConnector::new(Unusable(Arc::from(reason.as_str()))),
        }
    }
}

fn connector(connect_timeout: Duration, read_timeout: Option<Duration>) -> Result<ReqwestConnector, String> {
    let tls = crate::tls::aws_client_config().map_err(|e| e.to_string())?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(read_timeout) = read_timeout {
        builder = builder.read_timeout(read_timeout);
    }
    let http = builder.build().map_err(|e| format!("the AWS HTTP client: {e}"))?;
    Ok(ReqwestConnector { http })
}

#[derive(Debug, Clone)]
struct ReqwestConnector {
    http: reqwest::Client,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request)?;
            let response = http.execute(request).await.map_err(connector_error)?;
            // The body is handed over as a stream: the SDK reads it under its own stall
            // protection and retries a read that fails, as with its own client.
            let answer = http::Response::<reqwest::Body>::from(response).map(SdkBody::from_body_1_x);
            HttpResponse::try_from(answer).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request as reqwest's: method, URI, headers and the whole body.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .ok_or_else(|| ConnectorError::user("a streaming request body (Handoff's AWS calls send none)".into()))?
        .to_vec();
    reqwest::Request::try_from(http::Request::from_parts(parts, bytes)).map_err(|e| ConnectorError::user(e.into()))
}

/// reqwest's failure classified as the SDK's own client classifies hyper's: timeouts, a
/// connection refused, closed or cancelled and I/O errors are retried, as is an answer cut short;
/// a request the SDK built wrongly, or an answer that is not HTTP, is not (a conditional write
/// DynamoDB may have applied is never sent twice on a parse error).
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        return ConnectorError::timeout(error.into());
    }
    if let Some(hyper) = find_source::<hyper::Error>(&error) {
        if hyper.is_timeout() {
            return ConnectorError::timeout(error.into());
        }
        if hyper.is_user() {
            return ConnectorError::user(error.into());
        }
        if hyper.is_closed() || hyper.is_canceled() || find_source::<std::io::Error>(hyper).is_some() {
            return ConnectorError::io(error.into());
        }
        if hyper.is_incomplete_message() {
            return ConnectorError::other(error.into(), Some(ErrorKind::TransientError));
        }
        return ConnectorError::other(error.into(), None);
    }
    if error.is_connect() || find_source::<std::io::Error>(&error).is_some() {
        return ConnectorError::io(error.into());
    }
    ConnectorError::other(error.into(), None)
}

/// The first error of type `E` in `error`'s chain of sources.
fn find_source<'a, E: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<E>())
}

/// What answers when the client could not be built (a bad TLS setting): every call fails with
/// the reason, which the store adapters report as the service being unavailable.
#[derive(Debug)]
struct Unusable(Arc<str>);

impl HttpConnector for Unusable {
    fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
        let reason = self.0.clone();
        HttpConnectorFuture::ready(Err(ConnectorError::other(reason.to_string().into(), None)))
    }
}
