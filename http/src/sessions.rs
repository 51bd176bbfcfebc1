//! Login sessions: a random id in an HttpOnly, SameSite=Lax cookie
//! (`Secure` behind https), and a CSRF token bound to the session for
//! every form that changes something. A session ends after 30 minutes
//! unused or 12 hours in all; a user holds a bounded number, and so does
//! the server (the oldest end first), so signing in in a loop cannot grow
//! the store.
//!
//! Sessions live in the app's credential store, as the SHA-256 of their id
//! and outside the log ([`credlog_core::store::sessions`]): a restart keeps
//! everyone signed in, servers sharing one store share them, and signing
//! out ends a session on all of them. [`Sessions`] is a thin layer over the
//! store: it makes the ids, hashes them, and writes a use only when it
//! moves the recorded last use by more than [`TOUCH_SLACK`] (one write a
//! minute for a busy session, not one a page view).

use std::sync::Arc;

use credlog_core::store::{CredentialStore, SessionHash, SessionRecord, StoreError};

use credlog_core::random::random_token;

pub use credlog_core::store::{SessionLimits, TOUCH_SLACK};

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
    /// When the user signed in (seconds since the epoch): OpenID
    /// Connect's `auth_time`.
    pub signed_in_at: u64,
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

/// The login sessions, kept in the credential store.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn CredentialStore>,
    limits: SessionLimits,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions kept in `store`, within `limits`.
    pub fn new(store: Arc<dyn CredentialStore>, limits: SessionLimits) -> Self {
        Sessions { store, limits }
    }

    /// The limits they are kept within.
    pub fn limits(&self) -> &SessionLimits {
        &self.limits
    }

    /// Signs `user` in at `now` with a new id; the store forgets sessions
    /// that have ended, then the user's oldest past the per-user bound,
    /// then the oldest of all past the total bound.
    pub async fn create(&self, user: &str, now: u64) -> Result<Session, StoreError> {
        let session = Session {
            id: random_token(),
            user: user.to_owned(),
            csrf_token: random_token(),
            signed_in_at: now,
        };
        let record = SessionRecord::new(
            SessionHash::of(&session.id),
            &session.user,
            &session.csrf_token,
            now,
        );
        self.store.create_session(record, &self.limits).await?;
        Ok(session)
    }

    /// The live session with this id; using it keeps it from going idle.
    /// The use is written when it moves the last use by more than
    /// [`TOUCH_SLACK`]; a failure to write it is logged and does not stop
    /// the request (a lost use only brings the idle end nearer).
    pub async fn get(&self, id: &str, now: u64) -> Result<Option<Session>, StoreError> {
        let hash = SessionHash::of(id);
        let Some(record) = self.store.session(&hash, &self.limits, now).await? else {
            return Ok(None);
        };
        if record.needs_touch(now) {
            if let Err(error) = self.store.touch_session(&hash, now).await {
                tracing::warn!(%error, "a session's last use could not be written");
            }
        }
        Ok(Some(Session {
            id: id.to_owned(),
            user: record.user,
            csrf_token: record.csrf_token,
            signed_in_at: record.created,
        }))
    }

    /// [`Sessions::get`] for a page that also works signed out: a store
    /// that fails to answer is logged and read as nobody signed in. That
    /// never grants anything (a form that needs a session is refused, an
    /// authorize page asks to sign in), and the home page still shows.
    pub async fn signed_in(&self, id: &str, now: u64) -> Option<Session> {
        match self.get(id, now).await {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(%error, "the credential store failed to read a session; treated as signed out");
                None
            }
        }
    }

    /// Signs a session out, on every server sharing the store; answers
    /// whether it was live or kept.
    pub async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        self.store.remove_session(&SessionHash::of(id)).await
    }

    /// Signs `user` out everywhere; answers how many sessions ended.
    pub async fn remove_user(&self, user: &str) -> Result<u64, StoreError> {
        self.store.remove_user_sessions(user).await
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
    use credlog_storage_memory::MemoryStore;

    fn limits() -> SessionLimits {
        SessionLimits {
            lifetime: 10_000,
            idle: 1_000,
            per_user: 3,
            in_all: 5,
        }
    }

    fn sessions() -> Sessions {
        Sessions::new(Arc::new(MemoryStore::new()), limits())
    }

    async fn live(sessions: &Sessions, session: &Session, now: u64) -> bool {
        sessions.get(&session.id, now).await.unwrap().is_some()
    }

    #[tokio::test]
    async fn sessions_end_when_idle_or_old_and_can_be_removed() {
        let sessions = sessions();
        let session = sessions.create("alice", 1000).await.unwrap();
        // Used every 999 s it stays, until the lifetime ends.
        for now in (1999..11_000).step_by(999) {
            let found = sessions.get(&session.id, now).await.unwrap();
            assert_eq!(found.as_ref(), Some(&session), "{now}");
        }
        assert!(!live(&sessions, &session, 11_000).await);
        // Unused for the idle time (and the touch slack), it ends.
        let idle = sessions.create("alice", 20_000).await.unwrap();
        assert!(live(&sessions, &idle, 21_000 + TOUCH_SLACK - 1).await);
        let unused = sessions.create("bob", 20_000).await.unwrap();
        assert!(!live(&sessions, &unused, 21_000 + TOUCH_SLACK).await);
        assert!(sessions.get("unknown", 20_000).await.unwrap().is_none());
        let other = sessions.create("carol", 20_000).await.unwrap();
        assert!(sessions.remove(&other.id).await.unwrap());
        assert!(!live(&sessions, &other, 20_000).await);
    }

    #[tokio::test]
    async fn a_use_within_the_slack_is_not_written_and_costs_no_idle_time() {
        let sessions = sessions();
        let session = sessions.create("alice", 0).await.unwrap();
        let hash = SessionHash::of(&session.id);
        let recorded = |now| {
            let store = Arc::clone(&sessions.store);
            async move {
                store
                    .session(&hash, &limits(), now)
                    .await
                    .unwrap()
                    .map(|record| record.last_used)
            }
        };
        assert!(live(&sessions, &session, TOUCH_SLACK).await);
        assert_eq!(
            recorded(TOUCH_SLACK).await,
            Some(0),
            "within the slack: no write"
        );
        // Idle time counts from the use, not from the recorded one.
        assert!(live(&sessions, &session, TOUCH_SLACK + 999).await);
        assert_eq!(recorded(TOUCH_SLACK + 999).await, Some(TOUCH_SLACK + 999));
    }

    #[tokio::test]
    async fn a_user_and_the_server_hold_a_bounded_number_oldest_dropped_first() {
        let sessions = sessions();
        let mut alice = Vec::new();
        for n in 0..4 {
            alice.push(sessions.create("alice", 10 + n).await.unwrap());
        }
        assert!(!live(&sessions, &alice[0], 20).await, "the oldest went");
        for kept in &alice[1..] {
            assert!(live(&sessions, kept, 20).await);
        }
        let bob = sessions.create("bob", 20).await.unwrap();
        let carol = sessions.create("carol", 21).await.unwrap();
        // The sixth of all drops the oldest of all (alice's second).
        let dave = sessions.create("dave", 22).await.unwrap();
        assert!(!live(&sessions, &alice[1], 23).await);
        for kept in [&alice[2], &alice[3], &bob, &carol, &dave] {
            assert!(live(&sessions, kept, 23).await);
        }
        assert_eq!(sessions.remove_user("alice").await.unwrap(), 2);
        assert!(!live(&sessions, &alice[3], 23).await);
        assert!(live(&sessions, &bob, 23).await);
    }

    #[tokio::test]
    async fn csrf_tokens_are_per_session() {
        let sessions = sessions();
        let a = sessions.create("alice", 0).await.unwrap();
        let b = sessions.create("alice", 0).await.unwrap();
        assert!(a.csrf_matches(&a.csrf_token));
        assert!(!a.csrf_matches(&b.csrf_token));
        assert!(!a.csrf_matches(""));
        assert_eq!(sessions.get(&a.id, 0).await.unwrap(), Some(a.clone()));
        assert!(set_cookie(&a, false).contains("HttpOnly; SameSite=Lax"));
        assert!(!set_cookie(&a, false).contains("Secure"));
        assert!(set_cookie(&a, true).ends_with("; Secure"));
    }
}
