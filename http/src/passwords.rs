//! Password hashing (DESIGN.md rule 4): argon2, slow on purpose, run off
//! the async threads a few at a time ([`Passwords`]).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use credlog_core::rfc6749::{HostError, OwnerCheckError};
use credlog_core::store::Secret;

/// A password that could not be hashed: argon2 failed, or the task it ran
/// on did not finish. The cause is kept as its `source()`.
#[derive(Debug, thiserror::Error)]
#[error("the password could not be hashed: {0}")]
pub struct HashError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl HashError {
    /// A failure caused by `cause` (an error, or a message).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        HashError(cause.into())
    }
}

/// Why a password job (an argon2 hash or check) did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum PasswordJobError {
    /// No permit could be had: the checks were closed.
    #[error("the password checks stopped: {0}")]
    Stopped(#[source] tokio::sync::AcquireError),
    /// The blocking task panicked or was cancelled.
    #[error("the argon2 task failed: {0}")]
    Failed(#[source] tokio::task::JoinError),
}

/// Hashes a password with argon2 (slow on purpose: run it off the async threads).
pub fn hash_password(password: &str) -> Result<Secret, HashError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| HashError::new(error.to_string()))?;
    Ok(Secret::Argon2(hash.to_string()))
}

/// Whether `password` is the one `secret` was hashed from.
pub fn verify_password(secret: &Secret, password: &str) -> bool {
    let Secret::Argon2(phc) = secret else {
        return false;
    };
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// The password checks of one server: argon2 runs at most a few at once
/// (each takes about 19 MiB for its ~20 ms), so a flood of sign-ins waits
/// for its turn instead of taking memory; and a user name nobody has is
/// checked against a dummy hash, so a wrong password takes as long for
/// it as for a real one (no user enumeration by timing).
#[derive(Debug)]
pub struct Passwords {
    permits: tokio::sync::Semaphore,
    dummy: tokio::sync::OnceCell<Secret>,
}

impl Passwords {
    /// Checks that run `at_once` argon2 hashes at most (at least one).
    pub fn new(at_once: usize) -> Self {
        Passwords {
            permits: tokio::sync::Semaphore::new(at_once.max(1)),
            dummy: tokio::sync::OnceCell::new(),
        }
    }

    /// Runs `work` (an argon2 hash or check) on a blocking thread once a
    /// permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordJobError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(PasswordJobError::Stopped)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(PasswordJobError::Failed)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<Secret, HashError> {
        let owned = password.to_owned();
        self.run(move || hash_password(&owned))
            .await
            .map_err(HashError::new)?
    }

    /// Whether `password` is the one `secret` was hashed from; with no
    /// secret (an unknown user), the same work against a dummy hash, and `false`.
    pub async fn verify(
        &self,
        secret: Option<&Secret>,
        password: &str,
    ) -> Result<bool, OwnerCheckError> {
        let (secret, real) = match secret {
            Some(secret) => (secret.clone(), true),
            None => (self.dummy().await?, false),
        };
        let password = password.to_owned();
        let good = self
            .run(move || verify_password(&secret, &password))
            .await
            .map_err(|error| OwnerCheckError::Check(HostError::new(error)))?;
        Ok(good && real)
    }

    /// A hash of a random password, made once, with the parameters real
    /// hashes have.
    async fn dummy(&self) -> Result<Secret, OwnerCheckError> {
        self.dummy
            .get_or_try_init(|| async {
                let random = credlog_core::random::random_token();
                self.run(move || hash_password(&random))
                    .await
                    .map_err(|error| OwnerCheckError::Check(HostError::new(error)))?
                    .map_err(|error| OwnerCheckError::Check(HostError::new(error)))
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let secret = hash_password("correct horse").unwrap();
        assert!(verify_password(&secret, "correct horse"));
        assert!(!verify_password(&secret, "correct horse "));
        assert!(!verify_password(
            &Secret::Plain("correct horse".into()),
            "correct horse"
        ));
    }
}
