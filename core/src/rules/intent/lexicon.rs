//! The words explicit-request detection knows, in seven languages: `lexicon.txt`, read once into
//! one map from word to classes. Why a data file: the lists are data a linguist extends, not
//! logic, and the map answers "which classes is this word in?" in one lookup however long the
//! lists grow (stems and endings take a few more, bounded by the longest word).
//!
//! Each class is named as a constant (`PERSONS`, `NEGATIONS`, …); a message's words are looked
//! up once (`Word`), so the detector's `NEGATIONS.has(word)` is a bit test.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

/// One class of words (a section of `lexicon.txt`): its bit in a word's mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(u32);

/// One class of phrases (a `phrases` section): its place in `PHRASE_SECTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phrases(usize);

macro_rules! classes {
    ($($name:ident = $bit:literal $section:literal),* $(,)?) => {
        $(pub const $name: Class = Class($bit);)*
        /// The word sections, each at its class's bit.
        const WORD_SECTIONS: &[&str] = &[$($section),*];
    };
}

classes! {
    PERSONS = 0 "persons",
    PERSON_PREFIXES = 1 "person_prefixes",
    COMPOUND_ENDINGS = 2 "compound_endings",
    TEAMS = 3 "teams",
    ANYONE = 4 "anyone",
    WANTS = 5 "wants",
    COMMUNICATES = 6 "communicates",
    COMMUNICATE_PREFIXES = 7 "communicate_prefixes",
    NEGATIONS = 8 "negations",
    FILLERS = 9 "fillers",
    WHY = 10 "why",
    THAN = 11 "than",
    COMPARATIVES = 12 "comparatives",
    THAN_AFTER_COMPARATIVE = 13 "than_after_comparative",
    SIMILES = 14 "similes",
    RELATIVES = 15 "relatives",
    EXISTENCE = 16 "existence",
    HERE = 17 "here",
    MODALS = 18 "modals",
    THERE_VERBS = 19 "there_verbs",
    HOURS = 20 "hours",
    MACHINES = 21 "machines",
    OR = 22 "or",
    OTHER_VERBS = 23 "other_verbs",
    CURIOUS_PREFIXES = 24 "curious_prefixes",
    VERB_LAST = 25 "verb_last",
    POSSESSIVES = 26 "possessives",
    ASSIGNED_ROLES = 27 "assigned_roles",
    ME = 28 "me",
    COMPLAINTS = 29 "complaints",
    AVAILABLE = 30 "available",
    CALLBACKS = 31 "callbacks",
    CALL_ME = 32 "call_me",
    WHERE = 33 "where",
    TOTAL = 34 "total",
    INTERJECTIONS = 35 "interjections",
    PURPOSE = 36 "purpose",
    PAST_AUX = 37 "past_aux",
    DETERMINERS = 38 "determiners",
    SEND = 39 "send",
    MUST = 40 "must",
    BELIEFS = 41 "beliefs",
    UNNEEDED = 42 "unneeded",
    FREE = 43 "free",
    HOW_MANY = 44 "how_many",
    FIRST_PERSON = 45 "first_person",
    UNTIL = 46 "until",
    COUNTERFACTUALS = 47 "counterfactuals",
    PREFERS = 48 "prefers",
    YOU = 49 "you",
    ONLY = 50 "only",
    PRODUCT_TEAMS = 51 "product_teams",
    FORMERLY = 52 "formerly",
    HUMANS = 53 "humans",
    CANCELS = 54 "cancels",
    REQUESTED = 55 "requested",
    CONDITIONALS = 56 "conditionals",
    READS = 57 "reads",
    LATER = 58 "later",
    BEHIND = 59 "behind",
    COMPETITORS = 60 "competitors",
    PLANS = 61 "plans",
    JOBS = 62 "jobs",
    SAYS = 63 "says",
    SELLERS = 64 "sellers",
    DEFINITE = 65 "definite",
    LOOKS = 66 "looks",
    HAVE = 67 "have",
    WITHOUT = 68 "without",
    HELPS = 69 "helps",
    PLEASE = 70 "please",
    BY = 71 "by",
    WISHES = 72 "wishes",
    COPULAS = 73 "copulas",
    PEOPLE_OF_MINE = 74 "people_of_mine",
    NO_USE = 75 "no_use",
    PAST_MARKERS = 76 "past_markers",
    USELESS = 77 "useless",
}

pub const STRONG_PHRASES: Phrases = Phrases(0);
pub const COMPOUNDS: Phrases = Phrases(1);
pub const ARE_YOU: Phrases = Phrases(2);
pub const CANNOT: Phrases = Phrases(3);
pub const CURIOUS: Phrases = Phrases(4);
const PHRASE_SECTIONS: &[&str] = &["strong_phrases", "compounds", "are_you", "cannot", "curious"];

/// A folded word of a message with the classes it belongs to, looked up once: the detector
/// asks each word about many classes, many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    text: String,
    mask: u128,
}

/// Bits past the sections': classes that stems and endings decide.
const PERSON_BIT: u128 = 1 << 127;
const COMMUNICATE_BIT: u128 = 1 << 126;
const CURIOUS_BIT: u128 = 1 << 125;

impl Word {
    pub fn new(text: String) -> Self {
        let classes = |part: &str| LEXICON.classes.get(part).copied().unwrap_or(0);
        let mask = classes(&text);
        // Each beginning of four letters or more, and each ending after three letters, looked up
        // once for the stem and ending classes; none is longer than the lexicon's longest word,
        // so a pasted run of letters costs in proportion to its length.
        let longest = LEXICON.longest_word;
        let beginnings = text
            .char_indices()
            .map(|(i, _)| i)
            .skip(4)
            .take_while(|i| *i <= longest)
            .map(|i| &text[..i])
            .chain((text.len() <= longest).then_some(text.as_str()));
        let starts = beginnings.fold(0, |bits, start| bits | classes(start));
        let ends = text
            .char_indices()
            .skip(3)
            .filter(|(i, _)| text.len() - i <= longest)
            .fold(0, |bits, (i, _)| bits | classes(&text[i..]));
        let bit = |class: Class| 1u128 << class.0;
        let mut derived = 0;
        if mask & bit(PERSONS) != 0 || starts & bit(PERSON_PREFIXES) != 0 || ends & bit(COMPOUND_ENDINGS) != 0 {
            derived |= PERSON_BIT;
        }
        if mask & bit(COMMUNICATES) != 0 || starts & bit(COMMUNICATE_PREFIXES) != 0 {
            derived |= COMMUNICATE_BIT;
        }
        if starts & bit(CURIOUS_PREFIXES) != 0 {
            derived |= CURIOUS_BIT;
        }
        if mask == 0 && derived == 0 && misspells_a_person(&text) {
            derived |= PERSON_BIT;
        }
        Self { text, mask: mask | derived }
    }

    /// A word in no class, standing for an excluded phrase or a compound.
    pub fn nothing() -> Self {
        Self { text: "\u{0}".to_owned(), mask: 0 }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::ops::Deref for Word {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for Word {
    fn eq(&self, other: &String) -> bool {
        &self.text == other
    }
}

/// "Persin", "pesoa", "persohn": one letter off a person word of six letters or more, with its
/// first two letters and its last one right (where typing slips least).
fn misspells_a_person(word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() < 5 || bytes.len() > LEXICON.longest_word + 1 {
        return false;
    }
    let Some(candidates) = LEXICON.person_words_by_start.get(&bytes[..2]) else { return false };
    candidates.iter().any(|person| {
        person.len().abs_diff(bytes.len()) <= 1
            && person.as_bytes().last() == bytes.last()
            && one_edit_apart(person.as_bytes(), bytes)
    })
}

/// Whether `a` becomes `b` by one insertion, deletion, swap of neighbours, or substitution of
/// a key beside it ("persin"; not "export" for "expert").
fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let same_start = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        let rest = same_start + 1;
        same_start == short.len()
            || (short[rest..] == long[rest..] && keys_beside(short[same_start], long[same_start]))
            || (rest < short.len()
                && short[same_start] == long[rest]
                && short[rest] == long[same_start]
                && short[rest + 1..] == long[rest + 1..])
    } else {
        long.len() == short.len() + 1 && short[same_start..] == long[same_start + 1..]
    }
}

/// Whether two letters are neighbours on a QWERTY keyboard.
fn keys_beside(a: u8, b: u8) -> bool {
    const ROWS: [&[u8]; 3] = [b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
    let place =
        |key: u8| ROWS.iter().enumerate().find_map(|(row, keys)| Some((row, keys.iter().position(|k| *k == key)?)));
    match (place(a), place(b)) {
        (Some((ra, ca)), Some((rb, cb))) => ra.abs_diff(rb) <= 1 && ca.abs_diff(cb) <= 1,
        _ => false,
    }
}

/// Whether `words` begins with `phrase`.
pub fn begins_with(words: &[Word], phrase: &[String]) -> bool {
    phrase.len() <= words.len() && words.iter().zip(phrase).all(|(w, p)| w == p)
}

impl Class {
    /// Whether `word` is in this class.
    pub fn has(self, word: &Word) -> bool {
        word.mask & (1 << self.0) != 0
    }
}

impl Phrases {
    /// The phrases of this class that `clause` holds starting at `at`, found by their first word.
    pub fn at(self, clause: &[Word], at: usize) -> impl Iterator<Item = &'static [String]> {
        let candidates = clause.get(at).and_then(|first| LEXICON.phrases[self.0].get(first.as_str()));
        let rest = clause.get(at..).unwrap_or_default();
        candidates.into_iter().flatten().filter(move |p| begins_with(rest, p)).map(Vec::as_slice)
    }
}

/// The one word a pair written apart means here ("no one" is "noone", like "nobody"), when
/// `first` and `second` are such a pair.
pub fn rewrite(first: &str, second: &str) -> Option<&'static str> {
    LEXICON.rewrites.get(first)?.iter().find(|(s, _)| s == second).map(|(_, one)| one.as_str())
}

struct Lexicon {
    /// Each word's classes, one bit per word section.
    classes: FxHashMap<&'static str, u128>,
    /// Each word section's words in file order, by class bit (for stems and endings).
    word_lists: Vec<Vec<&'static str>>,
    /// Each phrase section's phrases by their first word, in `PHRASE_SECTIONS` order.
    phrases: Vec<FxHashMap<&'static str, Vec<Vec<String>>>>,
    /// The length in bytes of the longest word in any word section.
    longest_word: usize,
    /// The person words of six letters or more by their first two letters, for misspellings.
    person_words_by_start: FxHashMap<&'static [u8], Vec<&'static str>>,
    /// First word → (second word, the one word they mean).
    rewrites: FxHashMap<&'static str, Vec<(String, String)>>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::parse(include_str!("lexicon.txt")));

impl Lexicon {
    /// Panics on a malformed file: it is the repository's own, and a test reads it.
    fn parse(text: &'static str) -> Self {
        let mut lexicon = Lexicon {
            classes: FxHashMap::default(),
            word_lists: vec![Vec::new(); WORD_SECTIONS.len()],
            phrases: vec![FxHashMap::default(); PHRASE_SECTIONS.len()],
            rewrites: FxHashMap::default(),
            person_words_by_start: FxHashMap::default(),
            longest_word: 0,
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
                lexicon.rewrites.entry(first).or_default().push((second.to_owned(), one.trim().to_owned()));
            } else if let Some(index) = PHRASE_SECTIONS.iter().position(|s| *s == name) {
                let first = line.split_whitespace().next().expect("a phrase");
                let phrase = line.split_whitespace().map(str::to_owned).collect();
                lexicon.phrases[index].entry(first).or_default().push(phrase);
            } else {
                let bit = WORD_SECTIONS.iter().position(|s| *s == name).expect("a word section");
                for word in line.split_whitespace() {
                    *lexicon.classes.entry(word).or_default() |= 1 << bit;
                    lexicon.word_lists[bit].push(word);
                }
            }
        }
        for (bit, name) in WORD_SECTIONS.iter().enumerate() {
            assert!(!lexicon.word_lists[bit].is_empty(), "lexicon section [{name}] is missing or empty");
        }
        lexicon.longest_word = lexicon.word_lists.iter().flatten().map(|w| w.len()).max().unwrap_or(0);
        for word in &lexicon.word_lists[PERSONS.0 as usize] {
            if word.len() >= 6 && word.is_ascii() {
                lexicon.person_words_by_start.entry(&word.as_bytes()[..2]).or_default().push(word);
            }
        }
        for (index, name) in PHRASE_SECTIONS.iter().enumerate() {
            assert!(!lexicon.phrases[index].is_empty(), "lexicon section [{name}] is missing or empty");
        }
        lexicon
    }
}

/// Who a visitor may ask for: a person, a role, or someone unnamed.
pub fn is_person(word: &Word) -> bool {
    word.mask & PERSON_BIT != 0
}

/// A team or service rather than a person ("support", "billing", "le SAV").
pub fn is_team(word: &Word) -> bool {
    TEAMS.has(word)
}

/// "Anyone", "nobody": asking whether such a one exists is a request ("is anyone there?").
pub fn is_anyone(word: &Word) -> bool {
    ANYONE.has(word)
}

/// Someone a visitor may ask for: a person, a team, or "anyone".
pub fn is_someone(word: &Word) -> bool {
    is_person(word) || is_team(word) || is_anyone(word)
}

/// A word that wants something: "want", "quiero", "brauche".
pub fn is_want(word: &Word) -> bool {
    WANTS.has(word)
}

/// A word that asks to talk to or be passed to someone: "talk", "transfer", "verbinden".
pub fn is_communicate(word: &Word) -> bool {
    word.mask & COMMUNICATE_BIT != 0
}

/// A word that says the visitor only wonders ("just curious").
pub fn is_curious(word: &Word) -> bool {
    word.mask & CURIOUS_BIT != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicon_file_reads_and_every_class_has_words() {
        assert!(WORD_SECTIONS.len() <= 125, "one bit per word section, three for derived classes");
        assert!(LEXICON.word_lists.iter().all(|words| !words.is_empty()));
        let word = |w: &str| Word::new(w.to_owned());
        assert!(is_person(&word("human")) && is_person(&word("kundenberater")) && !is_person(&word("hours")));
        assert!(is_communicate(&word("transfiereme")) && !is_communicate(&word("transparent")));
        let clause: Vec<Word> = ["a", "real", "person"].map(word).to_vec();
        assert!(STRONG_PHRASES.at(&clause, 1).any(|p| p == ["real", "person"]));
        assert_eq!(STRONG_PHRASES.at(&clause, 0).count(), 0);
        assert_eq!(rewrite("no", "one"), Some("noone"));
        assert_eq!(rewrite("no", "way"), None);
    }

    #[test]
    fn one_letter_off_a_person_word_is_a_person_but_other_words_are_not() {
        for typo in ["persin", "persohn", "pesoa", "humnao", "agnete", "operatr"] {
            assert!(is_person(&Word::new(typo.to_owned())), "{typo}");
        }
        for word in ["personal", "managed", "parson", "persist", "agenda", "humour", "export"] {
            assert!(!misspells_a_person(word), "{word}");
        }
        assert!(one_edit_apart(b"person", b"perosn") && !one_edit_apart(b"person", b"pesron_"));
    }

    #[test]
    fn stems_are_long_enough_not_to_match_short_unrelated_words() {
        for class in [PERSON_PREFIXES, COMMUNICATE_PREFIXES, COMPOUND_ENDINGS] {
            for stem in &LEXICON.word_lists[class.0 as usize] {
                assert!(stem.len() >= 4, "[{}] {stem} is too short to be a stem", WORD_SECTIONS[class.0 as usize]);
            }
        }
    }
}
