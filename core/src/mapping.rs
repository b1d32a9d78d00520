//! Maps an escalated conversation onto a Zendesk ticket: requester, subject, the public first
//! comment, tags, custom fields, priority, `external_id`, and the internal transcript notes. Pure.

use sha2::{Digest, Sha256};

use crate::escalation::request::{EscalationRequest, Message};
use crate::rules::{Firing, Rating, Thumbs};
use crate::settings::BotSettings;
use crate::text;
use crate::transcript;
use crate::zendesk::types::{CustomFieldValue, Requester, TicketComment, TicketCreateInput};

/// Used when the visitor gave no name.
pub const ANONYMOUS_NAME: &str = "Anonymous Visitor";
/// Subjects longer than this are cut at a word boundary.
const SUBJECT_MAX_CHARS: usize = 120;
pub use crate::text::{TAG_MAX_CHARS, sanitize_tag};

/// Tag on every Handoff ticket.
pub const HANDOFF_TAG: &str = "handoff";
/// Tag on tickets whose requester email is a placeholder.
pub const PLACEHOLDER_EMAIL_TAG: &str = "handoff_placeholder_email";

/// Everything the mapping needs, borrowed.
pub struct MappingInput<'a> {
    pub bot_id: &'a str,
    pub conversation_id: &'a str,
    pub request: &'a EscalationRequest,
    pub firing: &'a Firing,
    pub settings: &'a BotSettings,
}

/// A ticket ready to create, and the internal notes to add after it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketPlan {
    pub ticket: TicketCreateInput,
    pub notes: Vec<String>,
    pub placeholder_email: bool,
}

/// Maps the conversation onto a new ticket.
pub fn plan_ticket(input: &MappingInput<'_>) -> TicketPlan {
    let request = input.request;
    let mapping = &input.settings.mapping;
    let name = request
        .visitor
        .name
        .as_deref()
        .map(text::one_line)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ANONYMOUS_NAME.to_owned());
    let given_email = request.visitor.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let placeholder = given_email.is_none();
    let email = given_email
        .map(str::to_owned)
        .unwrap_or_else(|| placeholder_email(input.bot_id, input.conversation_id, &mapping.placeholder_email_domain));
    let phone = request.visitor.phone.as_deref().map(text::one_line).filter(|p| !p.is_empty());
    let bot_name = request.agent_name.as_deref().map(text::one_line).filter(|n| !n.is_empty());
    let latest = request.latest_visitor_message();

    // Create Ticket: the bot's own subject and summary, when it sent them.
    let own_subject = request.subject.as_deref().map(text::one_line).filter(|s| !s.is_empty());
    let summary = request.summary.as_deref().map(text::strip_control).filter(|s| !s.trim().is_empty());
    let public_summary = summary.clone().filter(|_| mapping.summary_public);
    let ticket = TicketCreateInput {
        subject: own_subject.unwrap_or_else(|| subject(latest, &name, bot_name.as_deref())),
        comment: TicketComment::new(
            public_summary.unwrap_or_else(|| first_comment(latest, phone.as_deref(), bot_name.as_deref())),
            true,
        ),
        requester: Some(Requester { name: name.clone(), email: email.clone() }),
        requester_id: None,
        submitter_id: None,
        tags: tags(input, bot_name.as_deref(), placeholder),
        custom_fields: custom_fields(input),
        external_id: Some(input.conversation_id.to_owned()),
        priority: request.priority.or_else(|| input.settings.priority_by_rule.get(&input.firing.rule).copied()),
        ticket_type: request.ticket_type,
    };

    let lead = lead_block(input, &name, &email, placeholder, phone.as_deref(), bot_name.as_deref());
    let title = format!("Chat transcript for conversation {}", input.conversation_id);
    let mut notes = transcript::notes(&title, &lead, &request.messages, transcript::NOTE_LIMIT_BYTES);
    if let Some(summary) = summary.filter(|_| !mapping.summary_public) {
        let title = format!(
            "Summary from {} for conversation {}",
            bot_name.as_deref().unwrap_or("the chatbot"),
            input.conversation_id
        );
        let mut first = transcript::notes(&title, &summary, &[], transcript::NOTE_LIMIT_BYTES);
        first.append(&mut notes);
        notes = first;
    }
    TicketPlan { ticket, notes, placeholder_email: placeholder }
}

/// Notes carrying messages that arrived after the ticket was created.
pub fn follow_up_notes(conversation_id: &str, messages: &[Message]) -> Vec<String> {
    if messages.is_empty() {
        return Vec::new();
    }
    let title = format!("New chat messages in conversation {conversation_id}");
    transcript::notes(&title, "", messages, transcript::NOTE_LIMIT_BYTES)
}

/// A stable, non-routable requester email for a visitor who gave none: the same conversation
/// always maps to the same address, so repeated escalations land on one Zendesk user.
pub fn placeholder_email(bot_id: &str, conversation_id: &str, domain: &str) -> String {
    let digest = Sha256::digest(format!("{bot_id}\u{0}{conversation_id}").as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("visitor-{hex}@{}", domain.trim().trim_start_matches('@'))
}

/// The tag that marks a ticket as made by this bot: with `handoff`, a recovery lookup by
/// `external_id` only ever adopts a ticket Handoff made for this bot, and the `bot` lookup scope
/// shows only this bot's tickets. Sanitising folds ids together (`Shop.Bot` and `shop_bot`) and
/// Zendesk cuts tags at 80 characters, so the readable part is followed by a short digest of the
/// exact id: two bots on one Zendesk account never share a tag.
pub fn bot_tag(bot_id: &str) -> String {
    let digest = Sha256::digest(bot_id.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    const PREFIX: &str = "handoff_bot_";
    let room = TAG_MAX_CHARS - PREFIX.len() - 1 - hash.len();
    let readable: String = sanitize_tag(bot_id).unwrap_or_default().chars().take(room).collect();
    match readable.trim_end_matches('_') {
        "" => format!("{PREFIX}{hash}"),
        readable => format!("{PREFIX}{readable}_{hash}"),
    }
}

/// True when `tags` mark a ticket this bot made: its `bot_tag`, or — on a ticket made before
/// bot tags carried a digest (it has no digest-bearing bot tag at all) — its `legacy_bot_tag`.
/// For recovery only: a newer ticket of a bot whose id folds to the same text is never adopted.
pub fn made_by_bot(bot_id: &str, tags: &[String]) -> bool {
    if tags.contains(&bot_tag(bot_id)) {
        return true;
    }
    let has_digest = |t: &String| {
        t.strip_prefix("handoff_bot_")
            .and_then(|rest| rest.rsplit('_').next())
            .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    !tags.iter().any(has_digest) && tags.contains(&legacy_bot_tag(bot_id))
}

/// The tag tickets got before `bot_tag` carried a digest. Recovery still adopts a ticket carrying
/// it (see `made_by_bot`); visibility never trusts it, since colliding ids share it.
pub fn legacy_bot_tag(bot_id: &str) -> String {
    sanitize_tag(&format!("handoff_bot_{bot_id}")).unwrap_or_else(|| "handoff_bot".to_owned())
}

fn subject(latest: Option<&Message>, name: &str, bot_name: Option<&str>) -> String {
    let line = latest.map(|m| text::one_line(&m.text)).unwrap_or_default();
    if line.is_empty() {
        return match bot_name {
            Some(bot) => format!("Chat with {name} handed over by {bot}"),
            None => format!("Chat with {name}"),
        };
    }
    text::truncate_words(&line, SUBJECT_MAX_CHARS)
}

fn first_comment(latest: Option<&Message>, phone: Option<&str>, bot_name: Option<&str>) -> String {
    let said = latest.map(|m| text::strip_control(m.text.trim())).unwrap_or_default();
    let mut body = if said.is_empty() {
        format!("The visitor was handed over from {} to a person.", bot_name.unwrap_or("the chatbot"))
    } else {
        // The transcript note carries the full text; the public comment stays within one note.
        let mut cut = said.len().min(transcript::NOTE_LIMIT_BYTES - 200);
        while !said.is_char_boundary(cut) {
            cut -= 1;
        }
        said[..cut].to_owned()
    };
    if let Some(phone) = phone {
        body.push_str(&format!("\n\nPhone: {phone}"));
    }
    body
}

fn tags(input: &MappingInput<'_>, bot_name: Option<&str>, placeholder: bool) -> Vec<String> {
    let mut tags = vec![HANDOFF_TAG.to_owned()];
    let candidates = std::iter::once(bot_tag(input.bot_id))
        .chain(bot_name.and_then(sanitize_tag))
        .chain(sanitize_tag(&format!("handoff_rule_{}", input.firing.rule.as_str())))
        .chain(placeholder.then(|| PLACEHOLDER_EMAIL_TAG.to_owned()))
        .chain(input.settings.mapping.extra_tags.iter().filter_map(|t| sanitize_tag(t)))
        .chain(input.request.tags.iter().filter_map(|t| sanitize_tag(t)));
    for tag in candidates {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

fn custom_fields(input: &MappingInput<'_>) -> Vec<CustomFieldValue> {
    let request = input.request;
    let mapping = &input.settings.mapping;
    let mut fields = Vec::new();
    if let (Some(id), Some(url)) = (mapping.conversation_url_field_id, &request.conversation_url) {
        fields.push(CustomFieldValue { id, value: url.clone().into() });
    }
    if let (Some(id), Some(rating)) = (mapping.rating_field_id, request.signals.rating) {
        fields.push(CustomFieldValue { id, value: rating_value(rating) });
    }
    for (key, id) in &mapping.metadata_fields {
        if let Some(value) = request.metadata.get(key) {
            fields.push(CustomFieldValue { id: *id, value: value.clone().into() });
        }
    }
    fields
}

/// Star ratings as their number; thumbs as `thumbs_up` / `thumbs_down` (fit for a text or a
/// drop-down field whose option tags use those values).
fn rating_value(rating: Rating) -> serde_json::Value {
    match rating {
        Rating::Stars { value, .. } => serde_json::json!(value),
        Rating::Thumbs { thumbs: Thumbs::Down } => "thumbs_down".into(),
        Rating::Thumbs { thumbs: Thumbs::Up } => "thumbs_up".into(),
    }
}

/// The first lines of the first note: what an agent needs before reading the transcript.
fn lead_block(
    input: &MappingInput<'_>,
    name: &str,
    email: &str,
    placeholder: bool,
    phone: Option<&str>,
    bot_name: Option<&str>,
) -> String {
    let request = input.request;
    let mut lead = format!("Escalated by Handoff: {} ({})\n", input.firing.rule.as_str(), input.firing.reason);
    if let Some(who) = &input.firing.escalated_by {
        lead.push_str(&format!("Escalated by: {who}\n"));
    }
    lead.push_str(&format!("Visitor: {name} <{email}>\n"));
    if placeholder {
        lead.push_str("Note: the requester email is a placeholder; the visitor gave no email address.\n");
    }
    if let Some(phone) = phone {
        lead.push_str(&format!("Phone: {phone}\n"));
    }
    if let Some(bot) = bot_name {
        lead.push_str(&format!("Bot: {bot}\n"));
    }
    if let Some(url) = &request.conversation_url {
        lead.push_str(&format!("Conversation: {url}\n"));
    }
    if let Some(confidence) = request.signals.confidence {
        lead.push_str(&format!("Bot confidence: {confidence}\n"));
    }
    for (key, value) in &request.metadata {
        lead.push_str(&format!("{}: {}\n", text::one_line(key), text::one_line(value)));
    }
    lead.push('\n');
    lead
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::request::{RequestSignals, Role, Visitor};
    use crate::rules::RuleKind;
    use crate::settings::Priority;

    fn request() -> EscalationRequest {
        serde_json::from_value(serde_json::json!({
            "visitor": {"name": "Ana Souza", "email": "ana@example.com", "phone": "+55 11 5555-0000"},
            "agent_name": "Acme Support Bot ✨",
            "conversation_url": "https://chat.example.com/c/42",
            "signals": {"rating": {"value": 1, "scale": 5}},
            "metadata": {"plan": "pro", "ignored": "x"},
            "messages": [
                {"role": "visitor", "text": "Hi", "at": "2026-11-21T10:00:00Z"},
                {"role": "bot", "text": "Hello! How can I help?", "at": "2026-11-21T10:00:01Z"},
                {"role": "visitor", "text": "  My order\n never   arrived,\tcan I talk to a human?  ", "at": "2026-11-21T10:00:05Z"}
            ]
        }))
        .unwrap()
    }

    fn firing() -> Firing {
        Firing { rule: RuleKind::ExplicitRequest, reason: "the visitor asked for a human".into(), escalated_by: None }
    }

    fn plan(request: &EscalationRequest, settings: &BotSettings) -> TicketPlan {
        plan_ticket(&MappingInput { bot_id: "bot-1", conversation_id: "conv-42", request, firing: &firing(), settings })
    }

    #[test]
    fn defaults_map_requester_subject_comment_tags_and_external_id() {
        let plan = plan(&request(), &BotSettings::default());
        let t = &plan.ticket;
        assert_eq!(t.requester, Some(Requester { name: "Ana Souza".into(), email: "ana@example.com".into() }));
        assert_eq!(t.subject, "My order never arrived, can I talk to a human?");
        assert!(t.comment.public);
        assert_eq!(t.comment.body, "My order\n never   arrived,\tcan I talk to a human?\n\nPhone: +55 11 5555-0000");
        assert_eq!(
            t.tags,
            ["handoff", "handoff_bot_bot-1_d6c011e8", "acme_support_bot", "handoff_rule_explicit_request"]
        );
        assert_eq!(t.external_id.as_deref(), Some("conv-42"));
        assert!(t.custom_fields.is_empty(), "no field ids configured");
        assert_eq!(t.priority, None);
        assert!(!plan.placeholder_email);
        assert_eq!(plan.notes.len(), 1);
        let note = &plan.notes[0];
        assert!(note.starts_with("Chat transcript for conversation conv-42 (part 1 of 1) · ref "), "{note}");
        assert!(transcript::note_body(note).starts_with("Escalated by Handoff: explicit_request"), "{note}");
        assert!(note.contains("Phone: +55 11 5555-0000"));
        assert!(note.contains("[2026-11-21 10:00:01 UTC] Bot: Hello! How can I help?"));
    }

    #[test]
    fn fallbacks_and_placeholder_email() {
        let mut request = request();
        request.visitor = Visitor::default();
        request.agent_name = None;
        request.messages.retain(|m| m.role != Role::Visitor);
        let settings = BotSettings::default();
        let plan = plan(&request, &settings);
        let requester = plan.ticket.requester.clone().unwrap();
        assert_eq!(requester.name, ANONYMOUS_NAME);
        assert!(requester.email.ends_with("@visitors.handoff.invalid"), "{}", requester.email);
        assert_eq!(requester.email, placeholder_email("bot-1", "conv-42", "visitors.handoff.invalid"));
        assert_ne!(requester.email, placeholder_email("bot-1", "conv-43", "visitors.handoff.invalid"));
        assert!(plan.placeholder_email);
        assert!(plan.ticket.tags.contains(&PLACEHOLDER_EMAIL_TAG.to_owned()));
        assert!(plan.notes[0].contains("requester email is a placeholder"));
        assert_eq!(plan.ticket.subject, "Chat with Anonymous Visitor");
        assert!(plan.ticket.comment.body.contains("handed over"));
    }

    #[test]
    fn placeholder_domain_is_configurable() {
        let mut settings = BotSettings::default();
        settings.mapping.placeholder_email_domain = "@example.org".into();
        assert!(placeholder_email("b", "c", &settings.mapping.placeholder_email_domain).ends_with("@example.org"));
    }

    #[test]
    fn bot_tags_never_collide_and_fit_zendesk() {
        // Ids that fold to the same text, and long ids sharing their first 68 characters.
        let long = "a".repeat(68);
        for (a, b) in [("Shop.Bot", "shop_bot"), ("shop-bot", "Shop-Bot"), (&*format!("{long}1"), &*format!("{long}2"))]
        {
            assert_ne!(bot_tag(a), bot_tag(b), "{a} / {b}");
        }
        for id in ["Shop.Bot", "b", &"x".repeat(128), "ünïcödé:bot@x"] {
            let tag = bot_tag(id);
            assert!(tag.starts_with("handoff_bot_") && tag.chars().count() <= 80, "{tag}");
            assert_eq!(sanitize_tag(&tag).as_deref(), Some(tag.as_str()), "already a valid tag");
            assert_eq!(bot_tag(id), tag, "stable");
        }
    }

    #[test]
    fn recovery_adopts_old_tickets_by_their_old_tag_but_never_a_colliding_bots_new_one() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(made_by_bot("Shop.Bot", &tags(&["handoff", &bot_tag("Shop.Bot")])));
        assert!(made_by_bot("Shop.Bot", &tags(&["handoff", "handoff_bot_shop_bot"])), "made before the upgrade");
        assert!(!made_by_bot("Shop.Bot", &tags(&["handoff", &bot_tag("shop_bot")])));
        assert!(!made_by_bot("Shop.Bot", &tags(&["handoff", "handoff_bot_other"])));
    }

    #[test]
    fn tag_sanitising_follows_zendesk_rules() {
        assert_eq!(sanitize_tag("Acme Bot"), Some("acme_bot".into()));
        assert_eq!(sanitize_tag("  Señor Bot!! v2 "), Some("senor_bot_v2".into()));
        assert_eq!(sanitize_tag("a/b:c-d"), Some("a/b:c-d".into()));
        assert_eq!(sanitize_tag("🤖🤖"), None);
        assert_eq!(sanitize_tag(&"x".repeat(200)).unwrap().len(), 80);
    }

    #[test]
    fn custom_fields_and_priority_when_configured() {
        let mut settings = BotSettings::default();
        settings.mapping.conversation_url_field_id = Some(111);
        settings.mapping.rating_field_id = Some(222);
        settings.mapping.metadata_fields.insert("plan".into(), 333);
        settings.mapping.metadata_fields.insert("absent".into(), 444);
        settings.priority_by_rule.insert(RuleKind::ExplicitRequest, Priority::High);
        let plan = plan(&request(), &settings);
        assert_eq!(
            plan.ticket.custom_fields,
            vec![
                CustomFieldValue { id: 111, value: "https://chat.example.com/c/42".into() },
                CustomFieldValue { id: 222, value: serde_json::json!(1.0) },
                CustomFieldValue { id: 333, value: "pro".into() },
            ]
        );
        assert_eq!(plan.ticket.priority, Some(Priority::High));
        let mut thumbs = request();
        thumbs.signals = RequestSignals { rating: Some(Rating::Thumbs { thumbs: Thumbs::Down }), ..Default::default() };
        assert_eq!(
            plan_ticket(&MappingInput {
                bot_id: "b",
                conversation_id: "c",
                request: &thumbs,
                firing: &firing(),
                settings: &settings
            })
            .ticket
            .custom_fields[1]
                .value,
            "thumbs_down"
        );
    }

    #[test]
    fn follow_up_notes_are_titled_and_empty_when_nothing_is_new() {
        assert!(follow_up_notes("c", &[]).is_empty());
        let notes = follow_up_notes("c", &request().messages[2..]);
        assert!(notes[0].starts_with("New chat messages in conversation c (part 1 of 1) · ref "));
        assert!(transcript::note_body(&notes[0]).starts_with("[2026-11-21 10:00:05 UTC] Visitor:"));
    }
}
