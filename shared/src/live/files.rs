//! The visitor's files: decoded from the request, or fetched from the URL the platform hosts
//! them at. A URL is chosen by whoever holds a chat token, so it is fetched as callbacks are
//! sent: public addresses only (checked on the URL and on every address its host resolves to),
//! no redirects, bounded in time and in size (the answer is read no further than the limit).

use std::time::Duration;

use crate::callback::address::{PublicClient, is_local_host};
use crate::deadline::Deadline;
use crate::live::Attachment;

/// Why a file could not be had; the text names the kind of failure, never the URL (it may
/// carry a token the platform put in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the URL is not https or not a public address")]
    NotPublic,
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the file's URL answered {0}")]
    Status(u16),
    #[error("the file's URL did not answer in time")]
    Timeout,
    #[error("the file's URL could not be reached")]
    Unreachable,
}

/// The HTTP client for the platform's file URLs, built once per cold start.
#[derive(Clone)]
pub struct FileFetcher {
    client: PublicClient,
}

impl FileFetcher {
    pub fn new(connect_timeout: Duration) -> Self {
        Self { client: PublicClient::new(connect_timeout) }
    }

    /// Lets files come from local and private addresses over plain HTTP (local runner, tests).
    pub fn allow_local_addresses(&self, allow: bool) {
        self.client.allow_local_addresses(allow);
    }

    /// The file's bytes: decoded when inline, else fetched, at most `limit` bytes.
    pub async fn bytes(
        &self,
        attachment: &Attachment,
        limit: usize,
        deadline: Deadline,
    ) -> Result<bytes::Bytes, FileError> {
        if let Some(bytes) = attachment.decoded() {
            return if bytes.len() > limit { Err(FileError::TooLarge(limit)) } else { Ok(bytes.into()) };
        }
        let url = attachment.url.as_deref().and_then(|u| url::Url::parse(u).ok()).ok_or(FileError::NotPublic)?;
        let local_allowed = self.client.allows_local_addresses();
        let local = url.host().is_none_or(|host| is_local_host(&host));
        if (local || url.scheme() != "https") && !local_allowed {
            return Err(FileError::NotPublic);
        }
        let http = self.client.http().map_err(|e| {
            tracing::warn!(error = %e, "the file client could not be built");
            FileError::Unreachable
        })?;
        let request = http.get(url).timeout(deadline.remaining()).send();
        let mut response = match request.await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => return Err(FileError::Status(r.status().as_u16())),
            Err(e) if e.is_timeout() => return Err(FileError::Timeout),
            Err(_) => return Err(FileError::Unreachable),
        };
        let announced = response.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if announced.is_some_and(|n| n > limit) {
            return Err(FileError::TooLarge(limit));
        }
        // Sized once when the length is known: a growing buffer would hold up to twice the file.
        let mut bytes = Vec::with_capacity(announced.unwrap_or(64 * 1024));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() > limit => return Err(FileError::TooLarge(limit)),
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => return Ok(bytes.into()),
                Err(e) if e.is_timeout() => return Err(FileError::Timeout),
                Err(_) => return Err(FileError::Unreachable),
            }
        }
    }
}
