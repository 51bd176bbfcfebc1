//! Throttling guesses and requests (CONTRACT.md "Users and sessions",
//! RFC 6819 4.4.3.6, 5.1.4.2.3 and 5.2.3.7, RFC 8628 5.1 and 5.2): one
//! mechanism for every kind of [`Attempt`].
//!
//! - A password (the sign-in form, the password grant): after 5 wrong in a
//!   row for one user name, or 30 failed sign-ins from one address in a
//!   minute, 429 with `Retry-After` until it passes, even for the right
//!   password. A right password ends the name's run.
//! - A user code typed at `/device`: counted like a password, per
//!   signed-in account and in the address's sign-in count; a right code
//!   (one's own, say) ends nothing, so typing it between guesses buys none.
//! - A client authenticating at the token, revocation, introspection,
//!   device authorization and PAR endpoints: after 10 failures in a row for
//!   one `client_id`, or 60 from one address in a minute, 429 for that
//!   client or address, even for the right secret.
//! - A request to the device authorization endpoint: at most 60 a minute
//!   per client and per address, each request counted.
//!
//! Each attempt touches at most two counts ([`Limits::counts`]): a *run*
//! (failures in a row, then a lockout) or a *window* (a number per
//! window of time). The rule is [`Limits`]; where the counts live is the
//! [`Throttle`] trait, so that servers sharing a database share them.
//! [`MemoryThrottle`] keeps them in this process, bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::StoreError;

/// How much guessing and asking is allowed. Every window is
/// [`Limits::address_window`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wrong passwords (or user codes) in a row for one user name (or
    /// account) before it is locked (5).
    pub user_failures: u32,
    /// How long a locked user name waits, in seconds (60); each further
    /// wrong password after the wait locks it again.
    pub user_lockout: u64,
    /// Failed sign-ins (and wrong user codes) from one address in a window
    /// before it is locked (30).
    pub address_failures: u32,
    /// The window of every count kept per window, in seconds (60).
    pub address_window: u64,
    /// Failed client authentications in a row for one `client_id` before
    /// it is locked (10).
    pub client_failures: u32,
    /// How long a locked `client_id` waits, in seconds (60).
    pub client_lockout: u64,
    /// Failed client authentications from one address in a window before
    /// it is locked (60).
    pub client_address_failures: u32,
    /// Requests to the device authorization endpoint per client and per
    /// address in a window (60).
    pub device_requests: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            user_failures: 5,
            user_lockout: 60,
            address_failures: 30,
            address_window: 60,
            client_failures: 10,
            client_lockout: 60,
            client_address_failures: 60,
            device_requests: 60,
        }
    }
}

/// What an attempt is: each kind is counted apart, under its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A password, at sign-in or in the password grant (RFC 6749 4.3):
    /// named by the user name typed.
    Password,
    /// A user code typed at the verification URI (RFC 8628 5.1): named by
    /// the signed-in account that typed it.
    UserCode,
    /// A client authenticating (RFC 6749 2.3): named by its `client_id`.
    ClientAuthentication,
    /// A request to the device authorization endpoint (RFC 8628 5.2):
    /// named by its `client_id`.
    DeviceRequest,
}

/// Who is trying: what kind of attempt, under which name, and from
/// which address when the adapter knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// What is tried.
    pub kind: Kind,
    /// The user name, account or `client_id`, known or not (unknown ones
    /// are throttled alike, so throttling does not tell which exist);
    /// `None` when the request named none.
    pub name: Option<&'a str>,
    /// The client's address.
    pub address: Option<IpAddr>,
}

impl<'a> Attempt<'a> {
    /// A password for `user` (sign-in, the password grant).
    pub fn password(user: &'a str, address: Option<IpAddr>) -> Self {
        Attempt {
            kind: Kind::Password,
            name: Some(user),
            address,
        }
    }

    /// A user code typed by the signed-in `user`.
    pub fn user_code(user: &'a str, address: Option<IpAddr>) -> Self {
        Attempt {
            kind: Kind::UserCode,
            name: Some(user),
            address,
        }
    }

    /// A client authentication as `client_id`, if the request named one.
    pub fn client(client_id: Option<&'a str>, address: Option<IpAddr>) -> Self {
        Attempt {
            kind: Kind::ClientAuthentication,
            name: client_id,
            address,
        }
    }

    /// A device authorization request for `client_id`, if it named one.
    pub fn device_request(client_id: Option<&'a str>, address: Option<IpAddr>) -> Self {
        Attempt {
            kind: Kind::DeviceRequest,
            name: client_id,
            address,
        }
    }
}

/// The throttle's answer before an attempt is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the attempt.
    Go,
    /// Refuse with 429; `Retry-After` this many seconds (at least 1).
    Wait(u64),
}

impl Verdict {
    /// `Wait` for the longest of `waits`, or `Go` when there is none.
    pub fn of(waits: impl IntoIterator<Item = Option<u64>>) -> Verdict {
        match waits.into_iter().flatten().max() {
            Some(wait) => Verdict::Wait(wait.max(1)),
            None => Verdict::Go,
        }
    }
}

/// Where attempts are counted. Each method is one small step, so a
/// shared store can back it; the rules are [`Limits`]'s.
#[async_trait]
pub trait Throttle: Send + Sync {
    /// Whether `attempt` may be checked (or served) at `now` (seconds).
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError>;
    /// `attempt` failed at `now` (a wrong password, code or secret; for a
    /// request rate, any request served): one more in each of its counts.
    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError>;
    /// `attempt` succeeded: its name's run ends when its kind says so
    /// ([`RunLimit::ends_on_success`]); windows never end early (a right
    /// guess among many is still many).
    async fn succeeded(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError>;
}

/// A name's run of failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserRun {
    /// Failures in a row.
    pub failures: u32,
    /// Until when (seconds) it is locked, once the run is long enough.
    pub locked_until: u64,
    /// When the last failure came.
    pub last_failure: u64,
}

/// A count in its current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressWindow {
    /// When the window began.
    pub started: u64,
    /// What was counted in it.
    pub failures: u32,
}

/// The rule of a run: so many failures in a row, then a lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimit {
    /// Failures in a row that lock.
    pub failures: u32,
    /// How long a lock lasts, in seconds.
    pub lockout: u64,
    /// Whether a success ends the run (not for user codes).
    pub ends_on_success: bool,
}

/// The rule of a window: so many in a window of so many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// What may be counted in one window.
    pub most: u32,
    /// The window, in seconds.
    pub seconds: u64,
}

/// One count an attempt touches, under the key its store keeps it by.
///
/// Keys are text: a password's run is the bare user name and a sign-in
/// window the bare address (as before there were other kinds); every
/// other kind's key is a word, a space and the name or address. User
/// names and addresses hold no space, so no two counts share a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// A run of failures.
    Run {
        /// Its key.
        key: String,
        /// Its rule.
        limit: RunLimit,
    },
    /// A window.
    Window {
        /// Its key.
        key: String,
        /// Its rule.
        limit: WindowLimit,
    },
}

/// Entries kept at most per kind; past it, the stale ones are dropped,
/// then the oldest, so spraying names cannot grow memory without bound.
pub const MEMORY_ENTRIES: usize = 100_000;

/// How long a run is remembered after its last failure: a failure a day
/// after the last starts a new run.
pub const USER_MEMORY: u64 = 24 * 60 * 60;

impl RunLimit {
    /// How long a name with this run waits at `now`, if it must.
    pub fn wait(&self, run: &UserRun, now: u64) -> Option<u64> {
        (run.failures >= self.failures && run.locked_until > now).then(|| run.locked_until - now)
    }

    /// A failure at `now` for a name with `run`.
    pub fn failed(&self, run: &mut UserRun, now: u64) {
        if run.last_failure.saturating_add(USER_MEMORY) <= now {
            *run = UserRun::default();
        }
        run.failures = run.failures.saturating_add(1);
        run.last_failure = now;
        if run.failures >= self.failures {
            run.locked_until = now.saturating_add(self.lockout);
        }
    }
}

impl WindowLimit {
    /// How long a key with this window waits at `now`, if it must.
    pub fn wait(&self, window: &AddressWindow, now: u64) -> Option<u64> {
        let ends = window.started.saturating_add(self.seconds);
        (window.failures >= self.most && ends > now).then(|| ends - now)
    }

    /// One more counted at `now` in `window`.
    pub fn counted(&self, window: &mut AddressWindow, now: u64) {
        if window.started.saturating_add(self.seconds) <= now {
            *window = AddressWindow {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

impl Limits {
    /// The counts `attempt` touches: its name's run (a window, for a
    /// request rate) and its address's window, each that it has.
    pub fn counts(&self, attempt: &Attempt<'_>) -> Vec<Count> {
        let window = |most| WindowLimit {
            most,
            seconds: self.address_window,
        };
        let user_run = RunLimit {
            failures: self.user_failures,
            lockout: self.user_lockout,
            ends_on_success: true,
        };
        let (name, address) = match attempt.kind {
            Kind::Password => (
                attempt.name.map(|name| Count::Run {
                    key: name.to_owned(),
                    limit: user_run,
                }),
                attempt.address.map(|address| Count::Window {
                    key: address.to_string(),
                    limit: window(self.address_failures),
                }),
            ),
            Kind::UserCode => (
                attempt.name.map(|name| Count::Run {
                    key: format!("user_code {name}"),
                    limit: RunLimit {
                        ends_on_success: false,
                        ..user_run
                    },
                }),
                // Counted with the address's failed sign-ins.
                attempt.address.map(|address| Count::Window {
                    key: address.to_string(),
                    limit: window(self.address_failures),
                }),
            ),
            Kind::ClientAuthentication => (
                attempt.name.map(|name| Count::Run {
                    key: format!("client {name}"),
                    limit: RunLimit {
                        failures: self.client_failures,
                        lockout: self.client_lockout,
                        ends_on_success: true,
                    },
                }),
                attempt.address.map(|address| Count::Window {
                    key: format!("client {address}"),
                    limit: window(self.client_address_failures),
                }),
            ),
            Kind::DeviceRequest => (
                attempt.name.map(|name| Count::Window {
                    key: format!("device_client {name}"),
                    limit: window(self.device_requests),
                }),
                attempt.address.map(|address| Count::Window {
                    key: format!("device {address}"),
                    limit: window(self.device_requests),
                }),
            ),
        };
        name.into_iter().chain(address).collect()
    }
}

/// The throttle in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryThrottle {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    runs: HashMap<String, UserRun>,
    windows: HashMap<String, AddressWindow>,
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

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError> {
        let state = self.state();
        let waits = self
            .limits
            .counts(attempt)
            .into_iter()
            .map(|count| match count {
                Count::Run { key, limit } => {
                    state.runs.get(&key).and_then(|run| limit.wait(run, now))
                }
                Count::Window { key, limit } => state
                    .windows
                    .get(&key)
                    .and_then(|window| limit.wait(window, now)),
            });
        Ok(Verdict::of(waits))
    }

    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError> {
        let window_length = self.limits.address_window;
        let mut state = self.state();
        for count in self.limits.counts(attempt) {
            match count {
                Count::Run { key, limit } => {
                    if !state.runs.contains_key(&key) && state.runs.len() >= MEMORY_ENTRIES {
                        make_room(
                            &mut state.runs,
                            |run| {
                                run.last_failure.saturating_add(USER_MEMORY) <= now
                                    && run.locked_until <= now
                            },
                            |run| run.last_failure,
                        );
                    }
                    limit.failed(state.runs.entry(key).or_default(), now);
                }
                Count::Window { key, limit } => {
                    if !state.windows.contains_key(&key) && state.windows.len() >= MEMORY_ENTRIES {
                        make_room(
                            &mut state.windows,
                            |window| window.started.saturating_add(window_length) <= now,
                            |window| window.started,
                        );
                    }
                    limit.counted(state.windows.entry(key).or_default(), now);
                }
            }
        }
        Ok(())
    }

    async fn succeeded(&self, attempt: &Attempt<'_>, _now: u64) -> Result<(), StoreError> {
        let mut state = self.state();
        for count in self.limits.counts(attempt) {
            if let Count::Run { key, limit } = count {
                if limit.ends_on_success {
                    state.runs.remove(&key);
                }
            }
        }
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
    // suite; this is the bound of the one in memory, and the keys.
    #[test]
    fn spraying_names_keeps_memory_bounded() {
        let throttle = MemoryThrottle::new(Limits::default());
        for n in 0..(MEMORY_ENTRIES as u64 + 10) {
            let name = n.to_string();
            block(throttle.failed(&Attempt::client(Some(&name), None), n)).unwrap();
        }
        assert!(throttle.state().runs.len() <= MEMORY_ENTRIES);
    }

    #[test]
    fn no_two_kinds_share_a_count() {
        let limits = Limits::default();
        let address = Some(IpAddr::from([192, 0, 2, 1]));
        let mut keys: Vec<String> = [
            Attempt::password("client", address),
            Attempt::user_code("client", address),
            Attempt::client(Some("client"), address),
            Attempt::device_request(Some("client"), address),
        ]
        .iter()
        .flat_map(|attempt| limits.counts(attempt))
        .map(|count| match count {
            Count::Run { key, .. } => format!("run {key}"),
            Count::Window { key, .. } => format!("window {key}"),
        })
        .collect();
        // A user code's wrong guesses count with the address's failed sign-ins.
        assert_eq!(keys.len(), 8);
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 7, "{keys:?}");
    }
}
