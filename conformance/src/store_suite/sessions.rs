//! The store suite's login sessions ([`credlog_core::store::sessions`]):
//! kept by the hash of their id, outside the log, ended by the limits the
//! caller gives, bounded per user and in all (the oldest go first), and
//! gone for good once removed.

use std::sync::Arc;

use credlog_core::store::{
    CredentialStore, SessionHash, SessionLimits, SessionRecord, TOUCH_SLACK,
};

use super::NOW;

/// The limits the session checks use.
pub const LIMITS: SessionLimits = SessionLimits {
    lifetime: 10_000,
    idle: 1_000,
    per_user: 3,
    in_all: 5,
};

/// Limits under which nothing ends: what a check reads through to see
/// whether a session is still kept at all.
const FOREVER: SessionLimits = SessionLimits {
    lifetime: u64::MAX,
    idle: u64::MAX,
    per_user: usize::MAX,
    in_all: usize::MAX,
};

/// The session of `user` with id `id`, created at `at`.
pub fn session(id: &str, user: &str, at: u64) -> SessionRecord {
    SessionRecord::new(SessionHash::of(id), user, &format!("{id}-csrf"), at)
}

async fn create<S: CredentialStore + ?Sized>(
    store: &S,
    id: &str,
    user: &str,
    at: u64,
) -> SessionRecord {
    let record = session(id, user, at);
    store
        .create_session(record.clone(), &LIMITS)
        .await
        .unwrap_or_else(|e| panic!("creating session {id} failed: {e}"));
    record
}

/// The session `id`, if live at `at` by `limits`.
async fn found<S: CredentialStore + ?Sized>(
    store: &S,
    id: &str,
    limits: &SessionLimits,
    at: u64,
) -> Option<SessionRecord> {
    store
        .session(&SessionHash::of(id), limits, at)
        .await
        .unwrap_or_else(|e| panic!("reading session {id} failed: {e}"))
}

/// Whether session `id` is still kept, live or not.
async fn kept<S: CredentialStore + ?Sized>(store: &S, id: &str) -> bool {
    found(store, id, &FOREVER, NOW).await.is_some()
}

/// A session is kept as created, its last use moves forward only, and a
/// removed one is gone, touch or no touch. None of it is in the log.
pub async fn sessions_are_kept_touched_and_removed<S: CredentialStore + ?Sized>(store: &S) {
    let created = create(store, "s1", "alice", NOW).await;
    assert_eq!(
        found(store, "s1", &LIMITS, NOW).await,
        Some(created.clone())
    );
    assert_eq!(store.last_seq().await.unwrap(), 0, "a session is no event");
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);

    store
        .touch_session(&SessionHash::of("s1"), NOW + 500)
        .await
        .unwrap();
    let touched = found(store, "s1", &LIMITS, NOW + 500).await.unwrap();
    assert_eq!(
        touched,
        SessionRecord {
            last_used: NOW + 500,
            ..created
        }
    );
    store
        .touch_session(&SessionHash::of("s1"), NOW + 100)
        .await
        .unwrap();
    let later = found(store, "s1", &LIMITS, NOW + 500).await.unwrap();
    assert_eq!(later.last_used, NOW + 500, "a last use never moves back");
    store
        .touch_session(&SessionHash::of("unknown"), NOW)
        .await
        .unwrap();
    assert!(!kept(store, "unknown").await, "a touch creates nothing");

    assert!(store.remove_session(&SessionHash::of("s1")).await.unwrap());
    assert!(!store.remove_session(&SessionHash::of("s1")).await.unwrap());
    assert!(!kept(store, "s1").await);
    store
        .touch_session(&SessionHash::of("s1"), NOW + 600)
        .await
        .unwrap();
    assert!(!kept(store, "s1").await, "a touch does not bring it back");
    assert_eq!(store.last_seq().await.unwrap(), 0);
}

/// The store is handed the SHA-256 of a session id, never the id: the
/// session is found by that hash, and by nothing near it.
pub async fn a_session_is_found_by_the_hash_of_its_id_alone<S: CredentialStore + ?Sized>(
    store: &S,
) {
    let id = "3p9QxVn2Lr7Ke0YtWm4Zc8Bh1Sd6Fj5G";
    create(store, id, "alice", NOW).await;
    let record = found(store, id, &LIMITS, NOW)
        .await
        .expect("found by its hash");
    assert_eq!(record.hash, SessionHash::of(id));
    assert_eq!(record.user, "alice");
    assert_eq!(record.csrf_token, format!("{id}-csrf"));
    for near in [
        id.to_ascii_uppercase(),
        id[..31].to_owned(),
        format!("{id} "),
        String::new(),
    ] {
        assert!(!kept(store, &near).await, "{near:?}");
    }
}

/// Whether a session is live is decided by the limits the caller gives:
/// the idle time (with [`TOUCH_SLACK`]) since its last use, the lifetime
/// since it was created however busy; and a new session makes the store
/// forget those that ended.
pub async fn sessions_end_by_the_callers_limits<S: CredentialStore + ?Sized>(store: &S) {
    let idle_end = NOW + LIMITS.idle + TOUCH_SLACK;
    create(store, "s1", "alice", NOW).await;
    assert!(found(store, "s1", &LIMITS, idle_end - 1).await.is_some());
    assert!(found(store, "s1", &LIMITS, idle_end).await.is_none());
    let strict = SessionLimits { idle: 10, ..LIMITS };
    assert!(found(store, "s1", &strict, NOW + 10 + TOUCH_SLACK)
        .await
        .is_none());
    let lax = SessionLimits {
        idle: 100_000,
        ..LIMITS
    };
    assert!(found(store, "s1", &lax, idle_end).await.is_some());
    assert!(kept(store, "s1").await, "reading ends nothing");

    // Used now and then, it lives until its lifetime ends.
    let end = NOW + LIMITS.lifetime;
    let mut at = NOW;
    while at + LIMITS.idle < end {
        at += LIMITS.idle;
        assert!(found(store, "s1", &LIMITS, at).await.is_some(), "{at}");
        store
            .touch_session(&SessionHash::of("s1"), at)
            .await
            .unwrap();
    }
    assert!(found(store, "s1", &LIMITS, end - 1).await.is_some());
    assert!(found(store, "s1", &LIMITS, end).await.is_none());

    // Left alone past its idle time, s2 ends; the next sign-in forgets both.
    create(store, "s2", "bob", end - 1).await;
    assert!(kept(store, "s1").await && kept(store, "s2").await);
    create(store, "s3", "carol", end - 1 + LIMITS.idle + TOUCH_SLACK).await;
    assert!(!kept(store, "s1").await, "past its lifetime");
    assert!(!kept(store, "s2").await, "idle too long");
    assert!(kept(store, "s3").await);
}

/// A user holds at most `per_user` sessions and the store `in_all`: the
/// oldest go first, and sessions that ended go before any live one.
pub async fn sessions_are_bounded_per_user_and_in_all<S: CredentialStore + ?Sized>(store: &S) {
    for n in 0..4 {
        create(store, &format!("a{n}"), "alice", NOW + n).await;
    }
    assert!(!kept(store, "a0").await, "alice's oldest went");
    for id in ["a1", "a2", "a3"] {
        assert!(kept(store, id).await, "{id}");
    }
    create(store, "b", "bob", NOW + 4).await;
    create(store, "c", "carol", NOW + 5).await;
    // The sixth of all drops the oldest of all: alice's second.
    create(store, "d", "dave", NOW + 6).await;
    assert!(!kept(store, "a1").await, "the oldest of all went");
    for id in ["a2", "a3", "b", "c", "d"] {
        assert!(kept(store, id).await, "{id}");
    }

    // a2 idles out while the others are used: the next sign-in drops a2
    // alone, not a3, the oldest live one.
    for id in ["a3", "b", "c", "d"] {
        store
            .touch_session(&SessionHash::of(id), NOW + 500)
            .await
            .unwrap();
    }
    create(store, "e", "erin", NOW + 2 + LIMITS.idle + TOUCH_SLACK).await;
    assert!(!kept(store, "a2").await);
    for id in ["a3", "b", "c", "d", "e"] {
        assert!(kept(store, id).await, "{id}");
    }
}

/// Signing a user out everywhere ends their sessions and no one else's,
/// not even those of a user whose name starts the same.
pub async fn a_users_sessions_end_together<S: CredentialStore + ?Sized>(store: &S) {
    create(store, "a1", "alice", NOW).await;
    create(store, "a2", "alice", NOW + 1).await;
    create(store, "al", "al", NOW + 2).await;
    create(store, "b", "bob", NOW + 3).await;
    assert_eq!(store.remove_user_sessions("alice").await.unwrap(), 2);
    assert!(!kept(store, "a1").await && !kept(store, "a2").await);
    assert!(kept(store, "al").await && kept(store, "b").await);
    assert_eq!(store.remove_user_sessions("alice").await.unwrap(), 0);
    assert_eq!(store.remove_user_sessions("a").await.unwrap(), 0);
    assert!(kept(store, "al").await);
    assert_eq!(store.last_seq().await.unwrap(), 0);
}

/// 32 sign-ins at once, of one user and of many: the bounds still hold.
pub async fn racing_sign_ins_keep_the_bounds<S: CredentialStore + 'static>(store: Arc<S>) {
    let race = |user: fn(usize) -> String| {
        let tasks: Vec<_> = (0..32)
            .map(|n| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let id = format!("{}-{n}", user(n));
                    let record = session(&id, &user(n), NOW);
                    store.create_session(record, &LIMITS).await.unwrap();
                    id
                })
            })
            .collect();
        async move {
            let mut ids = Vec::new();
            for task in tasks {
                ids.push(task.await.expect("the task ran"));
            }
            ids
        }
    };
    let mut live = 0;
    for id in race(|_| "alice".to_owned()).await {
        live += usize::from(kept(&*store, &id).await);
    }
    assert_eq!(live, LIMITS.per_user, "alice holds per_user sessions");
    store.remove_user_sessions("alice").await.unwrap();
    let mut live = 0;
    for id in race(|n| format!("user{n}")).await {
        live += usize::from(kept(&*store, &id).await);
    }
    assert_eq!(live, LIMITS.in_all, "the store holds in_all sessions");
}

/// For a durable backend, `open` opening the same store each time: a
/// session created before a restart is there after it, a removed one stays
/// removed, and the bounds count what is on disk.
pub async fn sessions_survive_reopening<S: CredentialStore>(open: impl Fn() -> S) {
    {
        let store = open();
        create(&store, "kept", "alice", NOW).await;
        create(&store, "removed", "alice", NOW + 1).await;
        store
            .touch_session(&SessionHash::of("kept"), NOW + 100)
            .await
            .unwrap();
        assert!(store
            .remove_session(&SessionHash::of("removed"))
            .await
            .unwrap());
        create(&store, "bob", "bob", NOW + 2).await;
        create(&store, "carol", "carol", NOW + 3).await;
    }
    {
        let store = open();
        let session = found(&store, "kept", &LIMITS, NOW + 100).await;
        let session = session.expect("a session survives a restart");
        assert_eq!(session.user, "alice");
        assert!(session.last_used >= NOW);
        assert!(
            !kept(&store, "removed").await,
            "a removed session came back"
        );
        // Three are kept: two more reach the bound of five, a third drops
        // the oldest, which only a count of what is on disk knows.
        for (n, id) in ["dave", "erin", "frank"].into_iter().enumerate() {
            create(&store, id, id, NOW + 4 + n as u64).await;
        }
        assert!(!kept(&store, "kept").await, "the oldest of all went");
        for id in ["bob", "carol", "dave", "erin", "frank"] {
            assert!(kept(&store, id).await, "{id}");
        }
        assert!(store.remove_session(&SessionHash::of("bob")).await.unwrap());
    }
    let store = open();
    assert!(!kept(&store, "bob").await, "a removed session came back");
    assert!(kept(&store, "carol").await);
    assert_eq!(store.last_seq().await.unwrap(), 0);
}
