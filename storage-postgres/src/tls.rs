//! TLS to PostgreSQL as libpq's `sslmode` and `sslrootcert` mean it
//! (CONTRACT.md "Deployment"; PostgreSQL's documentation, "SSL Support",
//! table "SSL Mode Descriptions"):
//!
//! - `disable`: never TLS;
//! - `prefer` (the default): TLS when the server offers it, else plain;
//! - `require`: TLS or no connection;
//! - `verify-ca`: TLS, the server's chain checked against `sslrootcert`;
//! - `verify-full`: that, and the certificate names the host connected to.
//!
//! As in libpq, `prefer` and `require` check the chain when `sslrootcert`
//! is given, and nothing else; `verify-*` without `sslrootcert` is refused
//! (libpq would read `~/.postgresql/root.crt`; credlog takes no file it
//! was not named).
//!
//! tokio-postgres reads `sslmode` only as `disable`, `prefer` or `require`
//! and refuses `sslrootcert`: [`PostgresUrl::parse`] takes both out of the
//! URL before handing the rest to it. The TLS itself is rustls on the
//! `ring` provider (the one the HTTPS listener uses), through
//! tokio-postgres-rustls.

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::Manager;
use deadpool_postgres::ManagerConfig;
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// libpq's `sslmode`, the five values CONTRACT.md "Deployment" names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, else plain (the default).
    Prefer,
    /// TLS or no connection; the chain checked only with `sslrootcert`.
    Require,
    /// TLS, the chain checked against `sslrootcert`, not the host name.
    VerifyCa,
    /// TLS, the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    /// The name libpq gives it.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Why a PostgreSQL URL's TLS settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSettingError {
    /// `sslmode` is none of the five.
    #[error(
        "sslmode={0} is not supported: use disable, prefer, require, verify-ca or verify-full"
    )]
    UnknownMode(String),
    /// `verify-ca` or `verify-full` without a CA to verify against.
    #[error("sslmode={0} needs sslrootcert=FILE, the CA certificate(s) the server's certificate must chain to")]
    NoRootCert(&'static str),
    /// `sslrootcert=system` (libpq 16): not supported.
    #[error("sslrootcert=system is not supported: give the CA certificate file")]
    SystemRoots,
    /// The `sslrootcert` file cannot be read.
    #[error("cannot read sslrootcert {path}: {error}")]
    Unreadable {
        /// The file.
        path: String,
        /// What failed.
        error: String,
    },
    /// The `sslrootcert` file holds no usable certificate.
    #[error("sslrootcert {path} holds no usable CA certificate{detail}")]
    NoCertificate {
        /// The file.
        path: String,
        /// What was wrong, if known.
        detail: String,
    },
    /// A parameter's value is not well percent-encoded or quoted.
    #[error("the PostgreSQL URL's {0} cannot be read")]
    Malformed(&'static str),
    /// tokio-postgres refused the rest of the URL.
    #[error("the PostgreSQL URL cannot be read: {0}")]
    Url(String),
}

/// A PostgreSQL URL read: tokio-postgres's configuration, and the TLS
/// libpq's `sslmode` and `sslrootcert` asked for.
#[derive(Clone)]
pub struct PostgresUrl {
    /// Everything but the TLS settings (its `ssl_mode` set to match).
    pub config: tokio_postgres::Config,
    /// The mode asked for (`prefer` when none was).
    pub mode: SslMode,
    /// The CAs of `sslrootcert`, if given.
    roots: Option<Arc<RootCertStore>>,
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresUrl")
            .field("mode", &self.mode)
            .field("sslrootcert", &self.roots.is_some())
            .finish_non_exhaustive()
    }
}

impl PostgresUrl {
    /// Reads `url`, a URL (`postgres://user@host:port/db?sslmode=...`) or
    /// libpq's `key=value` form, taking out `sslmode` and `sslrootcert`.
    pub fn parse(url: &str) -> Result<PostgresUrl, TlsSettingError> {
        let (rest, mode, rootcert) = take_tls_parameters(url)?;
        let mode = match mode.as_deref() {
            None | Some("prefer") => SslMode::Prefer,
            Some("disable") => SslMode::Disable,
            Some("require") => SslMode::Require,
            Some("verify-ca") => SslMode::VerifyCa,
            Some("verify-full") => SslMode::VerifyFull,
            Some(other) => return Err(TlsSettingError::UnknownMode(other.to_owned())),
        };
        let config = tokio_postgres::Config::from_str(&rest)
            .map_err(|error| TlsSettingError::Url(error.to_string()))?;
        let roots = match rootcert.as_deref() {
            None => None,
            Some("system") => return Err(TlsSettingError::SystemRoots),
            Some(path) => Some(Arc::new(read_roots(path)?)),
        };
        PostgresUrl::new(config, mode, roots)
    }

    /// `config` as it is: its `ssl_mode` (`disable`, `prefer` or
    /// `require`), no certificate checked.
    pub fn from_config(config: tokio_postgres::Config) -> PostgresUrl {
        let mode = match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => SslMode::Disable,
            tokio_postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        };
        PostgresUrl {
            config,
            mode,
            roots: None,
        }
    }

    fn new(
        mut config: tokio_postgres::Config,
        mode: SslMode,
        roots: Option<Arc<RootCertStore>>,
    ) -> Result<PostgresUrl, TlsSettingError> {
        if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && roots.is_none() {
            return Err(TlsSettingError::NoRootCert(mode.name()));
        }
        config.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        Ok(PostgresUrl {
            config,
            mode,
            roots,
        })
    }

    /// The pool's connection manager: plain for `disable`, else rustls
    /// checking what the mode asks.
    pub(crate) fn manager(&self, manager: ManagerConfig) -> Result<Manager, rustls::Error> {
        if self.mode == SslMode::Disable {
            return Ok(Manager::from_config(
                self.config.clone(),
                tokio_postgres::NoTls,
                manager,
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Verifier {
            roots: self.roots.clone(),
            check_name: self.mode == SslMode::VerifyFull,
            provider: provider.clone(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Manager::from_config(
            self.config.clone(),
            MakeRustlsConnect::new(tls),
            manager,
        ))
    }
}

/// The CA certificates in the PEM file `path`.
fn read_roots(path: &str) -> Result<RootCertStore, TlsSettingError> {
    let unreadable = |error: String| TlsSettingError::Unreadable {
        path: path.to_owned(),
        error,
    };
    let pem = std::fs::read(path).map_err(|error| unreadable(error.to_string()))?;
    let mut roots = RootCertStore::empty();
    let mut detail = String::new();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|error| unreadable(error.to_string()))?;
        if let Err(error) = roots.add(cert) {
            detail = format!(": {error}");
        }
    }
    if roots.is_empty() {
        return Err(TlsSettingError::NoCertificate {
            path: path.to_owned(),
            detail,
        });
    }
    Ok(roots)
}

/// Checks the server's certificate as the mode asks: with no roots, not
/// at all (libpq's `prefer`/`require` without `sslrootcert`); else the
/// chain, and with `check_name` the host name too. The handshake's
/// signatures are always checked: the server holds the certificate's key.
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<RootCertStore>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if self.check_name {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `url` without its `sslmode` and `sslrootcert`, and their values.
type Taken = (String, Option<String>, Option<String>);

/// Takes `sslmode` and `sslrootcert` out of `url`, in either form.
fn take_tls_parameters(url: &str) -> Result<Taken, TlsSettingError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        take_from_query(url)
    } else {
        take_from_key_values(url)
    }
}

/// The URL form: `?name=value&...`, values percent-encoded.
fn take_from_query(url: &str) -> Result<Taken, TlsSettingError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None, None));
    };
    let (mut mode, mut rootcert, mut kept) = (None, None, Vec::new());
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "sslmode" => mode = Some(percent_decoded(value, "sslmode")?),
            "sslrootcert" => rootcert = Some(percent_decoded(value, "sslrootcert")?),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode, rootcert))
}

/// `%XX` decoded (and nothing else, as tokio-postgres reads a URL).
fn percent_decoded(value: &str, name: &'static str) -> Result<String, TlsSettingError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or(TlsSettingError::Malformed(name))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| TlsSettingError::Malformed(name))
}

/// libpq's `key=value` form: pairs apart by white space, `=` with white
/// space around it or not, a value quoted in `'...'` or bare, `\` escaping
/// the next character in either.
fn take_from_key_values(url: &str) -> Result<Taken, TlsSettingError> {
    let chars: Vec<char> = url.chars().collect();
    let (mut mode, mut rootcert, mut kept) = (None, None, String::new());
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while chars
            .get(i)
            .is_some_and(|&c| c != '=' && !c.is_whitespace())
        {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        skip_space(&mut i);
        if chars.get(i) != Some(&'=') {
            // Not ours to judge: tokio-postgres says what is wrong.
            kept.push_str(&chars[start..].iter().collect::<String>());
            break;
        }
        i += 1;
        skip_space(&mut i);
        let mut value = String::new();
        let quoted = chars.get(i) == Some(&'\'');
        if quoted {
            i += 1;
        }
        loop {
            match chars.get(i) {
                None if quoted => return Err(TlsSettingError::Malformed("quoting")),
                None => break,
                Some('\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if c.is_whitespace() && !quoted => break,
                Some('\\') => {
                    let escaped = chars
                        .get(i + 1)
                        .ok_or(TlsSettingError::Malformed("quoting"))?;
                    value.push(*escaped);
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        match name.as_str() {
            "sslmode" => mode = Some(value),
            "sslrootcert" => rootcert = Some(value),
            _ => {
                kept.push_str(&chars[start..i].iter().collect::<String>());
                kept.push(' ');
            }
        }
    }
    Ok((kept.trim_end().to_owned(), mode, rootcert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_form_loses_only_the_tls_parameters() {
        let (rest, mode, root) = take_tls_parameters(
            "postgres://u@h:5/db?application_name=a&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u@h:5/db?application_name=a&connect_timeout=3"
        );
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/tmp/ca x.pem"));
        let (rest, mode, root) = take_tls_parameters("postgres://u@h/db?sslmode=require").unwrap();
        assert_eq!(
            (rest.as_str(), mode.as_deref(), root),
            ("postgres://u@h/db", Some("require"), None)
        );
    }

    #[test]
    fn the_key_value_form_loses_only_the_tls_parameters() {
        let (rest, mode, root) = take_tls_parameters(
            "host=h sslmode = verify-ca  sslrootcert='/tmp/it\\'s ca.pem' dbname=d",
        )
        .unwrap();
        assert_eq!(rest, "host=h dbname=d");
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(root.as_deref(), Some("/tmp/it's ca.pem"));
    }

    #[test]
    fn no_sslmode_is_prefer_and_verify_needs_a_root() {
        let url = PostgresUrl::parse("postgres://u@h/db").unwrap();
        assert_eq!(url.mode, SslMode::Prefer);
        assert_eq!(
            PostgresUrl::parse("postgres://u@h/db?sslmode=verify-full").unwrap_err(),
            TlsSettingError::NoRootCert("verify-full")
        );
        assert_eq!(
            PostgresUrl::parse("postgres://u@h/db?sslmode=allow").unwrap_err(),
            TlsSettingError::UnknownMode("allow".into())
        );
        assert!(matches!(
            PostgresUrl::parse("postgres://u@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem"),
            Err(TlsSettingError::Unreadable { .. })
        ));
    }
}
