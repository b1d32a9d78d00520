//! Detects an explicit request for a human in a visitor's message, in English, Spanish, French,
//! German, Portuguese, Italian and Dutch, without a language model.
//!
//! A message is cut into sentences and clauses. A clause asks for someone when a person, a role
//! or a team (`lexicon`) is the object of a word that asks to talk to them ("talk", "verbinden")
//! or wants them ("I need the billing team"), when it asks whether anyone is there at all, when
//! someone is asked to look at the case, or when it is only that person and small words ("human
//! please", "un técnico, urgente"); unless a negation, a comparison, a condition, another verb or a
//! question about the bot itself says otherwise (`taken_back`, `whose`). A small linear model over
//! the message's n-grams (`model`) gives the rules a second opinion (`judged`).
//!
//! Why rules: the check runs on every escalation call inside a 128 MB Lambda; it must be
//! microseconds, deterministic and explainable ("matched 'talk … human'"). How well it hears is
//! measured on the corpus in `core/corpus/intent/` (`rules::corpus`).

mod lexicon;
pub mod model;
mod reading;
mod taken_back;
mod whose;

use lexicon::*;
use reading::{Sentence, normalized, sentences};
use taken_back::{
    asks_what_the_bot_is, asks_who_reads_later, calls_off, declines_first, if_someone_does, is_curious_sentence,
    is_existence_pair, is_simile, negated, no_use_after, rather_not, refuses, rhetorical, would_like,
};
use whose::{acted, mine_act, names_a_plan, theirs};

use crate::text;

/// How far (in tokens) a verb may stand from the person it asks for.
const VERB_BEFORE_NOUN: usize = 8;
const VERB_AFTER_NOUN: usize = 4;
/// How far a "want" word may stand before the person, with only small words between.
const WANT_BEFORE_NOUN: usize = 7;
/// How many characters of a message are read from its start, and as many from its end.
pub const READ_CHARS: usize = 2_000;
/// The longest clause that can be a request without a verb ("a human please").
const BARE_CLAUSE: usize = 7;

/// What matched, for the engine's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentMatch {
    pub matched: String,
    pub heard_by: HeardBy,
}

/// Who heard the request: the lexicon's rules (the model did not take it back), one of the bot's
/// own phrases, or the model alone (sure of it where the rules found nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeardBy {
    Lexicon,
    BotPhrase,
    Model { percent: u8 },
}

impl IntentMatch {
    fn lexicon(matched: String) -> Self {
        Self { matched, heard_by: HeardBy::Lexicon }
    }
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
            phrases.into_iter().map(|p| normalized(text::tokens(p))).filter(|t| !t.is_empty()).collect()
        };
        Self { extra: tokenized(extra.into_iter().collect()), excluded: tokenized(excluded.into_iter().collect()) }
    }
}

/// Why a bot's phrase could never do what it is saved for, if so: a message is matched clause by
/// clause, so a phrase with clause punctuation never matches; one with no word matches nothing;
/// and an exclusion of only small words or negations ("not", "to") would change the meaning of
/// every message rather than name a product.
pub fn phrase_problem(phrase: &str, exclusion: bool) -> Option<&'static str> {
    if phrase.chars().any(text::breaks_clause) {
        return Some(
            "a phrase must not contain . , ; : ! ? brackets, dashes or emoji: messages are matched clause by clause",
        );
    }
    let words: Vec<Word> = normalized(text::tokens(phrase)).into_iter().map(Word::new).collect();
    if words.is_empty() {
        return Some("a phrase must contain a letter or a digit");
    }
    let small = |w: &Word| FILLERS.has(w) || NEGATIONS.has(w) || ME.has(w) || RELATIVES.has(w);
    if exclusion && words.iter().all(small) {
        return Some("an exclusion must name something, not only small words or negations");
    }
    None
}

/// Whether a clause is in a question, and whether it is the one the question mark ends.
#[derive(Debug, Clone, Copy)]
struct Asking {
    question: bool,
    last: bool,
}

/// What the detector made of a message: the request it heard, or why it heard none (the
/// settings console's "try a message" says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hearing {
    Heard(IntentMatch),
    /// The rules matched, but the model was sure the message asks for no one.
    Doubted(IntentMatch),
    /// Someone is named, in words that take the request back (a negation, a condition, a
    /// called-off request, a question about the bot…).
    Declined,
    /// Someone is named, but nothing asks for them ("I don't want to talk to a human").
    NamedNotAsked,
    /// One of the bot's exclusions was said; its words counted for nothing.
    Excluded,
    /// Nothing in the message asks for a person.
    NotHeard,
}

impl Hearing {
    /// How telling a reason for hearing nothing is: of the two ends of a long message, the more
    /// telling one explains it.
    fn weight(&self) -> u8 {
        match self {
            Self::Heard(_) => 5,
            Self::Doubted(_) => 4,
            Self::Declined => 3,
            Self::NamedNotAsked => 2,
            Self::Excluded => 1,
            Self::NotHeard => 0,
        }
    }
}

/// Returns the first non-negated request for a human in `message`, if any.
pub fn detect(message: &str, phrases: &BotPhrases) -> Option<IntentMatch> {
    match hear(message, phrases) {
        Hearing::Heard(found) => Some(found),
        _ => None,
    }
}

/// What `detect` heard in `message`, or why it heard nothing.
pub fn hear(message: &str, phrases: &BotPhrases) -> Hearing {
    // A visitor's request is in what they typed, not in a pasted log: read the first and the last
    // `READ_CHARS` characters, so the cost of one message is bounded whatever its length.
    let chars = message.chars().count();
    if chars <= 2 * READ_CHARS {
        return judged(message, phrases);
    }
    let head_end = message.char_indices().nth(READ_CHARS).map_or(message.len(), |(i, _)| i);
    let tail_start = message.char_indices().nth(chars - READ_CHARS).map_or(0, |(i, _)| i);
    let head = judged(&message[..head_end], phrases);
    if matches!(head, Hearing::Heard(_)) {
        return head;
    }
    let tail = judged(&message[tail_start..], phrases);
    if tail.weight() > head.weight() { tail } else { head }
}

/// The rules' match, unless the model is sure the text asks for no one; or the model's own
/// hearing when it is sure the text asks and the rules found nothing. A bot's own phrases are
/// never second-guessed, and its exclusions are left out of what the model reads.
fn judged(text: &str, phrases: &BotPhrases) -> Hearing {
    let sentences = sentences(text, &phrases.excluded);
    let mut declined = false;
    let by_rules = detect_in(&sentences, phrases, &mut declined);
    // What the rules read (without someone else's quotations), as the model reads words.
    let tokens = || sentences.iter().flat_map(|s| s.tokens.iter().cloned()).collect::<Vec<String>>();
    match by_rules {
        Some((_, found)) if found.heard_by == HeardBy::BotPhrase => Hearing::Heard(found),
        // Taken back when the model is sure the message asks for no one and doubts the sentence
        // that matched too: what the visitor told before a request ("tracking says delivered but
        // nothing arrived. I need a human.") cannot take it back.
        Some((index, found)) => {
            let sure_not = model::probability_of(&without_phrases(tokens(), &phrases.excluded))
                < model::TAKE_BACK_BELOW
                && model::probability_of(&without_phrases(sentences[index].tokens.clone(), &phrases.excluded))
                    < model::SENTENCE_DOUBT;
            if sure_not { Hearing::Doubted(found) } else { Hearing::Heard(found) }
        }
        None if declined => Hearing::Declined,
        None => {
            let tokens = tokens();
            // Where the bot's exclusions were said the model does not hear alone: the words left
            // are not what the visitor wrote.
            if !phrases.excluded.is_empty() && without_phrases(tokens.clone(), &phrases.excluded).len() < tokens.len() {
                return Hearing::Excluded;
            }
            let probability = model::probability_of(&tokens);
            if probability > model::HEAR_ABOVE && may_hear(&sentences) {
                Hearing::Heard(IntentMatch {
                    matched: model::strongest_words(&tokens, |w| telling(&Word::new(w.to_owned()))).join(", "),
                    heard_by: HeardBy::Model { percent: (probability * 100.0).round() as u8 },
                })
            } else if sentences.iter().flat_map(|s| s.with_compounds.iter().flatten()).any(is_someone) {
                Hearing::NamedNotAsked
            } else {
                Hearing::NotHeard
            }
        }
    }
}

/// A word that tells what the model heard: who, or the asking itself.
fn telling(word: &Word) -> bool {
    is_someone(word)
        || CALLBACKS.has(word)
        || is_communicate(word)
        || is_want(word)
        || LOOKS.has(word)
        || HELPS.has(word)
}

/// The model reads words, not their order: it may hear a request alone only where someone is
/// named and something asks (a word that talks, wants, may, looks or pleads, a question, or a few
/// words: "someone from billing asap"), and where nothing is refused, compared, preferred, believed
/// or past ("I do not want to talk to an agent", "preferisco chattare con te che con un operatore",
/// "the billing department charged me twice"). Read on the rules' own words (the caller checks
/// what the rules took back and the bot's exclusions).
fn may_hear(sentences: &[Sentence]) -> bool {
    let read: Vec<&Word> = sentences.iter().flat_map(|s| s.with_compounds.iter().flatten()).collect();
    let named = read.iter().any(|w| is_someone(w) || CALLBACKS.has(w));
    let asks = sentences.iter().any(|s| s.question)
        || read.len() <= 6
        || read.iter().any(|w| {
            let asking = [MODALS, MUST, PLEASE, LOOKS, HELPS, CALL_ME, SEND, WISHES];
            (is_want(w) && !only_notices(w)) || is_communicate(w) || asking.iter().any(|class| class.has(w))
        });
    let order_decides = read.iter().any(|w| {
        let compares = [THAN, COMPARATIVES, PREFERS, SIMILES, BELIEFS, FORMERLY, COUNTERFACTUALS];
        // A past ("someone from sales emailed me", "een medewerker heeft me gebeld", "un agente
        // me llamó ayer"): who did what, in an order the words alone do not tell.
        let past = PAST_AUX.has(w) || PAST_MARKERS.has(w) || (w.len() > 4 && w.ends_with("ed"));
        NEGATIONS.has(w) || WITHOUT.has(w) || past || compares.iter().any(|class| class.has(w))
    });
    named && asks && !order_decides
}

/// "See" and "have" want someone only right before them ("I need to see a technician"), not
/// elsewhere in the message ("I see the billing department charged me").
fn only_notices(word: &Word) -> bool {
    matches!(word.as_str(), "see" | "have" | "has")
}

/// `words` without the runs that are one of `phrases` (a bot's exclusions, "Human Touch").
fn without_phrases(words: Vec<String>, phrases: &[Vec<String>]) -> Vec<String> {
    if phrases.is_empty() {
        return words;
    }
    let mut out = Vec::with_capacity(words.len());
    let mut at = 0;
    while at < words.len() {
        if let Some(phrase) = phrases.iter().find(|p| !p.is_empty() && words[at..].starts_with(p)) {
            at += phrase.len();
        } else {
            out.push(words[at].clone());
            at += 1;
        }
    }
    out
}

/// The rules' first match in the sentences, with the index of its sentence; `declined` is set when
/// they took back a clause or a sentence that names someone (a condition, a called-off request, a
/// question about the bot…), where the model must not hear a request on its own.
fn detect_in(sentences: &[Sentence], phrases: &BotPhrases, declined: &mut bool) -> Option<(usize, IntentMatch)> {
    let curious_at: Vec<bool> = sentences.iter().map(is_curious_sentence).collect();
    for (index, sentence) in sentences.iter().enumerate() {
        // Called off ("cancel my request for an agent"), declined first ("no human please, …"),
        // or a question the next sentence would rather not ("…bellen? Liever niet").
        let rather_not_after = sentence.question && sentences.get(index + 1).is_some_and(rather_not);
        // "Ik heb een nieuwe medewerker nodig, hebben jullie vacatures?": about working there.
        let about_jobs = sentence.clauses.iter().flatten().any(|t| JOBS.has(t));
        if calls_off(sentence) || declines_first(sentence) || rather_not_after || about_jobs {
            *declined |= sentence.clauses.iter().flatten().any(is_someone);
            continue;
        }
        let words = || sentence.clauses.iter().flatten();
        // Asked once per sentence: "just curious" (here, in the sentence after: "are you a
        // person? just curious", or in a short one before: "curiosità: c'è un team…?"), "or only
        // bots?", "all automatic?".
        let short_before = index > 0 && sentences[index - 1].clauses.iter().flatten().count() <= 3;
        let curious = curious_at[index]
            || curious_at.get(index + 1).copied().unwrap_or(false)
            || (short_before && curious_at[index - 1]);
        let about_the_bot = curious || asks_what_the_bot_is(sentence);
        let complains = !curious && words().any(|t| TOTAL.has(t));
        let only = !curious && words().any(|t| ONLY.has(t));
        let mut thought = false;
        for (at, (clause, extra_view)) in sentence.clauses.iter().zip(&sentence.with_compounds).enumerate() {
            if let Some(found) = phrases.extra.iter().find_map(|p| find_phrase(extra_view, p)) {
                return Some((index, IntentMatch { heard_by: HeardBy::BotPhrase, ..found }));
            }
            if about_the_bot
                && complains
                && clause.iter().any(is_anyone)
                && let Some(found) =
                    asks_whether_anyone_is_there(clause, Asking { question: sentence.question, last: true })
            {
                return Some((index, found));
            }
            // "Gibt's bei euch noch Menschen oder nur noch Bots?": whether anyone is left at all.
            if about_the_bot
                && only
                && clause.iter().any(|t| EXISTENCE.has(t))
                && let Some(found) = asked_by_verb(clause, false)
            {
                return Some((index, found));
            }
            // "Ich dachte, hier chattet eine echte Person": a short clause of what the visitor
            // thought reports what follows.
            // Not when the visitor starts again and wants ("I thought about it, I want a human").
            let wants_again = clause.first().is_some_and(|t| FIRST_PERSON.has(t)) && clause.iter().any(is_want);
            if thought && !wants_again {
                *declined |= clause.iter().any(is_someone);
                continue;
            }
            // "Ich dachte am Anfang wirklich, …": up to six words when it opens with "I thought".
            let opens_with_i = clause.first().is_some_and(|t| FIRST_PERSON.has(t));
            thought =
                (clause.len() <= 3 || (clause.len() <= 6 && opens_with_i)) && clause.iter().any(|t| BELIEFS.has(t));
            let interjection = at == 0 && sentence.clauses.len() > 1 && clause.len() == 1;
            // "Mensch, das ging schnell!", "Gente, …": said to everyone, not asked for.
            if about_the_bot || (interjection && INTERJECTIONS.has(&clause[0])) || declines(clause) {
                *declined |= clause.iter().any(is_someone);
                continue;
            }
            // "Die Person, die bestellt hat, …": the person is the subject of what follows.
            let described = sentence.clauses.get(at + 1).and_then(|c| c.first()).is_some_and(|t| RELATIVES.has(t));
            // "Nobody will call me?" is asked by the clause before the question mark ("I don't want
            // anyone to call me, can I cancel here?" refuses in its first clause).
            // "Haben Sie keinen Berater, der mir hilft?": a relative clause after it still ends it.
            let last = at + 1 == sentence.clauses.len() || (described && at + 2 == sentence.clauses.len());
            let asking = Asking { question: sentence.question, last };
            if let Some(found) = detect_in_clause(clause, asking, described) {
                return Some((index, found));
            }
        }
    }
    None
}

/// A clause that asks for no one whatever its words: when someone is there ("customer service
/// hours?"), a competitor's way, what someone else is, the visitor's own people acting, what to
/// do if someone calls, whether chats are read later.
fn declines(clause: &[Word]) -> bool {
    let hours_of_someone = (0..clause.len()).any(|i| {
        HOURS.has(&clause[i]) && clause[i.saturating_sub(3)..(i + 4).min(clause.len())].iter().any(is_someone)
    });
    let elsewhere = clause.iter().any(|t| COMPETITORS.has(t));
    // "Is your CEO a real person?": what someone else is.
    let what_they_are =
        (0..clause.len()).any(|at| STRONG_PHRASES.at(clause, at).next().is_some() && asks_what_someone_is(clause, at));
    hours_of_someone
        || elsewhere
        || what_they_are
        || mine_act(clause)
        || if_someone_does(clause)
        || asks_who_reads_later(clause)
}

fn detect_in_clause(clause: &[Word], asking: Asking, described: bool) -> Option<IntentMatch> {
    for at in 0..clause.len() {
        for phrase in STRONG_PHRASES.at(clause, at) {
            if !negated(clause, at, at + phrase.len()) {
                return Some(IntentMatch::lexicon(phrase.join(" ")));
            }
        }
    }
    asked_by_verb(clause, asking.question && asking.last)
        .or_else(|| call_me(clause))
        .or_else(|| can_they(clause, asking.question))
        .or_else(|| asks_whether_anyone_is_there(clause, asking))
        .or_else(|| asked_to_handle(clause, asking.question))
        .or_else(|| if described { None } else { bare(clause) })
}

fn find_phrase(clause: &[Word], phrase: &[String]) -> Option<IntentMatch> {
    if phrase.is_empty() || phrase.len() > clause.len() {
        return None;
    }
    (0..=clause.len() - phrase.len())
        .find(|&start| clause[start..start + phrase.len()] == *phrase && !negated(clause, start, start + phrase.len()))
        .map(|_| IntentMatch::lexicon(phrase.join(" ")))
}

/// "Call me back", "ruft mich an", "liguem-me": a call asked for without naming who calls.
fn call_me(clause: &[Word]) -> Option<IntentMatch> {
    // "Ruft mich an", and "Rufen Sie mich an" with the polite pronoun between.
    let polite = |t: &str| matches!(t, "sie" | "u" | "vous" | "usted" | "ustedes" | "voce" | "lei");
    let at = (0..clause.len().saturating_sub(1)).find(|&i| {
        CALL_ME.has(&clause[i])
            && (ME.has(&clause[i + 1]) || (polite(&clause[i + 1]) && clause.get(i + 2).is_some_and(|t| ME.has(t))))
    })?;
    let refused = (at..(at + 5).min(clause.len())).any(|i| refuses(clause, i));
    // "You can call me Sam": a name after "call me" is how to address the visitor.
    let me_at = if ME.has(&clause[at + 1]) { at + 1 } else { at + 2 };
    let named = clause.get(me_at + 1).is_some_and(|t| {
        t.as_str().chars().all(char::is_alphabetic) && t.as_str() != "back" && !FILLERS.has(t) && !is_someone(t)
    }) && clause.len() <= me_at + 3;
    if named {
        return None;
    }
    // "Mijn zoon belt me": someone else's habit, not an imperative ("staff could call me" asks).
    let subject = clause[..at].iter().any(|t| POSSESSIVES.has(t))
        || (clause[..at].iter().any(is_person) && !clause[..at].iter().any(|t| MODALS.has(t)));
    (!refused && !subject && !negated(clause, at, at + 2))
        .then(|| IntentMatch::lexicon(format!("{} {}", clause[at], clause[at + 1])))
}

/// "Is your CEO a real person?", "is this a real person?": a clause that opens with "is" asks
/// what someone is, unless it says "there" or wants ("is there a real person?").
fn asks_what_someone_is(clause: &[Word], phrase_at: usize) -> bool {
    let opens = clause.first().is_some_and(|t| COPULAS.has(t));
    let before = &clause[..phrase_at];
    let there = before.iter().enumerate().any(|(i, t)| EXISTENCE.has(t) || HERE.has(t) || is_existence_pair(clause, i));
    opens && phrase_at > 1 && !there && !clause.iter().any(|t| is_want(t) || is_communicate(t))
}

/// "Le service facturation peut-il regarder…?", "o setor financeiro pode ver…?": asking whether
/// a team can do something asks for it.
fn can_they(clause: &[Word], question: bool) -> Option<IntentMatch> {
    if !question {
        return None;
    }
    // A person too when the modal is done to the visitor ("um consultor pode me explicar…?").
    let to_me = |at: usize| clause.get(at + 1).is_some_and(|t| ME.has(t));
    let noun_at = clause.iter().position(|t| is_team(t) || is_anyone(t) || is_person(t))?;
    let modal_at = (noun_at + 1..(noun_at + 6).min(clause.len())).find(|&i| MODALS.has(&clause[i]))?;
    if !is_team(&clause[noun_at]) && !is_anyone(&clause[noun_at]) && !to_me(modal_at) {
        return None;
    }
    // "Alguém da minha família pode…", "hij zei dat hij iemand zou sturen": someone else's.
    let others =
        clause.iter().any(|t| OTHER_VERBS.has(t)) || clause[noun_at..modal_at].iter().any(|t| POSSESSIVES.has(t));
    let fine = !others && !theirs(clause, noun_at) && !negated(clause, noun_at, modal_at + 1);
    fine.then(|| IntentMatch::lexicon(format!("{} … {}", clause[noun_at], clause[modal_at])))
}

/// A person asked for by a verb near it: "talk … human", "need … billing", "can … someone".
fn asked_by_verb(clause: &[Word], question: bool) -> Option<IntentMatch> {
    for (noun_at, noun) in clause.iter().enumerate() {
        if is_french_nobody(clause, noun_at) {
            continue;
        }
        // A callback ("Rückruf") is wanted, never talked to.
        let callback = CALLBACKS.has(noun);
        if (!is_someone(noun) && !callback) || names_a_plan(clause, noun_at) || acted(clause, noun_at) {
            continue;
        }
        // "Contact the seller of this item": someone else's, not the company's people.
        if SELLERS.has(noun) && noun_at > 0 && DEFINITE.has(&clause[noun_at - 1]) {
            continue;
        }
        let lo = noun_at.saturating_sub(VERB_BEFORE_NOUN);
        // Two words past `VERB_AFTER_NOUN`, three for "quelqu'un de réel va enfin me répondre".
        let hi = (noun_at + VERB_AFTER_NOUN + 3).min(clause.len() - 1);
        let subject_of_relative = clause.get(noun_at + 1).is_some_and(|t| RELATIVES.has(t));
        for verb_at in lo..=hi {
            let me_between = verb_at > noun_at && clause[noun_at..verb_at].iter().any(|t| ME.has(t));
            if verb_at == noun_at || (verb_at > noun_at && subject_of_relative && !me_between) {
                continue;
            }
            if !asks_for(clause, verb_at, noun_at) || (callback && !(verb_at < noun_at && is_want(&clause[verb_at]))) {
                continue;
            }
            let (start, end) = (verb_at.min(noun_at), verb_at.max(noun_at) + 1);
            // "The chatbot kept telling me to call someone", "de chauffeur zei dat er iemand
            // moest tekenen": what someone said.
            let said = clause[..start].iter().rposition(|t| SAYS.has(t));
            if said.is_some_and(|at| start - at <= 4 && !clause[at..start].iter().any(|t| FIRST_PERSON.has(t))) {
                continue;
            }
            // "Add a team member", "einen Mitarbeiter hinzufügen": the person is another verb's object.
            let after = clause[noun_at + 1..(noun_at + 6).min(clause.len())]
                .iter()
                .take_while(|t| !RELATIVES.has(t) && !PURPOSE.has(t));
            let other_verb = clause[start..end].iter().chain(after).any(|t| OTHER_VERBS.has(t) || JOBS.has(t));
            // "Talking to a person won't help": no use, said after it.
            if no_use_after(clause, end) {
                continue;
            }
            // "¿Nadie me va a llamar?", "¿de verdad no me van a pasar con nadie?": nobody is who is
            // missing, asked, a complaint (not "without anyone").
            let nobody_asked = question
                && NEGATIONS.has(noun)
                && (noun_at < verb_at || (is_anyone(noun) && !clause.iter().any(|t| WITHOUT.has(t))));
            let asks_anyway = nobody_asked || rhetorical(clause, question);
            if !other_verb && !theirs(clause, noun_at) && (asks_anyway || !negated(clause, start, end)) {
                return Some(IntentMatch::lexicon(format!("{} … {}", clause[start], clause[end - 1])));
            }
        }
    }
    None
}

/// "I want this checked by a technician", "que lo revise facturación", "Facturatie moet hier naar
/// kijken", "o gerente pode ver isso?": someone asked to look at, handle or help with the case —
/// wanted, obliged, asked with "can …?", with "please", or named as who does it ("by …").
fn asked_to_handle(clause: &[Word], question: bool) -> Option<IntentMatch> {
    let verb_at = clause.iter().position(|t| LOOKS.has(t) || HELPS.has(t))?;
    let usable =
        |i: &usize| is_someone(&clause[*i]) && !theirs(clause, *i) && !acted(clause, *i) && !names_a_plan(clause, *i);
    let noun_at = (0..clause.len()).filter(usable).min_by_key(|i| i.abs_diff(verb_at))?;
    if noun_at.abs_diff(verb_at) > 7 {
        return None;
    }
    // "I want to check whether…", "can I look at…": the visitor does the looking.
    let by_me = clause[verb_at.saturating_sub(3)..verb_at].iter().any(|t| FIRST_PERSON.has(t))
        || clause.windows(2).any(|w| MODALS.has(&w[0]) && FIRST_PERSON.has(&w[1]));
    let to_look =
        |i: usize| i < verb_at && clause[i + 1..verb_at].iter().all(|t| matches!(t.as_str(), "to" | "zu" | "te"));
    let wants = clause.iter().enumerate().any(|(i, t)| (is_want(t) || WISHES.has(t)) && !to_look(i));
    let by = clause[noun_at.saturating_sub(3)..noun_at].iter().any(|t| BY.has(t));
    // "Would customer service have a look…", "que lo revise facturación", "(ich wünsche,) dass sich
    // die Beschwerdestelle … annimmt": asked without a "?".
    let polite = clause.first().is_some_and(|t| MODALS.has(t) || matches!(t.as_str(), "would" | "zou" | "zouden"));
    let wish = clause.first().is_some_and(|t| matches!(t.as_str(), "que" | "q" | "qu" | "che" | "dass" | "dat"));
    let asked = wants
        || by
        || wish
        || polite
        || clause.iter().any(|t| MUST.has(t) || PLEASE.has(t))
        || (question && clause.iter().any(|t| MODALS.has(t)));
    let (start, end) = (verb_at.min(noun_at), verb_at.max(noun_at) + 1);
    let others = clause.iter().any(|t| (OTHER_VERBS.has(t) && !LOOKS.has(t) && !HELPS.has(t)) || JOBS.has(t));
    let refused = !rhetorical(clause, question) && negated(clause, start, end);
    (asked && !by_me && !others && !reported(clause, verb_at) && !refused)
        .then(|| IntentMatch::lexicon(format!("{} … {}", clause[start], clause[end - 1])))
}

/// Whether the word at `verb_at` asks for the person at `noun_at`.
fn asks_for(clause: &[Word], verb_at: usize, noun_at: usize) -> bool {
    let word = &clause[verb_at];
    if reported(clause, verb_at) || named_not_done(clause, verb_at) {
        return false;
    }
    if verb_at > noun_at {
        // "Qu'un conseiller me rappelle", "dass mich ein Techniker anruft".
        // "Me" right beside the verb, or just before the person ("mich ein Techniker anruft").
        let beside_verb = clause[verb_at - 1..(verb_at + 3).min(clause.len())].iter().any(|t| ME.has(t));
        let before_person = clause[noun_at.saturating_sub(3)..noun_at].iter().any(|t| ME.has(t));
        let between = clause[noun_at + 1..verb_at].iter().any(|t| ME.has(t));
        let to_me = beside_verb || before_person || between;
        let near = verb_at - noun_at <= VERB_AFTER_NOUN;
        // "Someone from billing needs to deal with this", "das muss jemand aus der Abrechnung
        // prüfen" (German puts the "must" first).
        let obliged = clause[noun_at.saturating_sub(2)..verb_at].iter().any(|t| MUST.has(t));
        // "Your courier called me": a subject's past, not a request.
        if word.ends_with("ed") && !obliged && !clause[noun_at + 1..verb_at].iter().any(|t| MODALS.has(t)) {
            return false;
        }
        // "La señora del soporte me había escrito", "Frau Hofmann hat mir eine Mail geschickt":
        // an auxiliary of the past between them reports what the person did ("has to" obliges).
        let did = (noun_at + 1..verb_at)
            .any(|i| PAST_AUX.has(&clause[i]) && clause.get(i + 1).is_none_or(|next| next != "to"));
        if did {
            return false;
        }
        // "Heeft een mens dit antwoord geschreven?": what the person did.
        if tells_what_was_done(clause) {
            return false;
        }
        let talks = is_communicate(word) || VERB_LAST.has(word);
        // "How long until an operator takes over?", "pour qu'un opérateur reprenne".
        let until = clause[..noun_at].iter().any(|t| UNTIL.has(t));
        return (near && VERB_LAST.has(word))
            || (to_me && (talks || SEND.has(word)))
            || ((obliged || until) && near && (talks || LOOKS.has(word)));
    }
    if is_communicate(word) {
        return true;
    }
    let gap = noun_at - verb_at;
    // One free word may name the team or role ("the claims department", "the account manager").
    let modifier_at = noun_at.saturating_sub(1).max(verb_at + 1);
    let small_words_between = clause[verb_at + 1..noun_at].iter().enumerate().all(|(i, t)| {
        let modifier = verb_at + 1 + i == modifier_at && noun_at - verb_at > 2 && !PRODUCT_TEAMS.has(&clause[noun_at]);
        FILLERS.has(t) || NEGATIONS.has(t) || is_someone(t) || modifier
    });
    // "I see the billing department charged me", "we have a sales team": not asked for.
    let only_noticed = only_notices(word) && is_team(&clause[noun_at]) && !is_person(&clause[noun_at]);
    if only_noticed {
        return false;
    }
    ((is_want(word) || (word == "like" && would_like(clause, verb_at)))
        && gap <= WANT_BEFORE_NOUN
        && small_words_between)
        || (gap <= 6 && (EXISTENCE.has(word) || is_existence_pair(clause, verb_at)))
        || (gap <= 3 && MODALS.has(word))
}

/// "Ik heb gisteren gebeld", "I have contacted": a past participle after its auxiliary reports
/// what happened.
fn reported(clause: &[Word], verb_at: usize) -> bool {
    let word = clause[verb_at].as_str();
    let participle = is_participle(word) || ["ed", "ado", "ido", "ato", "ito"].iter().any(|end| word.ends_with(end));
    // French "j'ai parlé", folded to "ai parle".
    let french = word.ends_with('e')
        && !word.ends_with("re")
        && verb_at > 0
        && matches!(
            clause[verb_at - 1].as_str(),
            "ai" | "as" | "a" | "avons" | "avez" | "ont" | "avais" | "avait" | "avions" | "aviez" | "avaient"
        );
    french || (participle && clause[verb_at.saturating_sub(6)..verb_at].iter().any(|t| PAST_AUX.has(t)))
}

/// An auxiliary of the past with a German or Dutch participle after it ("hat … angerufen", "heeft
/// … geschreven"): the clause tells what was done.
fn tells_what_was_done(clause: &[Word]) -> bool {
    clause.iter().position(|t| PAST_AUX.has(t)).is_some_and(|aux| clause[aux..].iter().any(|t| is_participle(t)))
}

/// A German or Dutch past participle: "gebeld", "angerufen", "aangenomen".
fn is_participle(word: &str) -> bool {
    (word.starts_with("ge") && word.len() > 5)
        || (word.len() > 7
            && word.get(2..).is_some_and(|rest| rest.contains("ge"))
            && (word.ends_with("en") || word.ends_with('t')))
}

/// "The chat", "questa chat": a word that is a verb elsewhere, named here as a thing.
fn named_not_done(clause: &[Word], verb_at: usize) -> bool {
    matches!(clause[verb_at].as_str(), "chat" | "call")
        && verb_at > 0
        && (DETERMINERS.has(&clause[verb_at - 1]) || POSSESSIVES.has(&clause[verb_at - 1]))
}

/// "Is anyone there?", "does anyone work there?", "¿no hay nadie?": a question whether someone
/// is there at all is a complaint that asks, negated or not.
fn asks_whether_anyone_is_there(clause: &[Word], asking: Asking) -> Option<IntentMatch> {
    // "Dantes havia pessoas a atender?": what was, not who is there now; "heeft een mens dit
    // antwoord geschreven?": what someone did.
    let was = clause.iter().any(|t| FORMERLY.has(t) || BELIEFS.has(t));
    if !asking.question || was || tells_what_was_done(clause) {
        return None;
    }
    let has = |class: Class| clause.iter().find(|t| class.has(t));
    let anyone = clause.iter().find(|t| is_anyone(t)).filter(|_| !clause.iter().any(|t| OTHER_VERBS.has(t)));
    if let (Some(someone), Some(there)) = (anyone, has(THERE_VERBS).or(has(HERE))) {
        return Some(IntentMatch::lexicon(format!("{someone} … {there}")));
    }
    // "Un humain lit ces messages ?", "dove sono gli operatori?!"
    let counted = clause.iter().any(|t| HOW_MANY.has(t));
    // "Votre superviseur est dispo ?", "is your billing team available?"
    // Not "is the Human Touch cream available?": a role or team, not the word for a human.
    let role_at = (0..clause.len()).find(|&i| {
        let t = &clause[i];
        (is_person(t) || is_anyone(t) || is_team(t)) && !HUMANS.has(t) && !names_a_plan(clause, i)
    });
    // "Someone at the store told me the online price…": what someone said, not who is free.
    let told = clause.iter().any(|t| OTHER_VERBS.has(t) || SAYS.has(t));
    if let (Some(at), Some(free)) = (role_at, has(FREE).filter(|_| asking.last && !counted && !told)) {
        return Some(IntentMatch::lexicon(format!("{} … {free}", clause[at])));
    }
    let person_at = clause.iter().position(|t| is_person(t) || is_anyone(t))?;
    let person = &clause[person_at];
    // "Redest du wie ein Mensch…?": what the bot is like.
    if (person_at.saturating_sub(3)..person_at).any(|i| is_simile(clause, i)) {
        return None;
    }
    let where_before = clause[person_at.saturating_sub(3)..person_at].iter().find(|t| WHERE.has(t));
    if let Some(there) = has(THERE_VERBS).filter(|_| !counted).or(where_before) {
        return Some(IntentMatch::lexicon(format!("{person} … {there}")));
    }
    // "¿No hay ningún asesor disponible?", "vous n'avez aucun conseiller ?"
    let negation_before =
        (0..person_at).any(|i| refuses(clause, i)) || NEGATIONS.has(person) || is_french_nobody(clause, person_at);
    let said_missing = has(AVAILABLE).or(has(HERE)).or(has(EXISTENCE)).or(has(HAVE)).or(has(COPULAS)).is_some()
        || (0..clause.len()).any(|i| is_existence_pair(clause, i));
    // "Haben Sie keinen Kundenberater, der sich das ansieht?", "is do echt kaana, mit dem ma redn
    // kann??": no one there who would, asked, complains too.
    (asking.last && negation_before && said_missing).then(|| IntentMatch::lexicon(format!("no … {person}")))
}

/// French "personne" with no article before it (or before its adjective, "une vraie personne") is
/// "nobody": "je veux que personne voie le prix", "y a vraiment personne ?".
fn is_french_nobody(clause: &[Word], at: usize) -> bool {
    clause[at] == "personne" && !clause[at.saturating_sub(2)..at].iter().any(|t| DETERMINERS.has(t))
}

/// A clause that is only a person and small words ("human please", "Agent!", "qqn du SAV stp").
fn bare(clause: &[Word]) -> Option<IntentMatch> {
    if clause.len() > BARE_CLAUSE {
        return None;
    }
    let noun = clause.iter().find(|t| (is_someone(t) || CALLBACKS.has(t)) && !NEGATIONS.has(t))?;
    let contrast = |i: usize| {
        let t = &clause[i];
        (NEGATIONS.has(t) && clause.get(i + 1).is_some_and(|n| MACHINES.has(n)))
            || (MACHINES.has(t) && i > 0 && NEGATIONS.has(&clause[i - 1]))
    };
    let only_fillers = (0..clause.len())
        .all(|i| FILLERS.has(&clause[i]) || &clause[i] == noun || is_someone(&clause[i]) || contrast(i));
    let refused = (0..clause.len()).any(|i| refuses(clause, i) && !contrast(i));
    (only_fillers && !refused).then(|| IntentMatch::lexicon(noun.to_string()))
}

#[cfg(test)]
mod tests;
