//! What credlog's criterion benchmarks and load harness share.
//!
//! The benchmarks measure the engine, not a store: [`AcceptingSource`]
//! answers the client and token look-ups from fixed credentials and
//! accepts every nonce, so each iteration runs the whole accepting path.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use async_trait::async_trait;
use credlog_conformance::FixedCredentials;
use credlog_core::rfc5849::{Client, CredentialSource, NonceUse, SourceError, TokenKind};

/// Fixed clients and tokens; every nonce is new.
#[derive(Debug)]
pub struct AcceptingSource(pub FixedCredentials);

#[async_trait]
impl CredentialSource for AcceptingSource {
    async fn client(&self, client_key: &str) -> Result<Option<Client>, SourceError> {
        self.0.client(client_key).await
    }

    async fn token_secret(
        &self,
        client_key: &str,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<String>, SourceError> {
        self.0.token_secret(client_key, token, kind).await
    }

    async fn use_nonce(&self, _nonce: &NonceUse<'_>) -> Result<bool, SourceError> {
        Ok(true)
    }
}
