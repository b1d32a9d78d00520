//! Detects an explicit request for a human in a visitor's message, in English, Spanish, French,
//! German, Portuguese, Italian and Dutch, without a language model.
//!
//! A message is cut into sentences and clauses. A clause asks for someone when a person, a role
//! or a team (`lexicon`) is the object of a word that asks to talk to them ("talk", "verbinden")
//! or wants them ("I need the billing team"), when it asks whether anyone is there at all, or
//! when it is only that person and small words ("human please", "un técnico, urgente"); unless a
//! negation, a comparison, another verb or a question about the bot itself says otherwise.
//!
//! Why a lexicon: the check runs on every escalation call inside a 128 MB Lambda; it must be
//! microseconds, deterministic and explainable ("matched 'talk … human'"). How well it hears is
//! measured on the corpus in `core/corpus/intent/` (`rules::corpus`).

mod lexicon;

use lexicon::*;

use crate::text;

/// How far (in tokens) a verb may stand from the person it asks for.
const VERB_BEFORE_NOUN: usize = 8;
const VERB_AFTER_NOUN: usize = 4;
/// How far a "want" word may stand before the person, with only small words between.
const WANT_BEFORE_NOUN: usize = 5;
/// How many tokens before a match a negation still applies.
const NEGATION_REACH: usize = 5;
/// The longest clause that can be a request without a verb ("a human please").
const BARE_CLAUSE: usize = 7;

/// What matched, for the engine's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentMatch {
    pub matched: String,
}

/// A bot's own phrases, tokenized as messages are: extra ones that count as a request and
/// excluded ones (a product called "Human Touch") whose words count for nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotPhrases {
    extra: Vec<Vec<String>>,
    excluded: Vec<Vec<String>>,
}

impl BotPhrases {
    pub fn new<'a>(
        extra: impl IntoIterator<Item = &'a String>,
        excluded: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let tokenized = |phrases: Vec<&String>| -> Vec<Vec<String>> {
            phrases.into_iter().map(|p| text::tokens(p)).filter(|t| !t.is_empty()).collect()
        };
        Self { extra: tokenized(extra.into_iter().collect()), excluded: tokenized(excluded.into_iter().collect()) }
    }
}

/// Stands where an excluded phrase or a compound was: a word that is in no list.
const EXCLUDED: &str = "\u{0}";

/// A sentence's clauses, and whether it asks a question.
struct Sentence {
    clauses: Vec<Vec<String>>,
    question: bool,
}

/// Returns the first non-negated request for a human in `message`, if any.
pub fn detect(message: &str, phrases: &BotPhrases) -> Option<IntentMatch> {
    let sentences = sentences(message, &phrases.excluded);
    let curious = sentences.iter().flat_map(|s| s.clauses.iter().flatten()).any(|t| is_curious(t));
    for sentence in &sentences {
        let about_the_bot = curious || asks_what_the_bot_is(sentence);
        for (at, clause) in sentence.clauses.iter().enumerate() {
            if let Some(found) = phrases.extra.iter().find_map(|p| find_phrase(clause, p)) {
                return Some(found);
            }
            let complains = !curious && sentence.clauses.iter().flatten().any(|t| TOTAL.contains(&t.as_str()));
            if about_the_bot
                && complains
                && let Some(found) = asks_whether_anyone_is_there(clause, sentence.question)
            {
                return Some(found);
            }
            if about_the_bot || (at == 0 && sentence.clauses.len() > 1 && clause == &["mensch"]) {
                // "Mensch, das ging schnell!" is an interjection.
                continue;
            }
            // "Die Person, die bestellt hat, …": the person is the subject of what follows.
            let described =
                sentence.clauses.get(at + 1).and_then(|c| c.first()).is_some_and(|t| RELATIVES.contains(&t.as_str()));
            // The question is the clause before its question mark ("…, can I cancel here?").
            let question = sentence.question && at + 1 == sentence.clauses.len();
            if let Some(found) = detect_in_clause(clause, question, described) {
                return Some(found);
            }
        }
    }
    None
}

/// The message cut at sentence ends, each cut into clauses of folded words with held-down
/// letters squeezed, compounds and the bot's excluded phrases replaced by `EXCLUDED`.
fn sentences(message: &str, excluded: &[Vec<String>]) -> Vec<Sentence> {
    message
        .split_inclusive(['.', '!', '?', '\n'])
        .map(|raw| Sentence {
            question: raw.contains(['?', '¿']),
            clauses: text::clauses(raw)
                .into_iter()
                .map(|clause| {
                    let clause = rewritten(clause.iter().map(|t| squeeze(t)).collect());
                    let clause = replace_phrases(clause, excluded);
                    replace_phrases(clause, COMPOUNDS.all())
                })
                .collect(),
        })
        .filter(|s| !s.clauses.is_empty())
        .collect()
}

/// "No one" as "noone", so it is one word like "nobody".
fn rewritten(mut clause: Vec<String>) -> Vec<String> {
    for (first, second, one) in rewrites() {
        while let Some(at) = clause.windows(2).position(|w| w[0] == *first && w[1] == *second) {
            clause.splice(at..at + 2, [one.clone()]);
        }
    }
    clause
}

/// Each occurrence of one of `phrases` becomes one `EXCLUDED` word, so "talk to Human Touch
/// support" still asks for support while "Human Touch won't pair" names no one.
fn replace_phrases(clause: Vec<String>, phrases: &[Vec<String>]) -> Vec<String> {
    if phrases.is_empty() {
        return clause;
    }
    let mut out = Vec::with_capacity(clause.len());
    let mut at = 0;
    while at < clause.len() {
        match phrases.iter().find(|p| clause[at..].starts_with(p)) {
            Some(phrase) => {
                out.push(EXCLUDED.to_owned());
                at += phrase.len();
            }
            None => {
                out.push(clause[at].clone());
                at += 1;
            }
        }
    }
    out
}

fn detect_in_clause(clause: &[String], question: bool, described: bool) -> Option<IntentMatch> {
    if clause.iter().any(|t| HOURS.contains(&t.as_str())) {
        return None;
    }
    for phrase in STRONG_PHRASES.all() {
        if let Some(m) = find_phrase(clause, phrase) {
            return Some(m);
        }
    }
    asked_by_verb(clause, question)
        .or_else(|| call_me(clause))
        .or_else(|| can_they(clause, question))
        .or_else(|| asks_whether_anyone_is_there(clause, question))
        .or_else(|| if described { None } else { bare(clause) })
}

fn find_phrase(clause: &[String], phrase: &[String]) -> Option<IntentMatch> {
    if phrase.is_empty() || phrase.len() > clause.len() {
        return None;
    }
    (0..=clause.len() - phrase.len())
        .find(|&start| clause[start..start + phrase.len()] == *phrase && !negated(clause, start, start + phrase.len()))
        .map(|_| IntentMatch { matched: phrase.join(" ") })
}

fn is_someone(word: &str) -> bool {
    is_person(word) || is_team(word) || is_anyone(word) || CALLBACKS.contains(&word)
}

/// "Call me back", "ruft mich an", "liguem-me": a call asked for without naming who calls.
fn call_me(clause: &[String]) -> Option<IntentMatch> {
    let at = clause.windows(2).position(|w| CALL_ME.contains(&w[0].as_str()) && ME.contains(&w[1].as_str()))?;
    let refused = (at..(at + 5).min(clause.len())).any(|i| refuses(clause, i));
    (!refused && !negated(clause, at, at + 2))
        .then(|| IntentMatch { matched: format!("{} {}", clause[at], clause[at + 1]) })
}

/// "Le service facturation peut-il regarder…?", "o setor financeiro pode ver…?": asking whether
/// a team can do something asks for it.
fn can_they(clause: &[String], question: bool) -> Option<IntentMatch> {
    if !question {
        return None;
    }
    let noun_at = clause.iter().position(|t| is_team(t) || is_anyone(t))?;
    let modal_at = (noun_at + 1..(noun_at + 6).min(clause.len())).find(|&i| MODALS.contains(&clause[i].as_str()))?;
    let fine = !theirs(clause, noun_at) && !negated(clause, noun_at, modal_at + 1);
    fine.then(|| IntentMatch { matched: format!("{} … {}", clause[noun_at], clause[modal_at]) })
}

/// A person asked for by a verb near it: "talk … human", "need … billing", "can … someone".
fn asked_by_verb(clause: &[String], question: bool) -> Option<IntentMatch> {
    for (noun_at, noun) in clause.iter().enumerate() {
        if !is_someone(noun) {
            continue;
        }
        let lo = noun_at.saturating_sub(VERB_BEFORE_NOUN);
        let hi = (noun_at + VERB_AFTER_NOUN + 2).min(clause.len() - 1);
        let subject_of_relative = clause.get(noun_at + 1).is_some_and(|t| RELATIVES.contains(&t.as_str()));
        for verb_at in lo..=hi {
            if verb_at == noun_at || (verb_at > noun_at && subject_of_relative) {
                continue;
            }
            if !asks_for(clause, verb_at, noun_at) {
                continue;
            }
            let (start, end) = (verb_at.min(noun_at), verb_at.max(noun_at) + 1);
            let other_verb = clause[start..end].iter().any(|t| OTHER_VERBS.contains(&t.as_str()));
            // "¿Nadie me va a llamar?": nobody is who is missing, a complaint.
            let nobody_asked = question && noun_at < verb_at && NEGATIONS.contains(&noun.as_str());
            if !other_verb && !theirs(clause, noun_at) && (nobody_asked || !negated(clause, start, end)) {
                return Some(IntentMatch { matched: format!("{} … {}", clause[start], clause[end - 1]) });
            }
        }
    }
    None
}

/// "My boss", "mi supervisor": the visitor's own person, unless a role the company assigns
/// ("mon conseiller").
fn theirs(clause: &[String], noun_at: usize) -> bool {
    let before = &clause[noun_at.saturating_sub(2)..noun_at];
    before.iter().any(|t| POSSESSIVES.contains(&t.as_str())) && !ASSIGNED_ROLES.contains(&clause[noun_at].as_str())
}

/// Whether the word at `verb_at` asks for the person at `noun_at`.
fn asks_for(clause: &[String], verb_at: usize, noun_at: usize) -> bool {
    let word = clause[verb_at].as_str();
    if verb_at > noun_at {
        // "Qu'un conseiller me rappelle", "dass mich ein Techniker anruft".
        let to_me = clause[noun_at.saturating_sub(3)..verb_at].iter().any(|t| ME.contains(&t.as_str()));
        let near = verb_at - noun_at <= VERB_AFTER_NOUN;
        return (near && VERB_LAST.contains(&word)) || (to_me && (is_communicate(word) || VERB_LAST.contains(&word)));
    }
    if is_communicate(word) {
        return true;
    }
    let gap = noun_at - verb_at;
    let small_words_between = clause[verb_at + 1..noun_at]
        .iter()
        .all(|t| FILLERS.contains(&t.as_str()) || NEGATIONS.contains(&t.as_str()) || is_someone(t));
    let would_like = word == "like"
        && (verb_at.saturating_sub(2)..verb_at).any(|j| matches!(clause[j].as_str(), "d" | "would" | "i" | "we"));
    ((is_want(word) || would_like) && gap <= WANT_BEFORE_NOUN && small_words_between)
        || (gap <= 6 && (EXISTENCE.contains(&word) || is_existence_pair(clause, verb_at)))
        || (gap <= 3 && MODALS.contains(&word))
}

/// "Is anyone there?", "does anyone work there?", "¿no hay nadie?": a question whether someone
/// is there at all is a complaint that asks, negated or not.
fn asks_whether_anyone_is_there(clause: &[String], question: bool) -> Option<IntentMatch> {
    if !question {
        return None;
    }
    let has = |class: Class| clause.iter().find(|t| class.contains(&t.as_str()));
    let anyone = clause.iter().find(|t| is_anyone(t));
    if let (Some(someone), Some(there)) = (anyone, has(THERE_VERBS).or(has(HERE))) {
        return Some(IntentMatch { matched: format!("{someone} … {there}") });
    }
    let person_at = clause.iter().position(|t| is_person(t) || is_anyone(t))?;
    let person = &clause[person_at];
    // "Un humain lit ces messages ?", "dove sono gli operatori?!"
    let where_before = clause[person_at.saturating_sub(3)..person_at].iter().find(|t| WHERE.contains(&t.as_str()));
    if let Some(there) = has(THERE_VERBS).or(where_before) {
        return Some(IntentMatch { matched: format!("{person} … {there}") });
    }
    // "¿No hay ningún asesor disponible?", "vous n'avez aucun conseiller ?"
    let before = &clause[..person_at];
    let negation_before =
        before.iter().any(|t| NEGATIONS.contains(&t.as_str())) || NEGATIONS.contains(&person.as_str());
    let said_missing = has(AVAILABLE).or(has(HERE)).or(has(EXISTENCE)).is_some()
        || (0..clause.len()).any(|i| is_existence_pair(clause, i));
    let described = clause.get(person_at + 1).is_some_and(|t| RELATIVES.contains(&t.as_str()));
    (negation_before && said_missing && !described).then(|| IntentMatch { matched: format!("no … {person}") })
}

/// A clause that is only a person and small words ("human please", "Agent!", "qqn du SAV stp").
fn bare(clause: &[String]) -> Option<IntentMatch> {
    if clause.len() > BARE_CLAUSE {
        return None;
    }
    let noun = clause.iter().find(|t| is_someone(t) && !NEGATIONS.contains(&t.as_str()))?;
    let contrast = |i: usize| {
        let t = clause[i].as_str();
        (NEGATIONS.contains(&t) && clause.get(i + 1).is_some_and(|n| MACHINES.contains(&n.as_str())))
            || (MACHINES.contains(&t) && i > 0 && NEGATIONS.contains(&clause[i - 1].as_str()))
    };
    let only_fillers =
        (0..clause.len()).all(|i| FILLERS.contains(&clause[i].as_str()) || is_someone(&clause[i]) || contrast(i));
    let refused = (0..clause.len()).any(|i| NEGATIONS.contains(&clause[i].as_str()) && !contrast(i));
    (only_fillers && !refused).then(|| IntentMatch { matched: noun.clone() })
}

/// A question about the bot itself: "is this a bot or a human?", "are you a real person?".
fn asks_what_the_bot_is(sentence: &Sentence) -> bool {
    let words = || sentence.clauses.iter().flatten().map(String::as_str);
    let machine = words().any(|t| MACHINES.contains(&t) || t.starts_with("automat"));
    machine && words().any(|t| OR.contains(&t))
}

fn is_curious(word: &str) -> bool {
    CURIOUS_PREFIXES.starts(word)
}

/// A word with a letter held down ("humanoooo", "humaiiiin") as written once: runs of three or
/// more of one letter become one.
fn squeeze(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    let chars: Vec<char> = token.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = j - i;
        let keep = if run >= 3 && chars[i].is_alphabetic() { 1 } else { run };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i = j;
    }
    out
}

/// Italian "c'è", French "il y a" and German "ist da" (folded): something exists.
fn is_existence_pair(clause: &[String], at: usize) -> bool {
    let pair = (clause[at].as_str(), clause.get(at + 1).map(String::as_str));
    matches!(pair, ("c", Some("e")) | ("y", Some("a")) | ("ist", Some("da")))
}

/// True when a negation word stands inside the match or up to `NEGATION_REACH` tokens before it,
/// unless the clause is a complaint ("why can't I…", "is there no…"); or when a comparison or a
/// question what the bot is precedes it ("more helpful than a human", "are you a real person").
fn negated(clause: &[String], start: usize, end: usize) -> bool {
    let reach_from = start.saturating_sub(NEGATION_REACH);
    let before = &clause[..start];
    // "Is there no one?" complains; "there's no need for a human" refuses.
    let needs = clause.iter().any(|t| is_want(t));
    let complaint = before.iter().any(|t| WHY.contains(&t.as_str()) || COMPLAINTS.contains(&t.as_str()))
        || before
            .windows(2)
            .any(|w| (w[0] == "por" && w[1] == "que") || CANNOT.all().iter().any(|p| p.as_slice() == w))
        || (!needs
            && clause[..end]
                .iter()
                .enumerate()
                .any(|(i, t)| EXISTENCE.contains(&t.as_str()) || is_existence_pair(clause, i)));
    let refusal = (reach_from..end).any(|i| refuses(clause, i));
    let window = start.saturating_sub(6)..end;
    let upto = &clause[..end];
    let has_comparative = upto.iter().any(|t| COMPARATIVES.contains(&t.as_str()));
    let compared = window.clone().any(|i| THAN.contains(&clause[i].as_str()))
        || (has_comparative && upto.iter().any(|t| THAN_AFTER_COMPARATIVE.contains(&t.as_str())))
        || upto.windows(2).any(|w| w[0] == "do" && w[1] == "que")
        || (start.saturating_sub(2)..end).any(|i| is_simile(clause, i));
    let are_you = window.clone().any(|i| ARE_YOU.all().iter().any(|p| clause[i..].starts_with(p)));
    compared || are_you || (!complaint && refusal)
}

/// Whether the word at `at` refuses: a negation, but not one that contrasts with the bot ("a
/// human, not a bot") and not French "ne" without its "pas", "jamais", "rien"… ("n'importe").
fn refuses(clause: &[String], at: usize) -> bool {
    let word = clause[at].as_str();
    if !NEGATIONS.contains(&word) {
        return false;
    }
    let next = &clause[at + 1..(at + 7).min(clause.len())];
    if next.iter().take(2).any(|t| MACHINES.contains(&t.as_str())) {
        return false;
    }
    // German "mit nem Menschen" is "mit einem", not Portuguese "nem".
    if word == "nem"
        && at > 0
        && matches!(clause[at - 1].as_str(), "mit" | "zu" | "von" | "bei" | "an" | "aus" | "nach" | "fur")
    {
        return false;
    }
    if matches!(word, "n" | "ne") {
        return next.iter().any(|t| {
            matches!(t.as_str(), "pas" | "jamais" | "rien" | "aucun" | "aucune" | "personne" | "plus" | "guere")
        });
    }
    true
}

/// "Like a real person", "comme un humain": what something resembles. Not "I'd like", and not
/// Portuguese "tem como" ("is there a way").
fn is_simile(clause: &[String], at: usize) -> bool {
    if at == 0 || !SIMILES.contains(&clause[at].as_str()) {
        return false;
    }
    let wants = (at.saturating_sub(2)..at).any(|j| matches!(clause[j].as_str(), "d" | "would" | "i" | "we"));
    let way = matches!(clause[at - 1].as_str(), "tem" | "e" | "sabe" | "weet" | "sais" | "sei");
    !wants && !way
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(message: &str) -> bool {
        detect(message, &BotPhrases::default()).is_some()
    }

    #[test]
    fn requests_in_five_languages_fire() {
        let cases = [
            "Can I talk to a human?",
            "I want to speak to an agent please",
            "real person",
            "can I get a person",
            "Please connect me with one of your support agents",
            "HUMAN!!!",
            "agent",
            "Quiero hablar con una persona",
            "¿Puedo hablar con un agente humano?",
            "Pásame con alguien, por favor",
            "Je veux parler à un humain",
            "Est-ce que je peux parler à quelqu'un ?",
            "Ich möchte mit einem Menschen sprechen",
            "Bitte verbinden Sie mich mit einem Mitarbeiter",
            "Quero falar com um atendente",
            "Preciso falar com uma pessoa real",
            "No, I want a human",
            "voglio parlare con un umano",
            "ik wil met een mens praten",
            "humanoooo",
            "un operatore per favore",
        ];
        for message in cases {
            assert!(fires(message), "should fire: {message}");
        }
    }

    #[test]
    fn negated_or_unrelated_messages_do_not_fire() {
        let cases = [
            "I don't need a human",
            "I do not want to talk to an agent",
            "No quiero hablar con un humano",
            "Je n'ai pas besoin d'un humain",
            "Ich brauche keinen Menschen",
            "Ich möchte nicht mit einem Menschen sprechen",
            "Não preciso falar com um atendente",
            "non voglio parlare con un operatore",
            "ik hoef niet met een medewerker te spreken",
            "Where is my order?",
            "The agent field on my invoice is wrong",
            "",
        ];
        for message in cases {
            assert!(!fires(message), "should not fire: {message}");
        }
    }

    #[test]
    fn extra_phrases_match_folded_and_respect_negation() {
        let extra = ["Menschliche Hilfe".to_owned()];
        let phrases = BotPhrases::new(&extra, []);
        assert!(detect("Ich brauche MENSCHLICHE hilfe!", &phrases).is_some());
        assert!(detect("Ich brauche keine menschliche Hilfe", &phrases).is_none());
    }

    #[test]
    fn excluded_phrases_never_fire_but_the_rest_of_the_message_still_counts() {
        let excluded = ["Human Touch".to_owned(), "agent smith".to_owned()];
        let phrases = BotPhrases::new([], &excluded);
        for message in
            ["I want Human Touch", "where can I talk about human touch?", "Can I get the HUMAN-TOUCH bundle?"]
        {
            assert!(detect(message, &BotPhrases::default()).is_some(), "fires without the exclusion: {message}");
            assert!(detect(message, &phrases).is_none(), "excluded: {message}");
        }
        let found =
            detect("my Human Touch broke, I want to talk to a human", &phrases).expect("the request still counts");
        assert!(found.matched.contains("human"), "{found:?}");
        // An exclusion also wins over the bot's own extra phrase.
        let both = BotPhrases::new(&["human touch".to_owned()], &excluded);
        assert!(detect("human touch", &both).is_none());
    }
}
