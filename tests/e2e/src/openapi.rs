//! The API description (`shared/openapi.json`) and the route table (`handoff::api::ROUTES`) say
//! the same thing: every route served is described, every described route is served, each with
//! its scope, and every answer described has a body schema (or is one that has no body).
//! Schemathesis checks the answers themselves against it (`scripts/test`).

use std::collections::BTreeSet;

use handoff::api::{OPENAPI_JSON, ROUTES};
use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Statuses that carry no body.
const EMPTY_BODY_STATUSES: [&str; 6] = ["204", "301", "302", "303", "304", "307"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("shared/openapi.json is JSON")
}

/// Follows a local `$ref` (`#/components/…`) if there is one.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => {
            let target = pointer.strip_prefix('#').unwrap_or_else(|| panic!("only local $refs: {pointer}"));
            let found = doc.pointer(target).unwrap_or_else(|| panic!("{pointer} points at nothing"));
            resolve(doc, found)
        }
        None => value,
    }
}

/// Every (METHOD, path, operation) in the document.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut found = Vec::new();
    for (path, item) in paths {
        let item = resolve(doc, item);
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_ascii_uppercase(), path.clone(), operation));
            }
        }
    }
    found
}

#[test]
fn the_description_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi is `{version}`");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!((bearer["type"].as_str(), bearer["scheme"].as_str()), (Some("http"), Some("bearer")));
    assert_eq!(bearer["bearerFormat"], "JWT");
}

#[test]
fn every_route_served_is_described_and_every_described_route_is_served() {
    let doc = document();
    let described: BTreeSet<(String, String)> =
        operations(&doc).into_iter().map(|(method, path, _)| (method, path)).collect();
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(served.len(), ROUTES.len(), "ROUTES lists a route twice");
    let undescribed: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undescribed.is_empty() && unserved.is_empty(),
        "served but not in shared/openapi.json: {undescribed:?}; described but not served: {unserved:?}"
    );
}

#[test]
fn every_operation_names_its_scope_or_has_no_security() {
    let doc = document();
    let global_bearer = doc["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let label = format!("{method} {path}");
        let route = ROUTES.iter().find(|r| r.method == method && r.path == path).expect("checked above");
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{label}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{label}: operationId `{id}` is used twice");
        assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{label}: no summary");
        let extension = operation.get("x-handoff-scope").and_then(Value::as_str);
        let security = operation.get("security").and_then(Value::as_array);
        match route.scope {
            Some(scope) => {
                assert_eq!(extension, Some(scope), "{label}: x-handoff-scope");
                let description = operation["description"].as_str().unwrap_or_default();
                assert!(description.contains(scope), "{label}: the description does not name {scope}");
                let bearer = match security {
                    Some(requirements) => requirements.iter().any(|r| r.get("bearer").is_some()),
                    None => global_bearer,
                };
                assert!(bearer, "{label}: needs the bearer scheme");
            }
            None => {
                assert_eq!(extension, None, "{label}: a route without a token names no scope");
                assert_eq!(security, Some(&Vec::new()), "{label}: must say `security: []`");
            }
        }
    }
}

#[test]
fn every_answer_has_a_body_schema_or_no_body() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
        assert!(responses.keys().any(|s| s.starts_with('2') || s.starts_with('3')), "{method} {path}: no success");
        for (status, response) in responses {
            let label = format!("{method} {path} {status}");
            let response = resolve(&doc, response);
            assert!(response["description"].is_string(), "{label}: no description");
            if EMPTY_BODY_STATUSES.contains(&status.as_str()) {
                assert!(response.get("content").is_none(), "{label}: has no body, so no content");
                continue;
            }
            let content = response["content"].as_object().unwrap_or_else(|| panic!("{label}: no content"));
            assert!(!content.is_empty(), "{label}: no content");
            for (media, body) in content {
                assert!(body.get("schema").is_some(), "{label} {media}: no schema");
                // The console's page and its script are the only answers that are not JSON.
                let expected = match (status.starts_with('2'), path.as_str()) {
                    (true, "/console" | "/console/oauth-done") => "text/html",
                    (true, "/console/handoff-zendesk.js") => "text/javascript",
                    (true, _) => "application/json",
                    (false, _) => "application/problem+json",
                };
                assert_eq!(media, expected, "{label}");
            }
        }
    }
}

#[test]
fn every_ref_points_at_something() {
    let doc = document();
    fn walk(doc: &Value, value: &Value, refs: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(pointer) = map.get("$ref").and_then(Value::as_str) {
                    *refs += 1;
                    let target = pointer.strip_prefix('#').expect("only local $refs");
                    assert!(doc.pointer(target).is_some(), "{pointer} points at nothing");
                }
                map.values().for_each(|v| walk(doc, v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v, refs)),
            _ => {}
        }
    }
    let mut refs = 0;
    walk(&doc, &doc, &mut refs);
    assert!(refs > 0);
}
