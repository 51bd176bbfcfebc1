//! Login sessions as the store keeps them (CONTRACT.md "Deployment":
//! sessions survive a restart, live in the store as hashes, and signing out
//! ends them everywhere).
//!
//! A session is not a credential: it is never an event, never in the log
//! and never in a projection, so `credlog check` does not cover it. A
//! backend keeps sessions in a table or tree of their own, written in
//! place: the log is the history of credentials, and a sign-in or a page
//! view is not part of it. The store holds only the SHA-256 of a session's
//! id (the id is a server-generated secret of 190 random bits, DESIGN.md
//! rule 4): whoever reads the store cannot sign in with what they read.
//! The CSRF token is kept as it is, because the server writes it into
//! every form of the session; it is worth nothing without the id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How far a session's recorded last use may lag behind its real one: a
/// use is written only when it moves the last use by more than this, so a
/// busy session costs one write a minute, not one a page view. The idle
/// check adds it back ([`SessionLimits::is_live`]), so a session used
/// within its idle time never ends for being idle; one left alone ends up
/// to this much later than its idle time.
pub const TOUCH_SLACK: u64 = 60;

/// The SHA-256 of a session id: the only form of the id a store sees.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionHash(pub [u8; 32]);

impl SessionHash {
    /// The hash of `id` (the session cookie's value).
    pub fn of(id: &str) -> SessionHash {
        SessionHash(Sha256::digest(id.as_bytes()).into())
    }
}

impl std::fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionHash(")?;
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "..)")
    }
}

/// A login session as the store keeps it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The hash of its id.
    pub hash: SessionHash,
    /// Who signed in.
    pub user: String,
    /// The token every form of the session carries back.
    pub csrf_token: String,
    /// When it was created, in seconds since the epoch.
    pub created: u64,
    /// When it was last used, as recorded (up to [`TOUCH_SLACK`] behind).
    pub last_used: u64,
}

impl SessionRecord {
    /// A session of `user` created, and last used, at `now`.
    pub fn new(hash: SessionHash, user: &str, csrf_token: &str, now: u64) -> SessionRecord {
        SessionRecord {
            hash,
            user: user.to_owned(),
            csrf_token: csrf_token.to_owned(),
            created: now,
            last_used: now,
        }
    }

    /// Whether a use at `now` is worth writing: it moves the recorded last
    /// use by more than [`TOUCH_SLACK`].
    pub fn needs_touch(&self, now: u64) -> bool {
        now > self.last_used.saturating_add(TOUCH_SLACK)
    }
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("hash", &self.hash)
            .field("user", &self.user)
            .field("csrf_token", &"..")
            .field("created", &self.created)
            .field("last_used", &self.last_used)
            .finish()
    }
}

/// How long sessions last and how many are held. The caller decides them
/// (they are settings of the server); the store applies them.
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

impl SessionLimits {
    /// Whether `session` is live at `now`: less than `lifetime` since it
    /// was created, and less than `idle` (plus [`TOUCH_SLACK`], the lag
    /// its recorded last use may have) since it was last used.
    pub fn is_live(&self, session: &SessionRecord, now: u64) -> bool {
        !self.lifetime_over(session.created, now) && !self.idle_over(session.last_used, now)
    }

    /// Whether a session created at `created` has reached its lifetime at `now`.
    pub fn lifetime_over(&self, created: u64, now: u64) -> bool {
        now >= created.saturating_add(self.lifetime)
    }

    /// Whether a session last used at `last_used` (as recorded) has gone
    /// unused too long at `now`.
    pub fn idle_over(&self, last_used: u64, now: u64) -> bool {
        now >= last_used
            .saturating_add(self.idle)
            .saturating_add(TOUCH_SLACK)
    }

    /// The sessions one user holds at most (never less than one).
    pub fn per_user_bound(&self) -> usize {
        self.per_user.max(1)
    }

    /// The sessions held in all at most (never less than one).
    pub fn in_all_bound(&self) -> usize {
        self.in_all.max(1)
    }
}

/// Admits `session` among `kept` (every session a store keeps, by hash),
/// as [`crate::store::CredentialStore::create_session`] says: forgets the
/// sessions ended by `limits` at its creation, then, while its user holds
/// [`SessionLimits::per_user_bound`] or more, that user's oldest, then,
/// while `kept` holds [`SessionLimits::in_all_bound`] or more, the oldest
/// of all (ties go by hash), and keeps it. One rule for every backend
/// that holds the sessions, or reads them all, at once.
pub fn admit(
    kept: &mut BTreeMap<SessionHash, SessionRecord>,
    session: SessionRecord,
    limits: &SessionLimits,
) {
    let now = session.created;
    kept.remove(&session.hash);
    kept.retain(|_, old| limits.is_live(old, now));
    drop_oldest(kept, limits.per_user_bound(), |old| {
        old.user == session.user
    });
    drop_oldest(kept, limits.in_all_bound(), |_| true);
    kept.insert(session.hash, session);
}

/// Forgets the oldest sessions among those `among` picks until fewer than
/// `bound` remain.
fn drop_oldest(
    sessions: &mut BTreeMap<SessionHash, SessionRecord>,
    bound: usize,
    among: impl Fn(&SessionRecord) -> bool,
) {
    let mut picked: Vec<(u64, SessionHash)> = sessions
        .values()
        .filter(|session| among(session))
        .map(|session| (session.created, session.hash))
        .collect();
    if picked.len() < bound {
        return;
    }
    picked.sort_unstable();
    for (_, hash) in &picked[..=picked.len() - bound] {
        sessions.remove(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_sha256_of_the_id() {
        // FIPS 180-2 B.1.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = SessionHash::of("abc")
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
        assert_eq!(
            format!("{:?}", SessionHash::of("abc")),
            "SessionHash(ba7816bf..)"
        );
    }

    #[test]
    fn liveness_allows_the_touch_slack_and_ends_at_the_lifetime() {
        let limits = SessionLimits {
            lifetime: 1000,
            idle: 100,
            per_user: 1,
            in_all: 1,
        };
        let mut session = SessionRecord::new(SessionHash::of("id"), "alice", "form-token", 0);
        assert!(limits.is_live(&session, 100 + TOUCH_SLACK - 1));
        assert!(!limits.is_live(&session, 100 + TOUCH_SLACK));
        assert!(!session.needs_touch(TOUCH_SLACK));
        assert!(session.needs_touch(TOUCH_SLACK + 1));
        session.last_used = 990;
        assert!(limits.is_live(&session, 999));
        assert!(!limits.is_live(&session, 1000));
        assert!(!format!("{session:?}").contains("form-token"));
    }
}
