//! Files: `POST /api/v2/uploads?filename=…` takes the raw bytes and answers a token; a comment's
//! `uploads` attaches them (each token once); `GET /attachments/token/{token}/?name=…` serves a
//! file, as Zendesk's `content_url` does for a public attachment.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::State;
use crate::model::Attachment;
use crate::routes::{Answer, Query, error, json_answer};

/// Zendesk's limit on one file.
const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

pub(crate) fn create(s: &mut State, base_url: &str, query: &Query, content_type: Option<&str>, raw: &Bytes) -> Answer {
    let Some(name) =
        query.iter().find(|(k, _)| k == "filename").map(|(_, v)| v.trim().to_owned()).filter(|n| !n.is_empty())
    else {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest", "filename is required");
    };
    if raw.is_empty() || raw.len() > MAX_FILE_BYTES {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "RecordInvalid", "The file is empty or larger than 50 MB");
    }
    let id = s.next_id();
    let token = format!("simupload{id}");
    let attachment = Attachment {
        id,
        content_url: format!(
            "{base_url}/attachments/token/{token}/?name={}",
            url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        ),
        file_name: name,
        content_type: content_type.unwrap_or("application/octet-stream").to_owned(),
        size: raw.len() as u64,
    };
    let answer = json!({"upload": {"token": token, "expires_at": null, "attachment": attachment.to_json(), "attachments": [attachment.to_json()]}});
    s.files.insert(token.clone(), (attachment.content_type.clone(), raw.clone()));
    s.uploads.insert(token, attachment);
    json_answer(StatusCode::CREATED, answer)
}

/// The attachments a comment's `uploads` names, taken (a token attaches once); Err with an
/// unknown token.
pub(crate) fn take(s: &mut State, comment: &Value) -> Result<Vec<Attachment>, String> {
    let Some(tokens) = comment.get("uploads").and_then(Value::as_array) else { return Ok(Vec::new()) };
    let tokens: Vec<&str> = tokens.iter().filter_map(Value::as_str).collect();
    if let Some(unknown) = tokens.iter().find(|t| !s.uploads.contains_key(**t)) {
        return Err((*unknown).to_owned());
    }
    Ok(tokens.iter().filter_map(|t| s.uploads.remove(*t)).collect())
}

/// `GET /attachments/token/{token}/`: the file's bytes.
pub(crate) fn serve(s: &State, token: &str) -> Answer {
    match s.files.get(token) {
        Some((content_type, bytes)) => {
            let mut answer = http::Response::new(Full::new(bytes.clone()));
            answer.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            answer
        }
        None => error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found"),
    }
}
