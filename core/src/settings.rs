//! A bot's escalation settings: which rules are on, how a conversation maps onto a ticket, and
//! what the bot tells the visitor. Every field has a default, so a bot that never saved settings
//! still escalates sensibly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::redaction::RedactionSettings;
use crate::rules::RuleKind;
pub use crate::rules::{ActionRule, ExplicitRequestRule, LowConfidenceRule, LowRatingRule, ManualRule, RuleSettings};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BotSettings {
    pub rules: RuleSettings,
    pub mapping: MappingSettings,
    /// Locale (`en`, `es`, `pt-BR`, …) → text shown to the visitor; `{ticket_id}` is replaced.
    pub handoff_messages: BTreeMap<String, String>,
    /// Zendesk priority to set when a given rule fired.
    pub priority_by_rule: BTreeMap<RuleKind, Priority>,
    /// Where agent replies and status changes are sent (HTTPS; signed with the bot's callback
    /// secret). None: nothing is forwarded.
    pub callback_url: Option<String>,
    /// Which tickets a status lookup may show (see `status::visibility`).
    pub status_lookup_scope: LookupScope,
    /// Answer the visitor's recent tickets in the session-start call.
    pub customer_context_on_session_start: bool,
    /// How many recent tickets customer context holds (1–10).
    pub customer_context_count: u8,
    /// What is masked before it reaches Zendesk or storage (`redaction`).
    pub redaction: RedactionSettings,
    /// Bumped on every save; readers use it for optimistic concurrency.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MappingSettings {
    /// Domain of the placeholder requester email used when the visitor gave none.
    pub placeholder_email_domain: String,
    /// Ticket field that receives the conversation URL.
    pub conversation_url_field_id: Option<u64>,
    /// Ticket field that receives the visitor's rating.
    pub rating_field_id: Option<u64>,
    /// Conversation metadata key → ticket field id.
    pub metadata_fields: BTreeMap<String, u64>,
    /// Tags added to every ticket besides the bot and rule tags.
    pub extra_tags: Vec<String>,
    /// A bot-written `summary` in an escalation becomes the ticket's public first comment (the
    /// requester sees it, as their request); else (the default) an internal note for the agent,
    /// and the visitor's last message stays the first comment.
    pub summary_public: bool,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            rules: RuleSettings::default(),
            mapping: MappingSettings::default(),
            handoff_messages: BTreeMap::new(),
            priority_by_rule: BTreeMap::new(),
            callback_url: None,
            status_lookup_scope: Default::default(),
            customer_context_on_session_start: false,
            customer_context_count: DEFAULT_CONTEXT_COUNT,
            redaction: RedactionSettings::default(),
            version: 0,
        }
    }
}

/// Recent tickets in customer context unless a bot chooses otherwise.
pub const DEFAULT_CONTEXT_COUNT: u8 = 5;

impl Default for MappingSettings {
    fn default() -> Self {
        Self {
            placeholder_email_domain: "visitors.handoff.invalid".to_owned(),
            conversation_url_field_id: None,
            rating_field_id: None,
            metadata_fields: BTreeMap::new(),
            extra_tags: Vec::new(),
            summary_public: false,
        }
    }
}

/// Which tickets a status lookup may show; `status::visibility` applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupScope {
    /// The visitor's own tickets: requested with their verified email, or linked to their
    /// conversation.
    #[default]
    Visitor,
    /// Tickets this bot created.
    Bot,
    /// Any ticket the connected Zendesk user can see.
    Account,
}

/// Zendesk's ticket priorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl BotSettings {
    /// The visitor-facing handoff text for `locale`, falling back from `pt-BR` to `pt` to the
    /// built-in text, with `{ticket_id}` filled in.
    pub fn handoff_message(&self, locale: Option<&str>, ticket_id: Option<u64>) -> String {
        let locale = locale.unwrap_or("en").to_ascii_lowercase();
        let language = locale.split(['-', '_']).next().unwrap_or("en").to_owned();
        let configured = self
            .handoff_messages
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == locale)
            .or_else(|| self.handoff_messages.iter().find(|(k, _)| k.to_ascii_lowercase() == language))
            .map(|(_, v)| v.clone());
        let template = configured.unwrap_or_else(|| default_handoff_message(&language, ticket_id.is_some()).to_owned());
        match ticket_id {
            Some(id) => template.replace("{ticket_id}", &id.to_string()),
            None => template.replace(" #{ticket_id}", "").replace("{ticket_id}", ""),
        }
    }
}

/// The languages Handoff has its own handoff messages in.
pub const HANDOFF_LANGUAGES: [&str; 7] = ["en", "es", "fr", "de", "pt", "it", "nl"];

/// Handoff's own handoff message in each of its languages (with `{ticket_id}`), used where a bot
/// set none: what a settings screen shows as the default.
pub fn default_handoff_messages() -> std::collections::BTreeMap<&'static str, &'static str> {
    HANDOFF_LANGUAGES.iter().map(|language| (*language, default_handoff_message(language, true))).collect()
}

fn default_handoff_message(language: &str, with_ticket: bool) -> &'static str {
    match (language, with_ticket) {
        ("es", true) => {
            "Te paso con nuestro equipo de soporte. Tu número de ticket es #{ticket_id}; te responderán aquí o por correo."
        }
        ("es", false) => "Te paso con nuestro equipo de soporte. Te responderán aquí o por correo en breve.",
        ("fr", true) => {
            "Je vous mets en relation avec notre équipe d'assistance. Votre numéro de ticket est le #{ticket_id} ; nous vous répondrons ici ou par e-mail."
        }
        ("fr", false) => {
            "Je vous mets en relation avec notre équipe d'assistance. Nous vous répondrons ici ou par e-mail sous peu."
        }
        ("de", true) => {
            "Ich verbinde Sie mit unserem Support-Team. Ihre Ticketnummer ist #{ticket_id}; wir antworten hier oder per E-Mail."
        }
        ("de", false) => "Ich verbinde Sie mit unserem Support-Team. Wir antworten in Kürze hier oder per E-Mail.",
        ("pt", true) => {
            "Vou transferir você para a nossa equipe de suporte. O número do seu ticket é #{ticket_id}; responderemos aqui ou por e-mail."
        }
        ("pt", false) => {
            "Vou transferir você para a nossa equipe de suporte. Responderemos aqui ou por e-mail em breve."
        }
        ("it", true) => {
            "La metto in contatto con il nostro team di assistenza. Il numero del Suo ticket è #{ticket_id}; Le risponderemo qui o via e-mail."
        }
        ("it", false) => {
            "La metto in contatto con il nostro team di assistenza. Le risponderemo a breve qui o via e-mail."
        }
        ("nl", true) => {
            "Ik verbind u door met ons supportteam. Uw ticketnummer is #{ticket_id}; we antwoorden u hier of per e-mail."
        }
        ("nl", false) => "Ik verbind u door met ons supportteam. We antwoorden u binnenkort hier of per e-mail.",
        (_, true) => {
            "I'm handing you over to our support team. Your ticket number is #{ticket_id}; we'll reply here or by email."
        }
        (_, false) => "I'm handing you over to our support team. We'll reply here or by email shortly.",
    }
}

/// Problems with settings a bot wants to save, each naming its field (empty when valid).
/// `allow_loopback_http` lets a callback URL use plain HTTP to localhost (the local runner).
pub fn validate(settings: &BotSettings, allow_loopback_http: bool) -> Vec<crate::error::FieldError> {
    use crate::error::FieldError;
    let mut errors = Vec::new();
    if !settings.rules.any_enabled() {
        errors.push(FieldError::new("rules", "at least one rule must be enabled, or nothing is ever escalated"));
    }
    let threshold = settings.rules.low_confidence.threshold;
    if !(0.0..=1.0).contains(&threshold) {
        errors.push(FieldError::new("rules.low_confidence.threshold", "must be between 0 and 1"));
    }
    let rating = &settings.rules.low_rating;
    if !(rating.scale.is_finite() && rating.scale > 0.0) {
        errors.push(FieldError::new("rules.low_rating.scale", "must be a positive number"));
    } else if !(0.0..=rating.scale).contains(&rating.at_or_below) {
        errors.push(FieldError::new("rules.low_rating.at_or_below", "must be between 0 and the scale"));
    }
    let explicit = &settings.rules.explicit_request;
    for (name, map, exclusion) in
        [("extra_phrases", &explicit.extra_phrases, false), ("exclusions", &explicit.exclusions, true)]
    {
        if map.len() > MAX_PHRASE_LANGUAGES {
            errors.push(FieldError::new(
                format!("rules.explicit_request.{name}"),
                format!("at most {MAX_PHRASE_LANGUAGES} languages"),
            ));
        }
        for (language, phrases) in map {
            let field = format!("rules.explicit_request.{name}.{language}");
            if !is_language_code(language) {
                errors.push(FieldError::new(field, "must be keyed by a language code, such as en or pt-BR"));
            } else if phrases.len() > 50 || phrases.iter().any(|p| p.trim().is_empty() || p.chars().count() > 200) {
                errors.push(FieldError::new(field, "at most 50 phrases, each 1-200 characters"));
            } else if let Some(problem) =
                phrases.iter().find_map(|p| crate::rules::intent::phrase_problem(p, exclusion))
            {
                errors.push(FieldError::new(field, problem));
            }
        }
    }
    if settings.rules.action.actions.len() > 100 || settings.rules.action.actions.iter().any(|a| a.trim().is_empty()) {
        errors.push(FieldError::new("rules.action.actions", "at most 100 action names, none empty"));
    }
    for (locale, message) in &settings.handoff_messages {
        // A locale an escalation can name (its `locale` field's form), or the message is never used.
        let named = (1..=35).contains(&locale.len())
            && locale.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !named {
            let message = "the key must be a locale such as `es` or `pt-BR` (1-35 letters, digits, `_` or `-`)";
            errors.push(FieldError::new(format!("handoff_messages.{locale}"), message));
        } else if message.trim().is_empty() || message.chars().count() > 1000 {
            errors.push(FieldError::new(format!("handoff_messages.{locale}"), "must be 1-1000 characters"));
        }
    }
    if settings.mapping.extra_tags.len() > 20
        || settings.mapping.extra_tags.iter().any(|t| t.trim().is_empty() || t.len() > 80)
    {
        errors.push(FieldError::new("mapping.extra_tags", "at most 20 tags, each 1-80 characters"));
    }
    let domain = &settings.mapping.placeholder_email_domain;
    if !crate::text::looks_like_email(&format!("visitor@{domain}")) {
        errors.push(FieldError::new(
            "mapping.placeholder_email_domain",
            "must be a domain name, such as visitors.example.com",
        ));
    }
    if !(1..=10).contains(&settings.customer_context_count) {
        errors.push(FieldError::new("customer_context_count", "must be between 1 and 10"));
    }
    if let Some(raw) = &settings.callback_url
        && let Err(message) = check_callback_url(raw, allow_loopback_http)
    {
        errors.push(FieldError::new("callback_url", message));
    }
    errors.extend(crate::redaction::validate(&settings.redaction));
    errors
}

/// How many languages a bot's extra phrases (or exclusions) may be grouped under.
pub const MAX_PHRASE_LANGUAGES: usize = 10;

/// `en`, `pt-BR`, `zh_Hant`: a language code with an optional region or script.
fn is_language_code(code: &str) -> bool {
    let (language, rest) = code.split_once(['-', '_']).unwrap_or((code, ""));
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && (rest.is_empty() || ((2..=8).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())))
}

/// A callback URL must be absolute HTTPS (plain HTTP only to a loopback host when allowed), with
/// no credentials in it.
fn check_callback_url(raw: &str, allow_loopback_http: bool) -> Result<(), &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "is not an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; callbacks are signed instead");
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let local = url.host().is_none_or(|host| crate::address::is_local_host(&host));
    match url.scheme() {
        "https" if local && !allow_loopback_http => {
            Err("must be a public address (not localhost, a private or link-local IP)")
        }
        "https" => Ok(()),
        "http" if allow_loopback_http && loopback => Ok(()),
        "http" if allow_loopback_http => Err("must use https (http only to localhost here)"),
        _ => Err("must use https"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_enable_explicit_request_and_fill_thresholds() {
        let settings: BotSettings = serde_json::from_str("{}").unwrap();
        assert!(settings.rules.explicit_request.enabled);
        assert_eq!(settings.rules.low_confidence.threshold, 0.6);
        assert!(settings.rules.any_enabled());
    }

    #[test]
    fn handoff_message_falls_back_by_language_and_fills_ticket() {
        let mut settings = BotSettings::default();
        settings.handoff_messages.insert("pt".into(), "Ticket {ticket_id} aberto".into());
        assert_eq!(settings.handoff_message(Some("pt-BR"), Some(42)), "Ticket 42 aberto");
        assert!(settings.handoff_message(Some("de"), Some(7)).contains("#7"));
        assert!(settings.handoff_message(None, Some(7)).starts_with("I'm handing you over"));
        assert!(!settings.handoff_message(Some("fr"), None).contains('#'));
    }

    #[test]
    fn italian_and_dutch_have_built_in_handoff_messages() {
        let settings = BotSettings::default();
        let italian = "La metto in contatto con il nostro team di assistenza.";
        assert_eq!(
            settings.handoff_message(Some("it-IT"), Some(42)),
            format!("{italian} Il numero del Suo ticket è #42; Le risponderemo qui o via e-mail.")
        );
        assert_eq!(
            settings.handoff_message(Some("it"), None),
            format!("{italian} Le risponderemo a breve qui o via e-mail.")
        );
        let dutch = "Ik verbind u door met ons supportteam.";
        assert_eq!(
            settings.handoff_message(Some("nl-BE"), Some(42)),
            format!("{dutch} Uw ticketnummer is #42; we antwoorden u hier of per e-mail.")
        );
        assert_eq!(
            settings.handoff_message(Some("nl_NL"), None),
            format!("{dutch} We antwoorden u binnenkort hier of per e-mail.")
        );
        let mut custom = BotSettings::default();
        custom.handoff_messages.insert("nl".into(), "Ticket {ticket_id} is aangemaakt".into());
        assert_eq!(custom.handoff_message(Some("nl-BE"), Some(7)), "Ticket 7 is aangemaakt");
        assert!(custom.handoff_message(Some("it-CH"), Some(7)).starts_with(italian));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut settings = BotSettings::default();
        assert!(validate(&settings, false).is_empty());
        settings.rules.low_confidence.threshold = 1.5;
        settings.rules.low_rating.at_or_below = 9.0;
        settings.callback_url = Some("http://bot.example.com/hook".into());
        let fields: Vec<String> = validate(&settings, false).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["rules.low_confidence.threshold", "rules.low_rating.at_or_below", "callback_url"]);
        let mut off = BotSettings::default();
        off.rules.explicit_request.enabled = false;
        off.rules.low_confidence.enabled = false;
        off.rules.low_rating.enabled = false;
        off.rules.action.enabled = false;
        off.rules.manual.enabled = false;
        assert_eq!(validate(&off, false)[0].field, "rules");
    }

    #[test]
    fn bot_phrases_that_could_never_work_are_named() {
        let field_of = |name: &str, language: &str, phrase: &str| {
            let mut settings = BotSettings::default();
            let rule = &mut settings.rules.explicit_request;
            let map = if name == "exclusions" { &mut rule.exclusions } else { &mut rule.extra_phrases };
            map.insert(language.into(), vec![phrase.into()]);
            validate(&settings, false).into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert!(field_of("exclusions", "en", "Human Touch").is_empty());
        assert!(field_of("extra_phrases", "pt-BR", "beam me up").is_empty());
        for (name, language, phrase) in [
            ("exclusions", "en", "Human, Inc"),
            ("exclusions", "en", "!!!"),
            ("exclusions", "en", "not"),
            ("exclusions", "de", "kein"),
            ("extra_phrases", "en", "🙂"),
            ("extra_phrases", "english language", "talk to a person"),
            ("extra_phrases", "", "talk to a person"),
        ] {
            assert_eq!(
                field_of(name, language, phrase),
                [format!("rules.explicit_request.{name}.{language}")],
                "{phrase}"
            );
        }
        let mut many = BotSettings::default();
        for code in ["aa", "ab", "ac", "ad", "ae", "af", "ag", "ah", "ai", "aj", "ak"] {
            many.rules.explicit_request.exclusions.insert(code.into(), vec!["Human Touch".into()]);
        }
        let fields: Vec<String> = validate(&many, false).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["rules.explicit_request.exclusions"]);
    }

    #[test]
    fn callback_urls_are_https_or_local_http_when_allowed() {
        assert!(check_callback_url("https://bot.example.com/zendesk", false).is_ok());
        assert!(check_callback_url("http://127.0.0.1:8080/cb", true).is_ok());
        assert!(check_callback_url("http://127.0.0.1:8080/cb", false).is_err());
        assert!(check_callback_url("http://bot.example.com/cb", true).is_err());
        assert!(check_callback_url("https://user:pw@bot.example.com/cb", false).is_err());
        assert!(check_callback_url("not a url", false).is_err());
        assert!(check_callback_url("https://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_callback_url("https://10.0.0.5/hook", false).is_err());
        assert!(check_callback_url("https://localhost/hook", false).is_err());
        assert!(check_callback_url("ftp://bot.example.com", false).is_err());
    }

    #[test]
    fn a_handoff_message_is_keyed_by_a_locale_an_escalation_can_name() {
        for (locale, valid) in
            [("es", true), ("pt-BR", true), ("zh_Hant", true), ("", false), ("pt BR", false), ("constructor?", false)]
        {
            let mut settings = BotSettings::default();
            settings.handoff_messages.insert(locale.into(), "Ticket {ticket_id}".into());
            let errors = validate(&settings, false);
            assert_eq!(errors.is_empty(), valid, "{locale:?}: {errors:?}");
        }
    }
}
