//! Where callbacks may go: public internet addresses only. A callback URL is chosen by whoever
//! holds a settings token; without this, it could point Handoff at the Lambda's own network
//! (instance metadata, VPC services) and read the answers' statuses back from the audit trail.
//! Checked on the URL when settings are saved and on every resolved address when sending.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
/// public-only resolver (its switch for local addresses is returned with it), no redirects, no
/// proxy, a bounded connect.
pub fn public_client(connect_timeout: Duration) -> Result<(reqwest::Client, PublicOnly), crate::tls::TlsError> {
    let resolver = PublicOnly::default();
    let http = crate::tls::http_client(|builder| {
        builder
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver.clone()))
            .user_agent(concat!("Handoff/", env!("CARGO_PKG_VERSION")))
    })?;
    Ok((http, resolver))
}
