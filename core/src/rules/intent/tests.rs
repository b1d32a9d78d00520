use super::reading::MAX_CLAUSE_WORDS;
use super::*;

fn fires(message: &str) -> bool {
    detect(message, &BotPhrases::default()).is_some()
}

/// Fails naming every message that does not fire, not only the first.
fn assert_all_fire(messages: &[&str]) {
    let missed: Vec<&&str> = messages.iter().filter(|m| !fires(m)).collect();
    assert!(missed.is_empty(), "should fire: {missed:#?}");
}

/// Fails naming every message that fires.
fn assert_none_fire(messages: &[&str]) {
    let fired: Vec<&&str> = messages.iter().filter(|m| fires(m)).collect();
    assert!(fired.is_empty(), "should not fire: {fired:#?}");
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
    assert_all_fire(&cases);
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
    assert_none_fire(&cases);
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
    assert_all_fire(&cases);
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
    assert_none_fire(&cases);
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
    assert_all_fire(&[
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
    ]);
    assert_none_fire(&[
        "You can call me Sam",
        "How can I get a refund without talking to someone?",
        "I see the billing department charged me twice",
        "We have a sales team of 5 and need more licenses",
        "I want the premium service, how much is it?",
        "customer service hours?",
    ]);
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
    // A dash or an emoji ends a clause as a comma does, so a phrase with one could never match.
    for phrase in ["order — status", "order – status", "human 🙏", "order. status"] {
        assert!(phrase_problem(phrase, false).is_some(), "{phrase}");
    }
    assert!(phrase_problem("human-touch", false).is_none(), "a hyphen is inside a word");
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

/// The families the sixth development part showed the detector taking for requests, each in
/// words of its own (not the part's), with the requests beside them that must still fire.
#[test]
fn what_someone_would_do_if_asked_is_not_asked_for() {
    let not_asked = [
        // What to tell someone if they call: a condition, not a request.
        "if a technician calls me later, tell him the gate code is 4411",
        "si una asesora me llama, dígale que ya está resuelto",
        "wenn mich jemand vom Kundendienst anruft, bitte auf dem Handy",
        "se qualcuno dell'assistenza mi chiama, ditegli che sono in ufficio",
        "als iemand van de klantenservice mij belt, ik ben na vijf thuis",
        // An earlier request called off.
        "please cancel my request to speak with a manager, all sorted",
        "oubliez ma demande pour parler à un conseiller, c'est bon",
        "bitte stornieren Sie meine Anfrage für einen Rückruf",
        "I asked for an agent before but never mind, you fixed it",
        // Whether people read the chats afterwards, and who is behind the chat.
        "do real people read these transcripts later?",
        "leen personas reales estos chats despues?",
        "is there a person behind this chat or an AI? no worries either way",
        "je demande parce que ma soeur pense qu'il y a un humain derrière",
        "¿hay un humano escribiendo o eres IA? solo por saber",
        // A competitor's habit, reported speech, a past report, a product plan.
        "with your competitor you always have to call an advisor for this, here it's quick",
        "the letter says \"please call our support team to confirm\" but can I do it online?",
        "la señora del soporte ya me había escrito un correo, solo quiero la factura",
        "what does the Premium Support plan cost per month?",
        "you don't have to get anyone to call me, I'm in meetings all day",
        "onze vorige teamleider hebben we vorig jaar aangenomen, hoe voeg ik een gebruiker toe",
        "temos vagas para a equipe de suporte? vi no LinkedIn",
        "j'avais demandé un humain tout à l'heure mais c'est réglé",
        "I remember when you could talk to staff in the shop",
        // Declined first, rather not after, someone else's belief, an abandoned intention.
        "no agent please, just show me the invoice here",
        "should I really phone your support for this? rather not",
        "my sister swears there's a person typing these answers",
        "I was going to ask for a supervisor but it's fine now",
        // What a person did, someone else's seller, what used to be.
        "the agent has told me the refund takes a week, is that still true?",
        "how do I message the seller of this lamp?",
        "antigamente havia gente a atender o telefone?",
        "is it a colleague typing or is it all AI?",
        "preferisco chattare con te che con un operatore",
        // The visitor does the looking, their own person does, or who answers is asked about.
        "I want to check whether your support team replied to my email",
        "can I see if an agent answered?",
        "my accountant has to check the invoice first",
        "c un bot ou un humain qui me répond là ?",
        // Who someone else is, what someone did, the visitor's own people, what is no use.
        "is your CEO a real person?",
        "heeft een mens dit antwoord geschreven?",
        "ik heb een nieuwe medewerker nodig voor mijn winkel, hebben jullie vacatures?",
        "I need a person-to-person transfer of money, do you support that?",
        "do you need a human signature on the form?",
        "how can my customers reach a human in your widget?",
        "wie können meine Kunden in eurem Widget einen Mitarbeiter erreichen?",
        "talking to a person won't help, just tell me the refund date",
        "parler à quelqu'un ne servira à rien, donne-moi juste la date",
        "we want to offer human handoff to our own users, is it in the pro plan?",
    ];
    assert_none_fire(&not_asked);
    let asked = [
        "if possible I'd like to talk to someone",
        "if someone could call me back today that would be great",
        "if you can't help, transfer me to an agent",
        "please read my complaint and get me a human",
        "is anyone reading this??",
        "forward my case to whoever handles refunds",
        "I want to talk to the support team about my plan",
        "I have to talk to a person today",
        "my request: a human please",
        "Tem alguém aí??",
        "chama o supervisor aí por favor",
        "je demande à parler à votre supérieur",
        "no, a human please",
        "not a bot, a person please",
        "quiero hablar con un vendedor sobre un pedido grande",
        // An obligation before the person, "before" someone takes it, a person who can explain to me.
        "das muss jemand aus dem Kundendienst prüfen",
        "iemand van de klantenservice moet mijn bestelling bekijken",
        "wie lange noch, bevor mich ein Berater drannimmt?",
        "um atendente pode me ajudar com a fatura?",
        "mais y a vraiment personne ici ??",
        "ma nessuno mi può chiamare?",
        "ich würde das gern mit einem Mitarbeiter besprechen",
        // A quotation of the visitor's own words, or a button's label, still asks.
        "I said \"talk to a human\" three times already",
        "where is the button \"chat with an agent\"??",
        // Someone asked to look at or handle the case: wanted, obliged, "can …?", "please", "by".
        "I'd like this reviewed by your billing team",
        "que lo mire alguien de soporte, porfa",
        "iemand van jullie team moet hier naar kijken",
        "kann sich euer Technikteam das mal anschauen?",
        "o gerente pode ver isso pra mim pfv",
        "Would customer service take a look at my invoice.",
        "agradecería que un asesor revisara mi contrato",
        "please escalate my ticket",
        "la app no funciona 😕 quiero hablar con alguien",
        "algum vivente pode me atender?",
        "geben Sie das bitte weiter an einen Kollegen",
        "Pedido 5521 — un asesor, urgente",
        "my wife and I would like to speak to an agent",
        "talking to the bot won't help, get me a person",
        "is your billing team available? I need to talk to them",
        "is there a real person I can talk to?",
    ];
    assert_all_fire(&asked);
}

#[test]
fn a_quotation_left_open_or_many_quotations_are_read_whole_and_in_bounded_time() {
    // An unclosed quotation is text like any other.
    assert!(fires("the note says \"please, I want a human"));
    let many = "the note says \"call our support team now\" ".repeat(2_000);
    assert!(!fires(&many));
    assert!(fires(&format!("{many} I want a human")));
}

#[test]
fn the_model_takes_back_hears_alone_and_never_second_guesses_the_bot() {
    // The rules find nothing; the model is sure: heard, and it says by whom and weighing what.
    let heard = detect("somebody from accounts, please", &BotPhrases::default()).expect("heard by the model");
    assert!(matches!(heard.heard_by, HeardBy::Model { percent } if percent > 85), "{heard:?}");
    assert_eq!(heard.matched, "somebody");
    // What the rules hear they report as the lexicon's.
    let lexicon = detect("I want to talk to a human", &BotPhrases::default()).expect("heard");
    assert_eq!(lexicon.heard_by, HeardBy::Lexicon);
    // The model never hears alone what is refused, compared, or taken back by the rules, nor
    // someone else's quotation, nor a report of what someone did (a review found these).
    assert_none_fire(&[
        "I do not want anybody from accounts, please",
        "please cancel my request to speak with a manager, all sorted",
        "is your CEO a real person?",
        "The FAQ says \"speak to a representative\"",
        "Il messaggio dice \"parla con un operatore\"",
        "the billing department charged me twice",
        "someone from sales emailed me",
        "un agente me llamó ayer",
        "alguém do suporte me ligou",
        "een medewerker heeft me gebeld",
    ]);
    // What the visitor told before a request does not take it back, and an inch mark is no
    // quotation.
    assert_all_fire(&[
        "Tracking says delivered but nothing arrived, neighbours have nothing, the photo shows a different door. I need a human.",
        "Il tracking dice consegnato ma non è arrivato niente. Ho bisogno di una persona.",
        "The screen says \"No signal. Please, I need a technician to look at my 65\" TV",
    ]);
    // A bot's own phrase is never second-guessed, whatever the model thinks of it.
    let extra = ["order status".to_owned()];
    let bot = detect("order status", &BotPhrases::new(&extra, [])).expect("the bot's phrase");
    assert_eq!(bot.heard_by, HeardBy::BotPhrase);
    // Nor does the model hear a request in what the bot excluded.
    let excluded = ["accounts".to_owned()];
    assert!(detect("somebody from accounts, please", &BotPhrases::new([], &excluded)).is_none());
}

/// German requests the eighth development part showed missed, and what must stay quiet beside
/// them, in words of their own.
#[test]
fn german_complaints_that_nobody_is_there_ask_and_reports_of_beliefs_do_not() {
    let asked = [
        "ist da wirklich keiner, mit dem man reden kann??",
        "Haben Sie keinen Berater, der mir hilft?",
        "kann mir nicht einfach ein Mitarbeiter helfen??",
        "wie lange noch, bis einer von euch das übernimmt?",
        "wir möchten das gern mit einer zuständigen Person abstimmen",
        "Perché non posso parlare con una persona? Non chiedo la luna.",
        "I thought about it, I want to speak to a human",
    ];
    assert_all_fire(&asked);
    let not_asked = [
        "ich dachte anfangs wirklich, hier schreibt ein echter Mensch",
        "mein Mann glaubt, ich chatte mit einem echten Menschen",
        "eine Weiterleitung an einen Mitarbeiter ist nicht erforderlich",
        "muss ich wirklich mit jemandem telefonieren? will ich eigentlich nicht",
        "Est-ce que vous êtes une vraie personne ?",
        "Gibt es eine Schnittstelle zu DATEV für unsere Personalabteilung?",
    ];
    assert_none_fire(&not_asked);
}
