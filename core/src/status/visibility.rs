//! Who may see which ticket (the bot's `status_lookup_scope`). Competing products answer any
//! ticket number to anyone; Handoff answers only what the rule allows, and a ticket the caller
//! may not see looks exactly like one that does not exist. Pure.

use crate::mapping::bot_tag;
pub use crate::settings::LookupScope;

/// What is known about the caller's visitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// A verified email: the token's `visitor_email` claim, or the one recorded on the
    /// conversation named in the request.
    pub verified_email: Option<String>,
    /// Tickets linked to the visitor's conversation (its current and previous ones).
    pub linked_tickets: Vec<u64>,
}

impl Viewer {
    /// True when nothing identifies the visitor: under `visitor`, nothing can be shown.
    pub fn is_anonymous(&self) -> bool {
        self.verified_email.is_none() && self.linked_tickets.is_empty()
    }
}

/// The facts about a ticket the rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts<'a> {
    pub id: u64,
    pub requester_email: Option<&'a str>,
    pub tags: &'a [String],
}

pub fn may_see(scope: LookupScope, bot_id: &str, ticket: &TicketFacts<'_>, viewer: &Viewer) -> bool {
    match scope {
        LookupScope::Account => true,
        LookupScope::Bot => ticket.tags.iter().any(|t| *t == bot_tag(bot_id)),
        LookupScope::Visitor => {
            viewer.linked_tickets.contains(&ticket.id)
                || matches!((ticket.requester_email, viewer.verified_email.as_deref()),
                    (Some(a), Some(b)) if a.trim().eq_ignore_ascii_case(b.trim()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket<'a>(requester: Option<&'a str>, tags: &'a [String]) -> TicketFacts<'a> {
        TicketFacts { id: 7, requester_email: requester, tags }
    }

    #[test]
    fn visitor_scope_needs_the_same_email_or_a_link() {
        let none: Vec<String> = Vec::new();
        let ana = Viewer { verified_email: Some("Ana@Example.com".into()), linked_tickets: vec![] };
        let linked = Viewer { verified_email: None, linked_tickets: vec![7] };
        let bob = Viewer { verified_email: Some("bob@example.com".into()), linked_tickets: vec![8] };
        let t = ticket(Some("ana@example.com"), &none);
        assert!(may_see(LookupScope::Visitor, "b", &t, &ana));
        assert!(may_see(LookupScope::Visitor, "b", &ticket(None, &none), &linked));
        assert!(!may_see(LookupScope::Visitor, "b", &t, &bob));
        assert!(!may_see(LookupScope::Visitor, "b", &t, &Viewer::default()));
        assert!(!may_see(LookupScope::Visitor, "b", &ticket(None, &none), &ana), "no requester email, no match");
    }

    #[test]
    fn bot_scope_needs_the_bots_tag_and_account_scope_allows_all() {
        let mine = vec!["handoff".to_owned(), bot_tag("shop-bot")];
        let other = vec!["handoff".to_owned(), bot_tag("other-bot")];
        let anyone = Viewer::default();
        assert!(may_see(LookupScope::Bot, "shop-bot", &ticket(None, &mine), &anyone));
        assert!(!may_see(LookupScope::Bot, "shop-bot", &ticket(None, &other), &anyone));
        assert!(may_see(LookupScope::Account, "shop-bot", &ticket(None, &other), &anyone));
        // Bot ids that fold to the same text do not see each other's tickets.
        let shop_dot = vec!["handoff".to_owned(), bot_tag("Shop.Bot")];
        assert!(!may_see(LookupScope::Bot, "shop_bot", &ticket(None, &shop_dot), &anyone));
    }
}
