//! Login sessions: a random id in an HttpOnly, SameSite=Lax cookie
//! (`Secure` behind https), and a CSRF token bound to the session for
//! every form that changes something. A session ends after 30 minutes
//! unused or 12 hours in all; a user holds a bounded number, and so does
//! the server (the oldest end first), so signing in in a loop cannot grow
//! memory. Sessions live in memory: a restart signs everyone out, which
//! loses no credential.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use crate::app::random_token;

/// The session cookie's name.
pub const COOKIE: &str = "credlog_session";

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (the cookie's value).
    pub id: String,
    /// Who signed in.
    pub user: String,
    /// The token every form of this session must carry back.
    pub csrf_token: String,
}

impl Session {
    /// Whether a form's `csrf_token` is this session's, compared in constant time.
    pub fn csrf_matches(&self, candidate: &str) -> bool {
        same_secret(&self.csrf_token, candidate)
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(ours: &str, theirs: &str) -> bool {
    use subtle::ConstantTimeEq;
    ours.as_bytes().ct_eq(theirs.as_bytes()).into()
}

/// The value of cookie `name` among a request's `Cookie` headers (the first).
pub fn cookie_value<'r>(request: &'r credlog_core::Request, name: &str) -> Option<&'r str> {
    request
        .header_values("cookie")
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim())
}

/// How long sessions last and how many are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Seconds from sign-in to the end, however busy.
    pub lifetime: u64,
    /// Seconds a session may go unused.
    pub idle: u64,
    /// Sessions one user holds at most.
    pub per_user: usize,
    /// Sessions held in all at most.
    pub in_all: usize,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    created: u64,
    last_seen: AtomicU64,
}

impl Entry {
    fn live(&self, limits: &SessionLimits, now: u64) -> bool {
        now < self.created.saturating_add(limits.lifetime)
            && now
                < self
                    .last_seen
                    .load(Ordering::Relaxed)
                    .saturating_add(limits.idle)
    }
}

/// Every live session.
#[derive(Debug)]
pub struct Sessions {
    limits: SessionLimits,
    by_id: RwLock<HashMap<String, Entry>>,
}

impl Sessions {
    /// Sessions within `limits`.
    pub fn new(limits: SessionLimits) -> Self {
        Sessions {
            limits,
            by_id: RwLock::new(HashMap::new()),
        }
    }

    /// Signs `user` in at `now` with a new id, forgetting sessions that
    /// have ended, then the user's oldest past the per-user bound, then
    /// the oldest of all past the total bound.
    pub fn create(&self, user: &str, now: u64) -> Session {
        let session = Session {
            id: random_token(),
            user: user.to_owned(),
            csrf_token: random_token(),
        };
        let limits = self.limits;
        let mut by_id = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id.retain(|_, entry| entry.live(&limits, now));
        while by_id
            .values()
            .filter(|entry| entry.session.user == user)
            .count()
            >= limits.per_user.max(1)
        {
            drop_oldest(&mut by_id, |entry| entry.session.user == user);
        }
        while by_id.len() >= limits.in_all.max(1) {
            drop_oldest(&mut by_id, |_| true);
        }
        by_id.insert(
            session.id.clone(),
            Entry {
                session: session.clone(),
                created: now,
                last_seen: AtomicU64::new(now),
            },
        );
        session
    }

    /// The live session with this id; using it keeps it from going idle.
    pub fn get(&self, id: &str, now: u64) -> Option<Session> {
        let by_id = self
            .by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = by_id
            .get(id)
            .filter(|entry| entry.live(&self.limits, now))?;
        entry.last_seen.fetch_max(now, Ordering::Relaxed);
        Some(entry.session.clone())
    }

    /// Signs a session out.
    pub fn remove(&self, id: &str) {
        let mut by_id = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id.remove(id);
    }

    /// How many sessions are held (live or not yet swept).
    pub fn len(&self) -> usize {
        self.by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// How many sessions are live at `now` (held ones that have not ended).
    pub fn live(&self, now: u64) -> usize {
        self.by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .filter(|entry| entry.live(&self.limits, now))
            .count()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn drop_oldest(by_id: &mut HashMap<String, Entry>, among: impl Fn(&Entry) -> bool) {
    let oldest = by_id
        .iter()
        .filter(|(_, entry)| among(entry))
        .min_by_key(|(_, entry)| entry.created)
        .map(|(id, _)| id.clone());
    match oldest {
        Some(id) => {
            by_id.remove(&id);
        }
        None => by_id.clear(),
    }
}

/// The `Set-Cookie` value that starts a session; `Secure` when clients
/// reach the server over https.
pub fn set_cookie(session: &Session, secure: bool) -> String {
    cookie(COOKIE, &session.id, secure, None)
}

/// The `Set-Cookie` value that ends one.
pub fn clear_cookie(secure: bool) -> String {
    cookie(COOKIE, "", secure, Some(0))
}

/// A `Set-Cookie` value no script reads and no cross-site POST sends.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SessionLimits {
        SessionLimits {
            lifetime: 1000,
            idle: 100,
            per_user: 3,
            in_all: 5,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_old_and_can_be_removed() {
        let sessions = Sessions::new(limits());
        let session = sessions.create("alice", 1000);
        // Used every 99 s it stays, until the lifetime ends.
        for now in (1099..2000).step_by(99) {
            assert_eq!(
                sessions.get(&session.id, now).unwrap().user,
                "alice",
                "{now}"
            );
        }
        assert!(sessions.get(&session.id, 2000).is_none());
        // Unused for the idle time, it ends.
        let idle = sessions.create("alice", 5000);
        assert!(sessions.get(&idle.id, 5099).is_some());
        assert!(sessions.get(&idle.id, 5199).is_none());
        assert!(sessions.get("unknown", 5000).is_none());
        let other = sessions.create("bob", 5000);
        sessions.remove(&other.id);
        assert!(sessions.get(&other.id, 5000).is_none());
    }

    #[test]
    fn a_user_and_the_server_hold_a_bounded_number_oldest_dropped_first() {
        let sessions = Sessions::new(limits());
        let alice: Vec<Session> = (0..4).map(|n| sessions.create("alice", 10 + n)).collect();
        assert!(sessions.get(&alice[0].id, 20).is_none(), "the oldest went");
        for kept in &alice[1..] {
            assert!(sessions.get(&kept.id, 20).is_some());
        }
        let bob = sessions.create("bob", 20);
        let carol = sessions.create("carol", 21);
        assert_eq!(sessions.len(), 5);
        // The sixth of all drops the oldest of all (alice's second).
        let dave = sessions.create("dave", 22);
        assert_eq!(sessions.len(), 5);
        assert!(sessions.get(&alice[1].id, 23).is_none());
        for kept in [&alice[2], &alice[3], &bob, &carol, &dave] {
            assert!(sessions.get(&kept.id, 23).is_some());
        }
    }

    #[test]
    fn csrf_tokens_are_per_session() {
        let sessions = Sessions::new(limits());
        let a = sessions.create("alice", 0);
        let b = sessions.create("alice", 0);
        assert!(a.csrf_matches(&a.csrf_token));
        assert!(!a.csrf_matches(&b.csrf_token));
        assert!(!a.csrf_matches(""));
        assert!(set_cookie(&a, false).contains("HttpOnly; SameSite=Lax"));
        assert!(!set_cookie(&a, false).contains("Secure"));
        assert!(set_cookie(&a, true).ends_with("; Secure"));
    }
}
