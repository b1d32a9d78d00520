//! One visitor's data, found by their email: what the export answers and the erasure removes
//! (a data subject's requests). `VisitorMatcher` is the one rule of what belongs to a visitor;
//! every adapter walks its records through it, so they all find the same things.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::Serialize;

use super::audit::AuditEntry;
use super::conversations::{ConversationRecord, VisitorRecord};
use super::error::StoreError;
use super::outbox::PendingCallback;

/// What replaces the visitor's email in the audit details an erasure keeps.
pub const ERASED: &str = "[erased]";

/// Everything Handoff holds about one visitor of a bot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitorData {
    /// Conversation records (with any pending payload) whose requester is the visitor, or whose
    /// session named them.
    pub conversations: Vec<ConversationRecord>,
    /// Session records (`VISITOR#`) with their email, or of their conversations.
    pub sessions: Vec<VisitorRecord>,
    /// Outbox entries (callbacks to the bot) of their conversations.
    pub callbacks: Vec<PendingCallback>,
    /// Audit entries naming their email or one of their conversations.
    pub audit: Vec<AuditEntry>,
}

impl VisitorData {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.sessions.is_empty() && self.callbacks.is_empty() && self.audit.is_empty()
    }
}

/// What an erasure removed (and, for the audit trail, rewrote).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub conversations: u32,
    /// Of those conversations, how many held an unfinished escalation's payload.
    pub pending_payloads: u32,
    pub sessions: u32,
    pub callbacks: u32,
    /// Audit entries kept with the email replaced by `ERASED` (the trail of what Handoff did stays
    /// for its 90 days; who it was for does not).
    pub audit_entries_scrubbed: u32,
}

impl Erased {
    /// Counts a conversation about to be removed.
    pub fn conversation(&mut self, record: &ConversationRecord) {
        self.conversations += 1;
        self.pending_payloads += u32::from(record.pending_payload.is_some());
    }
}

/// Finds and erases a visitor's data. Emails compare without regard to ASCII case.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// Everything held about `email` for the bot.
    async fn visitor_data(&self, bot_id: &str, email: &str) -> Result<VisitorData, StoreError>;

    /// Removes the visitor's conversations (and their pending payloads and ticket index
    /// entries), sessions and callbacks, and replaces their email in the audit entries that
    /// name it. Idempotent: a second erasure finds nothing and counts zeros. A failure part-way
    /// leaves the rest for a repeated request.
    async fn erase_visitor(&self, bot_id: &str, email: &str) -> Result<Erased, StoreError>;
}

/// Decides what belongs to one visitor. Walk the records in this order: conversations,
/// sessions, then the conversations sessions named that were not seen yet (`unseen`), then
/// callbacks and audit entries; each answer depends on what was seen before it.
///
/// A session and a conversation record that name two different emails are not joined: each
/// belongs to the email it names (the record to its requester, the session to its visitor), so
/// one visitor's request never reaches another's data.
#[derive(Debug, Clone)]
pub struct VisitorMatcher {
    email: String,
    /// Conversation ids known to be the visitor's.
    conversations: BTreeSet<String>,
    /// Of those, the ones whose record was offered.
    seen: BTreeSet<String>,
    /// Conversations whose record names another requester.
    others: BTreeSet<String>,
}

impl VisitorMatcher {
    pub fn new(email: &str) -> Self {
        Self {
            email: crate::identity::normalize_email(email),
            conversations: BTreeSet::new(),
            seen: BTreeSet::new(),
            others: BTreeSet::new(),
        }
    }

    fn is_email(&self, candidate: &str) -> bool {
        !self.email.is_empty() && crate::identity::same_email(candidate, &self.email)
    }

    /// True (and remembered) when the record is the visitor's: its requester is their email, or
    /// it names none and their session named the conversation.
    pub fn conversation(&mut self, record: &ConversationRecord) -> bool {
        let id = &record.conversation_id;
        let theirs = match record.requester_email.as_deref() {
            Some(requester) if self.is_email(requester) => true,
            Some(_) => {
                self.others.insert(id.clone());
                false
            }
            None => self.conversations.contains(id),
        };
        if theirs {
            self.conversations.insert(id.clone());
            self.seen.insert(id.clone());
        }
        theirs
    }

    /// True when the session is the visitor's: it names their email, or it names none and its
    /// conversation is theirs. A session with their email makes its conversation theirs too,
    /// unless that conversation's record names another requester.
    pub fn session(&mut self, session: &VisitorRecord) -> bool {
        let id = &session.conversation_id;
        match session.email.as_deref() {
            Some(email) if self.is_email(email) => {
                if !self.others.contains(id) {
                    self.conversations.insert(id.clone());
                }
                true
            }
            Some(_) => false,
            None => self.conversations.contains(id),
        }
    }

    /// The visitor's conversations learnt from sessions whose records were not offered yet.
    pub fn unseen(&self) -> Vec<String> {
        self.conversations.difference(&self.seen).cloned().collect()
    }

    pub fn callback(&self, callback: &PendingCallback) -> bool {
        self.conversations.contains(&callback.conversation_id)
    }

    /// True when the entry names the email (its actor or any detail) or one of the visitor's
    /// conversations.
    pub fn audit(&self, entry: &AuditEntry) -> bool {
        self.mentions(entry)
            || entry.detail.get("conversation_id").is_some_and(|conversation| self.conversations.contains(conversation))
    }

    /// True when the email appears anywhere in the entry (as a whole address, see `find_email`).
    pub fn mentions(&self, entry: &AuditEntry) -> bool {
        let found = |text: &str| find_email(text, &self.email, 0).is_some();
        entry.actor.as_deref().is_some_and(found) || entry.detail.values().any(|v| found(v))
    }

    /// The entry with every occurrence of the email replaced by `ERASED`.
    pub fn scrub(&self, entry: &AuditEntry) -> AuditEntry {
        let mut scrubbed = entry.clone();
        if let Some(actor) = scrubbed.actor.as_mut() {
            *actor = self.scrub_text(actor);
        }
        for value in scrubbed.detail.values_mut() {
            *value = self.scrub_text(value);
        }
        scrubbed
    }

    /// `text` with every occurrence of the email replaced by `ERASED`.
    pub fn scrub_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        while let Some(at) = find_email(text, &self.email, from) {
            out.push_str(&text[from..at]);
            out.push_str(ERASED);
            from = at + self.email.len();
        }
        out.push_str(&text[from..]);
        out
    }
}

/// An ASCII byte that can be part of an email address (so a match next to one is part of another
/// address: `an@example.com` is not in `jan@example.com`, nor `ana@example.co` in
/// `ana@example.com`). Other characters end an address: quotes, brackets and text in any script
/// around it (`“ana@example.com”`, `ana@example.comは…`); erring there scrubs more, not less.
fn in_address(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'%' | b'+' | b'-' | b'@')
}

/// Byte offset, at or after `from`, of `email` (already ASCII-lowercase) in `text` as a whole
/// address, ignoring ASCII case (which keeps byte offsets, so they index `text` itself).
fn find_email(text: &str, email: &str, from: usize) -> Option<usize> {
    let (bytes, needle) = (text.as_bytes(), email.as_bytes());
    if needle.is_empty() {
        return None;
    }
    let mut start = from;
    while start + needle.len() <= bytes.len() {
        let at = start + bytes[start..].windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))?;
        let end = at + needle.len();
        let before_ok = at == 0 || !in_address(bytes[at - 1]);
        // Dots right after it end a sentence ("… ana@example.com." or "…..."), unless an address
        // goes on after them (`ana@example.com.br`).
        let dots = bytes[end..].iter().take_while(|&&b| b == b'.').count();
        let after_ok = bytes.get(end + dots).is_none_or(|&b| !in_address(b));
        if before_ok && after_ok {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EscalationState;

    fn record(conversation: &str, email: Option<&str>) -> ConversationRecord {
        ConversationRecord {
            bot_id: "b".into(),
            conversation_id: conversation.into(),
            episode: 1,
            state: EscalationState::Created,
            ticket_id: Some(1),
            ticket_status: None,
            previous_ticket_id: None,
            account: None,
            rule: None,
            requester_email: email.map(str::to_owned),
            requester_verified: false,
            claim_token: "t".into(),
            resume: false,
            lease_until_ms: 0,
            attempts: 0,
            work_started_at_ms: None,
            due_at_ms: None,
            last_error: None,
            pending_payload: None,
            status_at_ms: None,
            notes_written: 0,
            last_synced_fingerprint: None,
            sync_holder: None,
            sync_lease_until_ms: None,
            sync_started_at_ms: None,
            requester_id: None,
            forwarded_ids: vec![],
            forwarded_count: 0,
            agent_joined_at_ms: None,
            agent_joined_event: None,
            last_agent_reply_at_ms: None,
            version: 1,
        }
    }

    fn session(conversation: &str, email: Option<&str>) -> VisitorRecord {
        VisitorRecord {
            bot_id: "b".into(),
            conversation_id: conversation.into(),
            name: None,
            email: email.map(str::to_owned),
            phone: None,
            locale: None,
            email_verified: false,
            recorded_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    fn entry(actor: Option<&str>, detail: &[(&str, &str)]) -> AuditEntry {
        AuditEntry {
            bot_id: "b".into(),
            at: "2026-12-01T00:00:00Z".into(),
            action: "escalated".into(),
            outcome: "ok".into(),
            actor: actor.map(str::to_owned),
            detail: detail.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn a_visitor_is_their_email_whatever_its_case_and_what_their_sessions_name() {
        let mut matcher = VisitorMatcher::new(" Ana@Example.com ");
        assert!(matcher.conversation(&record("c1", Some("ana@example.COM"))));
        assert!(!matcher.conversation(&record("c2", Some("bob@example.com"))));
        assert!(!matcher.conversation(&record("c3", None)), "no requester: not theirs yet");
        assert!(matcher.session(&session("c3", Some("ANA@example.com"))), "the session names them");
        assert!(matcher.session(&session("c1", None)), "a session of their conversation");
        assert!(!matcher.session(&session("c2", None)));
        assert_eq!(matcher.unseen(), ["c3"], "c3's record was offered before its session named them");
        assert!(matcher.conversation(&record("c3", None)), "offered again, it is theirs");
        assert!(matcher.unseen().is_empty());
        assert!(!VisitorMatcher::new("").conversation(&record("c4", Some(""))), "an empty email matches nothing");
    }

    #[test]
    fn a_session_and_a_record_naming_two_people_are_not_joined() {
        let mut ana = VisitorMatcher::new("ana@example.com");
        assert!(!ana.conversation(&record("c1", Some("bob@example.com"))));
        assert!(ana.session(&session("c1", Some("ana@example.com"))), "her session is hers");
        assert!(ana.unseen().is_empty(), "but Bob's conversation is not");
        assert!(!ana.callback(&PendingCallback {
            bot_id: "b".into(),
            event_id: "e".into(),
            conversation_id: "c1".into(),
            ticket_id: 1,
            body: "{}".into(),
            attempts: 1,
            due_at_ms: None,
            state: crate::store::CallbackState::Pending,
            last_error: None,
        }));
        let mut bob = VisitorMatcher::new("bob@example.com");
        assert!(bob.conversation(&record("c1", Some("bob@example.com"))));
        assert!(!bob.session(&session("c1", Some("ana@example.com"))), "Ana's session is not Bob's");
        assert!(bob.session(&session("c1", None)), "a session naming nobody goes with its conversation");
    }

    #[test]
    fn an_address_is_found_whole_never_inside_another() {
        let ana = VisitorMatcher::new("an@example.com");
        for other in
            ["jan@example.com", "an@example.community", "x.an@example.com", "an@example.com.br", "an@example.com-x"]
        {
            assert!(!ana.mentions(&entry(Some(other), &[])), "{other}");
            assert_eq!(ana.scrub_text(other), other);
        }
        for (text, scrubbed) in [
            ("an@example.com", "[erased]"),
            ("AN@Example.com.", "[erased]."),
            ("<an@example.com>, an@example.com", "<[erased]>, [erased]"),
            ("mailto:an@example.com?x", "mailto:[erased]?x"),
            ("“an@example.com”", "“[erased]”"),
            ("an@example.comは既に使用されています", "[erased]は既に使用されています"),
            ("write to an@example.com...", "write to [erased]..."),
        ] {
            assert!(ana.mentions(&entry(None, &[("d", text)])), "{text}");
            assert_eq!(ana.scrub_text(text), scrubbed);
        }
    }

    #[test]
    fn audit_entries_about_them_are_found_and_scrubbed_of_the_email_only() {
        let mut matcher = VisitorMatcher::new("ana@example.com");
        matcher.conversation(&record("c1", Some("ana@example.com")));
        let by_email = entry(Some("ANA@example.com"), &[("error", "user ana@example.com exists; ana@example.com!")]);
        let by_conversation = entry(None, &[("conversation_id", "c1"), ("ticket_id", "7")]);
        let other = entry(Some("bob@example.com"), &[("conversation_id", "c2")]);
        assert!(matcher.audit(&by_email) && matcher.mentions(&by_email));
        assert!(matcher.audit(&by_conversation) && !matcher.mentions(&by_conversation));
        assert!(!matcher.audit(&other));
        let scrubbed = matcher.scrub(&by_email);
        assert_eq!(scrubbed.actor.as_deref(), Some(ERASED));
        assert_eq!(scrubbed.detail["error"], "user [erased] exists; [erased]!");
        assert!(!matcher.mentions(&scrubbed));
        assert_eq!(matcher.scrub(&other), other, "another visitor's entry is unchanged");
    }
}
