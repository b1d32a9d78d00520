//! Renders a conversation as readable plain text and splits it into internal notes that each fit
//! under Zendesk's comment size cap. Pure.
//!
//! The notes' bodies, with their one-line titles taken off, concatenate back to exactly the
//! rendered text: nothing is lost, and a message is never split when it fits whole in a note.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::text;

/// One message of the conversation, as the chatbot sends it (owned here, so the transcript
/// depends on no request handling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub text: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Bot,
    Agent,
    System,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Visitor => "Visitor",
            Role::Bot => "Bot",
            Role::Agent => "Agent",
            Role::System => "System",
        }
    }
}

/// Zendesk caps a comment body at about 64 KB; stay well under it, counted in UTF-8 bytes.
pub const NOTE_LIMIT_BYTES: usize = 60_000;
/// Room kept for a note's title line (`… (part 1234 of 1234)`).
const TITLE_ROOM: usize = 300;

/// One message as a transcript entry: `[2026-11-21 10:00:00 UTC] Visitor: text`, then a blank line.
pub fn render_entry(message: &Message) -> String {
    let body = text::strip_control(&message.text);
    let body = body.trim_end();
    match message.at {
        Some(at) => format!("[{}] {}: {body}\n\n", format_time(at), message.role.label()),
        None => format!("{}: {body}\n\n", message.role.label()),
    }
}

fn format_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
        .unwrap_or_else(|_| utc.to_string())
}

/// Builds titled notes from a lead block (may be empty) followed by the messages.
///
/// `title` is the note title without the part counter, e.g. `Chat transcript for conversation c-1`;
/// each note's first line is `{title} (part k of n) · ref {digest of the body}`.
pub fn notes(title: &str, lead: &str, messages: &[Message], limit: usize) -> Vec<String> {
    let budget = limit.saturating_sub(TITLE_ROOM + title.len()).max(1024);
    let entries = std::iter::once(lead.to_owned()).filter(|l| !l.is_empty()).chain(messages.iter().map(render_entry));
    let chunks = chunk(entries, budget);
    let total = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, body)| format!("{} (part {} of {total}) · ref {}\n{body}", title, i + 1, content_ref(&body)))
        .collect()
}

/// A short digest of a note's body, in its title: recovery recognises a note already on the
/// ticket by the whole title line, so two notes with the same layout but different messages are
/// never mistaken for each other.
fn content_ref(body: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The first line of a note: the marker used to recognise a note already written.
pub fn note_title(note: &str) -> &str {
    note.lines().next().unwrap_or("")
}

/// The note with its title line removed.
pub fn note_body(note: &str) -> &str {
    note.split_once('\n').map(|(_, body)| body).unwrap_or("")
}

/// Packs entries into chunks of at most `budget` bytes, keeping entries whole when they fit.
fn chunk(entries: impl Iterator<Item = String>, budget: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for entry in entries {
        if current.len() + entry.len() <= budget {
            current.push_str(&entry);
            continue;
        }
        if !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        let mut rest = entry.as_str();
        while rest.len() > budget {
            let cut = split_point(rest, budget);
            chunks.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
        current.push_str(rest);
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// A byte index at most `budget`, on a char boundary, after the last whitespace when one is
/// reasonably near the end (so words are not cut), else as late as possible.
fn split_point(text: &str, budget: usize) -> usize {
    let mut cut = budget.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    match text[..cut].rfind(char::is_whitespace) {
        Some(ws) if ws > cut * 3 / 4 => ws + text[ws..].chars().next().map_or(1, char::len_utf8),
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn message(i: usize, text: String) -> Message {
        Message {
            role: if i.is_multiple_of(2) { Role::Visitor } else { Role::Bot },
            text,
            at: Some(datetime!(2026-11-21 10:00:00 UTC) + time::Duration::seconds(i as i64)),
        }
    }

    fn reassemble(notes: &[String]) -> String {
        notes.iter().map(|n| note_body(n)).collect()
    }

    #[test]
    fn renders_role_time_and_text_in_order() {
        let notes =
            notes("Chat transcript", "", &[message(0, "hi\u{7}".into()), message(1, "hello".into())], NOTE_LIMIT_BYTES);
        assert_eq!(notes.len(), 1);
        assert!(note_title(&notes[0]).starts_with("Chat transcript (part 1 of 1) · ref "), "{}", notes[0]);
        assert_eq!(
            note_body(&notes[0]),
            "[2026-11-21 10:00:00 UTC] Visitor: hi\n\n[2026-11-21 10:00:01 UTC] Bot: hello\n\n"
        );
    }

    #[test]
    fn ten_thousand_messages_fit_in_notes_under_the_limit_and_lose_nothing() {
        let messages: Vec<Message> = (0..10_000)
            .map(|i| message(i, format!("message {i}: {}", "lorem ipsum dolor sit amet ".repeat(i % 7 + 1))))
            .collect();
        let lead = "Escalated by Handoff\n\n";
        let notes = notes("Chat transcript for conversation c-1", lead, &messages, NOTE_LIMIT_BYTES);
        assert!(notes.len() > 10, "expected many notes, got {}", notes.len());
        let total = notes.len();
        for (i, note) in notes.iter().enumerate() {
            assert!(note.len() <= NOTE_LIMIT_BYTES, "note {i} has {} bytes", note.len());
            let prefix = format!("Chat transcript for conversation c-1 (part {} of {total}) · ref ", i + 1);
            assert!(note_title(note).starts_with(&prefix), "{}", note_title(note));
        }
        let expected: String = std::iter::once(lead.to_owned()).chain(messages.iter().map(render_entry)).collect();
        assert_eq!(reassemble(&notes), expected);
        // Whole messages are never split: each note body ends at an entry boundary.
        for note in &notes {
            assert!(note_body(note).ends_with("\n\n"));
        }
    }

    #[test]
    fn titles_differ_when_bodies_differ() {
        let a = notes("T", "", &[message(0, "first".into())], NOTE_LIMIT_BYTES);
        let b = notes("T", "", &[message(0, "second".into())], NOTE_LIMIT_BYTES);
        assert_ne!(note_title(&a[0]), note_title(&b[0]));
        assert_eq!(a, notes("T", "", &[message(0, "first".into())], NOTE_LIMIT_BYTES), "deterministic");
    }

    #[test]
    fn a_message_larger_than_a_note_is_split_without_loss() {
        let big = "é".repeat(70_000) + " tail";
        let messages = vec![message(0, "before".into()), message(1, big), message(2, "after".into())];
        let notes = notes("T", "", &messages, NOTE_LIMIT_BYTES);
        assert!(notes.len() >= 3);
        assert!(notes.iter().all(|n| n.len() <= NOTE_LIMIT_BYTES));
        let expected: String = messages.iter().map(render_entry).collect();
        assert_eq!(reassemble(&notes), expected);
    }

    proptest! {
        #[test]
        fn chunking_never_loses_text(texts in proptest::collection::vec(".{0,3000}", 0..40), limit in 2_000usize..8_000) {
            let messages: Vec<Message> = texts.into_iter().enumerate().map(|(i, t)| message(i, t)).collect();
            let notes = notes("T", "lead\n\n", &messages, limit);
            let expected: String = std::iter::once("lead\n\n".to_owned()).chain(messages.iter().map(render_entry)).collect();
            prop_assert_eq!(reassemble(&notes), expected);
            for note in &notes {
                prop_assert!(note.len() <= limit);
            }
        }
    }
}
