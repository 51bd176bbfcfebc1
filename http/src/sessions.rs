//! Login sessions: a random id in an HttpOnly, SameSite=Lax cookie, and a
//! CSRF token bound to the session for every form that changes something.
//! Sessions live in memory: a restart signs everyone out, which loses no
//! credential.

use std::collections::HashMap;
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
    expires_at: u64,
}

impl Session {
    /// Whether a form's `csrf_token` is this session's, compared in constant time.
    pub fn csrf_matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.csrf_token
            .as_bytes()
            .ct_eq(candidate.as_bytes())
            .into()
    }
}

/// Every live session.
#[derive(Debug)]
pub struct Sessions {
    lifetime: u64,
    by_id: RwLock<HashMap<String, Session>>,
}

impl Sessions {
    /// Sessions that last `lifetime` seconds.
    pub fn new(lifetime: u64) -> Self {
        Sessions {
            lifetime,
            by_id: RwLock::new(HashMap::new()),
        }
    }

    /// Signs `user` in at `now`, forgetting sessions that have expired.
    pub fn create(&self, user: &str, now: u64) -> Session {
        let session = Session {
            id: random_token(),
            user: user.to_owned(),
            csrf_token: random_token(),
            expires_at: now.saturating_add(self.lifetime),
        };
        let mut by_id = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id.retain(|_, live| live.expires_at > now);
        by_id.insert(session.id.clone(), session.clone());
        session
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: u64) -> Option<Session> {
        let by_id = self
            .by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id
            .get(id)
            .filter(|session| session.expires_at > now)
            .cloned()
    }

    /// Signs a session out.
    pub fn remove(&self, id: &str) {
        let mut by_id = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id.remove(id);
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(session: &Session) -> String {
    format!("{COOKIE}={}; HttpOnly; SameSite=Lax; Path=/", session.id)
}

/// The `Set-Cookie` value that ends one.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_can_be_removed() {
        let sessions = Sessions::new(100);
        let session = sessions.create("alice", 1000);
        assert_eq!(sessions.get(&session.id, 1099).unwrap().user, "alice");
        assert!(sessions.get(&session.id, 1100).is_none());
        assert!(sessions.get("unknown", 1000).is_none());
        let other = sessions.create("bob", 1000);
        sessions.remove(&other.id);
        assert!(sessions.get(&other.id, 1000).is_none());
    }

    #[test]
    fn csrf_tokens_are_per_session() {
        let sessions = Sessions::new(100);
        let a = sessions.create("alice", 0);
        let b = sessions.create("alice", 0);
        assert!(a.csrf_matches(&a.csrf_token));
        assert!(!a.csrf_matches(&b.csrf_token));
        assert!(!a.csrf_matches(""));
        assert!(set_cookie(&a).contains("HttpOnly; SameSite=Lax"));
    }
}
