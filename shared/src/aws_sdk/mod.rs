//! The AWS SDK configuration a Lambda function builds from its environment, with nothing read
//! but environment variables: Lambda hands a function its region and its role's credentials as
//! `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, so the
//! SDK's default chain (profile files, web identity, ECS, IMDS, STS) would only cost init time
//! and binary size. `AWS_ENDPOINT_URL` still applies (the cold-start stand-in, local tries).
//! Requests go through reqwest (`connector`), trusting the Amazon Trust Services roots
//! (`crate::tls::aws_client_config`), built when the first request is made, not at init. The local
//! runner keeps the SDK's full credential chain, with the same HTTP client.

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::config::ConfigError;

mod connector;
mod lazy_client;
pub use connector::http_client;
pub use lazy_client::LazyClient;

/// The SDK configuration from `env` (a lookup, so tests need not touch the process's variables).
pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, ConfigError> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let region = set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION")).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let key = |name: &'static str| set(name).ok_or(ConfigError::Missing(name));
    // Read once: a Lambda's variables do not change while its execution environment lives.
    let credentials = Credentials::new(
        key("AWS_ACCESS_KEY_ID")?,
        key("AWS_SECRET_ACCESS_KEY")?,
        set("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(connector::http_client());
    // The SDK's own switches for FIPS and dual-stack endpoints, as its default chain reads them.
    let flag = |name: &str| set(name).map(|v| v.trim().eq_ignore_ascii_case("true"));
    if let Some(fips) = flag("AWS_USE_FIPS_ENDPOINT") {
        config = config.use_fips(fips);
    }
    if let Some(dual_stack) = flag("AWS_USE_DUALSTACK_ENDPOINT") {
        config = config.use_dual_stack(dual_stack);
    }
    if let Some(endpoint) = set("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn a_lambda_environment_gives_region_credentials_and_endpoint() {
        let env = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "example-secret"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ];
        let config = from_env(lookup(&env)).expect("config");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());
        assert!(config.http_client().is_some());
        let without_endpoint = from_env(lookup(&env[..3])).expect("config");
        assert_eq!(without_endpoint.endpoint_url(), None);
        assert_eq!((without_endpoint.use_fips(), without_endpoint.use_dual_stack()), (None, None));
        let fips = [env[0], env[1], env[2], ("AWS_USE_FIPS_ENDPOINT", "true"), ("AWS_USE_DUALSTACK_ENDPOINT", "TRUE")];
        let fips = from_env(lookup(&fips)).expect("config");
        assert_eq!((fips.use_fips(), fips.use_dual_stack()), (Some(true), Some(true)));
    }

    #[test]
    fn a_missing_region_or_key_is_named() {
        let no_region = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        let e = from_env(lookup(&no_region)).expect_err("no region");
        assert_eq!(e.to_string(), "environment variable AWS_REGION is required");
        let no_secret = [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", " ")];
        let e = from_env(lookup(&no_secret)).expect_err("no secret key");
        assert_eq!(e.to_string(), "environment variable AWS_SECRET_ACCESS_KEY is required");
    }
}
