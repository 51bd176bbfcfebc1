//! The device polling the token endpoint (RFC 8628 3.4, 3.5):
//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` and the
//! `device_code`. Until the person approves, the answer is
//! `authorization_pending` (or `slow_down` for a device that polls too
//! fast); then the device code is traded for tokens once, atomically.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{parse_device_code, poll, DeviceCodeError, PollVerdict, DEVICE_CODE_GRANT};
use crate::oidc::IdTokenFor;
use crate::rfc6749::client_auth::ClientAuthMethod;
use crate::rfc6749::grants::{second_use, trade, Grant, Issue, TokenContext, Traded};
use crate::rfc6749::{Oauth2Error, Scope};
use crate::store::{token_id, CredentialKind, RevocationReason, Status};
use crate::Response;

/// Device codes whose last poll is remembered at most; past it the
/// expired ones are dropped, then the one polled longest ago, so a flood
/// of device authorizations cannot grow memory without bound.
pub const MEMORY_POLLS: usize = 100_000;

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
///
/// It remembers when each pending device code was last polled, and the
/// interval it must keep, in this process's memory: on several servers
/// sharing one store, each keeps its own, so a device that spreads its
/// polls over them is slowed down by each alone. RFC 8628 3.5 allows
/// that: `slow_down` is advice to a well-behaved device, not a limit the
/// security rests on (the device code's 160 random bits do not need it).
#[derive(Debug, Default)]
pub struct DeviceCodeGrant {
    polls: Mutex<HashMap<String, Poll>>,
}

/// The last poll of one pending device code.
#[derive(Debug, Clone, Copy)]
struct Poll {
    /// When it came.
    last: u64,
    /// The interval the device must keep (grown by each `slow_down`).
    interval: u64,
    /// When the device code expires: the entry is useless after.
    expires_at: u64,
}

impl DeviceCodeGrant {
    /// The grant, remembering no poll yet.
    pub fn new() -> Self {
        DeviceCodeGrant::default()
    }

    fn polls(&self) -> MutexGuard<'_, HashMap<String, Poll>> {
        self.polls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// RFC 8628 3.5: records this poll of the pending device code `id`
    /// and answers `slow_down` when it came sooner than its interval
    /// after the last one.
    fn paced(&self, id: &str, now: u64, interval: u64, expires_at: u64) -> Result<(), Oauth2Error> {
        let mut polls = self.polls();
        let before = polls.get(id).copied();
        let interval = before.map_or(interval, |poll| poll.interval);
        let (interval, verdict) = match poll(before.map(|poll| poll.last), now, interval) {
            PollVerdict::Go => (interval, Ok(())),
            PollVerdict::SlowDown { new_interval } => (
                new_interval,
                Err(Oauth2Error::SlowDown {
                    interval: new_interval,
                }),
            ),
        };
        if before.is_none() && polls.len() >= MEMORY_POLLS {
            make_room(&mut polls, now);
        }
        polls.insert(
            id.to_owned(),
            Poll {
                last: now,
                interval,
                expires_at,
            },
        );
        verdict
    }

    /// Forgets a device code that is no longer pending.
    fn forget(&self, id: &str) {
        self.polls().remove(id);
    }

    /// How many device codes' polls are remembered.
    pub fn remembered(&self) -> usize {
        self.polls().len()
    }
}

/// Drops the expired entries; if none is, the one polled longest ago.
fn make_room(polls: &mut HashMap<String, Poll>, now: u64) {
    let before = polls.len();
    polls.retain(|_, poll| poll.expires_at > now);
    if polls.len() == before {
        if let Some(oldest) = polls
            .iter()
            .min_by_key(|(_, poll)| poll.last)
            .map(|(id, _)| id.clone())
        {
            polls.remove(&oldest);
        }
    }
}

/// What the token endpoint says of a `device_code` refused for its shape.
fn malformed(error: DeviceCodeError) -> Oauth2Error {
    Oauth2Error::InvalidGrant(match error {
        DeviceCodeError::Empty => "the device_code is empty",
        DeviceCodeError::TooLong { .. } => "the device_code is longer than any this server issues",
        DeviceCodeError::NotAlphanumeric => "the device_code is not letters and digits",
    })
}

#[async_trait]
impl Grant for DeviceCodeGrant {
    fn grant_type(&self) -> &str {
        DEVICE_CODE_GRANT
    }

    /// Devices are mostly public clients (RFC 8628 3.1); confidential
    /// ones authenticate as at any token request.
    fn auth_methods(&self) -> &[ClientAuthMethod] {
        &ClientAuthMethod::ALL
    }

    fn issues_refresh_token(&self) -> bool {
        true
    }

    /// RFC 8628 3.4, 3.5.
    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let code = parse_device_code(ctx.params.require("device_code")?).map_err(malformed)?;
        let id = token_id(code);
        let state = match ctx.store.credential(&id).await {
            Ok(Some(state)) if state.record.kind == CredentialKind::DeviceCode => state,
            Ok(_) => return Err(Oauth2Error::InvalidGrant("the device code is unknown")),
            Err(error) => return Err(Oauth2Error::Store(error)),
        };
        let client_id = &ctx.client.record.client_id;
        if &state.record.client_id != client_id {
            return Err(Oauth2Error::TokenOfAnotherClient);
        }
        match state.status {
            Status::Exchanged => {
                self.forget(&id);
                return Err(second_use(ctx, traded(&id)).await);
            }
            // Denied by the person, or ended with its client's grant.
            Status::Revoked => {
                self.forget(&id);
                return Err(Oauth2Error::AccessDenied);
            }
            Status::Issued | Status::Authorized => {}
        }
        if state.is_expired(ctx.now) {
            self.forget(&id);
            return Err(Oauth2Error::ExpiredToken);
        }
        if state.status == Status::Issued {
            let interval = ctx.server.config().device_poll_interval;
            let expires_at = state.record.expires_at.unwrap_or(u64::MAX);
            self.paced(&id, ctx.now, interval, expires_at)?;
            return Err(Oauth2Error::AuthorizationPending);
        }
        self.forget(&id);
        let scope = Scope::stored(&state.record.scope);
        let id_token = IdTokenFor::recorded(ctx.store, &id, &scope, false).await?;
        let issue = Issue {
            id_token,
            ..Issue::trading(ctx, &state, Status::Authorized, scope)
        };
        trade(ctx, issue, traded(&id)).await
    }
}

/// A device code traded twice: someone holds a copy, so the tokens issued
/// from it end, as for an authorization code (RFC 6749 4.1.2).
fn traded(id: &str) -> Traded<'_> {
    Traded {
        id,
        kind: CredentialKind::DeviceCode,
        reason: RevocationReason::CodeReplay,
        second_use: Oauth2Error::InvalidGrant(
            "the device code was already used; the tokens issued from it are revoked",
        ),
        expired: "the device code has expired",
        no_longer_valid: "the device code is no longer valid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_slow_down_and_the_interval_grows() {
        let grant = DeviceCodeGrant::new();
        assert_eq!(grant.paced("a", 100, 5, 700), Ok(()));
        assert_eq!(
            grant.paced("a", 101, 5, 700),
            Err(Oauth2Error::SlowDown { interval: 10 })
        );
        // The new interval counts from the poll that was too soon.
        assert_eq!(
            grant.paced("a", 110, 5, 700),
            Err(Oauth2Error::SlowDown { interval: 15 })
        );
        assert_eq!(grant.paced("a", 125, 5, 700), Ok(()));
        assert_eq!(grant.paced("b", 125, 5, 700), Ok(()), "each code alone");
        grant.forget("a");
        assert_eq!(grant.paced("a", 126, 5, 700), Ok(()));
    }

    #[test]
    fn remembered_polls_stay_bounded() {
        let grant = DeviceCodeGrant::new();
        for n in 0..(MEMORY_POLLS as u64 + 10) {
            let _ = grant.paced(&n.to_string(), n, 5, u64::MAX);
        }
        assert!(grant.remembered() <= MEMORY_POLLS);
        // Expired entries go first.
        let grant = DeviceCodeGrant::new();
        for n in 0..MEMORY_POLLS as u64 {
            let _ = grant.paced(&n.to_string(), 1000, 5, 10);
        }
        let _ = grant.paced("new", 1000, 5, 2000);
        assert_eq!(grant.remembered(), 1);
    }
}
