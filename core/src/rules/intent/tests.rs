use super::reading::MAX_CLAUSE_WORDS;
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
    for message in ["I want Human Touch", "where can I talk about human touch?", "Can I get the HUMAN-TOUCH bundle?"] {
        assert!(detect(message, &BotPhrases::default()).is_some(), "fires without the exclusion: {message}");
        assert!(detect(message, &phrases).is_none(), "excluded: {message}");
    }
    let found = detect("my Human Touch broke, I want to talk to a human", &phrases).expect("the request still counts");
    assert!(found.matched.contains("human"), "{found:?}");
    // An exclusion also wins over the bot's own extra phrase.
    let both = BotPhrases::new(&["human touch".to_owned()], &excluded);
    assert!(detect("human touch", &both).is_none());
}
