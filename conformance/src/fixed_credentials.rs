//! A fixed set of clients and tokens with a nonce record, held in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use credlog_core::rfc5849::{Client, CredentialSource, NonceUse, TokenKind};
use credlog_core::store::StoreError;

/// A recorded nonce use: client, token, timestamp, nonce.
type NonceRecord = (String, Option<String>, u64, String);

/// A [`CredentialSource`] over fixed clients and tokens, recording nonces
/// in memory. It stands in for the store where a test needs only the
/// validator.
#[derive(Debug, Default)]
pub struct FixedCredentials {
    clients: HashMap<String, Client>,
    tokens: HashMap<(String, String, TokenKind), String>,
    nonces: Mutex<HashSet<NonceRecord>>,
}

impl FixedCredentials {
    /// No clients, no tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a client with its shared-secret (or sets the secret of one
    /// already added, keeping its callbacks and key).
    pub fn with_client(mut self, key: &str, secret: &str) -> Self {
        let client = self
            .clients
            .entry(key.to_owned())
            .or_insert_with(|| Client {
                secret: String::new(),
                rsa_public_key: None,
                callback_uris: Vec::new(),
            });
        client.secret = secret.to_owned();
        self
    }

    /// Changes an added client (registers a callback, an RSA key ...).
    ///
    /// # Panics
    /// If no client of this key was added: a mistake in the test itself.
    pub fn with_client_change(mut self, key: &str, change: impl FnOnce(&mut Client)) -> Self {
        let client = self
            .clients
            .get_mut(key)
            .unwrap_or_else(|| panic!("add client {key} before changing it"));
        change(client);
        self
    }

    /// Adds a token of this kind, held by this client.
    pub fn with_token(
        mut self,
        client_key: &str,
        token: &str,
        secret: &str,
        kind: TokenKind,
    ) -> Self {
        self.tokens.insert(
            (client_key.to_owned(), token.to_owned(), kind),
            secret.to_owned(),
        );
        self
    }

    /// How many nonce uses were recorded.
    pub fn nonces_recorded(&self) -> usize {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[async_trait]
impl CredentialSource for FixedCredentials {
    async fn client(&self, client_key: &str) -> Result<Option<Client>, StoreError> {
        Ok(self.clients.get(client_key).cloned())
    }

    async fn token_secret(
        &self,
        client_key: &str,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .tokens
            .get(&(client_key.to_owned(), token.to_owned(), kind))
            .cloned())
    }

    async fn use_nonce(&self, nonce: &NonceUse<'_>) -> Result<bool, StoreError> {
        let record: NonceRecord = (
            nonce.client_key.to_owned(),
            nonce.token.map(str::to_owned),
            nonce.timestamp,
            nonce.nonce.to_owned(),
        );
        Ok(self
            .nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record))
    }
}
