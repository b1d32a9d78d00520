//! The user and ticket lookups: a ticket with its people sideloaded, its newest audit (who
//! changed it last), a requester's recent tickets (status lookups and customer context), and a
//! visitor's Zendesk user, found or created (a new ticket's requester and submitter).

use super::client::{Account, ZendeskClient, endpoint, read_json};
use super::error::ZendeskError;
use super::types::{
    NewUser, Ticket, TicketAuditsResponse, TicketField, TicketFieldsResponse, TicketWithUsers, TicketsResponse, User,
    UserCreateRequest, UserResponse, UsersResponse,
};
use crate::deadline::Deadline;

impl ZendeskClient {
    /// `GET /api/v2/tickets/{id}.json?include=users`: the ticket and its requester, submitter and
    /// assignee in one call.
    pub async fn show_ticket_with_users(
        &self,
        account: &Account,
        ticket_id: u64,
        deadline: Deadline,
    ) -> Result<TicketWithUsers, ZendeskError> {
        let mut url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}.json"))?;
        url.query_pairs_mut().append_pair("include", "users");
        let response = self.send_authorized(account, deadline, |http| http.get(url.clone())).await?;
        read_json(response).await
    }

    /// The ticket's audits, newest first (`GET /api/v2/tickets/{id}/audits.json`, first page of
    /// up to 100, sorted locally too), with the users Zendesk sideloads. Needs the OAuth `read`
    /// scope: without it Zendesk answers 403.
    pub async fn recent_audits(
        &self,
        account: &Account,
        ticket_id: u64,
        deadline: Deadline,
    ) -> Result<TicketAuditsResponse, ZendeskError> {
        let mut url = endpoint(account, &format!("/api/v2/tickets/{ticket_id}/audits.json"))?;
        url.query_pairs_mut().append_pair("sort_order", "desc").append_pair("per_page", "100");
        let response = self.send_authorized(account, deadline, |http| http.get(url.clone())).await?;
        let mut answer = read_json::<TicketAuditsResponse>(response).await?;
        answer.audits.sort_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
        Ok(answer)
    }

    /// `GET /api/v2/users/search.json?query=email:{email}`: the user with exactly this email.
    pub async fn user_by_email(
        &self,
        account: &Account,
        email: &str,
        deadline: Deadline,
    ) -> Result<Option<User>, ZendeskError> {
        let mut url = endpoint(account, "/api/v2/users/search.json")?;
        // Quoted: an address is one term of Zendesk's search syntax, whatever it contains.
        url.query_pairs_mut().append_pair("query", &format!("email:\"{email}\""));
        let response = self.send_authorized(account, deadline, |http| http.get(url.clone())).await?;
        let users = read_json::<UsersResponse>(response).await?.users;
        Ok(users.into_iter().find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))))
    }

    /// `POST /api/v2/users.json`: a new end user (needs `users:write`). Create only: Zendesk
    /// refuses an email that exists (422), so no existing user is ever changed.
    pub async fn create_end_user(
        &self,
        account: &Account,
        name: &str,
        email: &str,
        deadline: Deadline,
    ) -> Result<User, ZendeskError> {
        let body = UserCreateRequest {
            user: NewUser { name: name.to_owned(), email: email.to_owned(), skip_verify_email: true },
        };
        let url = endpoint(account, "/api/v2/users.json")?;
        let response = self
            .send_authorized(account, deadline, |http| http.request(reqwest::Method::POST, url.clone()).json(&body))
            .await?;
        Ok(read_json::<UserResponse>(response).await?.user)
    }

    /// `GET /api/v2/users/{id}/tickets/requested.json`, most recently updated first (sorted
    /// locally too: whether Zendesk honours the order on every pagination mode is unconfirmed).
    pub async fn requested_tickets(
        &self,
        account: &Account,
        user_id: u64,
        count: usize,
        deadline: Deadline,
    ) -> Result<Vec<Ticket>, ZendeskError> {
        let mut url = endpoint(account, &format!("/api/v2/users/{user_id}/tickets/requested.json"))?;
        url.query_pairs_mut()
            .append_pair("sort_by", "updated_at")
            .append_pair("sort_order", "desc")
            // A full page, sorted here: whether Zendesk honours the order is unconfirmed.
            .append_pair("per_page", "100");
        let response = self.send_authorized(account, deadline, |http| http.get(url.clone())).await?;
        let mut tickets = read_json::<TicketsResponse>(response).await?.tickets;
        tickets.sort_by(|a, b| (&b.updated_at, b.id).cmp(&(&a.updated_at, a.id)));
        tickets.truncate(count);
        Ok(tickets)
    }

    /// Every ticket field of the account (`GET /api/v2/ticket_fields.json`, up to 10 pages of
    /// 100), to check the custom field ids a bot maps onto.
    pub async fn ticket_fields(&self, account: &Account, deadline: Deadline) -> Result<Vec<TicketField>, ZendeskError> {
        let mut url = endpoint(account, "/api/v2/ticket_fields.json")?;
        url.query_pairs_mut().append_pair("per_page", "100");
        let mut fields = Vec::new();
        for _ in 0..10 {
            let page_url = url.clone();
            let response = self.send_authorized(account, deadline, |http| http.get(page_url.clone())).await?;
            let page = read_json::<TicketFieldsResponse>(response).await?;
            fields.extend(page.ticket_fields);
            // Only follow pages on the same host (the answer names the URL).
            match page.next_page.and_then(|next| url::Url::parse(&next).ok()) {
                Some(next) if next.host_str() == url.host_str() && next.port() == url.port() => url = next,
                _ => break,
            }
        }
        Ok(fields)
    }
}
