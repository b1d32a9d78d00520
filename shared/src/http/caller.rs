//! Who is calling: the bot and scopes from the JWT that API Gateway's authorizer verified,
//! read from `requestContext.authorizer.jwt`. Every handler checks them itself as well
//! (tenant isolation does not rest on the gateway's route configuration alone).

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::problem::Problem;

/// Scopes of Handoff's API (the JWT's `scope` claim).
pub mod scopes {
    pub const CREATE_TICKET: &str = "ZENDESK_ACTIONS.CREATE_TICKET";
    pub const READ_TICKET_STATUS: &str = "ZENDESK_ACTIONS.READ_TICKET_STATUS";
    pub const READ_CUSTOMER_CONTEXT: &str = "ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT";
    pub const CREATE_OAUTH: &str = "ZENDESK_ACTIONS.CREATE_OAUTH";
    pub const READ_INTEGRATIONS: &str = "ZENDESK_ACTIONS.READ_INTEGRATIONS";
    pub const DELETE_INTEGRATIONS: &str = "ZENDESK_ACTIONS.DELETE_INTEGRATIONS";
    /// A visitor's data-protection requests: their export, and their erasure.
    pub const READ_VISITOR_DATA: &str = "ZENDESK_ACTIONS.READ_VISITOR_DATA";
    pub const DELETE_VISITOR_DATA: &str = "ZENDESK_ACTIONS.DELETE_VISITOR_DATA";

    /// Every scope of Handoff's API (the local runner's tokens get them all by default).
    pub const ALL: [&str; 8] = [
        CREATE_TICKET,
        READ_TICKET_STATUS,
        READ_CUSTOMER_CONTEXT,
        CREATE_OAUTH,
        READ_INTEGRATIONS,
        DELETE_INTEGRATIONS,
        READ_VISITOR_DATA,
        DELETE_VISITOR_DATA,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub bot_id: Option<String>,
    pub scopes: Vec<String>,
    pub subject: Option<String>,
    /// A visitor email the token's issuer verified (`visitor_email` claim), for status lookups.
    pub visitor_email: Option<String>,
}

impl Caller {
    /// Reads the verified claims; a request without them answers 401.
    pub fn from_request(request: &Request) -> Result<Self, Problem> {
        let jwt = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ApiGatewayV2httpRequestContext { authorizer: Some(a), .. })) => {
                a.jwt.as_ref()
            }
            _ => None,
        };
        let Some(jwt) = jwt else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "No verified token",
                "Send a bearer token issued for this bot; the request carried no verified claims.",
            ));
        };
        let scopes = match &jwt.scopes {
            Some(list) if !list.is_empty() => list.clone(),
            _ => jwt.claims.get("scope").map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
        };
        Ok(Self {
            bot_id: jwt.claims.get("bot_id").cloned(),
            scopes,
            subject: jwt.claims.get("sub").cloned(),
            visitor_email: jwt.claims.get("visitor_email").cloned().filter(|e| !e.trim().is_empty()),
        })
    }

    /// The token must name this bot and carry `scope`; otherwise 403 saying which is missing.
    pub fn authorize(&self, bot_id: &str, scope: &str) -> Result<(), Problem> {
        if self.bot_id.as_deref() != Some(bot_id) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "wrong-bot",
                "Token is for another bot",
                "The token's bot_id claim does not match the bot in the path.",
            ));
        }
        if !self.scopes.iter().any(|s| s == scope) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "insufficient-scope",
                "Missing scope",
                format!("This action needs the scope {scope}."),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(bot: Option<&str>, scopes: &[&str]) -> Caller {
        Caller {
            bot_id: bot.map(str::to_owned),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            subject: None,
            visitor_email: None,
        }
    }

    #[test]
    fn authorize_checks_bot_then_scope() {
        assert!(caller(Some("b1"), &[scopes::CREATE_TICKET]).authorize("b1", scopes::CREATE_TICKET).is_ok());
        let wrong_bot = caller(Some("b2"), &[scopes::CREATE_TICKET]).authorize("b1", scopes::CREATE_TICKET);
        assert_eq!(wrong_bot.unwrap_err().status, 403);
        let no_bot = caller(None, &[scopes::CREATE_TICKET]).authorize("b1", scopes::CREATE_TICKET);
        assert!(no_bot.unwrap_err().kind.ends_with("wrong-bot"));
        let no_scope = caller(Some("b1"), &[scopes::READ_TICKET_STATUS]).authorize("b1", scopes::CREATE_TICKET);
        assert!(no_scope.unwrap_err().kind.ends_with("insufficient-scope"));
    }

    #[test]
    fn missing_context_is_unauthenticated() {
        let request = Request::default();
        assert_eq!(Caller::from_request(&request).unwrap_err().status, 401);
    }
}
