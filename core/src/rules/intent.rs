//! Detects an explicit request for a human in a visitor's message, in English, Spanish, French,
//! German, Portuguese, Italian and Dutch, without a language model: a fixed lexicon of request verbs and
//! "human" nouns, strong phrases, per-bot extra phrases, and a negation window.
//!
//! Why a lexicon: the check runs on every escalation call inside a 128 MB Lambda; it must be
//! microseconds, deterministic and explainable ("matched 'talk … human'").

use crate::text;

/// Words that ask for something or someone (any of the five languages; accents folded).
const REQUEST_VERBS: &[&str] = &[
    // English
    "talk",
    "speak",
    "chat",
    "connect",
    "transfer",
    "get",
    "want",
    "need",
    "reach",
    "contact",
    "escalate",
    "give",
    "put",
    "see",
    "call",
    // Spanish
    "hablar",
    "hablo",
    "comunicarme",
    "comunicar",
    "contactar",
    "quiero",
    "quisiera",
    "necesito",
    "pasame",
    "pasar",
    "transferir",
    "conectar",
    "conectame",
    "atienda",
    // French
    "parler",
    "veux",
    "voudrais",
    "besoin",
    "contacter",
    "joindre",
    "passer",
    "transferer",
    "mettre",
    "avoir",
    // German
    "sprechen",
    "reden",
    "mochte",
    "brauche",
    "verbinden",
    "erreichen",
    "kontaktieren",
    "hatte",
    // Portuguese
    "falar",
    "quero",
    "queria",
    "preciso",
    "transferir",
    "contatar",
    "chamar",
    "atender",
    // Italian
    "parlare",
    "parlo",
    "voglio",
    "vorrei",
    "potrei",
    "passami",
    "passate",
    "passare",
    "trasferiscimi",
    "trasferire",
    "contattare",
    "chiamare",
    "richiamare",
    "ricontattarmi",
    "serve",
    "preferisco",
    // Dutch
    "spreken",
    "praten",
    "wil",
    "verbind",
    "verbinden",
    "doorverbinden",
    "bellen",
    "nodig",
    "ring",
    "route",
    "hand",
    "forward",
    "derivame",
    "transfiereme",
    "mandame",
    "comuniqueme",
    "escala",
    "busco",
    "transferez",
    "rappeler",
    "recontacter",
    "appeler",
    "echanger",
    "souhaite",
    "durchstellen",
    "weiterleiten",
    "ubergeben",
    "eskalieren",
    "anrufen",
    "transfere",
    "passa",
    "coloca",
    "ligar",
    "mettete",
    "contatto",
    "passi",
    "stuur",
    "escaleer",
    "krijgen",
    "stell",
    "komme",
    "bekommen",
    "antwortet",
    "chama",
    "pasen",
    "contacte",
    "avere",
    "praat",
    "contato",
    "passar",
];

/// Words that name a person rather than the bot.
const HUMAN_NOUNS: &[&str] = &[
    // English
    "human",
    "humans",
    "person",
    "people",
    "agent",
    "agents",
    "representative",
    "representatives",
    "rep",
    "operator",
    "someone",
    "somebody",
    "staff",
    "employee",
    "supervisor",
    "manager",
    // Spanish
    "humano",
    "humana",
    "persona",
    "personas",
    "agente",
    "operador",
    "operadora",
    "representante",
    "alguien",
    "asesor",
    "asesora",
    // French
    "humain",
    "humaine",
    "personne",
    "conseiller",
    "conseillere",
    "operateur",
    "operatrice",
    "representant",
    "quelqu",
    // German
    "mensch",
    "menschen",
    "person",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "beraterin",
    "jemandem",
    "jemand",
    "kundendienst",
    // Portuguese
    "humano",
    "pessoa",
    "atendente",
    "agente",
    "operador",
    "alguem",
    "representante",
    // Italian
    "umano",
    "umana",
    "operatore",
    "operatrice",
    "consulente",
    "qualcuno",
    // Dutch
    "mens",
    "persoon",
    "medewerker",
    "medewerkster",
    "iemand",
    "adviseur",
    "advisor",
    "adviser",
    "department",
    "team",
    "gerente",
    "equipo",
    "departamento",
    "superviseur",
    "commercial",
    "equipe",
    "vorgesetzten",
    "vorgesetzter",
    "sachbearbeiter",
    "ansprechpartner",
    "filialleiter",
    "kundenservice",
    "kollegen",
    "consultor",
    "sac",
    "atendimento",
    "setor",
    "assistenza",
    "ufficio",
    "klantenservice",
    "helpdesk",
    "afdeling",
    "qqn",
    "support",
    "service",
    "servicio",
    "soporte",
    "suporte",
    "servizio",
    "area",
    "dienst",
];

/// Phrases that are a request on their own (token sequences after folding).
const STRONG_PHRASES: &[&str] = &[
    "real person",
    "real human",
    "live agent",
    "live person",
    "human agent",
    "human being",
    "persona real",
    "agente humano",
    "ser humano",
    "vraie personne",
    "personne reelle",
    "etre humain",
    "conseiller humain",
    "echten menschen",
    "echte person",
    "echter mensch",
    "menschlichen mitarbeiter",
    "pessoa real",
    "atendente humano",
    "ser humano",
    "atendimento humano",
    "persona vera",
    "persona reale",
    "essere umano",
    "operatore umano",
    "carne e ossa",
    "echt mens",
    "echte persoon",
    "echt persoon",
    "echte medewerker",
    "vlees en bloed",
    "fleisch und blut",
    "carne e osso",
    "faire rappeler",
];

/// Words that negate a nearby request ("I don't need a human", "no quiero un humano").
const NEGATIONS: &[&str] = &[
    "not", "no", "dont", "doesnt", "didnt", "never", "without", "nobody", "wont", "cant", "nunca", "sin", "tampoco",
    "ningun", "ninguna", "nadie", "ne", "n", "pas", "jamais", "sans", "nicht", "kein", "keine", "keinen", "keinem",
    "nie", "niemand", "ohne", "nao", "sem", "nem", "ninguem", "non", "nessuno", "nessuna", "senza", "mai", "niet",
    "geen", "nooit", "zonder",
];

/// Words allowed around a bare noun ("human please", "agent!") for it to count as a request.
const FILLERS: &[&str] = &[
    "a",
    "an",
    "the",
    "please",
    "pls",
    "plz",
    "now",
    "real",
    "live",
    "por",
    "favor",
    "un",
    "una",
    "s",
    "il",
    "vous",
    "plait",
    "bitte",
    "einen",
    "ein",
    "uma",
    "um",
    "o",
    "ya",
    "agora",
    "jetzt",
    "maintenant",
    "hello",
    "hi",
    "hey",
    "ola",
    "hola",
    "bonjour",
    "hallo",
    "svp",
    "porfa",
    "pfv",
    "graag",
    "nu",
    "aub",
    "alsjeblieft",
    "alstublieft",
    "per",
    "favore",
    "subito",
    "vite",
    "adesso",
    "een",
    "uno",
    "une",
    "de",
    "ja",
    "customer",
    "technical",
    "technischen",
    "tecnico",
    "tecnica",
    "technique",
    "echtes",
];

/// Words that open a complaint rather than a refusal: "why can't I talk to a human" asks.
const WHY: &[&str] = &["why", "porque", "pq", "pourquoi", "warum", "wieso", "perche", "waarom"];

/// Words that make what follows a comparison ("more helpful than a human agent").
const COMPARATIVES: &[&str] = &[
    "than", "als", "dan", "more", "better", "mas", "mejor", "plus", "meilleur", "piu", "meglio", "mais", "melhor",
    "like", "wie", "come", "comme", "como", "zoals",
];

/// Words after which a person is the subject of what follows ("the person who looks after my
/// cat needs…"), not who is asked for.
const RELATIVES: &[&str] = &["who", "that", "qui", "que", "die", "der", "che", "dat", "welche", "welcher"];

/// Words that say something exists: with a person after them a visitor asks whether someone is
/// there, and a negation beside them is a complaint ("is there no human here?").
const EXISTENCE: &[&str] = &["there", "gibt", "hay", "tem", "er", "hier"];

/// Asking whether someone can do something ("can the billing team look at it?"): a request when
/// the person follows closely.
const MODALS: &[&str] =
    &["can", "could", "kan", "pode", "puo", "peut", "kann", "konnen", "puede", "pueden", "pouvez", "possono"];

/// A clause about opening hours asks when, not for someone ("customer service hours?").
const HOURS: &[&str] = &["hours", "horario", "horarios", "horaires", "offnungszeiten", "orari", "openingstijden"];

/// How far (in tokens) a verb may stand from the noun it asks for.
const VERB_BEFORE_NOUN: usize = 7;
const VERB_AFTER_NOUN: usize = 4;
/// How many tokens before a match a negation still applies.
const NEGATION_REACH: usize = 3;

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

/// Stands where an excluded phrase was: a word that is in no list.
const EXCLUDED: &str = "\u{0}";

/// Returns the first non-negated request for a human in `message`, if any.
pub fn detect(message: &str, phrases: &BotPhrases) -> Option<IntentMatch> {
    for clause in text::clauses(message) {
        let clause: Vec<String> = clause.iter().map(|t| squeeze(t)).collect();
        let clause = without_excluded(clause, &phrases.excluded);
        if let Some(found) = detect_in_clause(&clause, &phrases.extra) {
            return Some(found);
        }
    }
    None
}

/// Each occurrence of an excluded phrase becomes one `EXCLUDED` word, so "talk to Human Touch
/// support" still asks for support while "Human Touch won't pair" names no one.
fn without_excluded(clause: Vec<String>, excluded: &[Vec<String>]) -> Vec<String> {
    if excluded.is_empty() {
        return clause;
    }
    let mut out = Vec::with_capacity(clause.len());
    let mut at = 0;
    while at < clause.len() {
        match excluded.iter().find(|p| clause[at..].starts_with(p)) {
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

fn detect_in_clause(clause: &[String], extra_phrases: &[Vec<String>]) -> Option<IntentMatch> {
    for phrase in extra_phrases {
        if let Some(m) = find_phrase(clause, phrase) {
            return Some(m);
        }
    }
    if clause.iter().any(|t| HOURS.contains(&t.as_str())) {
        return None;
    }
    for phrase in STRONG_PHRASES {
        let phrase: Vec<String> = phrase.split(' ').map(str::to_owned).collect();
        if let Some(m) = find_phrase(clause, &phrase) {
            return Some(m);
        }
    }
    if let Some(m) = find_verb_and_noun(clause) {
        return Some(m);
    }
    bare_noun(clause)
}

fn find_phrase(clause: &[String], phrase: &[String]) -> Option<IntentMatch> {
    if phrase.is_empty() || phrase.len() > clause.len() {
        return None;
    }
    (0..=clause.len() - phrase.len())
        .find(|&start| clause[start..start + phrase.len()] == *phrase && !negated(clause, start, start + phrase.len()))
        .map(|_| IntentMatch { matched: phrase.join(" ") })
}

fn find_verb_and_noun(clause: &[String]) -> Option<IntentMatch> {
    for (noun_at, noun) in clause.iter().enumerate() {
        if !HUMAN_NOUNS.contains(&noun.as_str()) {
            continue;
        }
        let lo = noun_at.saturating_sub(VERB_BEFORE_NOUN);
        let hi = (noun_at + VERB_AFTER_NOUN).min(clause.len() - 1);
        let subject_of_relative = clause.get(noun_at + 1).is_some_and(|t| RELATIVES.contains(&t.as_str()));
        for verb_at in lo..=hi {
            let word = clause[verb_at].as_str();
            let asks = REQUEST_VERBS.contains(&word)
                || (verb_at < noun_at && (EXISTENCE.contains(&word) || is_existence_pair(clause, verb_at)))
                || (verb_at < noun_at && noun_at - verb_at <= 3 && MODALS.contains(&word));
            if verb_at == noun_at || !asks || (verb_at > noun_at && subject_of_relative) {
                continue;
            }
            let (start, end) = (verb_at.min(noun_at), verb_at.max(noun_at) + 1);
            if !negated(clause, start, end) {
                return Some(IntentMatch { matched: format!("{} … {}", clause[start], clause[end - 1]) });
            }
        }
    }
    None
}

/// A message that is only a human noun and fillers ("human please", "Agent!").
fn bare_noun(clause: &[String]) -> Option<IntentMatch> {
    let noun = clause.iter().find(|t| HUMAN_NOUNS.contains(&t.as_str()))?;
    let only_fillers =
        clause.iter().all(|t| t == noun || FILLERS.contains(&t.as_str()) || HUMAN_NOUNS.contains(&t.as_str()));
    only_fillers.then(|| IntentMatch { matched: noun.clone() })
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

/// Italian "c'è" and French "il y a" (split by their apostrophes and folded): something exists.
fn is_existence_pair(clause: &[String], at: usize) -> bool {
    let pair = (clause[at].as_str(), clause.get(at + 1).map(String::as_str));
    matches!(pair, ("c", Some("e")) | ("y", Some("a")))
}

/// True when a negation word stands inside the match or up to `NEGATION_REACH` tokens before it,
/// unless the clause is a complaint ("why can't I…", "is there no…"); or when a comparison
/// precedes it ("more helpful than a human", "you write like a real person").
fn negated(clause: &[String], start: usize, end: usize) -> bool {
    let reach = &clause[start.saturating_sub(NEGATION_REACH)..end];
    let before = &clause[..start];
    let complaint = before.iter().any(|t| WHY.contains(&t.as_str()))
        || before.windows(2).any(|w| w[0] == "por" && w[1] == "que")
        || clause[..end]
            .iter()
            .enumerate()
            .any(|(i, t)| EXISTENCE.contains(&t.as_str()) || is_existence_pair(clause, i));
    // Before the match, or inside it ("you talk like a real person").
    let window = start.saturating_sub(4)..end;
    let compared = clause[window.clone()].iter().zip(window).any(|(t, i)| {
        COMPARATIVES.contains(&t.as_str())
            // "how do I…" and "I'd like…" ask; they do not compare.
            && i > 0
            && !(t == "like" && matches!(clause[i - 1].as_str(), "d" | "would" | "i" | "we"))
    });
    compared || (!complaint && reach.iter().any(|t| NEGATIONS.contains(&t.as_str())))
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
