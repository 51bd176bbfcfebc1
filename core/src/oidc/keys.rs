//! The keys the server signs ID tokens with: kept in the store as events
//! ([`SigningKeyCreated`]), so that every server sharing a store signs with
//! the same key and the log tells when each was made. The first is made
//! when it is first needed (or at start), a rotation makes a new one, and
//! a retired key stays in the JWK Set until every token it signed has
//! expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::jose::{JoseError, SigningKey};
use crate::store::{
    AppendError, CredentialStore, Event, Precondition, Secret, SigningKeyCreated, SigningKeyState,
    StoreError,
};

/// Why the signing key could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored key does not read as a private key.
    #[error("signing key {kid} cannot be read: {error}")]
    Unreadable {
        /// Its key id.
        kid: String,
        /// What is wrong with it.
        error: JoseError,
    },
    /// Another server rotated the key at the same moment.
    #[error("the signing key was rotated by another server meanwhile; try again")]
    Raced,
}

/// The keys in use, parsed once each: cheap to share.
#[derive(Default)]
pub struct KeyRing {
    parsed: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

impl KeyRing {
    /// The key to sign with now: the store's current one, made first if
    /// the store has none yet.
    pub async fn current(
        &self,
        store: &dyn CredentialStore,
        now: u64,
    ) -> Result<Arc<SigningKey>, KeyError> {
        let keys = store.signing_keys().await?;
        if let Some(current) = keys.last() {
            return self.parsed(current);
        }
        create_first(store, now).await?;
        let keys = store.signing_keys().await?;
        self.parsed(keys.last().ok_or(KeyError::Raced)?)
    }

    /// The public keys to publish at `now` (RFC 7517 5): the current one
    /// (made first if there is none yet), and each retired one that signed
    /// a token that may not have expired yet (`lifetime` seconds after it
    /// retired).
    pub async fn published(
        &self,
        store: &dyn CredentialStore,
        now: u64,
        lifetime: u64,
    ) -> Result<Vec<serde_json::Value>, KeyError> {
        let mut keys = store.signing_keys().await?;
        if keys.is_empty() {
            create_first(store, now).await?;
            keys = store.signing_keys().await?;
        }
        let mut published = Vec::with_capacity(keys.len());
        for key in keys.iter().rev() {
            if key
                .retired_at
                .is_none_or(|at| at.saturating_add(lifetime) > now)
            {
                published.push(self.parsed(key)?.public_jwk());
            }
        }
        Ok(published)
    }

    fn parsed(&self, key: &SigningKeyState) -> Result<Arc<SigningKey>, KeyError> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(signing) = parsed.get(&key.kid) {
            return Ok(Arc::clone(signing));
        }
        let unreadable = |error| KeyError::Unreadable {
            kid: key.kid.clone(),
            error,
        };
        let Secret::Plain(pem) = &key.private_key else {
            return Err(unreadable(JoseError::BadPrivateKeyPem));
        };
        let signing = Arc::new(SigningKey::from_pkcs8_pem(pem).map_err(unreadable)?);
        parsed.insert(key.kid.clone(), Arc::clone(&signing));
        Ok(signing)
    }
}

/// Appends a new key, made now, as the current one, if the current one is
/// still `current` (`None`: there is none yet). Answers its key id.
async fn create(
    store: &dyn CredentialStore,
    current: Option<String>,
    now: u64,
) -> Result<Result<String, AppendError>, KeyError> {
    let key = SigningKey::generate();
    let kid = key.kid().to_owned();
    let pem = key.to_pkcs8_pem();
    let created = Event::SigningKeyCreated(SigningKeyCreated {
        kid: kid.clone(),
        private_key: Secret::Plain(pem),
    });
    let precondition = Precondition::CurrentSigningKey { kid: current };
    Ok(store
        .append(&[precondition], vec![created], now)
        .await
        .map(|_| kid))
}

/// Makes the first signing key unless the store has one: what a server
/// does when it starts. Answers the new key's id, or `None` when there was
/// one already (or another server made it meanwhile).
pub async fn create_first(
    store: &dyn CredentialStore,
    now: u64,
) -> Result<Option<String>, KeyError> {
    if !store.signing_keys().await?.is_empty() {
        return Ok(None);
    }
    match create(store, None, now).await? {
        Ok(kid) => Ok(Some(kid)),
        Err(AppendError::Refused(_)) => Ok(None),
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}

/// Replaces the current signing key with a new one (`credlog keys
/// rotate`); the old one retires now and stays published until what it
/// signed has expired. Answers the new key's id.
pub async fn rotate(store: &dyn CredentialStore, now: u64) -> Result<String, KeyError> {
    let current = store
        .signing_keys()
        .await?
        .last()
        .map(|key| key.kid.clone());
    match create(store, current, now).await? {
        Ok(kid) => Ok(kid),
        Err(AppendError::Refused(_)) => Err(KeyError::Raced),
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}
