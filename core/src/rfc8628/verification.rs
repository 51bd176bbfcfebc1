//! The person at the verification URI (RFC 8628 3.3): they type the user
//! code, are shown which client asks for what, and approve or deny. Each
//! answer is one event on the device code, written only while it is still
//! pending, so a code is answered once.

use super::{user_code_id, UserCode, UserCodeError};
use crate::oidc;
use crate::rfc6749::Scope;
use crate::store::{
    AppendError, Authenticated, Authorized, ClientState, CredentialKind, CredentialStore, Event,
    Failure, Precondition, RevocationReason, Revoked, Status, StoreError,
};
use crate::throttle::{Attempt, Throttle, Verdict};

/// A device's request that waits for its person, found by its user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDevice {
    /// The code as typed, read.
    pub user_code: UserCode,
    /// The store id of the device code it stands for.
    pub device_code_id: String,
    /// The client that asks.
    pub client: ClientState,
    /// What it asks for.
    pub scope: Scope,
    /// When the codes expire, if ever.
    pub expires_at: Option<u64>,
}

/// Why a typed user code leads to no pending request. To the person each
/// is "wrong code": the page says which, and counts it as a failed guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    /// The text is not a user code at all.
    #[error(transparent)]
    Malformed(#[from] UserCodeError),
    /// No device asked for this code (or its client was removed).
    #[error("no device is waiting for this code; check it and type it again")]
    Unknown,
    /// The code expired before it was answered.
    #[error("this code has expired; start again on the device to get a new one")]
    Expired,
    /// The code was approved or denied already, or withdrawn.
    #[error("this code was already used; start again on the device to get a new one")]
    Used,
    /// Too many wrong codes from this account or address (RFC 8628 5.1):
    /// nothing was looked up; wait `retry_after` seconds.
    #[error("too many wrong codes from this account or address; try again in {retry_after} s")]
    Throttled {
        /// Seconds to wait (`Retry-After`).
        retry_after: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VerificationError {
    /// Whether the person typed a code that leads nowhere: a guess that
    /// counts (not a failure of the server, nor a refusal to look).
    pub fn is_wrong_code(&self) -> bool {
        !matches!(
            self,
            VerificationError::Throttled { .. } | VerificationError::Store(_)
        )
    }
}

/// [`pending`] for the code the signed-in `user` typed from `address`,
/// guarded against guessing (RFC 8628 5.1; CONTRACT.md: user codes are
/// throttled like passwords): while the account or the address has
/// failed too often nothing is looked up; each code that leads nowhere is
/// counted ([`Attempt::user_code`]); a right code ends no count, so typing
/// one's own code between guesses buys no more guesses.
pub async fn pending_for(
    store: &dyn CredentialStore,
    throttle: &dyn Throttle,
    user: &str,
    address: Option<std::net::IpAddr>,
    typed: &str,
    now: u64,
) -> Result<PendingDevice, VerificationError> {
    let attempt = Attempt::user_code(user, address);
    if let Verdict::Wait(retry_after) = throttle.verdict(&attempt, now).await? {
        return Err(VerificationError::Throttled { retry_after });
    }
    let found = pending(store, typed, now).await;
    if let Err(wrong) = &found {
        if wrong.is_wrong_code() {
            throttle.failed(&attempt, now).await?;
        }
    }
    found
}

/// The request the user code `typed` stands for (RFC 8628 3.3): the code
/// must parse ([`UserCode::parse`]), name a device code that is still
/// pending (issued, neither answered nor expired) and a live client.
pub async fn pending(
    store: &dyn CredentialStore,
    typed: &str,
    now: u64,
) -> Result<PendingDevice, VerificationError> {
    let user_code = UserCode::parse(typed)?;
    let device_code_id = match store.credential(&user_code_id(&user_code)).await? {
        Some(state) if state.record.kind == CredentialKind::UserCode => {
            state.record.parent.ok_or(VerificationError::Unknown)?
        }
        _ => return Err(VerificationError::Unknown),
    };
    let device = match store.credential(&device_code_id).await? {
        Some(state) if state.record.kind == CredentialKind::DeviceCode => state,
        _ => return Err(VerificationError::Unknown),
    };
    if device.is_expired(now) {
        return Err(VerificationError::Expired);
    }
    if device.status != Status::Issued {
        return Err(VerificationError::Used);
    }
    let client = match store.client(&device.record.client_id).await? {
        Some(client) if !client.revoked => client,
        _ => return Err(VerificationError::Unknown),
    };
    Ok(PendingDevice {
        user_code,
        device_code_id,
        client,
        scope: Scope::stored(&device.record.scope),
        expires_at: device.record.expires_at,
    })
}

/// `user` approves `device`'s request: the device code is `Authorized`
/// for them, and with scope `openid` their sign-in time (`auth_time`, or
/// now) is kept for the ID token. Written only while the code is still
/// pending and the client and the user exist.
pub async fn approve(
    store: &dyn CredentialStore,
    device: &PendingDevice,
    user: &str,
    auth_time: Option<u64>,
    now: u64,
) -> Result<(), VerificationError> {
    let id = &device.device_code_id;
    let mut events = vec![Event::Authorized(Authorized {
        id: id.clone(),
        user: user.to_owned(),
        verifier: None,
    })];
    if oidc::is_openid(&device.scope) {
        events.push(Event::Authenticated(Authenticated {
            id: id.clone(),
            auth_time: auth_time.unwrap_or(now),
            nonce: None,
        }));
    }
    let mut preconditions = still_pending(device, now);
    preconditions.push(Precondition::UserExists {
        name: user.to_owned(),
    });
    answer(store, &preconditions, events, now).await
}

/// The person denies `device`'s request: the device code is revoked
/// (reason `Denied`), and the device's next poll gets `access_denied`.
pub async fn deny(
    store: &dyn CredentialStore,
    device: &PendingDevice,
    now: u64,
) -> Result<(), VerificationError> {
    let revoke = Event::Revoked(Revoked {
        id: device.device_code_id.clone(),
        kind: CredentialKind::DeviceCode,
        reason: RevocationReason::Denied,
        whole_family: false,
    });
    answer(store, &still_pending(device, now), vec![revoke], now).await
}

/// The device code is still issued and unexpired, its client live.
fn still_pending(device: &PendingDevice, now: u64) -> Vec<Precondition> {
    let client_id = device.client.record.client_id.clone();
    vec![
        Precondition::Credential {
            id: device.device_code_id.clone(),
            kind: CredentialKind::DeviceCode,
            client_id: client_id.clone(),
            status: Status::Issued,
            now,
        },
        Precondition::ClientLive { client_id },
    ]
}

async fn answer(
    store: &dyn CredentialStore,
    preconditions: &[Precondition],
    events: Vec<Event>,
    now: u64,
) -> Result<(), VerificationError> {
    match store.append(preconditions, events, now).await {
        Ok(_) => Ok(()),
        Err(AppendError::Refused(refused)) => Err(match refused.failure {
            Failure::Expired => VerificationError::Expired,
            Failure::WrongStatus { .. } => VerificationError::Used,
            _ => VerificationError::Unknown,
        }),
        Err(AppendError::Store(error)) => Err(VerificationError::Store(error)),
    }
}
