//! Whose a person is: the visitor's own ("my boss"), someone who already acted ("the agent has
//! told me"), the visitor's own people acting ("my customers"), or a team's name in a product's.

use super::lexicon::*;

/// "My boss", "mi supervisor": the visitor's own person, unless a role the company assigns
/// ("mon conseiller").
pub(super) fn theirs(clause: &[Word], noun_at: usize) -> bool {
    // Right before it, or with one word between that is not a verb ("my old boss", not Italian
    // "mi passate nessuno").
    let right_before = noun_at >= 1 && POSSESSIVES.has(&clause[noun_at - 1]);
    let one_between = noun_at >= 2
        && POSSESSIVES.has(&clause[noun_at - 2])
        && !is_communicate(&clause[noun_at - 1])
        && !is_want(&clause[noun_at - 1]);
    // Not "ma nessuno…" (Italian "but nobody"): no one is anybody's own.
    (right_before || one_between) && !ASSIGNED_ROLES.has(&clause[noun_at]) && !is_anyone(&clause[noun_at])
}

/// "The agent has told me", "l'agent m'a dit": an auxiliary of the past right after the person
/// (or after "me") reports what they did ("the agent has to call me" obliges).
pub(super) fn acted(clause: &[Word], noun_at: usize) -> bool {
    let after_me = clause.get(noun_at + 1).is_some_and(|t| ME.has(t));
    let aux_at = if after_me { noun_at + 2 } else { noun_at + 1 };
    // French "a" only after "m'" ("a" is a preposition too); "ai" is "j'ai" or Portuguese "aí".
    let aux =
        clause.get(aux_at).is_some_and(|t| PAST_AUX.has(t) && !matches!(t.as_str(), "ai" | "as" | "a" if !after_me));
    aux && clause.get(aux_at + 1).is_none_or(|next| next != "to")
}

/// "Can my colleague call your hotline?", "hoe kunnen mijn klanten een medewerker bereiken?": the
/// visitor's own people, with no "I" or "me" in the four words after them, are who acts ("my
/// wife and I want to talk to someone" still asks).
pub(super) fn mine_act(clause: &[Word]) -> bool {
    (1..clause.len()).any(|i| {
        PEOPLE_OF_MINE.has(&clause[i])
            && POSSESSIVES.has(&clause[i - 1])
            && !clause[i + 1..(i + 5).min(clause.len())].iter().any(|t| FIRST_PERSON.has(t) || ME.has(t))
    })
}

/// "The Support Plus plan", "plano de suporte": a team's name in a product's.
pub(super) fn names_a_plan(clause: &[Word], noun_at: usize) -> bool {
    let noun = &clause[noun_at];
    let after = clause.get(noun_at + 1).is_some_and(|t| PLANS.has(t));
    let plan_of = noun_at >= 2
        && PLANS.has(&clause[noun_at - 2])
        && matches!(clause[noun_at - 1].as_str(), "de" | "di" | "du" | "of" | "do" | "da" | "del");
    is_team(noun) && !is_person(noun) && (after || plan_of)
}
