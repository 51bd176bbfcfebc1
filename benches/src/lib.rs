//! What credlog's criterion benchmarks and load harness share.
//!
//! The engine benchmarks measure the engine, not a store or an executor:
//! [`AcceptingSource`] answers for one client and one token from memory and
//! accepts every nonce, and [`ready`] polls a future that never waits, so
//! each iteration runs the whole accepting path and nothing else. The
//! store's own costs are measured by its benchmarks.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use credlog_conformance::vectors::Vector;
use credlog_core::rfc5849::{Client, CredentialSource, NonceUse, TokenKind};
use credlog_core::store::StoreError;

/// One client and, optionally, one token; every nonce is new.
#[derive(Debug, Clone)]
pub struct AcceptingSource {
    /// The client's key.
    pub client_key: String,
    /// The client.
    pub client: Client,
    /// The token, its kind and its shared-secret.
    pub token: Option<(String, TokenKind, String)>,
}

impl AcceptingSource {
    /// The client, token and callback a vector's request needs.
    pub fn for_vector(vector: &Vector) -> Self {
        let kind = vector.endpoint.token_kind().unwrap_or(TokenKind::Token);
        AcceptingSource {
            client_key: vector.client.0.to_owned(),
            client: Client {
                secret: vector.client.1.to_owned(),
                rsa_public_key: None,
                callback_uris: vector.callback.iter().map(|c| c.to_string()).collect(),
            },
            token: vector
                .token
                .map(|(t, secret)| (t.to_owned(), kind, secret.to_owned())),
        }
    }
}

#[async_trait]
impl CredentialSource for AcceptingSource {
    async fn client(&self, client_key: &str) -> Result<Option<Client>, StoreError> {
        Ok((client_key == self.client_key).then(|| self.client.clone()))
    }

    async fn token_secret(
        &self,
        client_key: &str,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<String>, StoreError> {
        Ok(match &self.token {
            Some((t, k, secret)) if client_key == self.client_key && t == token && *k == kind => {
                Some(secret.clone())
            }
            _ => None,
        })
    }

    async fn use_nonce(&self, _nonce: &NonceUse<'_>) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// Runs a future that never waits (the engine over an in-memory source)
/// to completion.
///
/// # Panics
/// If the future waits: it needs a real executor.
pub fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the benchmarked future waited; it needs an executor"),
    }
}

/// A setting from the environment: `name`'s value parsed, or `default`
/// when it is not set; a value that does not parse is an error naming it.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a valid value")),
        Err(_) => Ok(default),
    }
}

/// The process's resident and peak resident memory, in MiB (from
/// `/proc/self/status`; 0 where there is none).
pub fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The bytes a directory takes on disk: every file under it, counted in
/// the blocks the file system gave it (on Unix; its length elsewhere), so
/// a sparse or preallocated file counts what it really holds.
pub fn disk_use(path: &std::path::Path) -> std::io::Result<u64> {
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.is_dir() {
        let mut total = 0;
        for entry in std::fs::read_dir(path)? {
            total += disk_use(&entry?.path())?;
        }
        return Ok(total);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(metadata.blocks() * 512)
    }
    #[cfg(not(unix))]
    Ok(metadata.len())
}
