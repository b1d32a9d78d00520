//! The escalation request the chatbot sends, and its validation. Parsing separates a body that
//! is not JSON (400) from JSON of the wrong shape or values (422), and every bad field is named.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::redaction::{RedactionCounts, Redactor};
use crate::rules::{Rating, RuleKind, Signals};
use crate::settings::Priority;
use crate::text::looks_like_email;
pub use crate::transcript::{Message, Role};
pub use crate::zendesk::types::TicketType;

/// Largest body accepted, in bytes: a 10,000-message conversation fits with room to spare.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most messages one escalation may carry.
pub const MAX_MESSAGES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationRequest {
    #[serde(default)]
    pub trigger: Option<RuleKind>,
    #[serde(default)]
    pub signals: RequestSignals,
    #[serde(default)]
    pub visitor: Visitor,
    #[serde(default)]
    pub agent_name: Option<String>,
    #[serde(default)]
    pub conversation_url: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Who escalated by hand, for the manual trigger (else the token's `sub`).
    #[serde(default)]
    pub escalated_by: Option<String>,
    /// Create Ticket: the bot's own subject for the ticket (else the visitor's last message).
    #[serde(default)]
    pub subject: Option<String>,
    /// Create Ticket: what the bot writes for the agent about the conversation; an internal note,
    /// or the public first comment when the bot's settings say so (`mapping.summary_public`).
    #[serde(default)]
    pub summary: Option<String>,
    /// Create Ticket: the ticket's priority (over the settings' priority for the rule).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Create Ticket: the ticket's type.
    #[serde(default, rename = "type")]
    pub ticket_type: Option<TicketType>,
    /// Create Ticket: tags added to the ticket's own (sanitised to Zendesk's tag rules).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Tags only Handoff sets: `handoff`, and every `handoff_…` (the bot's, the rule's, the placeholder's).
pub fn reserved_tag(tag: &str) -> bool {
    tag == "handoff" || tag.starts_with("handoff_") || tag.starts_with("handoff-")
}

/// Longest subject accepted (Zendesk keeps 150 characters on a subject line).
pub const MAX_SUBJECT_CHARS: usize = 150;
/// Longest summary accepted: it fits one Zendesk comment.
pub const MAX_SUMMARY_CHARS: usize = 30_000;
/// Most tags one escalation may add.
pub const MAX_TAGS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestSignals {
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub action: Option<String>,
    /// The platform's own judgement of whether the visitor asked for a person (see
    /// `rules::Signals::wants_human`).
    #[serde(default)]
    pub wants_human: Option<bool>,
    /// How sure it is, 0–1.
    #[serde(default)]
    pub wants_human_confidence: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Visitor {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Why a body could not be turned into a request: the shared body error (400 not JSON, 422 with
/// each field's path), plus the validation below.
pub type ParseError = crate::error::BodyError;

impl EscalationRequest {
    /// Parses and validates a JSON body.
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        let request: Self = crate::error::parse_json_object(body)?;
        let errors = request.validate();
        if errors.is_empty() { Ok(request) } else { Err(ParseError::Invalid(errors)) }
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(c) = self.signals.confidence
            && !(0.0..=1.0).contains(&c)
        {
            errors.push(FieldError::new("signals.confidence", "must be between 0 and 1"));
        }
        if let Some(c) = self.signals.wants_human_confidence
            && !(0.0..=1.0).contains(&c)
        {
            errors.push(FieldError::new("signals.wants_human_confidence", "must be between 0 and 1"));
        }
        if let Some(Rating::Stars { value, scale }) = self.signals.rating
            && !(scale > 0.0 && scale <= 100.0 && (0.0..=scale).contains(&value))
        {
            errors.push(FieldError::new(
                "signals.rating",
                "value must be between 0 and scale, and scale between 1 and 100",
            ));
        }
        if let Some(email) = &self.visitor.email
            && !looks_like_email(email)
        {
            errors.push(FieldError::new("visitor.email", "is not an email address"));
        }
        if let Some(url) = &self.conversation_url
            && !matches!(url::Url::parse(url).map(|u| u.scheme().to_owned()).as_deref(), Ok("http" | "https"))
        {
            errors.push(FieldError::new("conversation_url", "must be an absolute http(s) URL"));
        }
        if let Some(locale) = &self.locale
            && (locale.is_empty()
                || locale.len() > 35
                || !locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            errors.push(FieldError::new("locale", "must be a language tag such as `en` or `pt-BR`"));
        }
        if self.messages.len() > MAX_MESSAGES {
            errors.push(FieldError::new("messages", format!("at most {MAX_MESSAGES} messages")));
        }
        if self.subject.as_deref().is_some_and(|s| s.trim().is_empty() || s.chars().count() > MAX_SUBJECT_CHARS) {
            errors.push(FieldError::new("subject", format!("1 to {MAX_SUBJECT_CHARS} characters")));
        }
        if self.summary.as_deref().is_some_and(|s| s.trim().is_empty() || s.chars().count() > MAX_SUMMARY_CHARS) {
            errors.push(FieldError::new("summary", format!("1 to {MAX_SUMMARY_CHARS} characters")));
        }
        if self.tags.len() > MAX_TAGS
            || self.tags.iter().any(|t| crate::text::sanitize_tag(t).is_none() || t.chars().count() > 80)
        {
            errors.push(FieldError::new(
                "tags",
                format!("at most {MAX_TAGS} tags of 1-80 characters, each with a letter or digit"),
            ));
        } else if self.tags.iter().filter_map(|t| crate::text::sanitize_tag(t)).any(|t| reserved_tag(&t)) {
            // Handoff's own tags say which bot made a ticket and what Handoff knows of it: a body
            // may not claim them.
            errors.push(FieldError::new("tags", "`handoff` and tags starting with `handoff_` are Handoff's own"));
        }
        for (field, value, max) in [
            ("visitor.name", &self.visitor.name, 255),
            ("visitor.phone", &self.visitor.phone, 64),
            ("agent_name", &self.agent_name, 255),
            ("escalated_by", &self.escalated_by, 255),
            ("signals.action", &self.signals.action, 255),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                errors.push(FieldError::new(field, format!("at most {max} characters")));
            }
        }
        errors
    }

    /// Masks what the bot's redaction finds in every free text of the request that reaches
    /// Zendesk or storage: the messages, the subject, the summary, the metadata's values, the
    /// conversation URL (a query string may carry a code), who escalated, the bot's name and the
    /// tags. The visitor's name, email and phone are who the ticket is for, and stay.
    pub fn redact(&mut self, redactor: &Redactor) -> RedactionCounts {
        let mut counts = RedactionCounts::default();
        let texts = self.messages.iter_mut().map(|m| &mut m.text);
        let texts = texts.chain(self.subject.as_mut()).chain(self.summary.as_mut()).chain(self.metadata.values_mut());
        let texts = texts.chain(self.conversation_url.as_mut()).chain(self.escalated_by.as_mut());
        for text in texts.chain(self.agent_name.as_mut()).chain(self.tags.iter_mut()) {
            redactor.redact(text, &mut counts);
        }
        counts
    }

    /// The newest message from the visitor, which the rules read and the ticket leads with.
    pub fn latest_visitor_message(&self) -> Option<&Message> {
        self.messages.iter().rev().find(|m| m.role == Role::Visitor && !m.text.trim().is_empty())
    }

    /// The rules engine's view of this request.
    pub fn signals<'a>(&'a self, token_subject: Option<&'a str>) -> Signals<'a> {
        Signals {
            confidence: self.signals.confidence,
            rating: self.signals.rating,
            action: self.signals.action.as_deref(),
            latest_visitor_message: self.latest_visitor_message().map(|m| m.text.as_str()),
            escalated_by: self.escalated_by.as_deref().or(token_subject),
            wants_human: self.signals.wants_human,
            wants_human_confidence: self.signals.wants_human_confidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let body = br#"{ "trigger": "low_confidence",
          "signals": { "confidence": 0.42, "rating": {"value": 1, "scale": 5}, "action": "refund" },
          "visitor": { "name": "Ana", "email": "ana@example.com", "phone": "+34 600 000 000" },
          "agent_name": "Acme Bot", "conversation_url": "https://chat.example.com/c/1", "locale": "es",
          "messages": [ { "role": "visitor", "text": "hola", "at": "2026-11-21T10:00:00Z" } ],
          "metadata": { "plan": "pro" } }"#;
        let request = EscalationRequest::parse(body).unwrap();
        assert_eq!(request.trigger, Some(RuleKind::LowConfidence));
        assert_eq!(request.signals.rating, Some(Rating::Stars { value: 1.0, scale: 5.0 }));
        assert_eq!(request.latest_visitor_message().unwrap().text, "hola");
    }

    #[test]
    fn separates_malformed_from_invalid() {
        assert!(matches!(EscalationRequest::parse(b"{not json"), Err(ParseError::Malformed(_))));
        assert!(matches!(EscalationRequest::parse(b""), Err(ParseError::Malformed(_))));
        assert!(matches!(EscalationRequest::parse(br#"{"messages": "hi"}"#), Err(ParseError::Invalid(_))));
        let Err(ParseError::Invalid(errors)) = EscalationRequest::parse(
            br#"{"signals": {"confidence": 3}, "visitor": {"email": "nope"}, "locale": "en us"}"#,
        ) else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["signals.confidence", "visitor.email", "locale"]);
    }

    #[test]
    fn a_body_may_not_claim_handoffs_own_tags() {
        for tag in ["handoff", "handoff_placeholder_email", "Handoff Bot other", "HANDOFF_rule_manual"] {
            let body = serde_json::json!({"tags": ["refund", tag]}).to_string();
            let Err(ParseError::Invalid(errors)) = EscalationRequest::parse(body.as_bytes()) else {
                panic!("{tag} is refused")
            };
            assert_eq!(errors[0].field, "tags", "{tag}");
        }
        assert!(EscalationRequest::parse(br#"{"tags": ["refund", "vip customer"]}"#).is_ok());
    }

    #[test]
    fn missing_message_field_is_named() {
        let Err(ParseError::Invalid(errors)) = EscalationRequest::parse(br#"{"messages": [{"role": "visitor"}]}"#)
        else {
            panic!("expected invalid")
        };
        assert_eq!(errors[0].field, "messages[0].text");
    }
}
