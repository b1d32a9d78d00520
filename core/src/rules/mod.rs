//! The escalation rules engine: given a bot's rule settings and what the chatbot reports about
//! the conversation, decide whether to hand over to a human, and say which rule fired and why.
//! Pure: no I/O, no clock.

pub mod corpus;
pub mod intent;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The five escalation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    ExplicitRequest,
    LowConfidence,
    LowRating,
    Action,
    Manual,
}

impl RuleKind {
    pub const ALL: [RuleKind; 5] =
        [Self::ExplicitRequest, Self::LowConfidence, Self::LowRating, Self::Action, Self::Manual];

    /// The name used in the API, tags and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExplicitRequest => "explicit_request",
            Self::LowConfidence => "low_confidence",
            Self::LowRating => "low_rating",
            Self::Action => "action",
            Self::Manual => "manual",
        }
    }
}

/// A visitor's rating of the bot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rating {
    Stars { value: f64, scale: f64 },
    Thumbs { thumbs: Thumbs },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Thumbs {
    Up,
    Down,
}

/// What the chatbot knows about the conversation right now.
#[derive(Debug, Clone, Default)]
pub struct Signals<'a> {
    pub confidence: Option<f64>,
    pub rating: Option<Rating>,
    pub action: Option<&'a str>,
    pub latest_visitor_message: Option<&'a str>,
    /// Who escalated by hand (a team member), for the manual rule.
    pub escalated_by: Option<&'a str>,
    /// The platform's own judgement (its language model) of whether the visitor asked for a
    /// person: when given, it decides the explicit-request rule and the lexicon is not consulted.
    pub wants_human: Option<bool>,
    /// How sure the platform's model is of `wants_human`, 0–1 (told in the reason).
    pub wants_human_confidence: Option<f64>,
}

/// The rule that fired and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    pub rule: RuleKind,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Escalate(Firing),
    /// No enabled rule fired; the reason says what was checked.
    Stay {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    #[error("no escalation rule is enabled for this bot; enable at least one rule in its settings")]
    NoRuleEnabled,
    #[error("the {rule} trigger needs `{field}` in the request")]
    MissingSignal { rule: &'static str, field: &'static str },
}

/// Decides whether to escalate. With `requested` set, only that rule is considered (and it must be
/// enabled); a signal the caller sent must agree with the rule, a signal it left out is taken on
/// trust, except the action name, which the action rule needs to check its list.
pub fn evaluate(
    settings: &RuleSettings,
    requested: Option<RuleKind>,
    signals: &Signals<'_>,
) -> Result<Decision, RulesError> {
    if !settings.any_enabled() {
        return Err(RulesError::NoRuleEnabled);
    }
    match requested {
        Some(rule) if !settings.enabled(rule) => {
            Ok(Decision::Stay { reason: format!("the {} rule is turned off for this bot", rule.as_str()) })
        }
        Some(rule) => evaluate_named(settings, rule, signals),
        None => Ok(evaluate_signals(settings, signals)),
    }
}

fn evaluate_named(settings: &RuleSettings, rule: RuleKind, signals: &Signals<'_>) -> Result<Decision, RulesError> {
    let checked = match rule {
        RuleKind::ExplicitRequest => match signals.wants_human {
            // A judgement the caller sent must agree with the trigger.
            Some(false) => None,
            Some(true) => explicit_request(settings, signals),
            None => Some(fire(rule, "the chatbot reported that the visitor asked for a human")),
        },
        RuleKind::LowConfidence => match signals.confidence {
            Some(_) => low_confidence(settings, signals),
            None => Some(fire(rule, "the chatbot reported low confidence")),
        },
        RuleKind::LowRating => match signals.rating {
            Some(_) => low_rating(settings, signals),
            None => Some(fire(rule, "the chatbot reported a low rating")),
        },
        RuleKind::Action => {
            if signals.action.is_none() {
                return Err(RulesError::MissingSignal { rule: "action", field: "signals.action" });
            }
            action(settings, signals)
        }
        RuleKind::Manual => {
            let Some(who) = signals.escalated_by else {
                return Err(RulesError::MissingSignal { rule: "manual", field: "escalated_by" });
            };
            Some(Firing { rule, reason: format!("escalated by hand by {who}"), escalated_by: Some(who.to_owned()) })
        }
    };
    Ok(match checked {
        Some(firing) => Decision::Escalate(firing),
        None => Decision::Stay { reason: format!("the {} rule did not fire for the signals sent", rule.as_str()) },
    })
}

/// One rule's check against the signals.
type RuleCheck = fn(&RuleSettings, &Signals<'_>) -> Option<Firing>;

fn evaluate_signals(settings: &RuleSettings, signals: &Signals<'_>) -> Decision {
    let checks: [(RuleKind, RuleCheck); 4] = [
        (RuleKind::ExplicitRequest, explicit_request),
        (RuleKind::LowRating, low_rating),
        (RuleKind::LowConfidence, low_confidence),
        (RuleKind::Action, action),
    ];
    let mut checked = Vec::new();
    for (rule, check) in checks {
        if !settings.enabled(rule) {
            continue;
        }
        checked.push(rule.as_str());
        if let Some(firing) = check(settings, signals) {
            return Decision::Escalate(firing);
        }
    }
    let reason = if checked.is_empty() {
        "only the manual rule is enabled and no trigger was named".to_owned()
    } else {
        format!("no enabled rule fired (checked: {})", checked.join(", "))
    };
    Decision::Stay { reason }
}

fn fire(rule: RuleKind, reason: impl Into<String>) -> Firing {
    Firing { rule, reason: reason.into(), escalated_by: None }
}

fn explicit_request(settings: &RuleSettings, signals: &Signals<'_>) -> Option<Firing> {
    // The platform's model decides when it has spoken; the lexicon is the fallback.
    if let Some(wants) = signals.wants_human {
        let sure = signals.wants_human_confidence.map(|c| format!(", confidence {c}")).unwrap_or_default();
        return wants.then(|| {
            fire(
                RuleKind::ExplicitRequest,
                format!("the chatbot's model judged that the visitor asked for a human{sure}"),
            )
        });
    }
    let message = signals.latest_visitor_message?;
    let found = intent::detect(message, &settings.explicit_request.phrases())?;
    Some(fire(RuleKind::ExplicitRequest, heard_reason(&found)))
}

/// Why the explicit-request rule fired for what the detector heard.
fn heard_reason(found: &intent::IntentMatch) -> String {
    match found.heard_by {
        intent::HeardBy::Lexicon => {
            format!("the visitor asked for a human (the lexicon matched \"{}\")", found.matched)
        }
        intent::HeardBy::BotPhrase => {
            format!("the visitor asked for a human (the bot's own phrase matched \"{}\")", found.matched)
        }
        intent::HeardBy::Model { percent } => {
            format!("the visitor asked for a human (Handoff's model, {percent}% sure, weighing \"{}\")", found.matched)
        }
    }
}

/// What the explicit-request rule would make of one message under `settings`, created nothing
/// (the settings console's "try a message").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub rule: RuleKind,
    pub enabled: bool,
    pub fires: bool,
    pub reason: String,
    pub matched: Option<String>,
    /// `lexicon`, `bot_phrase` or `model`, when something was heard.
    pub heard_by: Option<&'static str>,
}

/// Tries `message` on the explicit-request rule, as the bot's visitor's latest message with no
/// judgement from the platform's model: whether it fires, and why or why not.
pub fn try_explicit_request(settings: &RuleSettings, message: &str) -> Trial {
    let enabled = settings.explicit_request.enabled;
    let (heard, reason) = match intent::hear(message, &settings.explicit_request.phrases()) {
        intent::Hearing::Heard(found) => {
            let reason = heard_reason(&found);
            (Some(found), reason)
        }
        intent::Hearing::Doubted(found) => {
            let reason = format!(
                "the words \"{}\" name someone, but Handoff's model is sure the message as a whole asks for no one",
                found.matched
            );
            return trial(enabled, false, reason, Some(found));
        }
        intent::Hearing::Declined => (
            None,
            "someone is named, but the message takes the request back (a negation, a condition, a called-off \
             request or a question about the bot)"
                .to_owned(),
        ),
        intent::Hearing::NamedNotAsked => {
            (None, "someone is named, but nothing in the message asks for them".to_owned())
        }
        intent::Hearing::Excluded => {
            (None, "one of the bot's exclusions was said, and its words count for nothing".to_owned())
        }
        intent::Hearing::NotHeard => (None, "nothing in the message asks for a person".to_owned()),
    };
    match heard {
        Some(found) if enabled => trial(true, true, reason, Some(found)),
        Some(found) => {
            let reason = format!("the explicit-request rule is turned off; it would fire: {reason}");
            trial(false, false, reason, Some(found))
        }
        None => trial(enabled, false, reason, None),
    }
}

fn trial(enabled: bool, fires: bool, reason: String, found: Option<intent::IntentMatch>) -> Trial {
    let heard_by = found.as_ref().map(|f| match f.heard_by {
        intent::HeardBy::Lexicon => "lexicon",
        intent::HeardBy::BotPhrase => "bot_phrase",
        intent::HeardBy::Model { .. } => "model",
    });
    Trial { rule: RuleKind::ExplicitRequest, enabled, fires, reason, matched: found.map(|f| f.matched), heard_by }
}

fn low_confidence(settings: &RuleSettings, signals: &Signals<'_>) -> Option<Firing> {
    let confidence = signals.confidence?;
    let threshold = settings.low_confidence.threshold;
    (confidence < threshold).then(|| {
        fire(RuleKind::LowConfidence, format!("bot confidence {confidence} is below the threshold {threshold}"))
    })
}

fn low_rating(settings: &RuleSettings, signals: &Signals<'_>) -> Option<Firing> {
    let rule = &settings.low_rating;
    match signals.rating? {
        Rating::Thumbs { thumbs: Thumbs::Down } if rule.thumbs_down => {
            Some(fire(RuleKind::LowRating, "the visitor gave a thumbs-down"))
        }
        Rating::Thumbs { .. } => None,
        Rating::Stars { value, scale } => {
            // value/scale <= at_or_below/rule.scale, cross-multiplied to stay exact for whole stars.
            (value * rule.scale <= rule.at_or_below * scale + 1e-9).then(|| {
                fire(
                    RuleKind::LowRating,
                    format!("the visitor rated {value} of {scale}, at or below {} of {}", rule.at_or_below, rule.scale),
                )
            })
        }
    }
}

fn action(settings: &RuleSettings, signals: &Signals<'_>) -> Option<Firing> {
    let action = signals.action?;
    settings
        .action
        .actions
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action))
        .then(|| fire(RuleKind::Action, format!("the bot ran the action \"{action}\", which hands over to a human")))
}

/// Which rules are on, and their parameters: part of a bot's settings, owned by the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RuleSettings {
    pub explicit_request: ExplicitRequestRule,
    pub low_confidence: LowConfidenceRule,
    pub low_rating: LowRatingRule,
    pub action: ActionRule,
    pub manual: ManualRule,
}

impl RuleSettings {
    /// True when the given rule is switched on.
    pub fn enabled(&self, rule: RuleKind) -> bool {
        match rule {
            RuleKind::ExplicitRequest => self.explicit_request.enabled,
            RuleKind::LowConfidence => self.low_confidence.enabled,
            RuleKind::LowRating => self.low_rating.enabled,
            RuleKind::Action => self.action.enabled,
            RuleKind::Manual => self.manual.enabled,
        }
    }

    pub fn any_enabled(&self) -> bool {
        RuleKind::ALL.iter().any(|rule| self.enabled(*rule))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExplicitRequestRule {
    pub enabled: bool,
    /// Language code → extra phrases that count as asking for a human.
    pub extra_phrases: BTreeMap<String, Vec<String>>,
    /// Language code → phrases that must never fire, such as a product called "Human Touch":
    /// the words inside them count for nothing (neither as a person nor as a request).
    pub exclusions: BTreeMap<String, Vec<String>>,
}

impl ExplicitRequestRule {
    /// The bot's own phrases, tokenized for the detector.
    pub fn phrases(&self) -> intent::BotPhrases {
        intent::BotPhrases::new(self.extra_phrases.values().flatten(), self.exclusions.values().flatten())
    }
}

impl Default for ExplicitRequestRule {
    fn default() -> Self {
        Self { enabled: true, extra_phrases: BTreeMap::new(), exclusions: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LowConfidenceRule {
    pub enabled: bool,
    /// Escalate when the bot's confidence is strictly below this (0..=1).
    pub threshold: f64,
}

impl Default for LowConfidenceRule {
    fn default() -> Self {
        Self { enabled: true, threshold: 0.6 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LowRatingRule {
    pub enabled: bool,
    /// A thumbs-down escalates.
    pub thumbs_down: bool,
    /// A star rating at or below `at_or_below` out of `scale` escalates; other scales are
    /// compared proportionally (1 of 3 is the same as 1.67 of 5).
    pub at_or_below: f64,
    pub scale: f64,
}

impl Default for LowRatingRule {
    fn default() -> Self {
        Self { enabled: true, thumbs_down: true, at_or_below: 2.0, scale: 5.0 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionRule {
    pub enabled: bool,
    /// Bot actions (as the bot names them) that hand over to a human.
    pub actions: Vec<String>,
}

impl Default for ActionRule {
    fn default() -> Self {
        Self { enabled: true, actions: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManualRule {
    pub enabled: bool,
}

impl Default for ManualRule {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RuleSettings {
        let mut s = RuleSettings::default();
        s.action.actions = vec!["refund".into(), "cancel_subscription".into()];
        s
    }

    fn stars(value: f64, scale: f64) -> Option<Rating> {
        Some(Rating::Stars { value, scale })
    }

    #[test]
    fn the_platforms_judgement_decides_the_explicit_request_rule_and_the_reason_says_so() {
        let judged = |wants, message| Signals {
            wants_human: wants,
            wants_human_confidence: Some(0.91),
            latest_visitor_message: Some(message),
            ..Default::default()
        };
        let reason = |decision: Result<Decision, RulesError>| match decision.unwrap() {
            Decision::Escalate(f) => Some(f.reason),
            Decision::Stay { .. } => None,
        };
        let s = settings();
        // The model heard a request the lexicon does not know; and overrules the lexicon.
        let yes = reason(evaluate(&s, None, &judged(Some(true), "ugh this is useless, get me out of here")));
        assert_eq!(
            yes.as_deref(),
            Some("the chatbot's model judged that the visitor asked for a human, confidence 0.91")
        );
        assert_eq!(reason(evaluate(&s, None, &judged(Some(false), "I want to talk to a human"))), None);
        assert_eq!(
            fired(evaluate(&s, Some(RuleKind::ExplicitRequest), &judged(Some(false), "talk to a human"))),
            None,
            "a trigger the judgement contradicts does not fire"
        );
        // Without it, the lexicon decides, and says so.
        let lexicon = reason(evaluate(&s, None, &judged(None, "I want to talk to a human")));
        assert!(lexicon.is_some_and(|r| r.contains("the lexicon matched")));
        // Where the lexicon finds nothing and Handoff's own model is sure, the reason says so.
        let model = reason(evaluate(&s, None, &judged(None, "somebody from accounts, please"))).expect("heard");
        assert!(model.starts_with("the visitor asked for a human (Handoff's model, "), "{model}");
        assert!(model.contains("% sure, weighing \"somebody\""), "{model}");
    }

    fn fired(decision: Result<Decision, RulesError>) -> Option<RuleKind> {
        match decision.unwrap() {
            Decision::Escalate(f) => Some(f.rule),
            Decision::Stay { .. } => None,
        }
    }

    #[test]
    fn signals_table() {
        struct Case {
            name: &'static str,
            signals: Signals<'static>,
            expect: Option<RuleKind>,
        }
        let cases = [
            Case {
                name: "human asked",
                signals: Signals { latest_visitor_message: Some("let me talk to a human"), ..Default::default() },
                expect: Some(RuleKind::ExplicitRequest),
            },
            Case {
                name: "negated",
                signals: Signals { latest_visitor_message: Some("I don't need a human"), ..Default::default() },
                expect: None,
            },
            Case {
                name: "confidence below",
                signals: Signals { confidence: Some(0.42), ..Default::default() },
                expect: Some(RuleKind::LowConfidence),
            },
            Case {
                name: "confidence at threshold",
                signals: Signals { confidence: Some(0.6), ..Default::default() },
                expect: None,
            },
            Case {
                name: "thumbs down",
                signals: Signals { rating: Some(Rating::Thumbs { thumbs: Thumbs::Down }), ..Default::default() },
                expect: Some(RuleKind::LowRating),
            },
            Case {
                name: "thumbs up",
                signals: Signals { rating: Some(Rating::Thumbs { thumbs: Thumbs::Up }), ..Default::default() },
                expect: None,
            },
            Case {
                name: "2 of 5",
                signals: Signals { rating: stars(2.0, 5.0), ..Default::default() },
                expect: Some(RuleKind::LowRating),
            },
            Case { name: "3 of 5", signals: Signals { rating: stars(3.0, 5.0), ..Default::default() }, expect: None },
            Case {
                name: "4 of 10 (proportional)",
                signals: Signals { rating: stars(4.0, 10.0), ..Default::default() },
                expect: Some(RuleKind::LowRating),
            },
            Case { name: "5 of 10", signals: Signals { rating: stars(5.0, 10.0), ..Default::default() }, expect: None },
            Case {
                name: "configured action",
                signals: Signals { action: Some("Refund"), ..Default::default() },
                expect: Some(RuleKind::Action),
            },
            Case {
                name: "other action",
                signals: Signals { action: Some("track_order"), ..Default::default() },
                expect: None,
            },
            Case { name: "nothing", signals: Signals::default(), expect: None },
        ];
        for case in cases {
            assert_eq!(fired(evaluate(&settings(), None, &case.signals)), case.expect, "{}", case.name);
        }
    }

    #[test]
    fn toggles_switch_rules_off() {
        let mut s = settings();
        s.low_confidence.enabled = false;
        let signals = Signals { confidence: Some(0.1), ..Default::default() };
        assert_eq!(fired(evaluate(&s, None, &signals)), None);
        s.low_confidence.threshold = 0.2;
        s.low_confidence.enabled = true;
        assert_eq!(fired(evaluate(&s, None, &signals)), Some(RuleKind::LowConfidence));
        s.low_rating.thumbs_down = false;
        let thumbs = Signals { rating: Some(Rating::Thumbs { thumbs: Thumbs::Down }), ..Default::default() };
        assert_eq!(fired(evaluate(&s, None, &thumbs)), None);
    }

    #[test]
    fn named_trigger_must_be_enabled_and_agree_with_its_signal() {
        let mut s = settings();
        assert_eq!(
            fired(evaluate(&s, Some(RuleKind::LowConfidence), &Signals::default())),
            Some(RuleKind::LowConfidence)
        );
        let high = Signals { confidence: Some(0.9), ..Default::default() };
        assert_eq!(fired(evaluate(&s, Some(RuleKind::LowConfidence), &high)), None);
        s.low_confidence.enabled = false;
        match evaluate(&s, Some(RuleKind::LowConfidence), &Signals::default()).unwrap() {
            Decision::Stay { reason } => assert!(reason.contains("turned off"), "{reason}"),
            other => panic!("expected stay, got {other:?}"),
        }
        assert_eq!(
            evaluate(&s, Some(RuleKind::Action), &Signals::default()),
            Err(RulesError::MissingSignal { rule: "action", field: "signals.action" })
        );
        let refund = Signals { action: Some("refund"), ..Default::default() };
        assert_eq!(fired(evaluate(&s, Some(RuleKind::Action), &refund)), Some(RuleKind::Action));
    }

    #[test]
    fn manual_records_who() {
        let signals = Signals { escalated_by: Some("carla@example.com"), ..Default::default() };
        match evaluate(&settings(), Some(RuleKind::Manual), &signals).unwrap() {
            Decision::Escalate(f) => {
                assert_eq!(f.rule, RuleKind::Manual);
                assert_eq!(f.escalated_by.as_deref(), Some("carla@example.com"));
            }
            other => panic!("expected escalate, got {other:?}"),
        }
        assert!(matches!(
            evaluate(&settings(), Some(RuleKind::Manual), &Signals::default()),
            Err(RulesError::MissingSignal { rule: "manual", .. })
        ));
        // Manual never fires from signals alone.
        assert_eq!(fired(evaluate(&settings(), None, &signals)), None);
    }

    #[test]
    fn no_rule_enabled_is_an_error() {
        let mut s = settings();
        s.explicit_request.enabled = false;
        s.low_confidence.enabled = false;
        s.low_rating.enabled = false;
        s.action.enabled = false;
        s.manual.enabled = false;
        assert_eq!(evaluate(&s, None, &Signals::default()), Err(RulesError::NoRuleEnabled));
    }

    #[test]
    fn per_bot_phrases_extend_detection() {
        let mut s = settings();
        s.explicit_request.extra_phrases.insert("en".into(), vec!["beam me up".into()]);
        let signals = Signals { latest_visitor_message: Some("Beam me up, Scotty"), ..Default::default() };
        assert_eq!(fired(evaluate(&s, None, &signals)), Some(RuleKind::ExplicitRequest));
    }

    #[test]
    fn a_tried_message_says_whether_the_explicit_request_rule_fires_and_why() {
        let mut s = settings();
        let heard = try_explicit_request(&s, "I want to talk to a human");
        assert!(heard.enabled && heard.fires, "{heard:?}");
        assert_eq!(heard.heard_by, Some("lexicon"));
        assert!(heard.reason.contains("the lexicon matched"), "{}", heard.reason);

        let declined = try_explicit_request(&s, "cancel my request for an agent");
        assert!(!declined.fires && declined.matched.is_none(), "{declined:?}");
        assert!(declined.reason.contains("takes the request back"), "{}", declined.reason);
        let refused = try_explicit_request(&s, "I don't want to talk to a human");
        assert!(!refused.fires, "{refused:?}");
        assert_eq!(refused.reason, "someone is named, but nothing in the message asks for them");

        let nothing = try_explicit_request(&s, "where is my parcel");
        assert_eq!(nothing.reason, "nothing in the message asks for a person");

        s.explicit_request.exclusions.insert("en".into(), vec!["human touch".into()]);
        let excluded = try_explicit_request(&s, "how much is the human touch plan");
        assert!(!excluded.fires && excluded.reason.contains("exclusions"), "{excluded:?}");

        s.explicit_request.extra_phrases.insert("en".into(), vec!["order desk".into()]);
        let own = try_explicit_request(&s, "order desk");
        assert!(own.fires && own.heard_by == Some("bot_phrase"), "{own:?}");
        assert!(own.reason.contains("the bot's own phrase matched"), "{}", own.reason);

        s.explicit_request.enabled = false;
        let off = try_explicit_request(&s, "I want to talk to a human");
        assert!(!off.enabled && !off.fires && off.matched.is_some(), "{off:?}");
        assert!(off.reason.starts_with("the explicit-request rule is turned off; it would fire: "), "{}", off.reason);
    }
}
