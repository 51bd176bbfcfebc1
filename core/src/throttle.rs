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
#[derive(Debug, Clone, Copy, Default)]
struct UserRun {
    failures: u32,
    locked_until: u64,
    last_failure: u64,
}

/// An address's failures in its current window.
#[derive(Debug, Clone, Copy, Default)]
struct AddressWindow {
    started: u64,
    failures: u32,
}

/// Entries kept at most per kind; past it, the stale ones are dropped,
/// then the oldest, so spraying names cannot grow memory without bound.
pub const MEMORY_ENTRIES: usize = 100_000;

/// How long a user name's run is remembered after its last failure.
const USER_MEMORY: u64 = 24 * 60 * 60;

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
    fn user_wait(&self, run: &UserRun, now: u64) -> Option<u64> {
        (run.failures >= self.user_failures && run.locked_until > now)
            .then(|| run.locked_until - now)
    }

    fn address_wait(&self, window: &AddressWindow, now: u64) -> Option<u64> {
        let ends = window.started.saturating_add(self.address_window);
        (window.failures >= self.address_failures && ends > now).then(|| ends - now)
    }
}

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError> {
        let state = self.state();
        let user = state
            .users
            .get(attempt.user)
            .and_then(|run| self.limits.user_wait(run, now));
        let address = attempt
            .address
            .and_then(|address| state.addresses.get(&address))
            .and_then(|window| self.limits.address_wait(window, now));
        Ok(match user.max(address) {
            Some(wait) => Verdict::Wait(wait.max(1)),
            None => Verdict::Go,
        })
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
        run.failures = run.failures.saturating_add(1);
        run.last_failure = now;
        if run.failures >= limits.user_failures {
            run.locked_until = now.saturating_add(limits.user_lockout);
        }
        if let Some(address) = attempt.address {
            if !state.addresses.contains_key(&address) && state.addresses.len() >= MEMORY_ENTRIES {
                make_room(
                    &mut state.addresses,
                    |window| window.started.saturating_add(limits.address_window) <= now,
                    |window| window.started,
                );
            }
            let window = state.addresses.entry(address).or_default();
            if window.started.saturating_add(limits.address_window) <= now {
                *window = AddressWindow {
                    started: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1);
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

    fn attempt<'a>(user: &'a str, address: &str) -> Attempt<'a> {
        Attempt {
            user,
            address: Some(address.parse().unwrap()),
        }
    }

    #[test]
    fn five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute() {
        let throttle = MemoryThrottle::new(Limits::default());
        let alice = attempt("alice", "192.0.2.1");
        for _ in 0..5 {
            assert_eq!(block(throttle.verdict(&alice, 100)).unwrap(), Verdict::Go);
            block(throttle.failed(&alice, 100)).unwrap();
        }
        assert_eq!(
            block(throttle.verdict(&alice, 100)).unwrap(),
            Verdict::Wait(60)
        );
        // From another address too, and for the right password: the name is locked.
        let elsewhere = attempt("alice", "198.51.100.7");
        assert_eq!(
            block(throttle.verdict(&elsewhere, 130)).unwrap(),
            Verdict::Wait(30)
        );
        assert_eq!(
            block(throttle.verdict(&elsewhere, 160)).unwrap(),
            Verdict::Go
        );
        // Bob is not locked.
        assert_eq!(
            block(throttle.verdict(&attempt("bob", "192.0.2.1"), 100)).unwrap(),
            Verdict::Go
        );
        // One more wrong one after the wait locks it again; a right one ends the run.
        block(throttle.failed(&alice, 160)).unwrap();
        assert_eq!(
            block(throttle.verdict(&alice, 161)).unwrap(),
            Verdict::Wait(59)
        );
        block(throttle.succeeded(&alice, 300)).unwrap();
        block(throttle.failed(&alice, 300)).unwrap();
        assert_eq!(block(throttle.verdict(&alice, 300)).unwrap(), Verdict::Go);
    }

    #[test]
    fn thirty_failures_from_one_address_in_a_minute_lock_the_address() {
        let throttle = MemoryThrottle::new(Limits::default());
        for n in 0..30 {
            let name = format!("user{n}");
            let guess = attempt(&name, "192.0.2.1");
            assert_eq!(
                block(throttle.verdict(&guess, 1000 + n)).unwrap(),
                Verdict::Go
            );
            block(throttle.failed(&guess, 1000 + n)).unwrap();
        }
        let next = attempt("carol", "192.0.2.1");
        assert_eq!(
            block(throttle.verdict(&next, 1029)).unwrap(),
            Verdict::Wait(31)
        );
        assert_eq!(
            block(throttle.verdict(&attempt("carol", "192.0.2.2"), 1029)).unwrap(),
            Verdict::Go
        );
        assert_eq!(block(throttle.verdict(&next, 1060)).unwrap(), Verdict::Go);
        // Without an address only the name counts.
        let unknown = Attempt {
            user: "dave",
            address: None,
        };
        assert_eq!(
            block(throttle.verdict(&unknown, 1029)).unwrap(),
            Verdict::Go
        );
    }

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
