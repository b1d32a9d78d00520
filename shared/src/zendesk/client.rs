//! The typed Zendesk HTTP client: one `reqwest` client (rustls, pooled) per warm Lambda, bounded
//! retries with jittered backoff inside the caller's deadline, and `Retry-After` honoured.
//!
//! Retry policy: a request Zendesk certainly did not process (429, a connection that never
//! opened) is retried; a request that may have been processed (timeout, reset, 5xx) is retried
//! only when it is safe to repeat (reads). Ticket creation and notes are not retried here: the
//! escalation use case looks for the ticket first, so a lost answer never makes a duplicate.

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::ZendeskError;
use super::types::*;
use crate::backoff::RetryPolicy;
use crate::deadline::Deadline;

pub use handoff_core::zendesk::credentials::Credentials;

/// The Authorization header for `credentials`, marked sensitive.
fn auth_header(credentials: &Credentials) -> Result<HeaderValue, ZendeskError> {
    let raw = match credentials {
        Credentials::ApiToken { email, token } => {
            let pair = format!("{email}/token:{}", token.expose_secret());
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        }
        Credentials::Bearer { access_token } => format!("Bearer {}", access_token.expose_secret()),
    };
    let mut value = HeaderValue::from_str(&raw)
        .map_err(|_| ZendeskError::Unexpected("credentials contain characters not allowed in a header".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// One Zendesk account as seen by one bot: where it is and how to sign in.
#[derive(Debug, Clone)]
pub struct Account {
    pub base_url: Url,
    pub credentials: Credentials,
}

impl Account {
    /// `https://{subdomain}.zendesk.com`, or the override (simulator, contract tests).
    pub fn base_url(subdomain: &str, override_url: Option<&Url>) -> Result<Url, ZendeskError> {
        match override_url {
            Some(url) => Ok(url.clone()),
            None => Url::parse(&format!("https://{subdomain}.zendesk.com"))
                .map_err(|_| ZendeskError::Unexpected(format!("`{subdomain}` is not a valid subdomain"))),
        }
    }
}

/// Timeouts and retry bounds.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ZendeskClient {
    http: reqwest::Client,
    config: ClientConfig,
}

/// A created ticket and whether Zendesk replayed an earlier creation for the same key.
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket: Ticket,
    pub replayed: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Repeat {
    /// Safe to send again after an ambiguous failure.
    Safe,
    /// Only resend when Zendesk certainly did not process it.
    Unsafe,
    /// The OAuth token endpoint: as `Unsafe`, and one attempt may take the whole deadline rather
    /// than the per-request timeout. A refresh rotates the grant however late Zendesk answers, so
    /// giving up early would drop the only copy of the new pair.
    Grant,
}

impl ZendeskClient {
    pub fn new(config: ClientConfig) -> Result<Self, ZendeskError> {
        let http = crate::tls::http_client(crate::tls::Trust::Public, |builder| {
            builder
                // Zendesk never redirects its API or token endpoint; following one would re-send a
                // client secret, refresh token or Authorization header wherever `Location` points.
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(config.connect_timeout)
                .pool_idle_timeout(Duration::from_secs(50))
                .user_agent(concat!("Handoff/", env!("CARGO_PKG_VERSION")))
        })
        .map_err(|e| ZendeskError::Transport(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// `POST /api/v2/tickets.json` with an `Idempotency-Key`.
    pub async fn create_ticket(
        &self,
        account: &Account,
        ticket: &TicketCreateInput,
        idempotency_key: &str,
        deadline: Deadline,
    ) -> Result<Created, ZendeskError> {
        let body = TicketCreateRequest { ticket: ticket.clone() };
        let url = endpoint(account, "/api/v2/tickets.json")?;
        let response = self
            .send(account, deadline, Repeat::Unsafe, |http| {
                http.request(Method::POST, url.clone()).header("Idempotency-Key", idempotency_key).json(&body)
            })
            .await?;
        let replayed =
            response.headers().get("x-idempotency-lookup").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"hit"));
        let parsed: TicketResponse = read_json(response).await?;
        Ok(Created { ticket: parsed.ticket, replayed })
    }

    /// Adds an internal note (`public: false`, always sent explicitly).
    pub async fn add_internal_note(
        &self,
        account: &Account,
        ticket_id: u64,
        body: &str,
        deadline: Deadline,
    ) -> Result<Ticket, ZendeskError> {
        let request = TicketUpdateRequest { ticket: TicketUpdateInput { comment: TicketComment::new(body, false) } };
        let url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}.json"))?;
        let response = self
            .send(account, deadline, Repeat::Unsafe, |http| http.request(Method::PUT, url.clone()).json(&request))
            .await?;
        Ok(read_json::<TicketResponse>(response).await?.ticket)
    }

    /// Adds the visitor's words as a public comment by the requester (`author_id`), with any
    /// uploaded files: Zendesk then counts it as the customer's reply (a Pending or Solved ticket
    /// goes back to Open, the assignee is notified, triggers and SLAs see it).
    pub async fn add_requester_comment(
        &self,
        account: &Account,
        ticket_id: u64,
        comment: &TicketComment,
        deadline: Deadline,
    ) -> Result<Ticket, ZendeskError> {
        let request = TicketUpdateRequest { ticket: TicketUpdateInput { comment: comment.clone() } };
        let url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}.json"))?;
        let response = self
            .send(account, deadline, Repeat::Unsafe, |http| http.request(Method::PUT, url.clone()).json(&request))
            .await?;
        Ok(read_json::<TicketResponse>(response).await?.ticket)
    }

    /// `POST /api/v2/uploads.json?filename=…` with the file's bytes: the upload's token, which a
    /// comment's `uploads` attaches (Zendesk keeps an unused one about an hour).
    pub async fn upload(
        &self,
        account: &Account,
        name: &str,
        content_type: &str,
        body: bytes::Bytes,
        deadline: Deadline,
    ) -> Result<String, ZendeskError> {
        let mut url = endpoint(account, "/api/v2/uploads.json")?;
        url.query_pairs_mut().append_pair("filename", name);
        let response = self
            .send(account, deadline, Repeat::Safe, |http| {
                http.request(Method::POST, url.clone()).header("content-type", content_type).body(body.clone())
            })
            .await?;
        Ok(read_json::<UploadResponse>(response).await?.upload.token)
    }

    /// The newest 100 comments of a ticket, newest first (one call): where a comment whose answer
    /// was lost would be.
    pub async fn newest_comments(
        &self,
        account: &Account,
        ticket_id: u64,
        deadline: Deadline,
    ) -> Result<Vec<TicketCommentObject>, ZendeskError> {
        let mut url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}/comments.json"))?;
        url.query_pairs_mut().append_pair("page[size]", "100").append_pair("sort", "-created_at");
        let response = self.send(account, deadline, Repeat::Safe, |http| http.get(url.clone())).await?;
        Ok(read_json::<TicketCommentsResponse>(response).await?.comments)
    }

    /// Puts the visitor's phone on their Zendesk user (`PUT /api/v2/users/{id}.json`), so an agent
    /// finds it on the profile as well as in the ticket. Setting the same value again is harmless.
    pub async fn set_user_phone(
        &self,
        account: &Account,
        user_id: u64,
        phone: &str,
        deadline: Deadline,
    ) -> Result<(), ZendeskError> {
        let request = UserPhoneUpdateRequest { user: UserPhone { phone: phone.to_owned() } };
        let url = endpoint(account, &format!("/api/v2/users/{user_id}.json"))?;
        self.send(account, deadline, Repeat::Safe, |http| http.request(Method::PUT, url.clone()).json(&request))
            .await?;
        Ok(())
    }

    /// `GET /api/v2/tickets/{id}.json`.
    pub async fn show_ticket(
        &self,
        account: &Account,
        ticket_id: u64,
        deadline: Deadline,
    ) -> Result<Ticket, ZendeskError> {
        let url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}.json"))?;
        let response = self.send(account, deadline, Repeat::Safe, |http| http.get(url.clone())).await?;
        Ok(read_json::<TicketResponse>(response).await?.ticket)
    }

    /// `GET /api/v2/tickets.json?external_id=…`: every ticket carrying that external id.
    pub async fn tickets_by_external_id(
        &self,
        account: &Account,
        external_id: &str,
        deadline: Deadline,
    ) -> Result<Vec<Ticket>, ZendeskError> {
        let mut url = endpoint(account, "/api/v2/tickets.json")?;
        url.query_pairs_mut().append_pair("external_id", external_id);
        let response = self.send(account, deadline, Repeat::Safe, |http| http.get(url.clone())).await?;
        Ok(read_json::<TicketsResponse>(response).await?.tickets)
    }

    /// One page of `GET /api/v2/tickets/{id}/comments.json`, oldest first, by cursor pagination
    /// (100 a page, Zendesk's most): the comments and the cursor of the next page, if there is
    /// one. The next page's URL is built here from the cursor, never taken from the answer, so
    /// credentials only go to the account's own address.
    pub async fn ticket_comments_page(
        &self,
        account: &Account,
        ticket_id: u64,
        after: Option<&str>,
        deadline: Deadline,
    ) -> Result<(Vec<TicketCommentObject>, Option<String>), ZendeskError> {
        let mut url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}/comments.json"))?;
        url.query_pairs_mut().append_pair("page[size]", "100");
        if let Some(cursor) = after {
            url.query_pairs_mut().append_pair("page[after]", cursor);
        }
        let response = self.send(account, deadline, Repeat::Safe, |http| http.get(url.clone())).await?;
        let page = read_json::<TicketCommentsResponse>(response).await?;
        let next = page.meta.filter(|m| m.has_more).and_then(|m| m.after_cursor).filter(|c| !c.is_empty());
        Ok((page.comments, next))
    }

    /// `GET /api/v2/users/me.json`.
    pub async fn me(&self, account: &Account, deadline: Deadline) -> Result<User, ZendeskError> {
        let url = endpoint(account, "/api/v2/users/me.json")?;
        let response = self.send(account, deadline, Repeat::Safe, |http| http.get(url.clone())).await?;
        Ok(read_json::<UserResponse>(response).await?.user)
    }

    /// Sends with retries inside the deadline; returns the 2xx response or a typed error.
    async fn send(
        &self,
        account: &Account,
        deadline: Deadline,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        self.send_as(Some(&account.credentials), deadline, repeat, build).await
    }

    /// A request to the OAuth token endpoint: never repeated after an ambiguous failure (a code
    /// or refresh token is single use; a second try would burn the grant), and waited for until
    /// the deadline (see `Repeat::Grant`).
    pub(super) async fn send_unauthenticated(
        &self,
        deadline: Deadline,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        self.send_as(None, deadline, Repeat::Grant, build).await
    }

    /// An authorized request sent again only when Zendesk certainly did not process it (creates).
    pub(super) async fn send_once(
        &self,
        account: &Account,
        deadline: Deadline,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        self.send_as(Some(&account.credentials), deadline, Repeat::Unsafe, build).await
    }

    /// An authorized request that is safe to repeat (deletes, reads).
    pub(super) async fn send_authorized(
        &self,
        account: &Account,
        deadline: Deadline,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        self.send_as(Some(&account.credentials), deadline, Repeat::Safe, build).await
    }

    /// Sends with retries inside the deadline, signed with `credentials` when given (the OAuth
    /// token endpoint takes the client's credentials in the body instead).
    async fn send_as(
        &self,
        credentials: Option<&Credentials>,
        deadline: Deadline,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        let auth = credentials.map(auth_header).transpose()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.remaining();
            if remaining < Duration::from_millis(50) {
                return Err(ZendeskError::Timeout);
            }
            let mut request = build(&self.http).header("Accept", "application/json");
            if let Some(auth) = &auth {
                request = request.header(AUTHORIZATION, auth.clone());
            }
            let timeout = match repeat {
                Repeat::Grant => remaining,
                Repeat::Safe | Repeat::Unsafe => self.config.request_timeout.min(remaining),
            };
            let outcome = request.timeout(timeout).send().await;
            let error = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => error_from(response).await,
                Err(e) if e.is_timeout() => ZendeskError::Timeout,
                Err(e) if e.is_connect() => ZendeskError::Transport(format!("connection failed: {}", e.without_url())),
                Err(e) => ZendeskError::Transport(describe_transport(e)),
            };
            let never_sent = matches!(&error, ZendeskError::Transport(m) if m.starts_with("connection failed"));
            let retryable = match &error {
                ZendeskError::RateLimited { .. } => true,
                e if e.is_ambiguous() => repeat == Repeat::Safe || never_sent,
                _ => false,
            };
            if !retryable || attempt >= self.config.max_attempts {
                return Err(error);
            }
            let wait = error.retry_after().unwrap_or_else(|| self.backoff(attempt));
            if wait + Duration::from_millis(50) >= deadline.remaining() {
                tracing::warn!(
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "Zendesk asked for a wait past the deadline"
                );
                return Err(error);
            }
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying Zendesk request");
            tokio::time::sleep(wait).await;
        }
    }

    /// Full jitter over the one retry policy (`backoff`): a random part of its delay.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = RetryPolicy::new(self.config.base_backoff, self.config.max_backoff).delay(attempt + 1);
        cap.mul_f64(fastrand::f64().max(0.1))
    }
}

/// RFC 6749's token-endpoint error codes (Zendesk answers them with 400 or 401).
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_grant",
    "invalid_client",
    "invalid_request",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

pub(super) fn endpoint(account: &Account, path: &str) -> Result<Url, ZendeskError> {
    account.base_url.join(path).map_err(|e| ZendeskError::Unexpected(format!("bad Zendesk URL: {e}")))
}

pub(super) async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ZendeskError> {
    let bytes = response.bytes().await.map_err(|e| ZendeskError::Transport(describe_transport(e)))?;
    serde_json::from_slice(&bytes).map_err(|e| ZendeskError::Unexpected(format!("could not read the answer: {e}")))
}

/// The error and its causes, without its URL: a URL's query may hold a visitor's email (the users
/// search), and this text reaches logs and answers.
fn describe_transport(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

async fn error_from(response: reqwest::Response) -> ZendeskError {
    let status = response.status();
    if status.is_redirection() {
        // Not followed (see `ZendeskClient::new`); neither its body nor its `Location` is read.
        return ZendeskError::Redirected { status: status.as_u16() };
    }
    let wait = retry_after(response.headers());
    let body: ErrorBody = response.json().await.unwrap_or_default();
    let code = body.code().unwrap_or_default();
    let description = body.description.clone().or(body.error_description.clone()).unwrap_or_default();
    if OAUTH_ERRORS.contains(&code.as_str()) {
        return ZendeskError::OAuth { error: code, description };
    }
    match status {
        StatusCode::UNAUTHORIZED => ZendeskError::Unauthorized,
        StatusCode::FORBIDDEN => ZendeskError::Forbidden(if description.is_empty() { code } else { description }),
        StatusCode::NOT_FOUND => ZendeskError::NotFound,
        StatusCode::TOO_MANY_REQUESTS => ZendeskError::RateLimited { retry_after: wait },
        StatusCode::BAD_REQUEST if code == "IdempotentRequestError" => ZendeskError::IdempotencyConflict,
        s if s.is_server_error() => ZendeskError::Unavailable { status: s.as_u16(), retry_after: wait },
        s => ZendeskError::Rejected { status: s.as_u16(), code, description },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn credentials_never_show_in_debug() {
        let api = Credentials::ApiToken { email: "a@example.com".into(), token: SecretString::from("tok-123") };
        let bearer = Credentials::Bearer { access_token: SecretString::from("acc-456") };
        let shown = format!("{api:?} {bearer:?}");
        assert!(!shown.contains("tok-123") && !shown.contains("acc-456"), "{shown}");
    }

    #[test]
    fn api_token_header_is_basic_email_slash_token() {
        let api = Credentials::ApiToken { email: "a@example.com".into(), token: SecretString::from("xyz") };
        let header = auth_header(&api).unwrap();
        assert!(header.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode("a@example.com/token:xyz");
        assert_eq!(header.to_str().unwrap(), format!("Basic {expected}"));
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
