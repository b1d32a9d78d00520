//! What takes a match back: a refusal, a comparison, a belief, a question about the bot itself.

use super::lexicon::*;
use super::reading::Sentence;

/// How many tokens before a match a negation still applies.
pub(super) const NEGATION_REACH: usize = 5;

/// A question about the bot itself: "is this a bot or a human?", "are you a real person?".
pub(super) fn asks_what_the_bot_is(sentence: &Sentence) -> bool {
    let words: Vec<&Word> = sentence.clauses.iter().flatten().collect();
    let is_machine = |t: &Word| MACHINES.has(t) || t.starts_with("automat");
    // "AI" after an article or an "or" ("of is dat allemaal AI?"); Portuguese "aí" is "there".
    let machine = (0..words.len()).any(|i| {
        let beside_or = (i > 0 && DETERMINERS.has(words[i - 1]))
            || words[i.saturating_sub(4)..i].iter().any(|t| OR.has(t))
            || words.get(i + 1).is_some_and(|t| OR.has(t));
        // "Chama o gerente aí": after a person it is "there".
        let there = i > 0 && is_someone(words[i - 1]);
        is_machine(words[i]) && (words[i].as_str() != "ai" || (beside_or && !there))
    });
    // "Can I talk to a real person or only to a computer?", "¿me va a atender alguien o sigo con
    // una máquina?" ask, whatever they call the bot.
    let asks_for_myself = words.iter().any(|t| is_want(t) || COMPLAINTS.has(t))
        || (1..words.len()).any(|i| {
            // Not "un humain qui me répond ?": who answers, asked about.
            ME.has(words[i - 1]) && is_communicate(words[i]) && (i < 2 || !RELATIVES.has(words[i - 2]))
        })
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

/// "I'd like", "we would like": the "like" at `at` wants, it does not compare.
pub(super) fn would_like(clause: &[Word], at: usize) -> bool {
    (at.saturating_sub(2)..at).any(|j| matches!(clause[j].as_str(), "d" | "would" | "i" | "we"))
}

/// Italian "c'è", French "il y a" and German "ist da" (folded): something exists.
pub(super) fn is_existence_pair(clause: &[Word], at: usize) -> bool {
    let pair = (clause[at].as_str(), clause.get(at + 1).map(Word::as_str));
    matches!(pair, ("c", Some("e")) | ("y", Some("a")) | ("ist" | "is", Some("da")))
}

/// True when a negation word stands inside the match or up to `NEGATION_REACH` tokens before it,
/// unless the clause is a complaint ("why can't I…", "is there no…"); or when a comparison or a
/// question what the bot is precedes it ("more helpful than a human", "are you a real person").
pub(super) fn negated(clause: &[Word], start: usize, end: usize) -> bool {
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
    let believed =
        before.iter().any(|t| BELIEFS.has(t) || FORMERLY.has(t)) || clause.iter().any(|t| COUNTERFACTUALS.has(t));
    // "I prefer chatting with you over calling someone": the bot preferred to the person.
    let preferred_to = upto.iter().position(|t| PREFERS.has(t)).is_some_and(|p| {
        upto[p..].iter().position(|t| MACHINES.has(t) || YOU.has(t)).is_some_and(|bot| {
            upto[p + bot..]
                .iter()
                .any(|t| matches!(t.as_str(), "over" | "than" | "que" | "antes" | "dan" | "als" | "di" | "che" | "to"))
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
pub(super) fn than_not_a_machine(clause: &[Word], window: std::ops::Range<usize>, has_comparative: bool) -> bool {
    let is_than = |t: &Word| THAN.has(t) || (has_comparative && THAN_AFTER_COMPARATIVE.has(t));
    let Some(than) = window.clone().find(|&i| is_than(&clause[i])) else {
        return false;
    };
    !clause[than..].iter().any(|t| MACHINES.has(t))
}

/// Whether the word at `at` refuses: a negation, but not one that contrasts with the bot ("a
/// human, not a bot") and not French "ne" without its "pas", "jamais", "rien"… ("n'importe").
pub(super) fn refuses(clause: &[Word], at: usize) -> bool {
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
    // Portuguese "alguém no suporte", "no meu caso" is "in the", "in my".
    if word == "no" && ((at > 0 && is_someone(&clause[at - 1])) || next.first().is_some_and(|t| POSSESSIVES.has(t))) {
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
pub(super) fn is_simile(clause: &[Word], at: usize) -> bool {
    if at == 0 || !SIMILES.has(&clause[at]) {
        return false;
    }
    let wants = would_like(clause, at);
    let way = matches!(clause[at - 1].as_str(), "tem" | "e" | "sabe" | "weet" | "sais" | "sei");
    // "Come si fa a…", "como se hace": how one does something.
    let how = clause.get(at + 1).is_some_and(|t| {
        matches!(t.as_str(), "si" | "se" | "faccio" | "fare" | "posso" | "puedo" | "do" | "can" | "kann" | "kan" | "on")
    });
    !wants && !way && !how
}

/// "Cancel my request for an agent", "j'avais demandé un humain mais laisse tomber": an earlier
/// request called off in the same sentence asks for no one.
pub(super) fn calls_off(sentence: &Sentence) -> bool {
    let mut words = sentence.clauses.iter().flatten();
    words.clone().any(|t| CANCELS.has(t)) && words.any(|t| REQUESTED.has(t))
}

/// "If an agent calls me, tell them…", "als iemand mij belt": a clause that opens with "if" and has
/// someone do something to the visitor says what to do then. Not "if someone could call me" (a
/// modal asks politely) nor "if you can't help, transfer me to an agent" (the agent is the object).
pub(super) fn if_someone_does(clause: &[Word]) -> bool {
    let opens = clause.first().is_some_and(|t| CONDITIONALS.has(t))
        || (clause.len() > 1 && matches!(clause[0].as_str(), "en" | "in" | "im") && CONDITIONALS.has(&clause[1]));
    if !opens || clause.iter().any(|t| MODALS.has(t) || is_want(t)) {
        return false;
    }
    let Some(someone) = clause.iter().position(is_someone) else {
        return false;
    };
    clause[someone + 1..].iter().any(|t| is_communicate(t) || CALL_ME.has(t) || SEND.has(t) || VERB_LAST.has(t))
}

/// "Do real people read these chats later?": how chats are kept, not a person asked for now
/// ("is anyone reading this??" still asks).
pub(super) fn asks_who_reads_later(clause: &[Word]) -> bool {
    clause.iter().any(|t| READS.has(t)) && clause.iter().any(|t| LATER.has(t))
}

/// "Is there a human behind this chat?": what the bot is, unless the visitor also wants or
/// complains in the sentence.
pub(super) fn asks_who_is_behind(sentence: &Sentence) -> bool {
    let words: Vec<&Word> = sentence.clauses.iter().flatten().collect();
    // "…derrière ce chat ou pas ??": "or not" insists.
    let or_not = words.windows(2).any(|w| OR.has(w[0]) && NEGATIONS.has(w[1]));
    words.iter().any(|t| BEHIND.has(t))
        && words.iter().any(|t| is_someone(t))
        && !or_not
        && !words.iter().any(|t| is_want(t) || COMPLAINTS.has(t))
}

/// "Just curious", "I ask because…", "solo por saber": the visitor only wonders.
pub(super) fn is_curious_sentence(sentence: &Sentence) -> bool {
    sentence.clauses.iter().any(|clause| {
        clause.iter().any(is_curious) || (0..clause.len()).any(|i| CURIOUS.at(clause, i).next().is_some())
    }) || asks_who_is_behind(sentence)
}

/// "Sem humano pfv, conversar com gente me dá ansiedade": a sentence that opens by declining a
/// person ("no human please") asks for no one in what follows. Not "no bot, a human".
pub(super) fn declines_first(sentence: &Sentence) -> bool {
    let Some(first) = sentence.clauses.first() else { return false };
    let declined = first.len() <= 4
        && (0..first.len()).any(|i| refuses(first, i) && first[i + 1..].iter().any(is_someone))
        && first.iter().all(|t| FILLERS.has(t) || NEGATIONS.has(t) || is_someone(t));
    declined && sentence.clauses.len() > 1 && !sentence.question
}

/// "Moet ik echt bellen? Liever niet", "…? will ich eigentlich nicht": a short sentence after a
/// question that would rather not, naming no one and nothing.
pub(super) fn rather_not(sentence: &Sentence) -> bool {
    let words: Vec<&Word> = sentence.clauses.iter().flatten().collect();
    words.len() <= 5
        && words.iter().any(|t| PREFERS.has(t) || is_want(t))
        && !words.iter().any(|t| is_someone(t) || DETERMINERS.has(t) || DEFINITE.has(t))
        && sentence.clauses.iter().any(|clause| (0..clause.len()).any(|i| refuses(clause, i)))
}

/// "Talking to a person won't help", "parler à quelqu'un ne servira à rien": a negation after
/// the match says it is no use.
pub(super) fn no_use_after(clause: &[Word], end: usize) -> bool {
    let after = &clause[end.min(clause.len())..(end + 6).min(clause.len())];
    (0..after.len())
        .any(|i| NEGATIONS.has(&after[i]) && after[i + 1..(i + 3).min(after.len())].iter().any(|t| NO_USE.has(t)))
        || after.iter().any(|t| USELESS.has(t))
}

/// "Kann mir nicht einfach mal ein Mensch helfen??", "can't anyone call me?": a question that
/// opens with a modal and its negation asks, rhetorically (not "… without a person?").
pub(super) fn rhetorical(clause: &[Word], question: bool) -> bool {
    question
        && clause.first().is_some_and(|t| MODALS.has(t))
        && (1..clause.len().min(4)).any(|i| refuses(clause, i))
        && !clause.iter().any(|t| WITHOUT.has(t))
}
