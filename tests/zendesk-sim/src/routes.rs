//! Request handling: route, record the call, apply any injected fault, check auth, answer.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::model::{self, Audit, Comment, Ticket, User};
use crate::webhooks::{self, Change, Channel};
use crate::{Call, Fault, Route, State, audits, schema, users};

pub(crate) type Answer = Response<Full<Bytes>>;
/// A request's query string, decoded, in order.
pub(crate) type Query = [(String, String)];

/// Returned to hyper to drop the connection without an answer.
#[derive(Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// What the path names, with `/api/v2/` and `.json` taken off.
enum Endpoint {
    CreateTicket,
    ListTickets,
    ShowTicket(u64),
    UpdateTicket(u64),
    Comments(u64),
    Audits(u64),
    Me,
    UsersSearch,
    CreateUser,
    Upload,
    Requested(u64),
    UpdateUser(u64),
    ShowUser(u64),
    ShowDeletedUser(u64),
    DeleteUser(u64),
    PermanentlyDeleteUser(u64),
    TicketFields,
    OAuthTokens,
    RevokeCurrent,
    CreateWebhook,
    ShowWebhook(String),
    PatchWebhook(String),
    WebhookSecret(String),
    DeleteWebhook(String),
    Unknown,
}

impl Endpoint {
    fn parse(method: &Method, path: &str) -> Self {
        let trimmed = path.trim_start_matches("/api/v2/").trim_end_matches('/');
        let trimmed = trimmed.strip_suffix(".json").unwrap_or(trimmed);
        let parts: Vec<&str> = trimmed.split('/').collect();
        let id = |s: &str| s.parse::<u64>().ok();
        match (method, parts.as_slice()) {
            (&Method::POST, ["tickets"]) => Self::CreateTicket,
            (&Method::GET, ["tickets"]) => Self::ListTickets,
            (&Method::GET, ["tickets", t]) if id(t).is_some() => Self::ShowTicket(id(t).unwrap_or_default()),
            (&Method::PUT, ["tickets", t]) if id(t).is_some() => Self::UpdateTicket(id(t).unwrap_or_default()),
            (&Method::GET, ["tickets", t, "comments"]) if id(t).is_some() => Self::Comments(id(t).unwrap_or_default()),
            (&Method::GET, ["tickets", t, "audits"]) if id(t).is_some() => Self::Audits(id(t).unwrap_or_default()),
            (&Method::GET, ["users", "me"]) => Self::Me,
            (&Method::GET, ["users", "search"]) => Self::UsersSearch,
            (&Method::POST, ["users"]) => Self::CreateUser,
            (&Method::POST, ["uploads"]) => Self::Upload,
            (&Method::GET, ["users", u, "tickets", "requested"]) if id(u).is_some() => {
                Self::Requested(id(u).unwrap_or_default())
            }
            (&Method::PUT, ["users", u]) if id(u).is_some() => Self::UpdateUser(id(u).unwrap_or_default()),
            (&Method::GET, ["users", u]) if id(u).is_some() => Self::ShowUser(id(u).unwrap_or_default()),
            (&Method::DELETE, ["users", u]) if id(u).is_some() => Self::DeleteUser(id(u).unwrap_or_default()),
            (&Method::GET, ["deleted_users", u]) if id(u).is_some() => Self::ShowDeletedUser(id(u).unwrap_or_default()),
            (&Method::DELETE, ["deleted_users", u]) if id(u).is_some() => {
                Self::PermanentlyDeleteUser(id(u).unwrap_or_default())
            }
            (&Method::GET, ["ticket_fields"]) => Self::TicketFields,
            (&Method::DELETE, ["oauth", "tokens", "current"]) => Self::RevokeCurrent,
            (&Method::POST, ["webhooks"]) => Self::CreateWebhook,
            (&Method::GET, ["webhooks", id]) => Self::ShowWebhook(id.to_string()),
            (&Method::PATCH, ["webhooks", id]) => Self::PatchWebhook(id.to_string()),
            (&Method::GET, ["webhooks", id, "signing_secret"]) => Self::WebhookSecret(id.to_string()),
            (&Method::DELETE, ["webhooks", id]) => Self::DeleteWebhook(id.to_string()),
            _ => Self::Unknown,
        }
    }

    fn route(&self) -> Route {
        match self {
            Self::CreateTicket => Route::CreateTicket,
            Self::ListTickets => Route::ListTickets,
            Self::ShowTicket(_) => Route::ShowTicket,
            Self::UpdateTicket(_) => Route::UpdateTicket,
            Self::Comments(_) => Route::Comments,
            Self::Audits(_) => Route::Audits,
            Self::Me => Route::Me,
            Self::UsersSearch => Route::UsersSearch,
            Self::CreateUser => Route::CreateUser,
            Self::Upload => Route::Uploads,
            Self::Requested(_) => Route::RequestedTickets,
            Self::UpdateUser(_) => Route::UpdateUser,
            Self::ShowUser(_) => Route::ShowUser,
            Self::ShowDeletedUser(_) => Route::ShowDeletedUser,
            Self::DeleteUser(_) => Route::DeleteUser,
            Self::PermanentlyDeleteUser(_) => Route::PermanentlyDeleteUser,
            Self::OAuthTokens => Route::OAuthToken,
            Self::RevokeCurrent => Route::RevokeToken,
            Self::CreateWebhook
            | Self::ShowWebhook(_)
            | Self::PatchWebhook(_)
            | Self::WebhookSecret(_)
            | Self::DeleteWebhook(_) => Route::Webhooks,
            _ => Route::Any,
        }
    }
}

/// Handles one request in a task of its own, so a client that gives up (times out, drops the
/// connection) does not stop the work, just as Zendesk finishes a request whose caller left.
pub async fn serve(
    state: Arc<Mutex<State>>,
    base_url: String,
    request: Request<Incoming>,
) -> Result<Answer, DropConnection> {
    tokio::spawn(process(state, base_url, request)).await.unwrap_or(Err(DropConnection))
}

async fn process(
    state: Arc<Mutex<State>>,
    base_url: String,
    request: Request<Incoming>,
) -> Result<Answer, DropConnection> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let auth = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let idempotency_key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match Limited::new(request.into_body(), 16 * 1024 * 1024).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(error(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "The request body is too large")),
    };
    let body: Option<Value> = if bytes.is_empty() { None } else { serde_json::from_slice(&bytes).ok() };
    if method == Method::GET
        && let Some(token) = path.strip_prefix("/attachments/token/").map(|t| t.trim_end_matches('/'))
    {
        return Ok(crate::uploads::serve(&state.lock().expect("sim state"), token));
    }
    let content_type = request_content_type.clone();
    let agent_ticket = path.strip_prefix("/agent/tickets/").and_then(|id| id.parse::<u64>().ok());
    if method == Method::GET && (path == "/" || path == "/tickets" || agent_ticket.is_some()) {
        let s = state.lock().expect("sim state");
        let mut answer = Response::new(Full::new(Bytes::from(crate::page::render(&s, &base_url, agent_ticket))));
        answer.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        return Ok(answer);
    }
    let endpoint = match (&method, path.as_str()) {
        (&Method::POST, "/oauth/tokens") => Endpoint::OAuthTokens,
        (&Method::GET, "/oauth/authorizations/new") => {
            let mut s = state.lock().expect("sim state");
            return Ok(match crate::oauth::authorize(&mut s, &query) {
                Ok(crate::oauth::Authorization::AskConsent(page)) => {
                    let mut answer = Response::new(Full::new(Bytes::from(page)));
                    answer
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                    answer
                }
                Ok(crate::oauth::Authorization::Redirect(location)) => {
                    let mut answer = Response::new(Full::new(Bytes::new()));
                    *answer.status_mut() = StatusCode::FOUND;
                    answer.headers_mut().insert(
                        header::LOCATION,
                        HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")),
                    );
                    answer
                }
                Err((status, body)) => {
                    json_answer(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body)
                }
            });
        }
        _ => Endpoint::parse(&method, &path),
    };
    let route = endpoint.route();

    let fault = {
        let mut s = state.lock().expect("sim state");
        s.calls.push(Call {
            method: method.to_string(),
            path: path.clone(),
            route,
            body: body.clone(),
            idempotency_key: idempotency_key.clone(),
            at: std::time::Instant::now(),
        });
        s.take_fault(route)
    };
    let mut lose_answer = false;
    let empty = bytes.is_empty();
    let request = Received { endpoint, method, query, auth, body, empty, idempotency_key, content_type, raw: bytes };
    match fault {
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut answer = error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Rate limit exceeded");
            answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Ok(answer);
        }
        Some(Fault::Status { status, retry_after_secs }) => return Ok(status_answer(status, retry_after_secs)),
        Some(Fault::Redirect { status, location }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            let mut answer = json_answer(code, json!({}));
            answer
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")));
            return Ok(answer);
        }
        Some(Fault::Reset) => return Err(DropConnection),
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::LoseAnswer) => lose_answer = true,
        Some(Fault::GatewayError { status, processed_after }) => {
            if processed_after.is_zero() {
                handle(&state, &base_url, request);
            } else {
                // The gateway gave up; the backend finishes the request on its own time.
                let (state, base_url) = (state.clone(), base_url.clone());
                let in_flight = state.lock().expect("sim state").in_flight.clone();
                in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    tokio::time::sleep(processed_after).await;
                    handle(&state, &base_url, request);
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            return Ok(status_answer(status, None));
        }
        None => {}
    }
    let answer = handle(&state, &base_url, request);
    if lose_answer {
        return Err(DropConnection);
    }
    Ok(answer)
}

/// A request as read off the wire, once its fault (if any) is decided.
struct Received {
    endpoint: Endpoint,
    method: Method,
    query: Vec<(String, String)>,
    auth: Option<String>,
    body: Option<Value>,
    /// The request had no body at all (as opposed to one that is not JSON).
    empty: bool,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    /// The body as sent (an upload's file).
    raw: Bytes,
}

/// An error status as Zendesk (or its gateway) sends it, optionally with `Retry-After`.
fn status_answer(status: u16, retry_after_secs: Option<u64>) -> Answer {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut answer = error(code, "ServiceUnavailable", "Injected failure");
    if let Some(seconds) = retry_after_secs {
        answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    answer
}

/// Processes one request and returns Zendesk's answer.
fn handle(state: &Mutex<State>, base_url: &str, request: Received) -> Answer {
    let Received { endpoint, method, query, auth, body, empty, idempotency_key, content_type, raw } = request;
    let base_url = base_url.to_owned();
    if !empty && body.is_none() && !matches!(endpoint, Endpoint::Upload) {
        return error(StatusCode::BAD_REQUEST, "InvalidJSON", "The request body is not valid JSON");
    }

    let mut s = state.lock().expect("sim state");
    if let Endpoint::OAuthTokens = endpoint {
        let (status, answer) = crate::oauth::tokens(&mut s, body.as_ref().unwrap_or(&Value::Null));
        s.save();
        return json_answer(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), answer);
    }
    let caller = match authenticate(&s, auth.as_deref()) {
        Ok(caller) => caller,
        Err(Unauthenticated) => return error(StatusCode::UNAUTHORIZED, "Couldn't authenticate you", ""),
    };
    let answer = match (endpoint, caller) {
        (Endpoint::Me, None) => {
            json_answer(StatusCode::OK, json!({"user": {"id": null, "name": "Anonymous user", "role": "end-user"}}))
        }
        (_, None) => error(StatusCode::UNAUTHORIZED, "Couldn't authenticate you", ""),
        (Endpoint::Me, Some(user)) => json_answer(StatusCode::OK, json!({"user": user.to_json()})),
        (Endpoint::CreateTicket, Some(user)) => create_ticket(&mut s, &base_url, &user, body, idempotency_key),
        (Endpoint::ShowTicket(id), Some(_)) => match s.tickets.iter().find(|t| t.id == id) {
            Some(t) if users::wants_users(&query) => {
                json_answer(StatusCode::OK, json!({"ticket": t.to_json(&base_url), "users": users::sideloaded(&s, t)}))
            }
            Some(t) => json_answer(StatusCode::OK, json!({"ticket": t.to_json(&base_url)})),
            None => not_found(),
        },
        (Endpoint::UpdateTicket(id), Some(user)) => update_ticket(&mut s, &base_url, &user, id, body, Channel::Api),
        (Endpoint::ListTickets, Some(_)) => {
            let external_id = query.iter().find(|(k, _)| k == "external_id").map(|(_, v)| v.clone());
            let tickets: Vec<Value> = s
                .tickets
                .iter()
                .filter(|t| external_id.is_none() || t.external_id == external_id)
                .map(|t| t.to_json(&base_url))
                .collect();
            let count = tickets.len();
            json_answer(
                StatusCode::OK,
                json!({"tickets": tickets, "next_page": null, "previous_page": null, "count": count}),
            )
        }
        (Endpoint::Comments(id), Some(_)) => match s.tickets.iter().find(|t| t.id == id) {
            Some(t) => comments_page(t, &base_url, &query),
            None => not_found(),
        },
        (Endpoint::Audits(id), Some(_)) => audits::list(&s, id, &query),
        (Endpoint::UsersSearch, Some(_)) => users::search(&s, &query),
        (Endpoint::CreateUser, Some(caller)) => users::create(&mut s, &caller, body.as_ref()),
        (Endpoint::Upload, Some(_)) => crate::uploads::create(&mut s, &base_url, &query, content_type.as_deref(), &raw),
        (Endpoint::Requested(user_id), Some(_)) => users::requested(&s, &base_url, user_id, &query),
        (Endpoint::UpdateUser(user_id), Some(_)) => users::update(&mut s, user_id, body.as_ref()),
        (Endpoint::ShowUser(user_id), Some(_)) => users::show(&s, user_id),
        (Endpoint::ShowDeletedUser(user_id), Some(_)) => users::show_deleted(&s, user_id),
        (Endpoint::DeleteUser(user_id), Some(caller)) => users::delete(&mut s, &caller, user_id),
        (Endpoint::PermanentlyDeleteUser(user_id), Some(caller)) => users::delete_permanently(&mut s, &caller, user_id),
        (Endpoint::TicketFields, Some(_)) => {
            // Zendesk lists its own fields first (not removable), then the account's.
            let fields: Vec<Value> =
                model::system_fields().chain(s.fields.iter().map(model::TicketField::to_json)).collect();
            json_answer(StatusCode::OK, json!({"ticket_fields": fields, "next_page": null, "count": fields.len()}))
        }
        (Endpoint::RevokeCurrent, Some(_)) => {
            let token = auth.as_deref().and_then(|h| h.strip_prefix("Bearer ")).unwrap_or_default().trim().to_owned();
            crate::oauth::revoke(&mut s, &token);
            let mut answer = Response::new(Full::new(Bytes::new()));
            *answer.status_mut() = StatusCode::NO_CONTENT;
            answer
        }
        (Endpoint::OAuthTokens, Some(_)) => not_found(),
        (Endpoint::CreateWebhook, Some(_)) => {
            let input = body.as_ref().and_then(|b| b.get("webhook")).cloned().unwrap_or(Value::Null);
            let endpoint = input["endpoint"].as_str().unwrap_or_default().to_owned();
            let subscriptions: Vec<String> = input["subscriptions"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            if endpoint.is_empty()
                || input["http_method"] != "POST"
                || input["request_format"] != "json"
                || subscriptions.is_empty()
            {
                record_invalid(
                    "webhook",
                    "endpoint, http_method POST, request_format json and subscriptions are required",
                )
            } else {
                let n = s.next_id();
                let webhook = crate::Webhook {
                    id: format!("01SIMWEBHOOK{n:08}"),
                    endpoint,
                    status: input["status"].as_str().unwrap_or("active").to_owned(),
                    subscriptions,
                    signing_secret: random_signing_secret(),
                };
                let answer = webhook_json(&webhook);
                s.webhooks.push(webhook);
                json_answer(StatusCode::CREATED, json!({"webhook": answer}))
            }
        }
        (Endpoint::ShowWebhook(id), Some(_)) => match s.webhooks.iter().find(|w| w.id == id) {
            Some(w) => json_answer(StatusCode::OK, json!({"webhook": webhook_json(w)})),
            None => not_found(),
        },
        (Endpoint::PatchWebhook(id), Some(_)) => patch_webhook(&mut s, &id, body.as_ref()),
        (Endpoint::WebhookSecret(id), Some(_)) => match s.webhooks.iter().find(|w| w.id == id) {
            Some(w) => json_answer(
                StatusCode::OK,
                json!({"signing_secret": {"algorithm": "SHA256", "secret": w.signing_secret}}),
            ),
            None => not_found(),
        },
        (Endpoint::DeleteWebhook(id), Some(_)) => {
            let before = s.webhooks.len();
            s.webhooks.retain(|w| w.id != id);
            if s.webhooks.len() == before {
                not_found()
            } else {
                let mut answer = Response::new(Full::new(Bytes::new()));
                *answer.status_mut() = StatusCode::NO_CONTENT;
                answer
            }
        }
        (Endpoint::Unknown, Some(_)) => error(StatusCode::NOT_FOUND, "InvalidEndpoint", "Not found"),
    };
    if method != Method::GET && answer.status().is_success() {
        s.save();
    }
    answer
}

/// `GET /api/v2/tickets/{id}/comments.json`, paged as Zendesk pages it, at most 100 a page: with
/// `page[size]` by cursor (`page[after]`, `sort=created_at|-created_at`; `meta.has_more`,
/// `meta.after_cursor`, `links.next`), else by offset (`page`, `per_page`, `sort_order=asc|desc`;
/// `next_page`). Oldest first by default.
fn comments_page(ticket: &Ticket, base_url: &str, query: &Query) -> Answer {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let size = page_size(query);
    let path = format!("{base_url}/api/v2/tickets/{}/comments.json", ticket.id);
    let mut comments: Vec<&Comment> = ticket.comments.iter().collect();
    if get("page[size]").is_some() {
        if get("sort") == Some("-created_at") {
            comments.reverse();
        }
        // The cursor is the position after the page; opaque to clients.
        let start = match get("page[after]") {
            Some(cursor) => match cursor.strip_prefix("sim-after-").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => n,
                None => return error(StatusCode::BAD_REQUEST, "InvalidPaginationParameter", "bad cursor"),
            },
            None => 0,
        };
        let page: Vec<Value> = comments.iter().skip(start).take(size).map(|c| c.to_json()).collect();
        let end = (start + page.len()).min(comments.len());
        let has_more = end < comments.len();
        let after = format!("sim-after-{end}");
        let sort = get("sort").map(|s| format!("&sort={s}")).unwrap_or_default();
        let next = has_more.then(|| format!("{path}?page[size]={size}&page[after]={after}{sort}"));
        return json_answer(
            StatusCode::OK,
            json!({"comments": page, "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": null},
                   "links": {"next": next, "prev": null}}),
        );
    }
    if get("sort_order") == Some("desc") {
        comments.reverse();
    }
    let number = get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let count = comments.len();
    let page: Vec<Value> = comments.iter().skip((number - 1) * size).take(size).map(|c| c.to_json()).collect();
    let order = get("sort_order").map(|o| format!("&sort_order={o}")).unwrap_or_default();
    let link = |n: usize| format!("{path}?page={n}&per_page={size}{order}");
    let next = (number * size < count).then(|| link(number + 1));
    let previous = (number > 1).then(|| link(number - 1));
    json_answer(StatusCode::OK, json!({"comments": page, "next_page": next, "previous_page": previous, "count": count}))
}

/// Credentials were sent but match no user (answered 401).
struct Unauthenticated;

/// `Ok(None)` for no credentials; `Err` for wrong ones.
fn authenticate(s: &State, header: Option<&str>) -> Result<Option<User>, Unauthenticated> {
    let Some(header) = header else { return Ok(None) };
    let user_id = if let Some(encoded) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        decoded
            .split_once("/token:")
            .and_then(|(email, token)| s.api_tokens.get(&(email.to_owned(), token.to_owned())))
            .copied()
    } else if let Some(token) = header.strip_prefix("Bearer ") {
        s.bearer_tokens.get(token.trim()).copied().filter(|_| !crate::oauth::expired(s, token.trim()))
    } else {
        None
    };
    match user_id.and_then(|id| s.users.iter().find(|u| u.id == id)) {
        Some(user) => Ok(Some(user.clone())),
        None => Err(Unauthenticated),
    }
}

fn create_ticket(s: &mut State, base_url: &str, caller: &User, body: Option<Value>, key: Option<String>) -> Answer {
    let Some(body) = body else { return error(StatusCode::BAD_REQUEST, "InvalidJSON", "A body is required") };
    let violations = schema::violations("TicketCreateRequest", &body);
    if !violations.is_empty() {
        s.violations.extend(violations.iter().cloned());
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "InvalidRequestBody", "description": violations.join("; ")}),
        );
    }
    let canonical = body.to_string();
    if let Some(key) = key.as_ref().filter(|_| s.honour_idempotency)
        && let Some((seen, ticket_id)) = s.idempotency.get(key).cloned()
    {
        if seen != canonical {
            return error(
                StatusCode::BAD_REQUEST,
                "IdempotentRequestError",
                "Idempotency key reused with different parameters",
            );
        }
        let ticket = s.tickets.iter().find(|t| t.id == ticket_id).map(|t| t.to_json(base_url)).unwrap_or(Value::Null);
        let mut answer = json_answer(StatusCode::CREATED, json!({"ticket": ticket}));
        answer.headers_mut().insert("x-idempotency-lookup", HeaderValue::from_static("hit"));
        return answer;
    }
    let input = &body["ticket"];
    let Some(comment) = input.get("comment").filter(|c| {
        ["body", "html_body"].iter().any(|k| c.get(k).and_then(Value::as_str).is_some_and(|b| !b.trim().is_empty()))
    }) else {
        return record_invalid("comment", "Comment: cannot be blank");
    };
    if let Some(invalid) = unknown_field(s, input) {
        return record_invalid("custom_fields", &format!("Custom field {invalid} does not exist"));
    }
    let requester_id = match input.get("requester") {
        Some(r) => {
            let email = r["email"].as_str().unwrap_or_default().to_owned();
            let name = r["name"].as_str().unwrap_or(&email).to_owned();
            match s.user_by_email(&email) {
                Some(u) => u.id,
                None => {
                    let id = s.next_id();
                    s.users.push(User::new(id, name, email, "end-user"));
                    id
                }
            }
        }
        None => input["requester_id"].as_u64().unwrap_or(caller.id),
    };
    // Zendesk's rule: the submitter is the authenticated user unless `submitter_id` names
    // another, and "the submitter always becomes the author of the first comment" unless the
    // comment names its `author_id`. An API caller that names neither writes the first comment
    // itself, whoever the requester is.
    let named = |key: &str| input.get(key).and_then(Value::as_u64);
    let submitter_id = named("submitter_id").unwrap_or(caller.id);
    let author_id = comment.get("author_id").and_then(Value::as_u64).unwrap_or(submitter_id);
    for (field, id) in [("submitter_id", submitter_id), ("author_id", author_id), ("requester_id", requester_id)] {
        if !s.users.iter().any(|u| u.id == id) {
            return record_invalid(field, &format!("{field}: is invalid"));
        }
    }
    let now = model::now();
    let comment_id = s.next_id();
    let id = s.next_id();
    let audit_id = s.next_id();
    let ticket = Ticket {
        id,
        subject: input["subject"].as_str().unwrap_or_default().to_owned(),
        status: input["status"].as_str().unwrap_or("new").to_owned(),
        priority: input["priority"].as_str().map(str::to_owned),
        ticket_type: input["type"].as_str().map(str::to_owned),
        requester_id,
        submitter_id,
        assignee_id: None,
        external_id: input["external_id"].as_str().map(str::to_owned),
        tags: tags(input),
        custom_fields: input["custom_fields"].as_array().cloned().unwrap_or_default(),
        comments: vec![new_comment(comment, comment_id, author_id, &now)],
        audits: vec![Audit { id: audit_id, author_id: caller.id, created_at: now.clone() }],
        created_at: now.clone(),
        updated_at: now,
    };
    let json = ticket.to_json(base_url);
    let first = ticket.comments[0].clone();
    s.tickets.push(ticket);
    webhooks::emit(s, id, Change::Created, Channel::Api, caller.id);
    webhooks::emit(s, id, Change::CommentAdded(&first), Channel::Api, caller.id);
    let mut answer = json_answer(StatusCode::CREATED, json!({"ticket": json}));
    if let Some(key) = key {
        s.idempotency.insert(key, (canonical, id));
        answer.headers_mut().insert("x-idempotency-lookup", HeaderValue::from_static("miss"));
    }
    answer.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("{base_url}/api/v2/tickets/{id}.json")).unwrap_or(HeaderValue::from_static("")),
    );
    answer
}

/// `PUT /api/v2/tickets/{id}.json` as `caller`, and the agent control methods (through `channel`
/// `Web`): one path, so both emit the same webhook events (a comment, then a status change).
pub(crate) fn update_ticket(
    s: &mut State,
    base_url: &str,
    caller: &User,
    id: u64,
    body: Option<Value>,
    channel: Channel,
) -> Answer {
    let Some(body) = body else { return error(StatusCode::BAD_REQUEST, "InvalidJSON", "A body is required") };
    let violations = schema::violations("TicketUpdateRequest", &body);
    if !violations.is_empty() {
        s.violations.extend(violations.iter().cloned());
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "InvalidRequestBody", "description": violations.join("; ")}),
        );
    }
    let comment_id = s.next_id();
    let audit_id = s.next_id();
    let input = &body["ticket"];
    // An agent or admin may write a comment on someone else's behalf (`comment.author_id`);
    // Zendesk credits everyone else's comments to the caller.
    let author = match input.pointer("/comment/author_id").and_then(Value::as_u64) {
        Some(author_id) if caller.role != "end-user" => match s.users.iter().find(|u| u.id == author_id) {
            Some(user) => user.clone(),
            None => return record_invalid("author_id", "Author: is invalid"),
        },
        _ => caller.clone(),
    };
    if !s.tickets.iter().any(|t| t.id == id) {
        return not_found();
    }
    let attachments = match input.get("comment").map(|c| crate::uploads::take(s, c)).transpose() {
        Ok(attachments) => attachments.unwrap_or_default(),
        Err(token) => return record_invalid("uploads", &format!("Upload token {token} is invalid")),
    };
    let Some(ticket) = s.tickets.iter_mut().find(|t| t.id == id) else { return not_found() };
    if ticket.status == "closed" {
        return record_invalid("status", "Status: closed prevents ticket update");
    }
    if ticket.comments.len() >= 5000 {
        return record_invalid("comment", "Ticket has reached the maximum number of comments");
    }
    let now = model::now();
    let added = input.get("comment").map(|comment| Comment {
        attachments: attachments.clone(),
        ..new_comment(comment, comment_id, author.id, &now)
    });
    ticket.comments.extend(added.clone());
    let previous = ticket.status.clone();
    match input["status"].as_str() {
        Some(status) => ticket.status = status.to_owned(),
        // An end user's comment (the requester's reply) reopens a Pending or Solved ticket.
        None if added.is_some() && author.role == "end-user" && matches!(previous.as_str(), "pending" | "solved") => {
            ticket.status = "open".to_owned();
        }
        None => {}
    }
    let status_changed = !ticket.status.eq_ignore_ascii_case(&previous);
    let previous_assignee = ticket.assignee_id;
    if let Some(assignee) = input.get("assignee_id").filter(|v| v.is_u64() || v.is_null()) {
        ticket.assignee_id = assignee.as_u64();
    }
    let assignee_changed = ticket.assignee_id != previous_assignee;
    let audit = Audit { id: audit_id, author_id: caller.id, created_at: now.clone() };
    ticket.updated_at = now;
    let answer = json_answer(StatusCode::OK, json!({"ticket": ticket.to_json(base_url), "audit": audit.to_json(id)}));
    ticket.audits.push(audit);
    if let Some(comment) = &added {
        webhooks::emit(s, id, Change::CommentAdded(comment), channel, caller.id);
    }
    if status_changed {
        webhooks::emit(s, id, Change::StatusChanged { previous }, channel, caller.id);
    }
    if assignee_changed {
        webhooks::emit(s, id, Change::AssigneeChanged { previous: previous_assignee }, channel, caller.id);
    }
    answer
}

/// A comment from a request's `comment` object: `public` defaults to true (Zendesk's rule);
/// `html_body`, when given, is kept and `body` derived from it unless given too.
fn new_comment(input: &Value, id: u64, author_id: u64, now: &str) -> Comment {
    let html_body = input["html_body"].as_str().filter(|h| !h.trim().is_empty()).map(str::to_owned);
    let body = match (input["body"].as_str(), &html_body) {
        (Some(body), _) if !body.trim().is_empty() => body.to_owned(),
        (_, Some(html)) => model::html_to_text(html),
        (body, None) => body.unwrap_or_default().to_owned(),
    };
    Comment {
        id,
        body,
        html_body,
        public: input["public"].as_bool().unwrap_or(true),
        author_id,
        created_at: now.to_owned(),
        attachments: Vec::new(),
    }
}

/// `PATCH /api/v2/webhooks/{id}`: merges the given fields (`status`, `endpoint`,
/// `subscriptions`) into the webhook. Answers 204 No Content, as Zendesk's reference documents
/// for this endpoint (read the result with `GET /api/v2/webhooks/{id}`).
fn patch_webhook(s: &mut State, id: &str, body: Option<&Value>) -> Answer {
    let Some(webhook) = s.webhooks.iter_mut().find(|w| w.id == id) else { return not_found() };
    let Some(input) = body.and_then(|b| b.get("webhook")).filter(|w| w.is_object()) else {
        return error(StatusCode::BAD_REQUEST, "InvalidRequestBody", "A `webhook` object is required");
    };
    let status = match input.get("status") {
        None => None,
        Some(Value::String(s)) if s == "active" || s == "inactive" => Some(s.clone()),
        Some(_) => return record_invalid("status", "Status must be active or inactive"),
    };
    let endpoint = match input.get("endpoint") {
        None => None,
        Some(Value::String(e)) if !e.is_empty() => Some(e.clone()),
        Some(_) => return record_invalid("endpoint", "Endpoint must be a URL"),
    };
    let subscriptions = match input.get("subscriptions") {
        None => None,
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {
            Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        }
        Some(_) => return record_invalid("subscriptions", "Subscriptions must be a list of event types"),
    };
    if let Some(status) = status {
        webhook.status = status;
    }
    if let Some(endpoint) = endpoint {
        webhook.endpoint = endpoint;
    }
    if let Some(subscriptions) = subscriptions {
        webhook.subscriptions = subscriptions;
    }
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() = StatusCode::NO_CONTENT;
    answer
}

/// The first custom field id that does not exist, if any.
fn unknown_field(s: &State, input: &Value) -> Option<u64> {
    input["custom_fields"]
        .as_array()?
        .iter()
        .filter_map(|f| f["id"].as_u64())
        .find(|id| !s.fields.iter().any(|f| f.id == *id))
}

/// Zendesk lower-cases tags and splits them on spaces.
fn tags(input: &Value) -> Vec<String> {
    input["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).flat_map(|t| t.split_whitespace()).map(str::to_lowercase).collect())
        .unwrap_or_default()
}

fn webhook_json(w: &crate::Webhook) -> Value {
    json!({"id": w.id, "name": "Handoff", "status": w.status, "endpoint": w.endpoint, "http_method": "POST",
           "request_format": "json", "subscriptions": w.subscriptions})
}

/// `per_page` (or `page[size]`, its cursor-pagination name): 100 by default and at most.
pub(crate) fn page_size(query: &Query) -> usize {
    let asked = query.iter().find(|(k, _)| k == "per_page" || k == "page[size]").and_then(|(_, v)| v.parse().ok());
    asked.unwrap_or(100).clamp(1, 100)
}

pub(crate) fn json_answer(status: StatusCode, body: Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body.to_string())));
    *answer.status_mut() = status;
    answer.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    answer
}

pub(crate) fn error(status: StatusCode, code: &str, description: &str) -> Answer {
    json_answer(status, json!({"error": code, "description": description}))
}

pub(crate) fn not_found() -> Answer {
    error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}

fn record_invalid(field: &str, description: &str) -> Answer {
    json_answer(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"error": "RecordInvalid", "description": "Record validation errors", "details": {field: [{"description": description}]}}),
    )
}

/// A webhook signing secret as Zendesk makes one: random (32 bytes from the OS's CSPRNG, base64),
/// so a simulator reachable from a network hands out nothing anyone could compute.
fn random_signing_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS's random source");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
