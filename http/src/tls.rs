//! HTTPS without a proxy (`--tls-cert`, `--tls-key`): rustls through
//! tokio-rustls, HTTP/1.1 only (the connection limits are HTTP/1's). The
//! certificate and key are read and checked when the server starts, so a
//! missing or bad file is one clear line then, not a failed handshake at
//! the first client.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
pub use tokio_rustls::TlsAcceptor;

/// The acceptor for the certificate chain in `cert` and the private key in
/// `key` (PEM files: PKCS#8, PKCS#1 or SEC1 keys). The error names the
/// file and what is wrong with it.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|error| format!("cannot read the certificate {}: {error}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cannot read the certificate {}: {error}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("cannot read the private key {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|error| {
            format!(
                "the certificate {} and the key {} do not make a TLS identity: {error}",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
