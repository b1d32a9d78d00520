//! The one-sentence status a bot shows a visitor ("Pending — last updated 2 hours ago by agent
//! Carla"), in English, Spanish, French, German, Portuguese, Italian or Dutch, with relative
//! times. Pure.

use crate::zendesk::types::TicketStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    En,
    Es,
    Fr,
    De,
    Pt,
    It,
    Nl,
}

impl Language {
    /// `es`, `es-MX`, `pt_BR`, or an `Accept-Language` value (the supported language with the
    /// highest weight)… English for anything else.
    pub fn from_locale(locale: Option<&str>) -> Self {
        locale.and_then(Self::supported).unwrap_or(Self::En)
    }

    /// The best supported language a locale or `Accept-Language` value names, if any.
    pub fn supported(value: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let language = match tag.split(['-', '_']).next().unwrap_or("") {
                "en" => Self::En,
                "es" => Self::Es,
                "fr" => Self::Fr,
                "de" => Self::De,
                "pt" => Self::Pt,
                "it" => Self::It,
                "nl" => Self::Nl,
                _ => continue,
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map(|(_, language)| language)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::Fr => "fr",
            Self::De => "de",
            Self::Pt => "pt",
            Self::It => "it",
            Self::Nl => "nl",
        }
    }
}

/// Who changed the ticket last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updater {
    pub name: String,
    pub is_agent: bool,
}

/// The status as a visitor reads it.
pub fn status_label(status: TicketStatus, language: Language) -> &'static str {
    use Language::*;
    use TicketStatus::*;
    match (language, status) {
        (En, New) => "New",
        (En, Open) => "Open",
        (En, Pending) => "Pending",
        (En, Hold) => "On hold",
        (En, Solved) => "Solved",
        (En, Closed) => "Closed",
        (Es, New) => "Nuevo",
        (Es, Open) => "Abierto",
        (Es, Pending) => "Pendiente",
        (Es, Hold) => "En espera",
        (Es, Solved) => "Resuelto",
        (Es, Closed) => "Cerrado",
        (Fr, New) => "Nouveau",
        (Fr, Open) => "Ouvert",
        (Fr, Pending) => "En attente",
        (Fr, Hold) => "En pause",
        (Fr, Solved) => "Résolu",
        (Fr, Closed) => "Clos",
        (De, New) => "Neu",
        (De, Open) => "Offen",
        (De, Pending) => "Wartend",
        (De, Hold) => "Angehalten",
        (De, Solved) => "Gelöst",
        (De, Closed) => "Geschlossen",
        (Pt, New) => "Novo",
        (Pt, Open) => "Aberto",
        (Pt, Pending) => "Pendente",
        (Pt, Hold) => "Em espera",
        (Pt, Solved) => "Resolvido",
        (Pt, Closed) => "Fechado",
        (It, New) => "Nuovo",
        (It, Open) => "Aperto",
        (It, Pending) => "In attesa",
        (It, Hold) => "In sospeso",
        (It, Solved) => "Risolto",
        (It, Closed) => "Chiuso",
        (Nl, New) => "Nieuw",
        (Nl, Open) => "Open",
        (Nl, Pending) => "In afwachting",
        (Nl, Hold) => "In de wacht",
        (Nl, Solved) => "Opgelost",
        (Nl, Closed) => "Gesloten",
    }
}

/// "2 hours ago" and its translations, for a time `seconds` in the past (a future time, from
/// clock skew, reads as "just now").
pub fn relative(seconds: i64, language: Language) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let (n, unit) = match () {
        _ if seconds < 60 => (0, Unit::Now),
        _ if minutes < 60 => (minutes, Unit::Minute),
        _ if hours < 24 => (hours, Unit::Hour),
        _ if days < 2 => (1, Unit::Yesterday),
        _ => (days, Unit::Day),
    };
    let one = n == 1;
    use Language::*;
    match (language, unit) {
        (En, Unit::Now) => "just now".into(),
        (En, Unit::Yesterday) => "yesterday".into(),
        (En, u) => format!("{n} {}{} ago", u.en(), if one { "" } else { "s" }),
        (Es, Unit::Now) => "hace un momento".into(),
        (Es, Unit::Yesterday) => "ayer".into(),
        (Es, Unit::Minute) => format!("hace {n} minuto{}", if one { "" } else { "s" }),
        (Es, Unit::Hour) => format!("hace {n} hora{}", if one { "" } else { "s" }),
        (Es, Unit::Day) => format!("hace {n} días"),
        (Fr, Unit::Now) => "à l'instant".into(),
        (Fr, Unit::Yesterday) => "hier".into(),
        (Fr, Unit::Minute) => format!("il y a {n} minute{}", if one { "" } else { "s" }),
        (Fr, Unit::Hour) => format!("il y a {n} heure{}", if one { "" } else { "s" }),
        (Fr, Unit::Day) => format!("il y a {n} jours"),
        (De, Unit::Now) => "gerade eben".into(),
        (De, Unit::Yesterday) => "gestern".into(),
        (De, Unit::Minute) => format!("vor {n} Minute{}", if one { "" } else { "n" }),
        (De, Unit::Hour) => format!("vor {n} Stunde{}", if one { "" } else { "n" }),
        (De, Unit::Day) => format!("vor {n} Tagen"),
        (Pt, Unit::Now) => "agora mesmo".into(),
        (Pt, Unit::Yesterday) => "ontem".into(),
        (Pt, Unit::Minute) => format!("há {n} minuto{}", if one { "" } else { "s" }),
        (Pt, Unit::Hour) => format!("há {n} hora{}", if one { "" } else { "s" }),
        (Pt, Unit::Day) => format!("há {n} dias"),
        (It, Unit::Now) => "proprio ora".into(),
        (It, Unit::Yesterday) => "ieri".into(),
        (It, Unit::Minute) => format!("{n} {} fa", if one { "minuto" } else { "minuti" }),
        (It, Unit::Hour) => format!("{n} {} fa", if one { "ora" } else { "ore" }),
        (It, Unit::Day) => format!("{n} giorni fa"),
        (Nl, Unit::Now) => "zojuist".into(),
        (Nl, Unit::Yesterday) => "gisteren".into(),
        (Nl, Unit::Minute) => format!("{n} {} geleden", if one { "minuut" } else { "minuten" }),
        // Dutch counts hours in the singular: "2 uur geleden".
        (Nl, Unit::Hour) => format!("{n} uur geleden"),
        (Nl, Unit::Day) => format!("{n} dagen geleden"),
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Now,
    Minute,
    Hour,
    Yesterday,
    Day,
}

impl Unit {
    fn en(self) -> &'static str {
        match self {
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            _ => "day",
        }
    }
}

/// "Pending — last updated 2 hours ago by agent Carla": the status, and when and by whom it was
/// last changed when known.
pub fn sentence(
    status: TicketStatus,
    updated_seconds_ago: Option<i64>,
    updater: Option<&Updater>,
    language: Language,
) -> String {
    let label = status_label(status, language);
    let Some(ago) = updated_seconds_ago else { return label.to_owned() };
    let when = relative(ago, language);
    let by = updater.map(|u| {
        use Language::*;
        match (language, u.is_agent) {
            (En, true) => format!(" by agent {}", u.name),
            (En, false) => format!(" by {}", u.name),
            (Es, true) => format!(" por el agente {}", u.name),
            (Es, false) => format!(" por {}", u.name),
            (Fr, true) => format!(" par l'agent {}", u.name),
            (Fr, false) => format!(" par {}", u.name),
            (De, true) => format!(" von Agent {}", u.name),
            (De, false) => format!(" von {}", u.name),
            (Pt, true) => format!(" pelo agente {}", u.name),
            (Pt, false) => format!(" por {}", u.name),
            (It, true) => format!(" dall'agente {}", u.name),
            (It, false) => format!(" da {}", u.name),
            (Nl, true) => format!(" door medewerker {}", u.name),
            (Nl, false) => format!(" door {}", u.name),
        }
    });
    let updated = match language {
        Language::En => "last updated",
        Language::Es => "última actualización",
        Language::Fr => "dernière mise à jour",
        Language::De => "zuletzt aktualisiert",
        Language::Pt => "última atualização",
        Language::It => "ultimo aggiornamento",
        Language::Nl => "laatst bijgewerkt",
    };
    format!("{label} — {updated} {when}{}", by.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::*;
    use TicketStatus::*;

    fn carla() -> Updater {
        Updater { name: "Carla".into(), is_agent: true }
    }

    #[test]
    fn the_example_sentence_in_each_language() {
        let two_hours = Some(2 * 3600 + 120);
        let expected = [
            (En, "Pending — last updated 2 hours ago by agent Carla"),
            (Es, "Pendiente — última actualización hace 2 horas por el agente Carla"),
            (Fr, "En attente — dernière mise à jour il y a 2 heures par l'agent Carla"),
            (De, "Wartend — zuletzt aktualisiert vor 2 Stunden von Agent Carla"),
            (Pt, "Pendente — última atualização há 2 horas pelo agente Carla"),
            (It, "In attesa — ultimo aggiornamento 2 ore fa dall'agente Carla"),
            (Nl, "In afwachting — laatst bijgewerkt 2 uur geleden door medewerker Carla"),
        ];
        for (language, text) in expected {
            assert_eq!(sentence(Pending, two_hours, Some(&carla()), language), text);
        }
    }

    #[test]
    fn every_status_has_a_label_in_every_language() {
        for language in [En, Es, Fr, De, Pt, It, Nl] {
            let labels: Vec<&str> =
                [New, Open, Pending, Hold, Solved, Closed].iter().map(|s| status_label(*s, language)).collect();
            let mut unique = labels.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 6, "{language:?}: {labels:?}");
        }
        assert_eq!(sentence(Solved, None, None, En), "Solved");
        assert_eq!(sentence(Hold, Some(30), None, En), "On hold — last updated just now");
        assert_eq!(
            sentence(Open, Some(300), Some(&Updater { name: "Ana".into(), is_agent: false }), Fr),
            "Ouvert — dernière mise à jour il y a 5 minutes par Ana"
        );
        let ana = Updater { name: "Ana".into(), is_agent: false };
        assert_eq!(sentence(Hold, Some(60), Some(&ana), It), "In sospeso — ultimo aggiornamento 1 minuto fa da Ana");
        assert_eq!(
            sentence(Hold, Some(60), Some(&ana), Nl),
            "In de wacht — laatst bijgewerkt 1 minuut geleden door Ana"
        );
        assert_eq!(sentence(Solved, Some(30), None, It), "Risolto — ultimo aggiornamento proprio ora");
        assert_eq!(sentence(Solved, Some(30), None, Nl), "Opgelost — laatst bijgewerkt zojuist");
        let labels = |language| [New, Open, Pending, Hold, Solved, Closed].map(|s| status_label(s, language));
        assert_eq!(labels(It), ["Nuovo", "Aperto", "In attesa", "In sospeso", "Risolto", "Chiuso"]);
        assert_eq!(labels(Nl), ["Nieuw", "Open", "In afwachting", "In de wacht", "Opgelost", "Gesloten"]);
    }

    #[test]
    fn relative_times_pick_the_unit_and_the_plural() {
        assert_eq!(relative(-5, En), "just now");
        assert_eq!(relative(61, En), "1 minute ago");
        assert_eq!(relative(3600, En), "1 hour ago");
        assert_eq!(relative(30 * 3600, En), "yesterday");
        assert_eq!(relative(3 * 86_400, En), "3 days ago");
        assert_eq!(relative(3600, De), "vor 1 Stunde");
        assert_eq!(relative(3 * 86_400, Es), "hace 3 días");
        assert_eq!(relative(30 * 3600, Pt), "ontem");
        let italian = [
            (-5, "proprio ora"),
            (30, "proprio ora"),
            (61, "1 minuto fa"),
            (5 * 60, "5 minuti fa"),
            (3600, "1 ora fa"),
            (2 * 3600, "2 ore fa"),
            (30 * 3600, "ieri"),
            (3 * 86_400, "3 giorni fa"),
        ];
        for (seconds, text) in italian {
            assert_eq!(relative(seconds, It), text, "{seconds} s");
        }
        let dutch = [
            (-5, "zojuist"),
            (30, "zojuist"),
            (61, "1 minuut geleden"),
            (5 * 60, "5 minuten geleden"),
            (3600, "1 uur geleden"),
            (2 * 3600, "2 uur geleden"),
            (30 * 3600, "gisteren"),
            (3 * 86_400, "3 dagen geleden"),
        ];
        for (seconds, text) in dutch {
            assert_eq!(relative(seconds, Nl), text, "{seconds} s");
        }
    }

    #[test]
    fn locales_are_read_leniently() {
        assert_eq!(Language::from_locale(Some("pt-BR")), Pt);
        assert_eq!(Language::from_locale(Some("es_MX")), Es);
        assert_eq!(Language::from_locale(Some("fr-CA,fr;q=0.9,en;q=0.8")), Fr);
        assert_eq!(Language::from_locale(Some("ja")), En);
        assert_eq!(Language::from_locale(Some("es;q=0.1, fr;q=0.9")), Fr);
        assert_eq!(Language::from_locale(Some("ja, de;q=0.5")), De);
        assert_eq!(Language::from_locale(Some("it-IT")), It);
        assert_eq!(Language::from_locale(Some("it_CH")), It);
        assert_eq!(Language::from_locale(Some("nl-BE")), Nl);
        assert_eq!(Language::from_locale(Some("nl-BE,nl;q=0.9,en;q=0.5")), Nl);
        assert_eq!(Language::from_locale(Some("en;q=0.5, it;q=0.8")), It);
        assert_eq!(Language::supported("NL"), Some(Nl));
        assert_eq!((It.code(), Nl.code()), ("it", "nl"));
        assert_eq!(Language::from_locale(None), En);
    }

    #[test]
    fn every_status_reads_as_a_full_sentence_in_every_language() {
        let phrases = [
            (En, "last updated 3 days ago by agent Carla"),
            (Es, "última actualización hace 3 días por el agente Carla"),
            (Fr, "dernière mise à jour il y a 3 jours par l'agent Carla"),
            (De, "zuletzt aktualisiert vor 3 Tagen von Agent Carla"),
            (Pt, "última atualização há 3 dias pelo agente Carla"),
            (It, "ultimo aggiornamento 3 giorni fa dall'agente Carla"),
            (Nl, "laatst bijgewerkt 3 dagen geleden door medewerker Carla"),
        ];
        for (language, phrase) in phrases {
            for status in [New, Open, Pending, Hold, Solved, Closed] {
                let text = sentence(status, Some(3 * 86_400 + 5), Some(&carla()), language);
                assert_eq!(text, format!("{} — {phrase}", status_label(status, language)));
            }
        }
    }
}
