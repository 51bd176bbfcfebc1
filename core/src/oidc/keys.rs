//! The keys the server signs ID tokens with, one current key for each
//! algorithm it offers (RS256, PS256, ES256, EdDSA): kept in the store as
//! events, so that every server sharing a store signs with the same keys
//! and the log tells when each was made. RS256 keys are
//! [`SigningKeyCreated`] events (as they always were, so older logs read
//! the same); the others are [`AlgKeyCreated`] events naming their
//! algorithm. A key is made when it is first needed (the RS256 one at
//! start), a rotation makes a new one, and a retired key stays in the JWK
//! Set until every token it signed has expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::ClientOptions;
use crate::jose::{JoseError, SignatureAlg, SigningKey};
use crate::store::{
    AlgKeyCreated, AppendError, CredentialStore, Event, Precondition, Secret, SigningKeyCreated,
    SigningKeyState, StoreError,
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
    /// An algorithm the server does not sign with (one of
    /// [`SignatureAlg::SIGNING`] it must be).
    #[error("the server does not sign with {0} (RS256, PS256, ES256 and EdDSA it does)")]
    NotSigningAlg(SignatureAlg),
}

/// The keys in use, parsed once each: cheap to share.
///
/// One current key per algorithm, made when first asked for; a rotation
/// of one algorithm's key leaves the others alone, and the retired key
/// stays published for `lifetime` seconds:
///
/// ```
/// use credlog_core::jose::SignatureAlg;
/// use credlog_core::oidc::keys::{self, KeyRing};
/// use credlog_core::store::CredentialStore;
///
/// # let store = credlog_storage_memory::MemoryStore::new();
/// # futures::executor::block_on(async {
/// let ring = KeyRing::default();
/// let es256 = ring.current(&store, SignatureAlg::ES256, 1_000).await.unwrap();
/// assert_eq!(es256.alg(), SignatureAlg::ES256);
/// // Asked again, the same key; the RS256 keys are the store's old ones.
/// let again = ring.current(&store, SignatureAlg::ES256, 1_001).await.unwrap();
/// assert_eq!(again.kid(), es256.kid());
/// assert!(store.signing_keys().await.unwrap().is_empty());
/// assert_eq!(store.alg_signing_keys("ES256").await.unwrap().len(), 1);
///
/// // Published: one current key for each of the four algorithms.
/// let published = ring.published(&store, 1_002, 600).await.unwrap();
/// let algs: Vec<&str> = published.iter().map(|k| k["alg"].as_str().unwrap()).collect();
/// assert_eq!(algs, ["RS256", "PS256", "ES256", "EdDSA"]);
/// let rs256 = ring.current(&store, SignatureAlg::RS256, 1_003).await.unwrap();
/// assert_eq!(store.signing_keys().await.unwrap()[0].kid, rs256.kid());
///
/// // Rotating ES256: a new current key, the old one published until
/// // `lifetime` has passed; RS256 is untouched.
/// let new_kid = keys::rotate(&store, SignatureAlg::ES256, 2_000).await.unwrap();
/// let current = ring.current(&store, SignatureAlg::ES256, 2_001).await.unwrap();
/// assert_eq!(current.kid(), new_kid);
/// let kids = |keys: Vec<serde_json::Value>| -> Vec<String> {
///     keys.iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
/// };
/// let published = kids(ring.published(&store, 2_599, 600).await.unwrap());
/// assert_eq!(published.len(), 5);
/// assert!(published.contains(&es256.kid().to_owned()) && published.contains(&new_kid));
/// let published = kids(ring.published(&store, 2_600, 600).await.unwrap());
/// assert_eq!(published.len(), 4);
/// assert!(!published.contains(&es256.kid().to_owned()));
/// assert_eq!(
///     ring.current(&store, SignatureAlg::RS256, 2_601).await.unwrap().kid(),
///     rs256.kid()
/// );
///
/// // Two first keys at once: the precondition lets one in.
/// assert_eq!(keys::create_first_for(&store, SignatureAlg::EdDSA, 3_000).await.unwrap(), None);
/// assert!(matches!(
///     ring.current(&store, SignatureAlg::RS384, 3_000).await,
///     Err(keys::KeyError::NotSigningAlg(SignatureAlg::RS384))
/// ));
/// # });
/// ```
#[derive(Default)]
pub struct KeyRing {
    parsed: Mutex<HashMap<(SignatureAlg, String), Arc<SigningKey>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

/// Every key for `alg` in the store, oldest first; the last is current.
async fn stored(
    store: &dyn CredentialStore,
    alg: SignatureAlg,
) -> Result<Vec<SigningKeyState>, KeyError> {
    match alg {
        SignatureAlg::RS256 => Ok(store.signing_keys().await?),
        alg if alg.signs() => Ok(store.alg_signing_keys(alg.name()).await?),
        other => Err(KeyError::NotSigningAlg(other)),
    }
}

/// The algorithm a client's ID tokens and JWT access tokens are signed
/// with: its `id_token_signed_response_alg` when the server signs with it
/// (registration allows no other), RS256 when it chose none.
pub fn client_alg(options: &ClientOptions) -> SignatureAlg {
    options
        .id_token_signed_response_alg
        .as_deref()
        .and_then(SignatureAlg::from_name)
        .filter(|alg| alg.signs())
        .unwrap_or(SignatureAlg::RS256)
}

impl KeyRing {
    /// The key to sign with now for `alg`: the store's current one, made
    /// first if the store has none yet.
    pub async fn current(
        &self,
        store: &dyn CredentialStore,
        alg: SignatureAlg,
        now: u64,
    ) -> Result<Arc<SigningKey>, KeyError> {
        let keys = stored(store, alg).await?;
        if let Some(current) = keys.last() {
            return self.parsed(alg, current);
        }
        create_first_for(store, alg, now).await?;
        let keys = stored(store, alg).await?;
        self.parsed(alg, keys.last().ok_or(KeyError::Raced)?)
    }

    /// The public keys to publish at `now` (RFC 7517 5), for every
    /// algorithm of [`SignatureAlg::SIGNING`] in turn (RS256 first): its
    /// current one (made first if there is none yet), and each retired one
    /// that signed a token that may not have expired yet (`lifetime`
    /// seconds after it retired), newest first.
    pub async fn published(
        &self,
        store: &dyn CredentialStore,
        now: u64,
        lifetime: u64,
    ) -> Result<Vec<serde_json::Value>, KeyError> {
        let mut published = Vec::new();
        for alg in SignatureAlg::SIGNING {
            let mut keys = stored(store, alg).await?;
            if keys.is_empty() {
                create_first_for(store, alg, now).await?;
                keys = stored(store, alg).await?;
            }
            for key in keys.iter().rev() {
                if key
                    .retired_at
                    .is_none_or(|at| at.saturating_add(lifetime) > now)
                {
                    published.push(self.parsed(alg, key)?.public_jwk());
                }
            }
        }
        Ok(published)
    }

    fn parsed(
        &self,
        alg: SignatureAlg,
        key: &SigningKeyState,
    ) -> Result<Arc<SigningKey>, KeyError> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        let name = (alg, key.kid.clone());
        if let Some(signing) = parsed.get(&name) {
            return Ok(Arc::clone(signing));
        }
        let unreadable = |error| KeyError::Unreadable {
            kid: key.kid.clone(),
            error,
        };
        let Secret::Plain(pem) = &key.private_key else {
            return Err(unreadable(JoseError::BadPrivateKeyPem(alg)));
        };
        let signing = Arc::new(SigningKey::from_pkcs8_pem_for(alg, pem).map_err(unreadable)?);
        parsed.insert(name, Arc::clone(&signing));
        Ok(signing)
    }
}

/// Appends a new key for `alg`, made now, as its current one, if the
/// current one is still `current` (`None`: there is none yet). Answers its
/// key id.
async fn create(
    store: &dyn CredentialStore,
    alg: SignatureAlg,
    current: Option<String>,
    now: u64,
) -> Result<Result<String, AppendError>, KeyError> {
    let key = SigningKey::generate_for(alg).map_err(|_| KeyError::NotSigningAlg(alg))?;
    let kid = key.kid().to_owned();
    let private_key = Secret::Plain(key.to_pkcs8_pem());
    let (created, precondition) = match alg {
        SignatureAlg::RS256 => (
            Event::SigningKeyCreated(SigningKeyCreated {
                kid: kid.clone(),
                private_key,
            }),
            Precondition::CurrentSigningKey { kid: current },
        ),
        _ => (
            Event::AlgKeyCreated(AlgKeyCreated {
                alg: alg.name().to_owned(),
                kid: kid.clone(),
                private_key,
            }),
            Precondition::CurrentAlgKey {
                alg: alg.name().to_owned(),
                kid: current,
            },
        ),
    };
    Ok(store
        .append(&[precondition], vec![created], now)
        .await
        .map(|_| kid))
}

/// Makes the first RS256 signing key unless the store has one: what a
/// server does when it starts. Answers the new key's id, or `None` when
/// there was one already (or another server made it meanwhile).
pub async fn create_first(
    store: &dyn CredentialStore,
    now: u64,
) -> Result<Option<String>, KeyError> {
    create_first_for(store, SignatureAlg::RS256, now).await
}

/// Makes the first signing key for `alg` unless the store has one. Answers
/// the new key's id, or `None` when there was one already (or another
/// server made it meanwhile: the precondition lets only one first key in).
pub async fn create_first_for(
    store: &dyn CredentialStore,
    alg: SignatureAlg,
    now: u64,
) -> Result<Option<String>, KeyError> {
    if !stored(store, alg).await?.is_empty() {
        return Ok(None);
    }
    match create(store, alg, None, now).await? {
        Ok(kid) => Ok(Some(kid)),
        Err(AppendError::Refused(_)) => Ok(None),
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}

/// Replaces the current signing key for `alg` with a new one (`credlog
/// keys rotate [--alg ALG]`); the old one retires now and stays published
/// until what it signed has expired. Answers the new key's id.
pub async fn rotate(
    store: &dyn CredentialStore,
    alg: SignatureAlg,
    now: u64,
) -> Result<String, KeyError> {
    let current = stored(store, alg).await?.last().map(|key| key.kid.clone());
    match create(store, alg, current, now).await? {
        Ok(kid) => Ok(kid),
        Err(AppendError::Refused(_)) => Err(KeyError::Raced),
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}
