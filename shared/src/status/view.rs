//! The status routes' answers, shaped from what Zendesk said: a ticket's status for the visitor
//! and a returning visitor's context.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cache::TicketSnapshot;
use super::context::ContextTicket;
use super::summary::{self, Language};
use crate::zendesk::types::TicketStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub name: String,
    /// `agent` or `end_user`.
    pub role: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignee {
    pub name: String,
}

/// The status route's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketStatusView {
    pub id: u64,
    /// Zendesk's status (for custom statuses, their category: custom names would take a third call).
    pub status: TicketStatus,
    pub status_category: TicketStatus,
    pub subject: Option<String>,
    pub updated_at: Option<String>,
    pub last_updated_by: Option<Person>,
    pub assignee: Option<Assignee>,
    /// One sentence for the visitor, in `locale`.
    pub summary: String,
    pub locale: &'static str,
}

/// The customer-context answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerContext {
    pub email: String,
    /// Newest first.
    pub tickets: Vec<ContextTicket>,
    pub summary: String,
}

/// Who changed the ticket last, as a visitor would mean it: the newest audit by a person — not
/// Zendesk itself (author -1: automations, triggers) and not Handoff (the connected user, whose
/// transcript notes are not news for the visitor).
pub(super) fn last_updater(
    audits_newest_first: &[crate::zendesk::types::TicketAudit],
    handoff_user: Option<u64>,
) -> Option<u64> {
    audits_newest_first
        .iter()
        .filter_map(|a| a.author_id)
        .filter_map(|id| u64::try_from(id).ok())
        .find(|id| Some(*id) != handoff_user)
}

pub(super) fn view(snapshot: &TicketSnapshot, language: Language, now: OffsetDateTime) -> TicketStatusView {
    let ticket = &snapshot.ticket;
    let updater = snapshot.updater.clone().flatten();
    let ago = ticket
        .updated_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|at| (now - at).whole_seconds());
    TicketStatusView {
        id: ticket.id,
        status: ticket.status,
        status_category: ticket.status,
        subject: ticket.subject.clone(),
        updated_at: ticket.updated_at.clone(),
        last_updated_by: updater
            .as_ref()
            .map(|u| Person { name: u.name.clone(), role: if u.is_agent { "agent" } else { "end_user" } }),
        assignee: snapshot.user(ticket.assignee_id).and_then(|u| u.name.clone()).map(|name| Assignee { name }),
        summary: summary::sentence(ticket.status, ago, updater.as_ref(), language),
        locale: language.code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zendesk::types::TicketAudit;

    fn audit(author: i64, at: &str) -> TicketAudit {
        TicketAudit { id: None, author_id: Some(author), created_at: Some(at.into()) }
    }

    #[test]
    fn the_last_updater_skips_zendesk_itself_and_handoff() {
        let newest_first =
            [audit(-1, "2026-11-21T12:00:00Z"), audit(7, "2026-11-21T11:00:00Z"), audit(5, "2026-11-21T10:00:00Z")];
        assert_eq!(last_updater(&newest_first, Some(5)), Some(7));
        assert_eq!(last_updater(&newest_first[2..], Some(5)), None, "only Handoff's own notes");
        assert_eq!(last_updater(&newest_first[2..], None), Some(5));
        assert_eq!(last_updater(&[], None), None);
    }
}
