//! Sign-in throttling (CONTRACT.md "Users and sessions", RFC 6819 4.4.3.6
//! and 5.1.4.2.3): after a run of wrong passwords for one user name, or
//! too many failed sign-ins from one address in a window, sign-in answers
//! 429 with `Retry-After` until the time passes, even for the right
//! password. The sign-in form and the password grant share one throttle.
//!
//! The rule is [`Limits`]; where the counts live is the [`Throttle`] trait,
//! so that servers sharing a database can share them. [`MemoryThrottle`]
//! keeps them in this process, bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::StoreError;

/// How much guessing is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wrong passwords in a row for one user name before it is locked (5).
    pub user_failures: u32,
    /// How long a locked user name waits, in seconds (60); each further
    /// wrong password after the wait locks it again.
    pub user_lockout: u64,
    /// Failed sign-ins from one address in a window before it is locked (30).
    pub address_failures: u32,
    /// The address window, in seconds (60).
    pub address_window: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            user_failures: 5,
            user_lockout: 60,
            address_failures: 30,
            address_window: 60,
        }
    }
}

/// Who is signing in: the user name typed and, when the adapter knows
/// it, the address the attempt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// The user name, known or not (unknown names are throttled alike, so
    /// throttling does not tell which names exist).
    pub user: &'a str,
    /// The client's address.
    pub address: Option<IpAddr>,
}

/// The throttle's answer before a password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password.
    Go,
    /// Refuse with 429; `Retry-After` this many seconds (at least 1).
    Wait(u64),
}

/// Where failed sign-ins are counted. Each method is one small step, so a
/// shared store can back it.
#[async_trait]
pub trait Throttle: Send + Sync {
    /// Whether `attempt` may have its password checked at `now` (seconds).
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError>;
    /// A wrong password for `attempt` at `now`.
    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError>;
    /// The right password: the user name's run of failures ends (the
    /// address's window does not: a right guess among many is still many).
    async fn succeeded(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError>;
}

/// A user name's run of wrong passwords.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserRun {
    /// Wrong passwords in a row.
    pub failures: u32,
    /// Until when (seconds) it is locked, once the run is long enough.
    pub locked_until: u64,
    /// When the last wrong password came.
    pub last_failure: u64,
}

/// An address's failures in its current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressWindow {
    /// When the window began.
    pub started: u64,
    /// Failed sign-ins from the address in it.
    pub failures: u32,
}

/// Entries kept at most per kind; past it, the stale ones are dropped,
/// then the oldest, so spraying names cannot grow memory without bound.
pub const MEMORY_ENTRIES: usize = 100_000;

/// How long a user name's run is remembered after its last failure.
pub const USER_MEMORY: u64 = 24 * 60 * 60;

/// The throttle in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryThrottle {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, UserRun>,
    addresses: HashMap<IpAddr, AddressWindow>,
}

impl MemoryThrottle {
    /// A throttle with these limits.
    pub fn new(limits: Limits) -> Self {
        MemoryThrottle {
            limits,
            state: Mutex::default(),
        }
    }

    /// Its limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Limits {
    /// How long a user name with this run waits at `now`, if it must.
    pub fn user_wait(&self, run: &UserRun, now: u64) -> Option<u64> {
        (run.failures >= self.user_failures && run.locked_until > now)
            .then(|| run.locked_until - now)
    }

    /// How long an address with this window waits at `now`, if it must.
    pub fn address_wait(&self, window: &AddressWindow, now: u64) -> Option<u64> {
        let ends = window.started.saturating_add(self.address_window);
        (window.failures >= self.address_failures && ends > now).then(|| ends - now)
    }

    /// The answer for an attempt whose user name has `run` and address
    /// `window` (either unknown: no failures).
    pub fn verdict(
        &self,
        run: Option<&UserRun>,
        window: Option<&AddressWindow>,
        now: u64,
    ) -> Verdict {
        let user = run.and_then(|run| self.user_wait(run, now));
        let address = window.and_then(|window| self.address_wait(window, now));
        match user.max(address) {
            Some(wait) => Verdict::Wait(wait.max(1)),
            None => Verdict::Go,
        }
    }

    /// A wrong password at `now` for a user name with `run`.
    pub fn user_failed(&self, run: &mut UserRun, now: u64) {
        run.failures = run.failures.saturating_add(1);
        run.last_failure = now;
        if run.failures >= self.user_failures {
            run.locked_until = now.saturating_add(self.user_lockout);
        }
    }

    /// A failed sign-in at `now` from an address with `window`.
    pub fn address_failed(&self, window: &mut AddressWindow, now: u64) {
        if window.started.saturating_add(self.address_window) <= now {
            *window = AddressWindow {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError> {
        let state = self.state();
        let run = state.users.get(attempt.user);
        let window = attempt
            .address
            .and_then(|address| state.addresses.get(&address));
        Ok(self.limits.verdict(run, window, now))
    }

    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError> {
        let limits = self.limits;
        let mut state = self.state();
        if !state.users.contains_key(attempt.user) && state.users.len() >= MEMORY_ENTRIES {
            make_room(
                &mut state.users,
                |run| run.last_failure.saturating_add(USER_MEMORY) <= now,
                |run| run.last_failure,
            );
        }
        let run = state.users.entry(attempt.user.to_owned()).or_default();
        limits.user_failed(run, now);
        if let Some(address) = attempt.address {
            if !state.addresses.contains_key(&address) && state.addresses.len() >= MEMORY_ENTRIES {
                make_room(
                    &mut state.addresses,
                    |window| window.started.saturating_add(limits.address_window) <= now,
                    |window| window.started,
                );
            }
            let window = state.addresses.entry(address).or_default();
            limits.address_failed(window, now);
        }
        Ok(())
    }

    async fn succeeded(&self, attempt: &Attempt<'_>, _now: u64) -> Result<(), StoreError> {
        self.state().users.remove(attempt.user);
        Ok(())
    }
}

/// Drops the entries `stale` says are over; if none is, the oldest by `age`.
fn make_room<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    stale: impl Fn(&V) -> bool,
    age: impl Fn(&V) -> u64,
) {
    let before = map.len();
    map.retain(|_, value| !stale(value));
    if map.len() == before {
        if let Some(oldest) = map
            .iter()
            .min_by_key(|(_, value)| age(value))
            .map(|(key, _)| key.clone())
        {
            map.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::executor::block_on as block;

    // The rules every throttle keeps are the conformance crate's throttle
    // suite; this is the bound of the one in memory.
    #[test]
    fn spraying_names_keeps_memory_bounded() {
        let throttle = MemoryThrottle::new(Limits::default());
        for n in 0..(MEMORY_ENTRIES as u64 + 10) {
            let name = n.to_string();
            block(throttle.failed(
                &Attempt {
                    user: &name,
                    address: None,
                },
                n,
            ))
            .unwrap();
        }
        assert!(throttle.state().users.len() <= MEMORY_ENTRIES);
    }
}
