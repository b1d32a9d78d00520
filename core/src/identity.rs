//! Who the visitor is, as far as Handoff may trust it. Only the token's `visitor_email` claim is a
//! verified identity: the chat platform signed it. What a body says (session start, an
//! escalation's `visitor`) is the platform's unverified word: it fills in a ticket's requester,
//! but never unlocks a ticket and never overrides a claim. Pure.

use crate::escalation::request::Visitor;

/// The request names another visitor than the token's claim (or a conversation already bound to
/// one): refused, whatever else it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token is for another visitor")]
pub struct VisitorMismatch;

/// An email as compared and stored: trimmed, lower case (Zendesk matches users case-insensitively).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// True when both name the same address.
pub fn same_email(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A claim binds the conversation to its visitor: a conversation already recorded for another
/// email (at session start, or as an escalation's requester) refuses that claim, and one whose
/// visitor a claim recorded (`verified`) refuses every caller without a claim. Without a claim on
/// either side nothing is bound (and nothing is unlocked either).
pub fn check_binding<'a>(
    claim: Option<&str>,
    recorded: impl IntoIterator<Item = Option<&'a str>>,
    verified: bool,
) -> Result<(), VisitorMismatch> {
    let Some(claim) = claim else {
        return if verified { Err(VisitorMismatch) } else { Ok(()) };
    };
    match recorded.into_iter().flatten().any(|email| !same_email(email, claim)) {
        true => Err(VisitorMismatch),
        false => Ok(()),
    }
}

/// The escalation's requester: the email from the token's claim, else the body's, else the one
/// recorded at session start; name and phone from the body, else the session. A body whose email
/// differs from the claim is refused.
pub fn requester(claim: Option<&str>, body: &Visitor, session: Option<&Visitor>) -> Result<Visitor, VisitorMismatch> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let (Some(claim), Some(email)) = (claim, given(&body.email))
        && !same_email(claim, &email)
    {
        return Err(VisitorMismatch);
    }
    let from_session = |pick: fn(&Visitor) -> &Option<String>| session.and_then(|s| given(pick(s)));
    let email = match claim {
        Some(claim) => Some(normalize_email(claim)),
        None => given(&body.email).or_else(|| from_session(|s| &s.email)),
    };
    Ok(Visitor {
        name: given(&body.name).or_else(|| from_session(|s| &s.name)),
        email,
        phone: given(&body.phone).or_else(|| from_session(|s| &s.phone)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(name: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Visitor {
        Visitor { name: name.map(Into::into), email: email.map(Into::into), phone: phone.map(Into::into) }
    }

    #[test]
    fn the_claim_then_the_body_then_the_session() {
        let session = visitor(Some("Sam"), Some("sam@example.com"), Some("+1 555"));
        let empty = Visitor::default();
        assert_eq!(requester(None, &empty, Some(&session)), Ok(session.clone()));
        let body = visitor(Some("Bo"), Some("bo@example.com"), None);
        assert_eq!(
            requester(None, &body, Some(&session)),
            Ok(visitor(Some("Bo"), Some("bo@example.com"), Some("+1 555")))
        );
        assert_eq!(
            requester(Some(" Cat@Example.com "), &empty, Some(&session)).map(|v| v.email),
            Ok(Some("cat@example.com".into()))
        );
        assert_eq!(requester(Some("cat@example.com"), &body, None), Err(VisitorMismatch));
        let same = visitor(None, Some("CAT@example.com"), None);
        assert!(requester(Some("cat@example.com"), &same, None).is_ok());
        assert_eq!(requester(None, &visitor(Some("  "), Some(""), None), None), Ok(Visitor::default()));
    }

    #[test]
    fn a_claim_binds_a_recorded_conversation() {
        assert_eq!(check_binding(None, [Some("alice@example.com")], false), Ok(()));
        assert_eq!(
            check_binding(None, [Some("alice@example.com")], true),
            Err(VisitorMismatch),
            "claimed: claim needed"
        );
        assert_eq!(check_binding(Some("eve@example.com"), [None, None], false), Ok(()));
        assert_eq!(check_binding(Some("Alice@example.com"), [Some("alice@example.com"), None], true), Ok(()));
        assert_eq!(
            check_binding(Some("eve@example.com"), [None, Some("alice@example.com")], false),
            Err(VisitorMismatch)
        );
    }
}
