//! Validates request bodies against Zendesk's own OpenAPI schemas (extracted by
//! `schemas/extract.py` into `schemas/zendesk-requests.json`).

use std::sync::OnceLock;

use serde_json::{Value, json};

const SUBSET: &str = include_str!("../schemas/zendesk-requests.json");

/// The extracted document (schemas plus the source's sha256).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(SUBSET).expect("zendesk-requests.json is valid JSON"))
}

fn validator(name: &str) -> jsonschema::Validator {
    let doc = document();
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    jsonschema::validator_for(&schema).expect("extracted schemas compile")
}

/// Errors of `body` against the named schema (`TicketCreateRequest`, `TicketUpdateRequest`).
pub fn violations(name: &str, body: &Value) -> Vec<String> {
    static CREATE: OnceLock<jsonschema::Validator> = OnceLock::new();
    static UPDATE: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = match name {
        "TicketCreateRequest" => CREATE.get_or_init(|| validator(name)),
        "TicketUpdateRequest" => UPDATE.get_or_init(|| validator(name)),
        other => panic!("no schema extracted for {other}"),
    };
    validator.iter_errors(body).map(|e| format!("{name}{}: {e}", e.instance_path)).collect()
}
