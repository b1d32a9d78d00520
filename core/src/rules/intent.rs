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
const WANT_BEFORE_NOUN: usize = 7;
/// How many tokens before a match a negation still applies.
const NEGATION_REACH: usize = 5;
/// Why a bot's phrase could never do what it is saved for, if so: a message is matched clause by
/// clause, so a phrase with clause punctuation never matches; one with no word matches nothing;
/// and an exclusion of only small words or negations ("not", "to") would change the meaning of
/// every message rather than name a product.
pub fn phrase_problem(phrase: &str, exclusion: bool) -> Option<&'static str> {
    if phrase.contains(['.', ',', ';', ':', '!', '?', '(', ')', '\n', '¿', '¡']) {
        return Some("a phrase must not contain . , ; : ! ? or brackets: messages are matched clause by clause");
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

/// Belief words that say when, not what was thought ("antes de pagar, …" still asks).
const WHEN_BEFORE: &[&str] = &["antes", "vroeger", "fruher", "autrefois"];

/// How many characters of a message are read from its start, and as many from its end.
pub const READ_CHARS: usize = 2_000;
/// The most words one clause is read as; a longer run without punctuation is read in parts.
const MAX_CLAUSE_WORDS: usize = 120;
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
            phrases.into_iter().map(|p| normalized(text::tokens(p))).filter(|t| !t.is_empty()).collect()
        };
        Self { extra: tokenized(extra.into_iter().collect()), excluded: tokenized(excluded.into_iter().collect()) }
    }
}

/// Whether a clause is in a question, and whether it is the one the question mark ends.
#[derive(Debug, Clone, Copy)]
struct Asking {
    question: bool,
    last: bool,
}

/// A sentence's clauses, and whether it asks a question.
struct Sentence {
    clauses: Vec<Vec<Word>>,
    /// The same clauses before compounds are blanked, where a bot's extra phrases are looked for
    /// (a bot may count "another person" although the lexicon does not).
    with_compounds: Vec<Vec<Word>>,
    question: bool,
}

/// Returns the first non-negated request for a human in `message`, if any.
pub fn detect(message: &str, phrases: &BotPhrases) -> Option<IntentMatch> {
    // A visitor's request is in what they typed, not in a pasted log: read the first and the last
    // `READ_CHARS` characters, so the cost of one message is bounded whatever its length.
    let chars = message.chars().count();
    if chars <= 2 * READ_CHARS {
        return detect_in(message, phrases);
    }
    let head_end = message.char_indices().nth(READ_CHARS).map_or(message.len(), |(i, _)| i);
    let tail_start = message.char_indices().nth(chars - READ_CHARS).map_or(0, |(i, _)| i);
    detect_in(&message[..head_end], phrases).or_else(|| detect_in(&message[tail_start..], phrases))
}

fn detect_in(message: &str, phrases: &BotPhrases) -> Option<IntentMatch> {
    let sentences = sentences(message, &phrases.excluded);
    let curious_at: Vec<bool> = sentences.iter().map(|s| s.clauses.iter().flatten().any(is_curious)).collect();
    for (index, sentence) in sentences.iter().enumerate() {
        let words = || sentence.clauses.iter().flatten();
        // Asked once per sentence: "just curious" (here or in the sentence after: "are you a
        // person? just curious"), "or only bots?", "all automatic?".
        let curious = curious_at[index] || curious_at.get(index + 1).copied().unwrap_or(false);
        let about_the_bot = curious || asks_what_the_bot_is(sentence);
        let complains = !curious && words().any(|t| TOTAL.has(t));
        let only = !curious && words().any(|t| ONLY.has(t));
        let mut thought = false;
        for (at, (clause, extra_view)) in sentence.clauses.iter().zip(&sentence.with_compounds).enumerate() {
            if let Some(found) = phrases.extra.iter().find_map(|p| find_phrase(extra_view, p)) {
                return Some(found);
            }
            if about_the_bot
                && complains
                && clause.iter().any(is_anyone)
                && let Some(found) =
                    asks_whether_anyone_is_there(clause, Asking { question: sentence.question, last: true })
            {
                return Some(found);
            }
            // "Gibt's bei euch noch Menschen oder nur noch Bots?": whether anyone is left at all.
            if about_the_bot
                && only
                && clause.iter().any(|t| EXISTENCE.has(t))
                && let Some(found) = asked_by_verb(clause, false)
            {
                return Some(found);
            }
            // "Ich dachte, hier chattet eine echte Person": a short clause of what the visitor
            // thought reports what follows.
            if thought {
                continue;
            }
            thought = clause.len() <= 3 && clause.iter().any(|t| BELIEFS.has(t) && !WHEN_BEFORE.contains(&t.as_str()));
            let interjection = at == 0 && sentence.clauses.len() > 1 && clause.len() == 1;
            if about_the_bot || (interjection && INTERJECTIONS.has(&clause[0])) {
                // "Mensch, das ging schnell!", "Gente, …": said to everyone, not asked for.
                continue;
            }
            // "Die Person, die bestellt hat, …": the person is the subject of what follows.
            let described = sentence.clauses.get(at + 1).and_then(|c| c.first()).is_some_and(|t| RELATIVES.has(t));
            // "Nobody will call me?" is asked by the clause before the question mark ("I don't want
            // anyone to call me, can I cancel here?" refuses in its first clause).
            let asking = Asking { question: sentence.question, last: at + 1 == sentence.clauses.len() };
            if let Some(found) = detect_in_clause(clause, asking, described) {
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
        .split_inclusive(['.', '!', '?', '\n', ':'])
        .map(|raw| {
            let (mut clauses, mut with_compounds) = (Vec::new(), Vec::new());
            for clause in text::clauses(raw) {
                let clause: Vec<Word> = normalized(clause).into_iter().map(Word::new).collect();
                let clause =
                    replace_phrases(clause, |c, at| excluded.iter().find(|p| begins_with(&c[at..], p)).map(Vec::len));
                let blanked = replace_phrases(clause.clone(), |c, at| COMPOUNDS.at(c, at).map(<[String]>::len).max());
                // A clause of hundreds of words is not one a visitor speaks; bounding it keeps
                // the per-clause checks from growing with the square of a pasted text.
                with_compounds.extend(clause.chunks(MAX_CLAUSE_WORDS).map(<[Word]>::to_vec));
                clauses.extend(blanked.chunks(MAX_CLAUSE_WORDS).map(<[Word]>::to_vec));
            }
            Sentence { question: raw.contains(['?', '¿']), clauses, with_compounds }
        })
        .filter(|s| !s.clauses.is_empty())
        .collect()
}

/// A clause's folded words as the detector reads them: held-down letters squeezed, pairs
/// rewritten ("no one" → "noone"). A bot's phrases are read the same way.
fn normalized(words: Vec<String>) -> Vec<String> {
    rewritten(words.iter().map(|t| squeeze(t)).collect())
}

/// "No one" as "noone", so it is one word like "nobody".
fn rewritten(clause: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(clause.len());
    for word in clause {
        match out.last().and_then(|last| rewrite(last, &word)) {
            Some(one) => *out.last_mut().expect("a last word") = one.to_owned(),
            None => out.push(word),
        }
    }
    out
}

/// Each occurrence of one of `phrases` becomes one `EXCLUDED` word, so "talk to Human Touch
/// support" still asks for support while "Human Touch won't pair" names no one.
fn replace_phrases(clause: Vec<Word>, phrase_at: impl Fn(&[Word], usize) -> Option<usize>) -> Vec<Word> {
    let lengths: Vec<usize> = (0..clause.len()).map(|at| phrase_at(&clause, at).unwrap_or(0)).collect();
    if lengths.iter().all(|len| *len == 0) {
        return clause;
    }
    let mut out = Vec::with_capacity(clause.len());
    let mut skip = 0;
    for (word, len) in clause.into_iter().zip(lengths) {
        if skip > 0 {
            skip -= 1;
        } else if len > 0 {
            out.push(Word::nothing());
            skip = len - 1;
        } else {
            out.push(word);
        }
    }
    out
}

fn detect_in_clause(clause: &[Word], asking: Asking, described: bool) -> Option<IntentMatch> {
    // "Customer service hours?", "horario de atención": when, not who.
    let hours_of_someone = (0..clause.len()).any(|i| {
        HOURS.has(&clause[i]) && clause[i.saturating_sub(3)..(i + 4).min(clause.len())].iter().any(is_someone)
    });
    if hours_of_someone {
        return None;
    }
    for at in 0..clause.len() {
        for phrase in STRONG_PHRASES.at(clause, at) {
            if !negated(clause, at, at + phrase.len()) {
                return Some(IntentMatch { matched: phrase.join(" ") });
            }
        }
    }
    asked_by_verb(clause, asking.question && asking.last)
        .or_else(|| call_me(clause))
        .or_else(|| can_they(clause, asking.question))
        .or_else(|| asks_whether_anyone_is_there(clause, asking))
        .or_else(|| if described { None } else { bare(clause) })
}

fn find_phrase(clause: &[Word], phrase: &[String]) -> Option<IntentMatch> {
    if phrase.is_empty() || phrase.len() > clause.len() {
        return None;
    }
    (0..=clause.len() - phrase.len())
        .find(|&start| clause[start..start + phrase.len()] == *phrase && !negated(clause, start, start + phrase.len()))
        .map(|_| IntentMatch { matched: phrase.join(" ") })
}

fn is_someone(word: &Word) -> bool {
    is_person(word) || is_team(word) || is_anyone(word)
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
        .then(|| IntentMatch { matched: format!("{} {}", clause[at], clause[at + 1]) })
}

/// "Le service facturation peut-il regarder…?", "o setor financeiro pode ver…?": asking whether
/// a team can do something asks for it.
fn can_they(clause: &[Word], question: bool) -> Option<IntentMatch> {
    if !question {
        return None;
    }
    let noun_at = clause.iter().position(|t| is_team(t) || is_anyone(t))?;
    let modal_at = (noun_at + 1..(noun_at + 6).min(clause.len())).find(|&i| MODALS.has(&clause[i]))?;
    // "Alguém da minha família pode…", "hij zei dat hij iemand zou sturen": someone else's.
    let others =
        clause.iter().any(|t| OTHER_VERBS.has(t)) || clause[noun_at..modal_at].iter().any(|t| POSSESSIVES.has(t));
    let fine = !others && !theirs(clause, noun_at) && !negated(clause, noun_at, modal_at + 1);
    fine.then(|| IntentMatch { matched: format!("{} … {}", clause[noun_at], clause[modal_at]) })
}

/// A person asked for by a verb near it: "talk … human", "need … billing", "can … someone".
fn asked_by_verb(clause: &[Word], question: bool) -> Option<IntentMatch> {
    for (noun_at, noun) in clause.iter().enumerate() {
        // French "personne" with no article is "nobody" ("je veux que personne voie le prix").
        if noun == "personne" && (noun_at == 0 || !DETERMINERS.has(&clause[noun_at - 1])) {
            continue;
        }
        // A callback ("Rückruf") is wanted, never talked to.
        let callback = CALLBACKS.has(noun);
        if !is_someone(noun) && !callback {
            continue;
        }
        let lo = noun_at.saturating_sub(VERB_BEFORE_NOUN);
        let hi = (noun_at + VERB_AFTER_NOUN + 2).min(clause.len() - 1);
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
            // "Add a team member", "einen Mitarbeiter hinzufügen": the person is another verb's object.
            let after = clause[noun_at + 1..(noun_at + 6).min(clause.len())]
                .iter()
                .take_while(|t| !RELATIVES.has(t) && !PURPOSE.has(t));
            let other_verb = clause[start..end].iter().chain(after).any(|t| OTHER_VERBS.has(t));
            // "¿Nadie me va a llamar?": nobody is who is missing, a complaint.
            let nobody_asked = question && noun_at < verb_at && NEGATIONS.has(noun);
            if !other_verb && !theirs(clause, noun_at) && (nobody_asked || !negated(clause, start, end)) {
                return Some(IntentMatch { matched: format!("{} … {}", clause[start], clause[end - 1]) });
            }
        }
    }
    None
}

/// "My boss", "mi supervisor": the visitor's own person, unless a role the company assigns
/// ("mon conseiller").
fn theirs(clause: &[Word], noun_at: usize) -> bool {
    // Right before it, or with one word between that is not a verb ("my old boss", not Italian
    // "mi passate nessuno").
    let right_before = noun_at >= 1 && POSSESSIVES.has(&clause[noun_at - 1]);
    let one_between = noun_at >= 2
        && POSSESSIVES.has(&clause[noun_at - 2])
        && !is_communicate(&clause[noun_at - 1])
        && !is_want(&clause[noun_at - 1]);
    (right_before || one_between) && !ASSIGNED_ROLES.has(&clause[noun_at])
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
        // "Someone from billing needs to deal with this."
        let obliged = clause[noun_at + 1..verb_at].iter().any(|t| MUST.has(t));
        // "Your courier called me": a subject's past, not a request.
        if word.ends_with("ed") && !obliged && !clause[noun_at + 1..verb_at].iter().any(|t| MODALS.has(t)) {
            return false;
        }
        let talks = is_communicate(word) || VERB_LAST.has(word);
        // "How long until an operator takes over?", "pour qu'un opérateur reprenne".
        let until = clause[..noun_at].iter().any(|t| UNTIL.has(t));
        return (near && VERB_LAST.has(word))
            || (to_me && (talks || SEND.has(word)))
            || ((obliged || until) && near && talks);
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
    let only_noticed =
        matches!(word.as_str(), "see" | "have" | "has") && is_team(&clause[noun_at]) && !is_person(&clause[noun_at]);
    if only_noticed {
        return false;
    }
    let would_like = word == "like"
        && (verb_at.saturating_sub(2)..verb_at).any(|j| matches!(clause[j].as_str(), "d" | "would" | "i" | "we"));
    ((is_want(word) || would_like) && gap <= WANT_BEFORE_NOUN && small_words_between)
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
        && matches!(clause[verb_at - 1].as_str(), "ai" | "as" | "a" | "avons" | "avez" | "ont");
    french || (participle && clause[verb_at.saturating_sub(6)..verb_at].iter().any(|t| PAST_AUX.has(t)))
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
    matches!(clause[verb_at].as_str(), "chat" | "call") && verb_at > 0 && DETERMINERS.has(&clause[verb_at - 1])
}

/// "Is anyone there?", "does anyone work there?", "¿no hay nadie?": a question whether someone
/// is there at all is a complaint that asks, negated or not.
fn asks_whether_anyone_is_there(clause: &[Word], asking: Asking) -> Option<IntentMatch> {
    if !asking.question {
        return None;
    }
    let has = |class: Class| clause.iter().find(|t| class.has(t));
    let anyone = clause.iter().find(|t| is_anyone(t)).filter(|_| !clause.iter().any(|t| OTHER_VERBS.has(t)));
    if let (Some(someone), Some(there)) = (anyone, has(THERE_VERBS).or(has(HERE))) {
        return Some(IntentMatch { matched: format!("{someone} … {there}") });
    }
    let person_at = clause.iter().position(|t| is_person(t) || is_anyone(t))?;
    let person = &clause[person_at];
    // "Un humain lit ces messages ?", "dove sono gli operatori?!"
    let counted = clause.iter().any(|t| HOW_MANY.has(t));
    // "Votre superviseur est dispo ?"
    // Not "is the Human Touch cream available?": a role, not the word for a human.
    let role = !["huma", "uman", "mensch", "mens", "person", "pessoa"].iter().any(|w| person.starts_with(w));
    if let Some(free) = has(FREE).filter(|_| asking.last && !counted && role) {
        return Some(IntentMatch { matched: format!("{person} … {free}") });
    }
    let where_before = clause[person_at.saturating_sub(3)..person_at].iter().find(|t| WHERE.has(t));
    if let Some(there) = has(THERE_VERBS).filter(|_| !counted).or(where_before) {
        return Some(IntentMatch { matched: format!("{person} … {there}") });
    }
    // "¿No hay ningún asesor disponible?", "vous n'avez aucun conseiller ?"
    let negation_before = (0..person_at).any(|i| refuses(clause, i)) || NEGATIONS.has(person);
    let said_missing = has(AVAILABLE).or(has(HERE)).or(has(EXISTENCE)).is_some()
        || (0..clause.len()).any(|i| is_existence_pair(clause, i));
    let described = clause.get(person_at + 1).is_some_and(|t| RELATIVES.has(t));
    (asking.last && negation_before && said_missing && !described)
        .then(|| IntentMatch { matched: format!("no … {person}") })
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
    (only_fillers && !refused).then(|| IntentMatch { matched: noun.to_string() })
}

/// A question about the bot itself: "is this a bot or a human?", "are you a real person?".
fn asks_what_the_bot_is(sentence: &Sentence) -> bool {
    let words: Vec<&Word> = sentence.clauses.iter().flatten().collect();
    let is_machine = |t: &Word| MACHINES.has(t) || t.starts_with("automat");
    // "AI" after an article; Portuguese "aí" is "there".
    let machine = (0..words.len()).any(|i| {
        let beside_or = (i > 0 && (DETERMINERS.has(words[i - 1]) || OR.has(words[i - 1])))
            || words.get(i + 1).is_some_and(|t| OR.has(t));
        is_machine(words[i]) && (words[i].as_str() != "ai" || beside_or)
    });
    // "Can I talk to a real person or only to a computer?" asks, whatever it calls the bot.
    let asks_for_myself = words.iter().any(|t| is_want(t) || COMPLAINTS.has(t))
        || words
            .windows(2)
            .any(|w| (FIRST_PERSON.has(w[0]) && MODALS.has(w[1])) || (MODALS.has(w[0]) && FIRST_PERSON.has(w[1])));
    let machine_or_person = machine && words.iter().any(|t| OR.has(t)) && !asks_for_myself;
    // "Sei un programma o…?", "are you a real person?": what the bot is, asked of it.
    let asked_of_it = sentence.clauses.iter().any(|clause| {
        (0..clause.len()).any(|i| {
            ARE_YOU.at(clause, i).next().is_some()
                && clause[i + 1..(i + 5).min(clause.len())].iter().any(|t| is_machine(t) || is_person(t))
        })
    });
    machine_or_person || asked_of_it
}

/// A word with a letter held down ("humanoooo", "humaiiiin") as written once: runs of three or
/// more of one letter become one.
fn squeeze(token: &str) -> String {
    let bytes = token.as_bytes();
    if !bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return token.to_owned();
    }
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
fn is_existence_pair(clause: &[Word], at: usize) -> bool {
    let pair = (clause[at].as_str(), clause.get(at + 1).map(Word::as_str));
    matches!(pair, ("c", Some("e")) | ("y", Some("a")) | ("ist" | "is", Some("da")))
}

/// True when a negation word stands inside the match or up to `NEGATION_REACH` tokens before it,
/// unless the clause is a complaint ("why can't I…", "is there no…"); or when a comparison or a
/// question what the bot is precedes it ("more helpful than a human", "are you a real person").
fn negated(clause: &[Word], start: usize, end: usize) -> bool {
    let reach_from = start.saturating_sub(NEGATION_REACH);
    let before = &clause[..start];
    // "Is there no one?" complains; "there's no need for a human" refuses.
    let needs = clause.iter().any(is_want);
    let complaint = before.iter().any(|t| WHY.has(t) || COMPLAINTS.has(t))
        || before.windows(2).any(|w| (w[0] == "por" && w[1] == "que") || CANNOT.at(w, 0).next().is_some())
        || (!needs && clause[..end].iter().enumerate().any(|(i, t)| EXISTENCE.has(t) || is_existence_pair(clause, i)));
    // "Ein Gespräch mit einem Mitarbeiter ist nicht notwendig": not needed, anywhere in the clause.
    let unneeded = clause.iter().any(|t| UNNEEDED.has(t)) && (0..clause.len()).any(|i| refuses(clause, i));
    // "This is not working I want a person": a new "I" after the negation starts what is asked.
    let refusal = unneeded
        || (reach_from..end)
            .any(|i| refuses(clause, i) && !clause[i + 1..start.max(i + 1)].iter().any(|t| FIRST_PERSON.has(t)));
    let window = start.saturating_sub(6)..end;
    let upto = &clause[..end];
    let has_comparative = upto.iter().any(|t| COMPARATIVES.has(t));
    let believed = before.iter().any(|t| BELIEFS.has(t)) || clause.iter().any(|t| COUNTERFACTUALS.has(t));
    // "I prefer chatting with you over calling someone": the bot preferred to the person.
    let preferred_to = upto.iter().position(|t| PREFERS.has(t)).is_some_and(|p| {
        upto[p..].iter().position(|t| MACHINES.has(t) || YOU.has(t)).is_some_and(|bot| {
            upto[p + bot..]
                .iter()
                .any(|t| matches!(t.as_str(), "over" | "than" | "que" | "antes" | "dan" | "als" | "di" | "to"))
        })
    });
    let compared = believed
        || preferred_to
        || than_not_a_machine(clause, window.clone(), has_comparative)
        || upto.windows(2).any(|w| w[0] == "do" && w[1] == "que")
        || (start.saturating_sub(5)..end).any(|i| is_simile(clause, i));
    let are_you = window.clone().any(|i| ARE_YOU.at(clause, i).next().is_some());
    compared || are_you || unneeded || (!complaint && refusal)
}

/// "Faster than a human" compares; "rather a person than a bot" asks for the person. A "than"
/// word in `window`, or a comparative's "que", "di", "als" or "dan", with no machine after it.
fn than_not_a_machine(clause: &[Word], window: std::ops::Range<usize>, has_comparative: bool) -> bool {
    let is_than = |t: &Word| THAN.has(t) || (has_comparative && THAN_AFTER_COMPARATIVE.has(t));
    let Some(than) = window.clone().find(|&i| is_than(&clause[i])) else {
        return false;
    };
    !clause[than..].iter().any(|t| MACHINES.has(t))
}

/// Whether the word at `at` refuses: a negation, but not one that contrasts with the bot ("a
/// human, not a bot") and not French "ne" without its "pas", "jamais", "rien"… ("n'importe").
fn refuses(clause: &[Word], at: usize) -> bool {
    let word = &clause[at];
    if !NEGATIONS.has(word) {
        return false;
    }
    let next = &clause[at + 1..(at + 7).min(clause.len())];
    if next.iter().take(3).any(|t| MACHINES.has(t)) {
        return false;
    }
    // "No i want a human" (no comma): the "no" answers the bot; it does not refuse what follows.
    if at == 0
        && matches!(word.as_str(), "no" | "nope" | "nein" | "nee")
        && next.first().is_some_and(|t| FIRST_PERSON.has(t))
    {
        return false;
    }
    // Portuguese "alguém no suporte" is "in the".
    if word == "no" && at > 0 && is_someone(&clause[at - 1]) {
        return false;
    }
    // German "mit nem Menschen" is "mit einem", not Portuguese "nem".
    if word == "nem"
        && at > 0
        && matches!(clause[at - 1].as_str(), "mit" | "zu" | "von" | "bei" | "an" | "aus" | "nach" | "fur")
    {
        return false;
    }
    if matches!(word.as_str(), "n" | "ne") {
        return next.iter().any(|t| {
            matches!(t.as_str(), "pas" | "jamais" | "rien" | "aucun" | "aucune" | "personne" | "plus" | "guere")
        });
    }
    true
}

/// "Like a real person", "comme un humain": what something resembles. Not "I'd like", and not
/// Portuguese "tem como" ("is there a way").
fn is_simile(clause: &[Word], at: usize) -> bool {
    if at == 0 || !SIMILES.has(&clause[at]) {
        return false;
    }
    let wants = (at.saturating_sub(2)..at).any(|j| matches!(clause[j].as_str(), "d" | "would" | "i" | "we"));
    let way = matches!(clause[at - 1].as_str(), "tem" | "e" | "sabe" | "weet" | "sais" | "sei");
    // "Come si fa a…", "como se hace": how one does something.
    let how = clause.get(at + 1).is_some_and(|t| {
        matches!(t.as_str(), "si" | "se" | "faccio" | "fare" | "posso" | "puedo" | "do" | "can" | "kann" | "kan" | "on")
    });
    !wants && !way && !how
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
    fn each_family_of_request_fires_in_each_language() {
        let cases = [
            // a team or role, no word for a human
            "can the billing team look at invoice 7?",
            "necesito hablar con el área de devoluciones",
            "je voudrais parler au service client",
            "Ich möchte mit der Buchhaltung sprechen",
            "o setor financeiro pode ver minha fatura?",
            "vorrei parlare con il vostro supporto tecnico",
            "kan ik de verkoopafdeling spreken?",
            // transfer, put in touch, call back
            "please put me through to someone",
            "Faites-moi rappeler par un technicien",
            "Bitte leiten Sie mich an einen Kundenberater weiter",
            "qu'un conseiller me rappelle demain",
            "Ruft mich bitte an",
            "Rückruf bitte",
            // no verb
            "un humano por favor",
            "qqn du SAV stp",
            "Techniker. Dringend.",
            // frustrated questions
            "why can't I talk to a human?",
            "is anyone there?",
            "¿no hay nadie con quien pueda hablar?",
            "Gibt es bei euch überhaupt niemanden, mit dem man sprechen kann?",
            // typos
            "can i talk to a real persin",
        ];
        for message in cases {
            assert!(fires(message), "should fire: {message}");
        }
    }

    #[test]
    fn hard_negatives_of_each_family_do_not_fire() {
        let cases = [
            "Where do I send my CV? Is there a human resources email address?",
            "I want to change the contact person on my account",
            "Gibt es Support für Windows 11?",
            "you're more helpful than a human agent",
            "are you a real person?",
            "Estou a falar com uma máquina ou com uma pessoa? Só curiosidade",
            "no need to transfer me, I found it",
            "Het is niet nodig dat een adviseur contact met mij opneemt",
            "my manager needs the invoice by Friday",
            "I talked to an agent yesterday and he said the refund was done",
            "Ik heb gisteren gebeld met een medewerker",
            "Mensch, das ging ja schnell!",
            "ich dachte, hier chattet eine echte Person",
            "how many people work in your support team?",
        ];
        for message in cases {
            assert!(!fires(message), "should not fire: {message}");
        }
    }

    #[test]
    fn a_verb_final_participle_in_any_script_is_read_without_panicking() {
        // Byte 2 of "你好吗" is inside its first character.
        for message in ["ich brauche einen Mitarbeiter 你好吗你好吗", "我要 human 你好吗你好吗", "привет мир человек"]
        {
            let _ = detect(message, &BotPhrases::default());
        }
    }

    #[test]
    fn a_pasted_text_without_punctuation_is_read_in_bounded_clauses() {
        let pasted = "not agent talk ".repeat(5_000);
        let sentences = sentences(&pasted, &[]);
        assert!(sentences.iter().flat_map(|s| &s.clauses).all(|c| c.len() <= MAX_CLAUSE_WORDS));
        assert_eq!(sentences.iter().flat_map(|s| &s.clauses).map(Vec::len).sum::<usize>(), 15_000, "no word lost");
        assert!(detect(&pasted, &BotPhrases::default()).is_none(), "every request in it is refused");
        assert!(detect(&format!("{pasted}. talk to a human"), &BotPhrases::default()).is_some());
    }

    #[test]
    fn what_a_review_found_is_read_as_a_visitor_means_it() {
        for message in [
            "no i want a human",
            "this is not working i want a person",
            "You're not helping I need a person",
            "I need help from a human",
            "I'm curious why my order is late. I want to speak to a person.",
            "I've been waiting for hours let me talk to a human",
            "I thought about it, I want to speak to a human",
            "Antes de pagar, quiero hablar con un asesor",
            "I'd prefer if you put me through to a person",
            "call me back please",
        ] {
            assert!(fires(message), "should fire: {message}");
        }
        for message in [
            "You can call me Sam",
            "How can I get a refund without talking to someone?",
            "I see the billing department charged me twice",
            "We have a sales team of 5 and need more licenses",
            "I want the premium service, how much is it?",
            "customer service hours?",
        ] {
            assert!(!fires(message), "should not fire: {message}");
        }
    }

    #[test]
    fn a_long_word_or_a_long_list_is_read_in_bounded_time_and_nothing_near_the_end_is_lost() {
        // Behaviour, not a clock: the request after a pasted run still counts, and a pasted run
        // longer than what is read does not hide a request at either end.
        let run = "ab".repeat(50_000);
        assert!(detect(&format!("{run} talk to a human"), &BotPhrases::default()).is_some());
        let commas = "ok, ".repeat(20_000);
        assert!(detect(&format!("talk to a human. {commas}"), &BotPhrases::default()).is_some());
        assert!(detect(&format!("{commas} talk to a human"), &BotPhrases::default()).is_some());
        assert!(detect(&commas, &BotPhrases::default()).is_none());
        assert!(phrase_problem("Human Touch", true).is_none() && phrase_problem("a", true).is_some());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panicking(before in "\\PC{0,80}", after in "\\PC{0,80}") {
            // Around a person word, so every rule looks at the arbitrary words beside it.
            let _ = detect(&format!("{before} agent {after}"), &BotPhrases::default());
            let _ = detect(&format!("{before}{after}"), &BotPhrases::default());
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
