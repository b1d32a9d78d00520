//! A returning visitor's recent tickets as a short text for a language model's prompt
//! ("3 earlier tickets: #123 'Can't log in' — solved 2 days ago; …"). Pure.

use serde::Serialize;

use super::summary::{Language, relative};
use crate::zendesk::types::TicketStatus;

/// One earlier ticket, as the context route answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextTicket {
    pub id: u64,
    pub subject: String,
    pub status: TicketStatus,
    pub updated_at: String,
}

/// Subjects are cut to this many characters in the summary (the list carries them whole).
const SUBJECT_CHARS: usize = 60;

/// The summary for `tickets` (newest first), with times relative to `now`.
pub fn summary(tickets: &[ContextTicket], now: time::OffsetDateTime) -> String {
    if tickets.is_empty() {
        return "No earlier tickets.".to_owned();
    }
    let items: Vec<String> = tickets
        .iter()
        .map(|t| {
            let subject = crate::text::truncate_words(&crate::text::one_line(&t.subject), SUBJECT_CHARS);
            let status = t.status.as_str();
            let when = time::OffsetDateTime::parse(&t.updated_at, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|at| relative((now - at).whole_seconds(), Language::En));
            match (when, t.status.ends_episode()) {
                (Some(when), true) => format!("#{} '{subject}' — {status} {when}", t.id),
                (Some(when), false) => format!("#{} '{subject}' — {status}, updated {when}", t.id),
                (None, _) => format!("#{} '{subject}' — {status}", t.id),
            }
        })
        .collect();
    let count = tickets.len();
    format!("{count} earlier ticket{}: {}.", if count == 1 { "" } else { "s" }, items.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn t(id: u64, subject: &str, status: TicketStatus, updated_at: &str) -> ContextTicket {
        ContextTicket { id, subject: subject.into(), status, updated_at: updated_at.into() }
    }

    #[test]
    fn the_summary_reads_like_the_example() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let tickets = [
            t(130, "Refund for order 991", TicketStatus::Open, "2026-11-21T07:00:00Z"),
            t(123, "Can't log in", TicketStatus::Solved, "2026-11-19T12:00:00Z"),
        ];
        assert_eq!(
            summary(&tickets, now),
            "2 earlier tickets: #130 'Refund for order 991' — open, updated 5 hours ago; \
             #123 'Can't log in' — solved 2 days ago."
        );
        assert_eq!(summary(&tickets[1..], now), "1 earlier ticket: #123 'Can't log in' — solved 2 days ago.");
        assert_eq!(summary(&[], now), "No earlier tickets.");
    }
}
