//! The words explicit-request detection knows, in seven languages: `lexicon.txt`, read once into
//! sets. Why a data file: the lists are data a linguist extends, not logic, and a set answers
//! "is this word a person?" in one lookup however long the list grows.
//!
//! Each class is named as a constant (`PERSONS`, `NEGATIONS`, …) so the detector reads
//! `NEGATIONS.contains(&word)` as it would a list.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// One class of words (a section of `lexicon.txt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(&'static str);

/// One class of phrases (a `phrases` section): each phrase as its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phrases(&'static str);

macro_rules! classes {
    ($($name:ident = $section:literal),* $(,)?) => {
        $(pub const $name: Class = Class($section);)*
        const WORD_SECTIONS: &[&str] = &[$($section),*];
    };
}

classes! {
    PERSONS = "persons", PERSON_PREFIXES = "person_prefixes", COMPOUND_ENDINGS = "compound_endings",
    TEAMS = "teams", ANYONE = "anyone", WANTS = "wants", COMMUNICATES = "communicates",
    COMMUNICATE_PREFIXES = "communicate_prefixes", NEGATIONS = "negations", FILLERS = "fillers", WHY = "why",
    THAN = "than", COMPARATIVES = "comparatives", THAN_AFTER_COMPARATIVE = "than_after_comparative",
    SIMILES = "similes", RELATIVES = "relatives", EXISTENCE = "existence", HERE = "here", MODALS = "modals",
    THERE_VERBS = "there_verbs", HOURS = "hours", MACHINES = "machines", OR = "or", OTHER_VERBS = "other_verbs",
    CURIOUS_PREFIXES = "curious_prefixes", VERB_LAST = "verb_last", POSSESSIVES = "possessives",
    ASSIGNED_ROLES = "assigned_roles", ME = "me", COMPLAINTS = "complaints", AVAILABLE = "available",
    CALLBACKS = "callbacks", CALL_ME = "call_me", WHERE = "where", TOTAL = "total",
}

pub const STRONG_PHRASES: Phrases = Phrases("strong_phrases");
pub const COMPOUNDS: Phrases = Phrases("compounds");
pub const ARE_YOU: Phrases = Phrases("are_you");
pub const CANNOT: Phrases = Phrases("cannot");
const PHRASE_SECTIONS: &[&str] = &["strong_phrases", "compounds", "are_you", "cannot"];

impl Class {
    /// Whether `word` (folded) is in this class.
    pub fn contains(self, word: &&str) -> bool {
        LEXICON.words[self.0].contains(*word)
    }

    /// Whether `word` starts with one of this class's words (for stems).
    pub fn starts(self, word: &str) -> bool {
        LEXICON.word_lists[self.0].iter().any(|stem| word.starts_with(stem))
    }

    /// Whether `word` ends in one of this class's words with at least three letters before it
    /// ("Kundenberater" ends in "berater").
    pub fn ends(self, word: &str) -> bool {
        LEXICON.word_lists[self.0].iter().any(|end| word.len() > end.len() + 2 && word.ends_with(end))
    }
}

impl Phrases {
    pub fn all(self) -> &'static [Vec<String>] {
        &LEXICON.phrases[self.0]
    }
}

/// Word pairs written apart that mean one word here ("no one" is "nobody"): `(first, second, one)`.
pub fn rewrites() -> &'static [(String, String, String)] {
    &LEXICON.rewrites
}

struct Lexicon {
    words: HashMap<&'static str, HashSet<&'static str>>,
    word_lists: HashMap<&'static str, Vec<&'static str>>,
    phrases: HashMap<&'static str, Vec<Vec<String>>>,
    rewrites: Vec<(String, String, String)>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::parse(include_str!("lexicon.txt")));

impl Lexicon {
    /// Panics on a malformed file: it is the repository's own, and a test reads it.
    fn parse(text: &'static str) -> Self {
        let mut lexicon = Lexicon {
            words: HashMap::new(),
            word_lists: HashMap::new(),
            phrases: HashMap::new(),
            rewrites: Vec::new(),
        };
        let mut section: Option<&'static str> = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let name = header.split(']').next().expect("a closed section name");
                assert!(
                    WORD_SECTIONS.contains(&name) || PHRASE_SECTIONS.contains(&name) || name == "rewrites",
                    "unknown lexicon section [{name}]"
                );
                section = Some(name);
                continue;
            }
            let name = section.expect("words after a section name");
            if name == "rewrites" {
                let (pair, one) = line.split_once('=').expect("`first second = one`");
                let mut pair = pair.split_whitespace();
                let (first, second) = (pair.next().expect("first word"), pair.next().expect("second word"));
                lexicon.rewrites.push((first.to_owned(), second.to_owned(), one.trim().to_owned()));
            } else if PHRASE_SECTIONS.contains(&name) {
                let phrase = line.split_whitespace().map(str::to_owned).collect();
                lexicon.phrases.entry(name).or_default().push(phrase);
            } else {
                for word in line.split_whitespace() {
                    lexicon.words.entry(name).or_default().insert(word);
                    lexicon.word_lists.entry(name).or_default().push(word);
                }
            }
        }
        for name in WORD_SECTIONS {
            assert!(lexicon.words.contains_key(name), "lexicon section [{name}] is missing or empty");
        }
        for name in PHRASE_SECTIONS {
            assert!(lexicon.phrases.contains_key(name), "lexicon section [{name}] is missing or empty");
        }
        lexicon
    }
}

/// Who a visitor may ask for: a person, a role, or someone unnamed.
pub fn is_person(word: &str) -> bool {
    PERSONS.contains(&word) || PERSON_PREFIXES.starts(word) || COMPOUND_ENDINGS.ends(word)
}

/// A team or service rather than a person ("support", "billing", "le SAV").
pub fn is_team(word: &str) -> bool {
    TEAMS.contains(&word)
}

/// "Anyone", "nobody": asking whether such a one exists is a request ("is anyone there?").
pub fn is_anyone(word: &str) -> bool {
    ANYONE.contains(&word)
}

/// A word that wants something: "want", "quiero", "brauche".
pub fn is_want(word: &str) -> bool {
    WANTS.contains(&word)
}

/// A word that asks to talk to or be passed to someone: "talk", "transfer", "verbinden".
pub fn is_communicate(word: &str) -> bool {
    COMMUNICATES.contains(&word) || COMMUNICATE_PREFIXES.starts(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicon_file_reads_and_every_class_has_words() {
        for name in WORD_SECTIONS {
            assert!(!LEXICON.words[name].is_empty(), "{name}");
        }
        assert!(is_person("human") && is_person("kundenberater") && !is_person("berater_") && !is_person("hours"));
        assert!(is_communicate("transfiereme") && !is_communicate("transparent"));
        assert!(STRONG_PHRASES.all().iter().any(|p| p == &["real", "person"]));
        assert!(rewrites().iter().any(|(a, b, one)| (a.as_str(), b.as_str(), one.as_str()) == ("no", "one", "noone")));
    }

    #[test]
    fn stems_are_long_enough_not_to_match_short_unrelated_words() {
        for class in ["person_prefixes", "communicate_prefixes", "compound_endings"] {
            for stem in &LEXICON.word_lists[class] {
                assert!(stem.len() >= 4, "[{class}] {stem} is too short to be a stem");
            }
        }
    }
}
