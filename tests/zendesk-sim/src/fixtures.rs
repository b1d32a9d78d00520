//! Test set-up that changes the data silently (no webhook event, no API call recorded), as if it
//! had happened in Zendesk before the test: users, tickets, assignees, statuses, older times.

use crate::model::{self, Audit, Comment, Ticket, User};
use crate::{Simulator, State};

impl Simulator {
    /// Adds an end user (a customer) and returns the id; an existing email keeps its user as is.
    pub fn add_end_user(&self, name: &str, email: &str) -> u64 {
        self.with(|s| end_user(s, name, email))
    }

    /// Adds a ticket directly, as another integration or an agent would have made it, requested by
    /// the first user (the admin).
    pub fn insert_ticket(&self, subject: &str, external_id: Option<&str>, tags: &[&str]) -> u64 {
        self.with(|s| {
            let requester_id = s.users[0].id;
            let id = insert(s, requester_id, subject, "open", tags);
            if let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) {
                t.external_id = external_id.map(str::to_owned);
            }
            id
        })
    }

    /// Adds a ticket requested (and submitted) by `requester_email`, an end user created if new (named
    /// after the address's local part), as
    /// the customer would have opened it: one public comment (the subject) and one audit, both by
    /// the requester.
    pub fn insert_ticket_for(&self, requester_email: &str, subject: &str, status: &str, tags: &[&str]) -> u64 {
        self.with(|s| {
            let name = requester_email.split('@').next().unwrap_or(requester_email).to_owned();
            let requester_id = end_user(s, &name, requester_email);
            let id = insert(s, requester_id, subject, status, tags);
            let audit_id = s.next_id();
            if let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) {
                t.audits.push(Audit { id: audit_id, author_id: requester_id, created_at: t.created_at.clone() });
            }
            id
        })
    }

    /// Assigns a ticket to the agent `agent_email` (created if new). Only `assignee_id` changes:
    /// no audit, no `updated_at`, so it composes with `backdate`. Panics for an unknown ticket.
    pub fn assign(&self, ticket_id: u64, agent_email: &str) {
        let found = self.with(|s| {
            let agent_id = crate::agent(s, agent_email);
            s.tickets.iter_mut().find(|t| t.id == ticket_id).map(|t| t.assignee_id = Some(agent_id)).is_some()
        });
        // Panics outside `with`, so the state's lock is not poisoned for the rest of the test.
        assert!(found, "no ticket {ticket_id} to assign");
    }

    /// Moves a ticket `seconds` into the past: its `created_at`, `updated_at`, and every comment's
    /// and audit's `created_at` (for tests of relative times such as "2 days ago"). Panics for an
    /// unknown ticket.
    pub fn backdate(&self, ticket_id: u64, seconds: i64) {
        let found = self.with(|s| {
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == ticket_id) else { return false };
            t.created_at = model::earlier(&t.created_at, seconds);
            t.updated_at = model::earlier(&t.updated_at, seconds);
            t.comments.iter_mut().for_each(|c| c.created_at = model::earlier(&c.created_at, seconds));
            t.audits.iter_mut().for_each(|a| a.created_at = model::earlier(&a.created_at, seconds));
            true
        });
        assert!(found, "no ticket {ticket_id} to backdate");
    }

    /// Sets a ticket's status as an agent would (e.g. `solved`), silently: no webhook event and no
    /// audit (see `agent_set_status` for both).
    pub fn set_status(&self, ticket_id: u64, status: &str) {
        self.with(|s| {
            if let Some(t) = s.tickets.iter_mut().find(|t| t.id == ticket_id) {
                t.status = status.to_owned();
                t.updated_at = model::now();
            }
        });
    }

    /// A ticket's audits, oldest first (empty for an unknown ticket).
    pub fn ticket_audits(&self, ticket_id: u64) -> Vec<Audit> {
        self.with(|s| {
            let ticket = s.tickets.iter().find(|t| t.id == ticket_id);
            ticket.map(|t| crate::audits::in_order(t).into_iter().cloned().collect()).unwrap_or_default()
        })
    }

    /// While `deny`, the audits endpoint answers 403 Forbidden, as Zendesk does for an OAuth token
    /// without the global `read` scope.
    pub fn deny_audits(&self, deny: bool) {
        self.with(|s| s.deny_audits = deny);
    }
}

/// The id of the user with `email`, created as an end user named `name` if there is none.
fn end_user(s: &mut State, name: &str, email: &str) -> u64 {
    if let Some(user) = s.user_by_email(email) {
        return user.id;
    }
    let id = s.next_id();
    s.users.push(User::new(id, name.to_owned(), email.to_owned(), "end-user"));
    id
}

/// Adds a ticket requested and submitted by `requester_id`, with the subject as its one public
/// comment, and no audit; returns its id.
fn insert(s: &mut State, requester_id: u64, subject: &str, status: &str, tags: &[&str]) -> u64 {
    let id = s.next_id();
    let comment_id = s.next_id();
    let now = model::now();
    s.tickets.push(Ticket {
        id,
        subject: subject.into(),
        status: status.into(),
        priority: None,
        ticket_type: None,
        requester_id,
        submitter_id: requester_id,
        assignee_id: None,
        external_id: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        custom_fields: Vec::new(),
        comments: vec![Comment {
            id: comment_id,
            body: subject.into(),
            html_body: None,
            public: true,
            author_id: requester_id,
            created_at: now.clone(),
            attachments: Vec::new(),
        }],
        audits: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
    });
    id
}
