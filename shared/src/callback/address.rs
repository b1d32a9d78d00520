//! Where callbacks may go: public internet addresses only. A callback URL is chosen by whoever
//! holds a settings token; without this, it could point Handoff at the Lambda's own network
//! (instance metadata, VPC services) and read the answers' statuses back from the audit trail.
//! Checked on the URL when settings are saved and on every resolved address when sending.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use crate::address::{is_local_host, is_public};

/// reqwest's resolver for callbacks: drops every non-public address (unless local addresses
/// are allowed, as in the local runner and tests), and fails when none is left.
#[derive(Clone, Default)]
pub struct PublicOnly {
    pub allow_local: Arc<AtomicBool>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local.load(Ordering::Relaxed);
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<std::net::SocketAddr> = found.filter(|a| allow_local || is_public(a.ip())).collect();
            if kept.is_empty() {
                return Err("the callback host has no public address".into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for addresses a caller chooses (callback URLs, the visitor's file URLs): the
/// public-only resolver, no redirects, no proxy, a bounded connect. Built on its first request:
/// most invocations send no callback and fetch no file, so init does not pay for it.
#[derive(Clone)]
pub struct PublicClient {
    resolver: PublicOnly,
    connect_timeout: Duration,
    http: Arc<OnceLock<reqwest::Client>>,
}

impl PublicClient {
    pub fn new(connect_timeout: Duration) -> Self {
        Self { resolver: PublicOnly::default(), connect_timeout, http: Arc::default() }
    }

    /// Lets requests reach local and private addresses (the local runner and tests only).
    pub fn allow_local_addresses(&self, allow: bool) {
        self.resolver.allow_local.store(allow, Ordering::Relaxed);
    }

    pub fn allows_local_addresses(&self) -> bool {
        self.resolver.allow_local.load(Ordering::Relaxed)
    }

    /// The client, built the first time it is asked for.
    pub fn http(&self) -> Result<&reqwest::Client, crate::tls::TlsError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let resolver = self.resolver.clone();
        let http = crate::tls::http_client(crate::tls::Trust::PublicAndExtra, |builder| {
            builder
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(resolver))
                .user_agent(concat!("Handoff/", env!("CARGO_PKG_VERSION")))
        })?;
        Ok(self.http.get_or_init(|| http))
    }
}
