//! The user-facing reads Handoff uses to give an agent context: users search, a requester's
//! recent tickets, the users sideloaded on a ticket (`include=users`), and updating a user's
//! name or phone (`PUT /api/v2/users/{id}`), and deleting a user, then deleting it permanently.

use http::StatusCode;
use serde_json::{Value, json};

use crate::State;
use crate::model::{Ticket, User};
use crate::routes::{Answer, Query, error, json_answer, page_size};

/// `GET /api/v2/users/search.json?query=email:{email}` (or `query={email}`): the user with that
/// email, compared case-insensitively as Zendesk does. Other search syntax finds nobody.
pub(crate) fn search(s: &State, query: &Query) -> Answer {
    let q = query.iter().find(|(k, _)| k == "query").map(|(_, v)| v.as_str()).unwrap_or_default();
    let users: Vec<Value> = emails(q).filter_map(|email| s.user_by_email(email)).map(User::to_json).take(1).collect();
    let count = users.len();
    json_answer(StatusCode::OK, json!({"users": users, "next_page": null, "previous_page": null, "count": count}))
}

/// The email addresses a search query names: `email:x` terms (key in any case, value possibly
/// quoted) and bare terms that look like an address.
fn emails(query: &str) -> impl Iterator<Item = &str> {
    query.split_whitespace().filter_map(|term| {
        let value = match term.split_once(':') {
            Some((key, value)) if key.eq_ignore_ascii_case("email") => value,
            Some(_) => return None,
            None => term,
        };
        Some(value.trim_matches('"')).filter(|v| v.contains('@'))
    })
}

/// `POST /api/v2/users.json` (`{"user": {"name", "email", …}}`): a new user (an end user unless
/// a role is sent), 201; an email that exists is refused, 422 `DuplicateValue`, and nothing
/// changes. Agents and admins only.
pub(crate) fn create(s: &mut State, caller: &User, body: Option<&Value>) -> Answer {
    if caller.role == "end-user" {
        return error(StatusCode::FORBIDDEN, "Forbidden", "You do not have access to this page");
    }
    let input = body.and_then(|b| b.get("user")).cloned().unwrap_or(Value::Null);
    let email = input["email"].as_str().unwrap_or_default().trim().to_owned();
    if !email.contains('@') {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "RecordInvalid", "Email: is invalid");
    }
    if s.users.iter().any(|u| u.email.eq_ignore_ascii_case(&email)) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "DuplicateValue",
            "Email: is already being used by another user",
        );
    }
    let Some(name) = input["name"].as_str().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "RecordInvalid", "Name: is too short");
    };
    let id = s.next_id();
    let user = User::new(id, name, email, input["role"].as_str().unwrap_or("end-user"));
    let answer = json!({"user": user.to_json()});
    s.users.push(user);
    json_answer(StatusCode::CREATED, answer)
}

/// `GET /api/v2/users/{id}/tickets/requested.json`: `sort_by=updated_at|created_at` (else by id),
/// `sort_order=asc|desc`, `per_page`. An unknown user is 404, as in Zendesk.
pub(crate) fn requested(s: &State, base_url: &str, user_id: u64, query: &Query) -> Answer {
    if !s.users.iter().any(|u| u.id == user_id) {
        return error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found");
    }
    let mut tickets: Vec<&Ticket> = s.tickets.iter().filter(|t| t.requester_id == user_id).collect();
    let sort_by = query.iter().find(|(k, _)| k == "sort_by").map(|(_, v)| v.as_str());
    match sort_by {
        Some("updated_at") => tickets.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id))),
        Some("created_at") => tickets.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
        _ => tickets.sort_by_key(|t| t.id),
    }
    if query.iter().any(|(k, v)| k == "sort_order" && v.eq_ignore_ascii_case("desc")) {
        tickets.reverse();
    }
    let count = tickets.len();
    let tickets: Vec<Value> = tickets.into_iter().take(page_size(query)).map(|t| t.to_json(base_url)).collect();
    json_answer(StatusCode::OK, json!({"tickets": tickets, "next_page": null, "previous_page": null, "count": count}))
}

/// The users `include=users` sideloads on a ticket: the ones the ticket names (requester,
/// submitter, assignee), each once, in that order — not whoever changed it last.
pub(crate) fn sideloaded(s: &State, ticket: &Ticket) -> Vec<Value> {
    let mut ids: Vec<u64> = Vec::new();
    for id in [Some(ticket.requester_id), Some(ticket.submitter_id), ticket.assignee_id].into_iter().flatten() {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.iter().filter_map(|id| s.users.iter().find(|u| u.id == *id)).map(User::to_json).collect()
}

/// Whether `include` (comma-separated) asks for `users`.
pub(crate) fn wants_users(query: &Query) -> bool {
    query.iter().any(|(k, v)| k == "include" && v.split(',').any(|i| i.trim() == "users"))
}

/// `PUT /api/v2/users/{id}.json` `{"user": {"name"?, "phone"?}}`: the fields Handoff sets. Any
/// other field is refused (400), so a typo in what Handoff sends cannot pass silently.
pub(crate) fn update(s: &mut State, user_id: u64, body: Option<&Value>) -> Answer {
    let Some(input) = body.and_then(|b| b.get("user")).and_then(Value::as_object) else {
        return error(StatusCode::BAD_REQUEST, "InvalidRequestBody", "a `user` object is required");
    };
    if let Some(other) = input.keys().find(|k| !matches!(k.as_str(), "name" | "phone")) {
        return error(StatusCode::BAD_REQUEST, "InvalidRequestBody", &format!("unexpected user field `{other}`"));
    }
    let Some(user) = s.users.iter_mut().find(|u| u.id == user_id) else {
        return error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found");
    };
    if let Some(name) = input.get("name").and_then(Value::as_str) {
        user.name = name.to_owned();
    }
    if let Some(phone) = input.get("phone") {
        user.phone = phone.as_str().map(str::to_owned);
    }
    let answer = user.to_json();
    json_answer(StatusCode::OK, json!({"user": answer}))
}

/// `GET /api/v2/users/{id}.json`: the user; 404 for no such user (or one deleted).
pub(crate) fn show(s: &State, user_id: u64) -> Answer {
    match s.users.iter().find(|u| u.id == user_id) {
        Some(user) => json_answer(StatusCode::OK, json!({"user": user.to_json()})),
        None => error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found"),
    }
}

/// `GET /api/v2/deleted_users/{id}.json`: a user deleted but not permanently yet; 404 otherwise.
pub(crate) fn show_deleted(s: &State, user_id: u64) -> Answer {
    match s.deleted_users.iter().find(|u| u.id == user_id) {
        Some(user) => json_answer(
            StatusCode::OK,
            json!({"deleted_user": {"id": user.id, "name": user.name, "email": user.email, "active": false}}),
        ),
        None => error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found"),
    }
}

/// `DELETE /api/v2/users/{id}.json`: the user leaves the account (searches no longer find it)
/// and waits in the deleted users for permanent deletion; 404 for no such user. Agents and admins
/// only; nobody deletes themselves.
pub(crate) fn delete(s: &mut State, caller: &User, user_id: u64) -> Answer {
    if caller.role == "end-user" || caller.id == user_id {
        return error(StatusCode::FORBIDDEN, "Forbidden", "You do not have access to this page");
    }
    let Some(index) = s.users.iter().position(|u| u.id == user_id) else {
        return error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found");
    };
    let user = s.users.remove(index);
    let mut answer = user.to_json();
    answer["active"] = json!(false);
    s.deleted_users.push(user);
    json_answer(StatusCode::OK, json!({"user": answer}))
}

/// `DELETE /api/v2/deleted_users/{id}.json`: a deleted user is removed for good; 404 for a user
/// that was not deleted first (or is gone already).
pub(crate) fn delete_permanently(s: &mut State, caller: &User, user_id: u64) -> Answer {
    if caller.role == "end-user" {
        return error(StatusCode::FORBIDDEN, "Forbidden", "You do not have access to this page");
    }
    let Some(index) = s.deleted_users.iter().position(|u| u.id == user_id) else {
        return error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found");
    };
    let user = s.deleted_users.remove(index);
    json_answer(
        StatusCode::OK,
        json!({"deleted_user": {"id": user.id, "name": user.name, "email": user.email, "active": false}}),
    )
}
