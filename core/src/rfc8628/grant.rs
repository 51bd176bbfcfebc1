//! The device polling the token endpoint (RFC 8628 3.4, 3.5):
//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` and the
//! `device_code`. Until the person approves, the answer is
//! `authorization_pending` (or `slow_down` for a device that polls too
//! fast); then the device code is traded for tokens once, atomically.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

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

/// How many parts [`DevicePolls`] is split into, each under its own lock,
/// so polls of different codes seldom wait for one another.
const SHARDS: usize = 16;

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
///
/// It remembers when each pending device code was last polled, and the
/// interval it must keep, in this process's memory ([`DevicePolls`]): on
/// several servers sharing one store, each keeps its own, so a device
/// that spreads its polls over them is slowed down by each alone. RFC 8628
/// 3.5 allows that: `slow_down` is advice to a well-behaved device, not a
/// limit the security rests on (the device code's 160 random bits do not
/// need it).
#[derive(Debug, Default)]
pub struct DeviceCodeGrant {
    polls: DevicePolls,
}

/// The last poll of each pending device code (RFC 8628 3.5), at most
/// [`MEMORY_POLLS`] of them. Every operation costs O(log n) in the codes
/// remembered, never a walk over all of them: beside the codes by id,
/// each part keeps them ordered by expiry (expired ones leave as soon as
/// their part is next used) and by last poll (when full, the one polled
/// longest ago leaves for a new one).
#[derive(Debug)]
pub struct DevicePolls {
    shards: Box<[Mutex<Shard>]>,
    /// Codes one part remembers at most.
    per_shard: usize,
    hasher: RandomState,
}

/// One part of [`DevicePolls`]: the codes by id, and the same codes by
/// expiry and by last poll, each entry told apart by the number it was
/// given when remembered (so the orders compare numbers, never ids).
#[derive(Debug, Default)]
struct Shard {
    polls: HashMap<Arc<str>, Poll>,
    by_expiry: BTreeMap<(u64, u64), Arc<str>>,
    by_last: BTreeMap<(u64, u64), Arc<str>>,
    /// The number the next entry is given.
    next: u64,
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
    /// The number its entry was given ([`Shard::next`]).
    number: u64,
}

impl Default for DevicePolls {
    fn default() -> Self {
        DevicePolls::new()
    }
}

impl DevicePolls {
    /// Remembering no poll yet, and at most [`MEMORY_POLLS`].
    pub fn new() -> Self {
        DevicePolls {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: MEMORY_POLLS / SHARDS,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, id: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(id) % SHARDS as u64) as usize;
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// RFC 8628 3.5: records a poll at `now` of the pending device code
    /// `id` (which expires at `expires_at` and was given `interval`), and
    /// says whether it came sooner than its interval after the last one:
    /// then the interval it must keep from now on grows by
    /// [`super::SLOW_DOWN_STEP`].
    pub fn pace(&self, id: &str, now: u64, interval: u64, expires_at: u64) -> PollVerdict {
        let mut shard = self.shard(id);
        shard.drop_expired(now);
        let before = shard.remove(id);
        let interval = before.map_or(interval, |poll| poll.interval);
        let verdict = poll(before.map(|poll| poll.last), now, interval);
        let interval = match verdict {
            PollVerdict::Go => interval,
            PollVerdict::SlowDown { new_interval } => new_interval,
        };
        if before.is_none() && shard.polls.len() >= self.per_shard {
            shard.drop_least_recent();
        }
        shard.insert(id, now, interval, expires_at);
        verdict
    }

    /// Forgets a device code that is no longer pending.
    pub fn forget(&self, id: &str) {
        self.shard(id).remove(id);
    }

    /// How many device codes' polls are remembered (expired ones included
    /// until their part is next used).
    pub fn remembered(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .polls
                    .len()
            })
            .sum()
    }
}

impl Shard {
    fn insert(&mut self, id: &str, last: u64, interval: u64, expires_at: u64) {
        let number = self.next;
        self.next += 1;
        let id: Arc<str> = Arc::from(id);
        self.by_expiry.insert((expires_at, number), Arc::clone(&id));
        self.by_last.insert((last, number), Arc::clone(&id));
        let poll = Poll {
            last,
            interval,
            expires_at,
            number,
        };
        self.polls.insert(id, poll);
    }

    fn remove(&mut self, id: &str) -> Option<Poll> {
        let poll = self.polls.remove(id)?;
        self.by_expiry.remove(&(poll.expires_at, poll.number));
        self.by_last.remove(&(poll.last, poll.number));
        Some(poll)
    }

    /// Drops the codes expired at `now`, soonest expired first.
    fn drop_expired(&mut self, now: u64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                return;
            }
            let id = entry.remove();
            self.remove(&id);
        }
    }

    /// Drops the code polled longest ago.
    fn drop_least_recent(&mut self) {
        if let Some((_, id)) = self.by_last.pop_first() {
            self.remove(&id);
        }
    }
}

impl DeviceCodeGrant {
    /// The grant, remembering no poll yet.
    pub fn new() -> Self {
        DeviceCodeGrant::default()
    }

    /// RFC 8628 3.5: records this poll of the pending device code `id`
    /// and answers `slow_down` when it came sooner than its interval
    /// after the last one.
    fn paced(&self, id: &str, now: u64, interval: u64, expires_at: u64) -> Result<(), Oauth2Error> {
        match self.polls.pace(id, now, interval, expires_at) {
            PollVerdict::Go => Ok(()),
            PollVerdict::SlowDown { new_interval } => Err(Oauth2Error::SlowDown {
                interval: new_interval,
            }),
        }
    }

    /// Forgets a device code that is no longer pending.
    fn forget(&self, id: &str) {
        self.polls.forget(id);
    }

    /// How many device codes' polls are remembered.
    pub fn remembered(&self) -> usize {
        self.polls.remembered()
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
            // RFC 8707 2: the resources the token is for.
            audience: crate::rfc8707::requested(ctx.params)?,
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
    fn a_flood_of_codes_stays_bounded_and_the_least_recent_leave() {
        let polls = DevicePolls::new();
        let flood = 2 * MEMORY_POLLS as u64;
        for n in 0..flood {
            polls.pace(&n.to_string(), n, 5, u64::MAX);
        }
        assert!(polls.remembered() <= MEMORY_POLLS, "{}", polls.remembered());
        assert!(polls.remembered() > MEMORY_POLLS * 9 / 10);
        // The code polled last is remembered: polled again at once, it is
        // told to slow down.
        let last = (flood - 1).to_string();
        assert_eq!(
            polls.pace(&last, flood, 5, u64::MAX),
            PollVerdict::SlowDown { new_interval: 10 }
        );
        // The first codes were forgotten: polled again, they go on.
        for n in 0..100u64 {
            assert_eq!(
                polls.pace(&n.to_string(), flood, 5, u64::MAX),
                PollVerdict::Go
            );
        }
    }

    #[test]
    fn expired_codes_are_dropped() {
        let polls = DevicePolls::new();
        for n in 0..10_000u64 {
            polls.pace(&format!("old-{n}"), 100, 5, 200);
        }
        assert_eq!(polls.remembered(), 10_000);
        // Polls after the expiry drop the expired codes of every part they
        // touch: 1,000 codes touch all 16 parts (all but surely).
        for n in 0..1_000u64 {
            polls.pace(&format!("new-{n}"), 200, 5, 800);
        }
        assert_eq!(polls.remembered(), 1_000);
    }

    #[test]
    fn a_code_polled_again_keeps_one_entry() {
        let polls = DevicePolls::new();
        for now in (100..1_000).step_by(5) {
            assert_eq!(polls.pace("a", now, 5, 2_000), PollVerdict::Go);
        }
        assert_eq!(polls.remembered(), 1);
        polls.forget("a");
        assert_eq!(polls.remembered(), 0);
    }
}
