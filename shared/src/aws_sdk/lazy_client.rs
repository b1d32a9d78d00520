//! An AWS service client built when it is first used, not at init. Building one (`Client::new`)
//! parses the SDK's endpoint partition table and assembles its runtime plugins: under
//! `scripts/coldstart` that was most of what a function's init still cost once the trust roots
//! were compiled in, and a request refused before any storage (a bad token, a malformed body)
//! never needs it.

use std::sync::OnceLock;

use aws_types::SdkConfig;

pub struct LazyClient<C> {
    client: OnceLock<C>,
    config: Option<SdkConfig>,
    build: fn(&SdkConfig) -> C,
}

impl<C> LazyClient<C> {
    /// A client built from `config` by `build` (e.g. `aws_sdk_dynamodb::Client::new`) on first use.
    pub fn on_first_use(config: SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        Self { client: OnceLock::new(), config: Some(config), build }
    }

    /// A client built already (tests, the local runner).
    pub fn ready(client: C) -> Self {
        let built = OnceLock::new();
        let _ = built.set(client);
        Self { client: built, config: None, build: |_| unreachable!("a ready client is never built") }
    }

    /// Whether the client has been built (for the tests of what init does).
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

/// Method calls reach the client (`store.client.put_item()`), building it the first time.
impl<C> std::ops::Deref for LazyClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.client.get_or_init(|| (self.build)(self.config.as_ref().expect("a lazy client keeps its configuration")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_built_once_on_first_use() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        let lazy = LazyClient::on_first_use(SdkConfig::builder().build(), |_| BUILT.fetch_add(1, Ordering::SeqCst));
        assert!(!lazy.is_built());
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing built before the first use");
        assert_eq!(*lazy, 0);
        assert_eq!(*lazy, 0, "the same client the second time");
        assert!(lazy.is_built());
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert_eq!(*LazyClient::ready(7), 7);
    }
}
