//! What every outbound TLS connection trusts, decided in one place and without touching the
//! filesystem at init (issue 16: the system store's 146 files were read once per client).
//!
//! - Zendesk: Mozilla's root program, compiled in (`webpki-roots`).
//! - Bots' callback URLs and visitors' file URLs: the same, plus the PEM certificates of
//!   `HANDOFF_EXTRA_CA_FILE` when it names a file (a callback behind a private CA). The extra
//!   roots are never trusted for Zendesk, whose client carries tokens and client secrets.
//!
//! Each configuration is built once per process and shared by the clients that use it.
//! - AWS (DynamoDB, Secrets Manager): the five Amazon Trust Services roots, which are what AWS
//!   endpoints chain to and what Amazon Trust Services asks custom trust stores to hold
//!   (`aws_roots.pem`, copied from the Debian `ca-certificates` store); see `crate::aws_sdk`.
//!
//! The crypto is `ring`'s (rustls's other provider, aws-lc, is about 1.3 MiB more code in every
//! binary; what it adds, post-quantum key exchange and FIPS, is in docs/decisions.md).
//!
//! The trade-off, in docs/decisions.md: a certificate added to the operating system's store is
//! not trusted unless it is also in `HANDOFF_EXTRA_CA_FILE`.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// `HANDOFF_EXTRA_CA_FILE`: a PEM file of further roots to trust for outbound HTTPS (not AWS).
pub const EXTRA_CA_FILE_ENV: &str = "HANDOFF_EXTRA_CA_FILE";

/// The Amazon Trust Services roots (Amazon Root CA 1–4, Starfield Services Root CA G2), PEM.
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!("tls/aws_roots.pem");

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{EXTRA_CA_FILE_ENV} `{path}` cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{EXTRA_CA_FILE_ENV} `{path}` holds no usable PEM certificate: {reason}")]
    NoCertificate { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("HTTP client: {0}")]
    Client(String),
}

/// An HTTPS client that trusts what this module says: every outbound reqwest client is built
/// here, `configure` adding its own timeouts, redirects and resolver.
pub fn http_client(
    trust: Trust,
    configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, TlsError> {
    let config = match trust {
        Trust::Public => public_config()?,
        Trust::PublicAndExtra => client_config()?,
    };
    let tls = config.as_ref().clone();
    configure(reqwest::Client::builder().tls_backend_preconfigured(tls))
        .build()
        .map_err(|e| TlsError::Client(e.to_string()))
}

/// Which roots a client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Mozilla's roots only (Zendesk).
    Public,
    /// Mozilla's roots and `HANDOFF_EXTRA_CA_FILE`'s (callback and file URLs).
    PublicAndExtra,
}

/// Mozilla's roots only, built once.
fn public_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static SHARED: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = SHARED.get() {
        return Ok(config.clone());
    }
    let config = Arc::new(build_client_config(&[])?);
    Ok(SHARED.get_or_init(|| config).clone())
}

/// Mozilla's roots and `HANDOFF_EXTRA_CA_FILE`'s, built once (from the environment). A bad file
/// is an error each time it is asked for; `App::new` asks at init, so the function fails its
/// init with the reason.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static SHARED: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = SHARED.get() {
        return Ok(config.clone());
    }
    let extra = match std::env::var_os(EXTRA_CA_FILE_ENV) {
        Some(path) if !path.is_empty() => {
            let path = path.into_string().map_err(|_| TlsError::Unreadable {
                path: "(not UTF-8)".to_owned(),
                reason: "the path is not valid UTF-8".to_owned(),
            })?;
            Some(read_pem_file(path.trim())?)
        }
        _ => None,
    };
    let config = Arc::new(build_client_config(extra.as_deref().unwrap_or_default())?);
    Ok(SHARED.get_or_init(|| config).clone())
}

/// Mozilla's roots and the certificates `extra_roots` holds, with the process's crypto provider.
pub fn build_client_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for certificate in extra_roots {
        roots.add(certificate.clone()).map_err(|e| TlsError::Config(format!("an extra root is not usable: {e}")))?;
    }
    with_roots(roots)
}

/// The one crypto provider of the process (see docs/decisions.md for why this one).
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The configuration for AWS endpoints: the Amazon Trust Services roots only (five
/// certificates parsed, once per process, when the SDK makes its first connection).
pub fn aws_client_config() -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    let certificates = parse_pem(AWS_ROOTS_PEM).map_err(TlsError::Config)?;
    let (_, unusable) = roots.add_parsable_certificates(certificates);
    if unusable > 0 {
        return Err(TlsError::Config(format!("{unusable} of the AWS roots are not usable")));
    }
    with_roots(roots)
}

fn with_roots(roots: RootCertStore) -> Result<rustls::ClientConfig, TlsError> {
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates of a PEM file; an unreadable file or one with none is an error naming it.
pub fn read_pem_file(path: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Unreadable { path: path.to_owned(), reason: e.to_string() })?;
    parse_pem(&pem).map_err(|reason| TlsError::NoCertificate { path: path.to_owned(), reason })
}

/// Every certificate of a PEM text; none at all is an error.
pub fn parse_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    if certificates.is_empty() {
        return Err("no `BEGIN CERTIFICATE` block".to_owned());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{PrivateKeyDer, ServerName};
    use rustls::{ClientConnection, ServerConnection};

    const TEST_CA: &[u8] = include_bytes!("tls/testdata/ca.pem");
    const TEST_LEAF: &[u8] = include_bytes!("tls/testdata/leaf.pem");
    const TEST_LEAF_KEY: &[u8] = include_bytes!("tls/testdata/leaf.key");

    /// A TLS handshake in memory between `client` and a `localhost` server whose certificate the
    /// test CA signed: the client's verdict on the server's certificate.
    fn handshake(client: rustls::ClientConfig) -> Result<(), rustls::Error> {
        let leaf = parse_pem(TEST_LEAF).expect("leaf");
        let key = PrivateKeyDer::from_pem_slice(TEST_LEAF_KEY).expect("key");
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(leaf, key)?;
        let mut server = ServerConnection::new(Arc::new(server))?;
        let name = ServerName::try_from("localhost").expect("name");
        let mut client = ClientConnection::new(Arc::new(client), name)?;
        for _ in 0..10 {
            let mut to_server = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut to_server).expect("write");
            }
            server.read_tls(&mut to_server.as_slice()).expect("read");
            server.process_new_packets()?;
            let mut to_client = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut to_client).expect("write");
            }
            client.read_tls(&mut to_client.as_slice()).expect("read");
            client.process_new_packets()?;
            if !client.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not finish in ten rounds");
    }

    #[test]
    fn the_compiled_in_roots_refuse_a_private_ca_that_an_extra_roots_file_makes_trusted() {
        let refused = handshake(build_client_config(&[]).expect("config")).expect_err("unknown issuer");
        assert!(
            matches!(refused, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
            "{refused:?}"
        );
        let extra = parse_pem(TEST_CA).expect("ca");
        handshake(build_client_config(&extra).expect("config")).expect("the test CA is trusted when added");
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100, "Mozilla's program has well over a hundred roots");
    }

    #[test]
    fn the_aws_roots_are_the_five_amazon_trust_services_roots() {
        let text = std::str::from_utf8(AWS_ROOTS_PEM).expect("PEM is text");
        let roots = parse_pem(AWS_ROOTS_PEM).expect("parse");
        assert_eq!(roots.len(), 5);
        let mut store = RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(roots), (5, 0), "each is a usable trust anchor");
        for name in
            ["Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4", "Starfield Services"]
        {
            assert!(text.contains(name), "{name} is missing");
        }
    }

    #[test]
    fn a_bad_extra_roots_file_is_refused_with_its_name() {
        let missing = read_pem_file("/nonexistent/handoff-ca.pem").expect_err("missing file");
        assert!(missing.to_string().contains("/nonexistent/handoff-ca.pem"), "{missing}");
        let dir = std::env::temp_dir().join(format!("handoff-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").expect("write");
        let refused = read_pem_file(junk.to_str().expect("utf-8")).expect_err("no certificate");
        assert!(matches!(refused, TlsError::NoCertificate { .. }), "{refused}");
        let good = dir.join("ca.pem");
        std::fs::write(&good, TEST_CA).expect("write");
        assert_eq!(read_pem_file(good.to_str().expect("utf-8")).expect("read").len(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
