//! The OAuth 1 validator's questions answered by a [`CredentialStore`]:
//! clients and token secrets from the projections, and each nonce use
//! appended as a `Verified` event, so that the nonce check and the audit
//! record are one atomic write.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use rsa::RsaPublicKey;

use super::server::{Client, CredentialSource, NonceUse, TokenKind};
use super::signature::rsa_public_key_from_pem;
use crate::store::{
    AppendError, CredentialKind, CredentialState, CredentialStore, Event, Failure, NonceKey,
    Precondition, Secret, Status, StoreError, Verified,
};

/// Parsed RSA public keys by their PEM text, so that a client's key is not
/// parsed again on every RSA-SHA1 request. A changed key is a new PEM and
/// parses afresh; the cache empties itself when it grows past 4,096 keys.
#[derive(Debug, Default)]
pub struct RsaKeyCache {
    keys: Mutex<HashMap<String, RsaPublicKey>>,
}

impl RsaKeyCache {
    const LIMIT: usize = 4096;

    /// The key in `pem`, parsed once; `None` if it is not an RSA public key.
    pub fn get(&self, pem: &str) -> Option<RsaPublicKey> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get(pem) {
            return Some(key.clone());
        }
        let key = rsa_public_key_from_pem(pem).ok()?;
        if keys.len() >= Self::LIMIT {
            keys.clear();
        }
        keys.insert(pem.to_owned(), key.clone());
        Some(key)
    }
}

/// A [`CredentialSource`] over a store, at one moment. It keeps the token
/// it looked up, so that the caller can learn the credential's user and
/// scope without reading it again ([`StoreSource::into_token`]).
#[derive(Debug)]
pub struct StoreSource<'a, S: ?Sized> {
    store: &'a S,
    now: u64,
    token: Mutex<Option<CredentialState>>,
    keys: Option<&'a RsaKeyCache>,
}

impl<'a, S: CredentialStore + ?Sized> StoreSource<'a, S> {
    /// Answers from `store`, judging expiry and recording at `now`.
    pub fn new(store: &'a S, now: u64) -> Self {
        StoreSource {
            store,
            now,
            token: Mutex::new(None),
            keys: None,
        }
    }

    /// Takes clients' RSA keys from `cache` instead of parsing them each time.
    pub fn with_key_cache(mut self, cache: &'a RsaKeyCache) -> Self {
        self.keys = Some(cache);
        self
    }

    /// The token credential or temporary credential the validator accepted
    /// (the last one asked for, if it was live).
    pub fn into_token(self) -> Option<CredentialState> {
        self.token.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl<S: CredentialStore + ?Sized> CredentialSource for StoreSource<'_, S> {
    async fn client(&self, client_key: &str) -> Result<Option<Client>, StoreError> {
        let Some(state) = self.store.client(client_key).await? else {
            return Ok(None);
        };
        let Secret::Plain(secret) = state.record.secret else {
            // A public client has no secret to sign with: it cannot use OAuth 1.
            return Ok(None);
        };
        if state.revoked {
            return Ok(None);
        }
        Ok(Some(Client {
            secret,
            rsa_public_key: state.record.rsa_public_key.as_deref().and_then(|pem| {
                match self.keys {
                    Some(cache) => cache.get(pem),
                    None => rsa_public_key_from_pem(pem).ok(),
                }
            }),
            callback_uris: state.record.redirect_uris,
        }))
    }

    async fn token_secret(
        &self,
        client_key: &str,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<String>, StoreError> {
        let Some(state) = self.store.credential(token).await? else {
            return Ok(None);
        };
        let (wanted, live) = match kind {
            TokenKind::Temporary => (
                CredentialKind::Temporary,
                [Status::Issued, Status::Authorized],
            ),
            TokenKind::Token => (
                CredentialKind::TokenCredential,
                [Status::Issued, Status::Issued],
            ),
        };
        let usable = state.record.kind == wanted
            && state.record.client_id == client_key
            && live.contains(&state.status)
            && !state.is_expired(self.now);
        let Secret::Plain(secret) = &state.record.secret else {
            return Ok(None);
        };
        if !usable {
            return Ok(None);
        }
        let secret = secret.clone();
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        Ok(Some(secret))
    }

    async fn use_nonce(&self, nonce: &NonceUse<'_>) -> Result<bool, StoreError> {
        let verified = Verified {
            client_id: nonce.client_key.to_owned(),
            token: nonce.token.map(str::to_owned),
            timestamp: nonce.timestamp,
            nonce: nonce.nonce.to_owned(),
        };
        let precondition = Precondition::NonceUnused(NonceKey::from(&verified));
        match self
            .store
            .append(&[precondition], vec![Event::Verified(verified)], self.now)
            .await
        {
            Ok(_) => Ok(true),
            Err(AppendError::Refused(refused))
                if matches!(refused.failure, Failure::NonceUsed | Failure::NonceTooOld) =>
            {
                Ok(false)
            }
            Err(AppendError::Store(error)) => Err(error),
            Err(AppendError::Refused(refused)) => Err(StoreError::backend(
                format!("a nonce use was refused for a reason of its own: {refused}"),
                refused,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    #[test]
    fn the_key_cache_parses_each_pem_once_and_refuses_garbage() {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 512).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let cache = RsaKeyCache::default();
        assert_eq!(cache.get(&pem), Some(private.to_public_key()));
        assert_eq!(cache.get(&pem), Some(private.to_public_key()));
        assert_eq!(cache.keys.lock().unwrap().len(), 1);
        assert_eq!(cache.get("not a key"), None);
        assert_eq!(cache.keys.lock().unwrap().len(), 1);
    }
}
