//! The permission matrix: every route of the route table, called with no token, with another
//! bot's token, and with each scope alone and all together, passes authorization exactly when the
//! token is for this bot and carries the route's scope (checked by the handler itself, on top of
//! API Gateway's authorizer).

use serde_json::Value;

use crate::support::*;

const ALL_SCOPES: [&str; 8] = [
    "ZENDESK_ACTIONS.CREATE_TICKET",
    "ZENDESK_ACTIONS.READ_TICKET_STATUS",
    "ZENDESK_ACTIONS.READ_CUSTOMER_CONTEXT",
    "ZENDESK_ACTIONS.CREATE_OAUTH",
    "ZENDESK_ACTIONS.READ_INTEGRATIONS",
    "ZENDESK_ACTIONS.DELETE_INTEGRATIONS",
    "ZENDESK_ACTIONS.READ_VISITOR_DATA",
    "ZENDESK_ACTIONS.DELETE_VISITOR_DATA",
];

/// Problem types that mean "not authorized".
const REFUSALS: [&str; 3] =
    ["urn:handoff:problem:unauthenticated", "urn:handoff:problem:wrong-bot", "urn:handoff:problem:insufficient-scope"];

/// A case: its name, the token (bot, scopes) if any, and whether authorization must pass.
type Case<'a> = (String, Option<(String, Vec<&'a str>)>, bool);

fn concrete(template: &str, bot: &str) -> String {
    template.replace("{bot_id}", bot).replace("{conversation_id}", "conv-perm").replace("{ticket_id}", "123")
}

#[tokio::test]
async fn every_route_allows_exactly_its_scope_for_its_own_bot() {
    let h = Harness::new(Backend::Memory).await;
    let mut checked = 0;
    for route in handoff::api::ROUTES {
        let Some(scope) = route.scope else { continue };
        let path = concrete(route.path, &h.bot_id);
        let body = matches!(route.method, "POST" | "PUT").then_some("{}");
        let query = if route.path.ends_with("/customers/context") || route.path.ends_with("/visitors") {
            "email=ana%40example.com"
        } else {
            ""
        };
        let mut cases: Vec<Case> = vec![
            ("no token".into(), None, false),
            ("no scope".into(), Some((h.bot_id.clone(), vec![])), false),
            ("another bot, right scope".into(), Some(("another-bot".into(), vec![scope])), false),
            ("all scopes".into(), Some((h.bot_id.clone(), ALL_SCOPES.to_vec())), true),
        ];
        for single in ALL_SCOPES {
            cases.push((format!("only {single}"), Some((h.bot_id.clone(), vec![single])), single == scope));
        }
        for (name, token, allowed) in cases {
            let token_ref = token.as_ref().map(|(bot, scopes)| (bot.as_str(), scopes.as_slice()));
            let mut event = api_event(route.method, &path, query, body, token_ref);
            if body.is_some() {
                event["headers"]["content-type"] = Value::from("application/json");
            }
            let reply = h.send_any(event).await;
            let refused = reply.body["type"].as_str().is_some_and(|t| REFUSALS.contains(&t));
            assert_eq!(
                !refused, allowed,
                "{} {} with {name}: {} {}",
                route.method, route.path, reply.status, reply.raw
            );
            assert!(reply.status.as_u16() < 500, "{} {} with {name}: {}", route.method, route.path, reply.raw);
            checked += 1;
        }
    }
    let routes = handoff::api::ROUTES.iter().filter(|r| r.scope.is_some()).count();
    assert_eq!(handoff::http::scopes::ALL, ALL_SCOPES, "the runner's tokens get every scope these cases know");
    assert!(routes >= 11, "the route table lists the JWT routes");
    assert_eq!(checked, routes * (4 + ALL_SCOPES.len()), "every JWT route was walked with every case");
}

/// Each function serves exactly its own routes: every route of the table is an endpoint of the one
/// function it names, and nothing else is.
#[test]
fn every_route_is_an_endpoint_of_the_function_it_names() {
    let mut served = Vec::new();
    for function in handoff::api::FUNCTIONS {
        for endpoint in function.endpoints {
            assert_eq!(endpoint.route.function, function.name, "{} {}", endpoint.route.method, endpoint.route.path);
            served.push(endpoint.route);
        }
    }
    assert_eq!(served.len(), handoff::api::ROUTES.len(), "no endpoint twice, none missing");
    for route in handoff::api::ROUTES {
        assert!(served.contains(route), "{} {} has no endpoint", route.method, route.path);
    }
}

/// A function's router answers 404 to every route of another function, however it is called,
/// and serves its own (as API Gateway sends each function only its own routes, a Lambda does not
/// even link another's handlers).
#[tokio::test]
async fn each_function_answers_404_to_another_functions_route() {
    let h = Harness::new(Backend::Memory).await;
    let mut refused = 0;
    for function in handoff::api::FUNCTIONS {
        let router = handoff::api::Router::new(&[function]);
        for route in handoff::api::ROUTES {
            let path = concrete(route.path, &h.bot_id);
            let method: lambda_http::http::Method = route.method.parse().unwrap();
            if route.function == function.name {
                assert!(router.find(&method, &path).is_ok(), "{} serves {} {}", function.name, route.method, path);
                continue;
            }
            let body = matches!(route.method, "POST" | "PUT").then_some("{}");
            let event = api_event(route.method, &path, "", body, Some((h.bot_id.as_str(), &ALL_SCOPES[..])));
            let request = lambda_http::request::from_str(&event.to_string()).expect("event");
            let reply = Reply::from(router.dispatch(&h.app, request).await);
            assert_eq!(
                reply.status.as_u16(),
                404,
                "{} answered {} {}: {}",
                function.name,
                route.method,
                path,
                reply.raw
            );
            assert_eq!(reply.body["type"], "urn:handoff:problem:not-found", "{}", reply.raw);
            refused += 1;
        }
    }
    let functions = handoff::api::FUNCTIONS.len();
    assert_eq!(functions, 5, "five HTTP functions");
    assert_eq!(refused, handoff::api::ROUTES.len() * (functions - 1), "every other function's route was tried");
}
