//! What an admin types as "your Zendesk" becomes the account's subdomain: `acme`,
//! `acme.zendesk.com` and `https://acme.zendesk.com/agent/tickets/1` all mean `acme`.

/// Why a value is not a Zendesk subdomain; the message says what one is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a Zendesk subdomain: give the part before .zendesk.com (e.g. `acme` for \
     acme.zendesk.com), 1-63 letters, digits or hyphens"
)]
pub struct InvalidSubdomain(pub String);

/// Normalises an admin's input to a lower-case subdomain.
pub fn normalize_subdomain(input: &str) -> Result<String, InvalidSubdomain> {
    let invalid = || InvalidSubdomain(input.chars().take(100).collect());
    let trimmed = input.trim();
    let host = match trimmed.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") => {
            rest.split(['/', '?', '#']).next().unwrap_or("")
        }
        Some(_) => return Err(invalid()),
        None => trimmed.trim_end_matches('/'),
    };
    let host = host.to_ascii_lowercase();
    let label = match host.strip_suffix(".zendesk.com") {
        Some(label) => label,
        None if !host.contains('.') => host.as_str(),
        None => return Err(invalid()),
    };
    let valid = (1..=63).contains(&label.len())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if valid { Ok(label.to_owned()) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_admins_paste() {
        for input in [
            "acme",
            "ACME",
            " acme ",
            "acme.zendesk.com",
            "https://acme.zendesk.com",
            "https://acme.zendesk.com/",
            "https://acme.zendesk.com/agent/tickets/1",
            "http://Acme.Zendesk.com?x=1",
        ] {
            assert_eq!(normalize_subdomain(input).as_deref(), Ok("acme"), "{input}");
        }
        assert_eq!(normalize_subdomain("my-team-2").as_deref(), Ok("my-team-2"));
    }

    #[test]
    fn rejects_anything_else_and_says_what_a_subdomain_is() {
        for input in [
            "",
            "acme.example.com",
            "https://evil.example/acme.zendesk.com",
            "ftp://acme.zendesk.com",
            "ac me",
            "-acme",
            "acme_1",
            "a.b.zendesk.com.evil",
            &"a".repeat(64),
        ] {
            let error = normalize_subdomain(input).unwrap_err();
            assert!(error.to_string().contains("before .zendesk.com"), "{input}");
        }
    }
}
