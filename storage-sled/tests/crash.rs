//! A crash loses nothing a client was told: a child process appends in a
//! loop and prints each acknowledged sequence number; it is killed with
//! SIGKILL at a random moment, and every acknowledged record must be
//! there when the store is reopened, with the check passing. The same for
//! login sessions: one acknowledged as created is there, one acknowledged
//! as removed is not.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use credlog_conformance::store_suite::{nonce, token, NOW};
use credlog_core::store::{
    CredentialKind, CredentialStore, Event, Issued, NonceKey, Precondition, SessionHash,
    SessionLimits, SessionRecord,
};
use credlog_storage_sled::SledStore;

const CHILD_DIR: &str = "CREDLOG_CRASH_CHILD_DIR";
const SESSION_CHILD_DIR: &str = "CREDLOG_SESSION_CRASH_CHILD_DIR";
const ROUNDS: usize = 3;
const APPENDERS: usize = 8;

/// The child: appends from several tasks until killed, printing
/// `acked SEQ` after each append returns.
#[test]
#[ignore = "run as a child process by acknowledged_appends_survive_sigkill"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = Arc::new(SledStore::open(&dir).expect("the child opens the store"));
        let appenders: Vec<_> = (0..APPENDERS)
            .map(|task| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for i in 0u64.. {
                        // Mostly signed requests (a batch of them is one
                        // log entry), and an issuance now and then (a
                        // write across the log and several projections).
                        let (preconditions, event) = if i % 4 == 3 {
                            let id = format!("t-{task}-{i}");
                            let issued = token(CredentialKind::AccessToken, &id, "crash", None);
                            let absent = Precondition::Absent {
                                kind: CredentialKind::AccessToken,
                                id,
                            };
                            (vec![absent], Event::Issued(Issued::Token(issued)))
                        } else {
                            let used = nonce("crash", None, NOW, &format!("{task}-{i}"));
                            let precondition = Precondition::NonceUnused(NonceKey::from(&used));
                            (vec![precondition], Event::Verified(used))
                        };
                        let seq = store
                            .append(&preconditions, vec![event], NOW)
                            .await
                            .unwrap();
                        println!("acked {seq}");
                    }
                })
            })
            .collect();
        for appender in appenders {
            appender.await.unwrap();
        }
    });
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
        let reader = {
            let acked = Arc::clone(&acked);
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(seq) = line.strip_prefix("acked ").and_then(|s| s.parse().ok()) {
                        acked.lock().unwrap().push(seq);
                    }
                }
            })
        };

        // Let it get going, then kill it at a random moment.
        let started = Instant::now();
        while acked.lock().unwrap().len() < 20 && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(5));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(50 + seed % 450));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();

        let acked = acked.lock().unwrap().clone();
        assert!(
            !acked.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = SledStore::open(&path).expect("the store reopens after a crash");
            let last = store.last_seq().await.unwrap();
            let highest = *acked.iter().max().unwrap();
            assert!(
                last >= highest,
                "round {round}: acknowledged {highest} but the log ends at {last}"
            );
            let log = store.read_log(1, usize::MAX).await.unwrap();
            assert_eq!(log.len() as u64, last, "round {round}: the log has gaps");
            for seq in &acked {
                assert_eq!(log[(*seq - 1) as usize].seq, *seq);
            }
            let report = store.check().await.unwrap();
            assert!(
                report.is_consistent(),
                "round {round}: {:?}",
                report.mismatches
            );
            eprintln!(
                "round {round}: {} acknowledged, {} on disk after SIGKILL, check passed",
                acked.len(),
                last
            );
        });
    }
}

/// Limits under which no session ends or is dropped.
const UNBOUNDED: SessionLimits = SessionLimits {
    lifetime: u64::MAX,
    idle: u64::MAX,
    per_user: usize::MAX,
    in_all: usize::MAX,
};

/// The session child: creates sessions until killed, printing `created N`
/// after each, and removes every third, printing `removed N`.
#[test]
#[ignore = "run as a child process by acknowledged_sessions_survive_sigkill"]
fn session_crash_child() {
    let Ok(dir) = std::env::var(SESSION_CHILD_DIR) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let store = SledStore::open(&dir).expect("the child opens the store");
        for n in 0u64.. {
            let hash = SessionHash::of(&format!("session-{n}"));
            let record = SessionRecord::new(hash, "alice", "token", NOW);
            store.create_session(record, &UNBOUNDED).await.unwrap();
            println!("created {n}");
            if n % 3 == 0 {
                assert!(store.remove_session(&hash).await.unwrap());
                println!("removed {n}");
            }
        }
    });
}

#[test]
fn acknowledged_sessions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "session_crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SESSION_CHILD_DIR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let said = Arc::clone(&said);
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                said.lock().unwrap().push(line);
            }
        })
    };
    let started = Instant::now();
    while said.lock().unwrap().len() < 40 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();

    let said = said.lock().unwrap().clone();
    let numbers = |prefix: &str| -> Vec<u64> {
        said.iter()
            .filter_map(|line| line.strip_prefix(prefix)?.parse().ok())
            .collect()
    };
    let (created, removed) = (numbers("created "), numbers("removed "));
    assert!(!created.is_empty(), "the child created nothing");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SledStore::open(&path).expect("the store reopens after a crash");
        for n in &created {
            if n % 3 == 0 && !removed.contains(n) {
                continue; // killed while removing it: either way is right
            }
            let hash = SessionHash::of(&format!("session-{n}"));
            let kept = store.session(&hash, &UNBOUNDED, NOW).await.unwrap();
            assert_eq!(
                kept.is_some(),
                !removed.contains(n),
                "session {n}: acknowledged as {}",
                if removed.contains(n) {
                    "removed"
                } else {
                    "created"
                }
            );
        }
        eprintln!(
            "{} sessions acknowledged, {} of them removed, all as acknowledged after SIGKILL",
            created.len(),
            removed.len()
        );
    });
}
