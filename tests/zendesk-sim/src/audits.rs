//! `GET /api/v2/tickets/{id}/audits.json`: a ticket's recorded changes (one per create or update),
//! which is where a client learns who last updated a ticket.

use http::StatusCode;
use serde_json::{Value, json};

use crate::State;
use crate::model::{Audit, Ticket};
use crate::routes::{Answer, Query, error, json_answer, not_found, page_size};

/// What Zendesk answers an OAuth token without the global `read` scope on this endpoint.
const FORBIDDEN: &str =
    "You do not have access to this page. Please contact the account owner of this help desk for further help.";

/// The ticket's audits oldest first (by time, then id), as the endpoint's default order.
pub(crate) fn in_order(ticket: &Ticket) -> Vec<&Audit> {
    let mut audits: Vec<&Audit> = ticket.audits.iter().collect();
    audits.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    audits
}

/// `GET /api/v2/tickets/{id}/audits.json`: `sort_order=asc|desc`, `per_page` (or `page[size]`).
pub(crate) fn list(s: &State, ticket_id: u64, query: &Query) -> Answer {
    if s.deny_audits {
        return error(StatusCode::FORBIDDEN, "Forbidden", FORBIDDEN);
    }
    let Some(ticket) = s.tickets.iter().find(|t| t.id == ticket_id) else { return not_found() };
    let mut audits = in_order(ticket);
    if query.iter().any(|(k, v)| k == "sort_order" && v.eq_ignore_ascii_case("desc")) {
        audits.reverse();
    }
    let count = audits.len();
    let page: Vec<&Audit> = audits.into_iter().take(page_size(query)).collect();
    // The page's authors, sideloaded (unconfirmed for Zendesk: Handoff also works without them).
    let mut authors: Vec<u64> = page.iter().map(|a| a.author_id).collect();
    authors.dedup();
    let users: Vec<Value> =
        s.users.iter().filter(|u| authors.contains(&u.id)).map(crate::model::User::to_json).collect();
    let audits: Vec<Value> = page.into_iter().map(|a| a.to_json(ticket_id)).collect();
    json_answer(
        StatusCode::OK,
        json!({"audits": audits, "users": users, "next_page": null, "previous_page": null, "count": count}),
    )
}
