//! Errors shared across the domain. Each layer has its own `thiserror` type; the HTTP edge turns
//! them into problem+json (see `http::problem`).

use serde::Serialize;

/// One invalid field of a request, as reported in a 422 problem's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Why a request body could not be read as the JSON object a route takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON at all (400); the text names the position, never the content.
    #[error("the body is not valid JSON ({0})")]
    Malformed(String),
    /// JSON of the wrong shape (422): each entry names the exact path (`messages[0].role`).
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
}

/// Parses a request body that must be a JSON object into `T`. The one parser every route's body
/// goes through, so all of them answer alike: a body that is JSON but not an object (`[]`, `"x"`,
/// `3`, `null`) is refused naming `body` (serde would otherwise read an array as a struct); a
/// wrong field is named by its path. Messages are scrubbed: serde quotes the value it rejects, and
/// a value may be a credential, so only the kind of value and what was expected are kept.
pub fn parse_json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| BodyError::Malformed(place(&e)))?;
        let kind = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        return Err(BodyError::Invalid(vec![FieldError::new("body", format!("must be a JSON object, not {kind}"))]));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| match describe(&e) {
        // serde_json reports a number or a list where an enum is expected as a syntax error;
        // if the body is valid JSON, it is the value at that path that is wrong.
        BodyError::Malformed(_) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            BodyError::Invalid(vec![FieldError::new(field, "has a value of the wrong type")])
        }
        described => described,
    })?;
    deserializer.end().map_err(|e| BodyError::Malformed(place(&e)))?;
    Ok(parsed)
}

fn place(e: &serde_json::Error) -> String {
    format!("line {} column {}", e.line(), e.column())
}

/// A serde error as a scrubbed field error: the path, and what was wrong without the value.
pub fn describe(error: &serde_path_to_error::Error<serde_json::Error>) -> BodyError {
    let inner = error.inner();
    if inner.classify() != serde_json::error::Category::Data {
        return BodyError::Malformed(place(inner));
    }
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let (field, message) = describe_data(&path, &inner.to_string());
    BodyError::Invalid(vec![FieldError::new(if field.is_empty() { "body".to_owned() } else { field }, message)])
}

/// serde's data error messages have fixed shapes; the part after `expected` comes from the type,
/// the part before it from the input. Only the former (and field names) is repeated.
fn describe_data(path: &str, text: &str) -> (String, String) {
    let join = |name: &str| if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    let expected = text.rsplit_once(", expected ").map(|(_, e)| strip_position(e).to_owned());
    if let Some(rest) = text.strip_prefix("missing field `") {
        return (join(&quoted(rest)), "is required".to_owned());
    }
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let name = quoted(rest);
        let field = if path == name || path.ends_with(&format!(".{name}")) { path.to_owned() } else { join(&name) };
        return (field, "is not part of this request".to_owned());
    }
    if text.starts_with("unknown variant") {
        let allowed = expected.map(|e| format!(" (expected {e})")).unwrap_or_default();
        return (path.to_owned(), format!("is not one of the allowed values{allowed}"));
    }
    if let Some(rest) = text.strip_prefix("invalid type: ") {
        let found = rest.split(['`', '"', ',']).next().unwrap_or_default().trim();
        let wanted = expected.unwrap_or_else(|| "another type".to_owned());
        return (path.to_owned(), format!("must be {wanted}, not {found}"));
    }
    match expected {
        Some(e) if text.starts_with("invalid value") || text.starts_with("invalid length") => {
            (path.to_owned(), format!("has a value that is not allowed (expected {e})"))
        }
        _ => (path.to_owned(), "has a value that could not be read".to_owned()),
    }
}

/// serde_json appends ` at line L column C` to data errors.
fn strip_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(default)]
        items: Vec<Inner>,
        #[serde(default)]
        token: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Small,
    }

    fn invalid(body: &str) -> Vec<(String, String)> {
        match parse_json_object::<Outer>(body.as_bytes()) {
            Err(BodyError::Invalid(errors)) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn json_that_is_not_an_object_names_the_body() {
        for body in ["[]", " [{}]", "\"x\"", "3", "null", "true"] {
            let errors = invalid(body);
            assert_eq!(errors[0].0, "body", "{body}");
            assert!(errors[0].1.starts_with("must be a JSON object"), "{body}: {errors:?}");
        }
        assert!(matches!(parse_json_object::<Outer>(b"[1,"), Err(BodyError::Malformed(_))));
        assert!(matches!(parse_json_object::<Outer>(b""), Err(BodyError::Malformed(_))));
        assert!(matches!(parse_json_object::<Outer>(b"{} x"), Err(BodyError::Malformed(_))));
    }

    #[test]
    fn a_wrong_field_is_named_by_its_path_and_its_value_is_not_quoted() {
        assert_eq!(invalid(r#"{"items": [{"count": 1}, {"count": "s3cr3t"}]}"#)[0].0, "items[1].count");
        assert_eq!(invalid(r#"{"items": [{}]}"#)[0].0, "items[0].count");
        assert_eq!(invalid(r#"{"items": [{"count": 1, "cuont": 2}]}"#)[0].0, "items[0].cuont");
        assert_eq!(invalid(r#"{"tokn": "s3cr3t"}"#)[0].0, "tokn");
        // serde_json calls a number where an enum belongs a syntax error; it is a wrong value.
        assert_eq!(invalid(r#"{"items": [{"count": 1, "kind": 3}]}"#)[0].0, "items[0].kind");
        assert_eq!(invalid(r#"{"items": [{"count": 1, "kind": "s3cr3t"}]}"#)[0].0, "items[0].kind");
        let errors = invalid(r#"{"token": ["s3cr3t, expected a s3cr3t"]}"#);
        assert_eq!(errors[0].0, "token");
        assert!(!format!("{errors:?}").contains("s3cr3t"), "{errors:?}");
        let errors = invalid(r#"{"items": [{"count": "s3cr3t, expected s3cr3t at line 9"}]}"#);
        assert!(!format!("{errors:?}").contains("s3cr3t"), "{errors:?}");
    }
}
