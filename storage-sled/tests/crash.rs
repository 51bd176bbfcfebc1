//! A crash loses nothing a client was told: a child process appends in a
//! loop and prints each acknowledged sequence number; it is killed with
//! SIGKILL at a random moment, and every acknowledged record must be
//! there when the store is reopened, with the check passing. The same for
//! login sessions: one acknowledged as created is there, one acknowledged
//! as removed is not.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use credlog_conformance::store_suite::{nonce, token, NOW};
use credlog_core::store::projections;
use credlog_core::store::{
    AppendError, CredentialKind, CredentialStore, Event, Issued, NonceKey, Precondition,
    SessionHash, SessionLimits, SessionRecord,
};
use credlog_storage_sled::{Retention, SledStore, Usage};

const CHILD_DIR: &str = "CREDLOG_CRASH_CHILD_DIR";
const SESSION_CHILD_DIR: &str = "CREDLOG_SESSION_CRASH_CHILD_DIR";
const ROUNDS: usize = 3;
const APPENDERS: usize = 8;

/// Appends from [`APPENDERS`] tasks until the process is killed, printing
/// `acked SEQ` after each append returns: mostly signed requests (a batch
/// of them is one log entry), and an issuance now and then (a write across
/// the log and several projections). The clock stands at `NOW`, or, with
/// `per_second` above 0, moves a second every `per_second` appends; a
/// signed request that fell behind the window is then refused, and not
/// printed.
fn append_until_killed(store: Arc<SledStore>, per_second: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(std::sync::atomic::AtomicU64::new(0));
    runtime.block_on(async move {
        let appenders: Vec<_> = (0..APPENDERS)
            .map(|task| {
                let (store, clock) = (Arc::clone(&store), Arc::clone(&clock));
                tokio::spawn(async move {
                    for i in 0u64.. {
                        let ticks = clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let time = NOW + ticks.checked_div(per_second).unwrap_or(0);
                        let (preconditions, event) = if i % 4 == 3 {
                            let id = format!("t-{task}-{i}");
                            let issued = token(CredentialKind::AccessToken, &id, "crash", None);
                            let absent = Precondition::Absent {
                                kind: CredentialKind::AccessToken,
                                id,
                            };
                            (vec![absent], Event::Issued(Issued::Token(issued)))
                        } else {
                            let used = nonce("crash", None, time, &format!("{task}-{i}"));
                            let precondition = Precondition::NonceUnused(NonceKey::from(&used));
                            (vec![precondition], Event::Verified(used))
                        };
                        match store.append(&preconditions, vec![event], time).await {
                            Ok(seq) => println!("acked {seq}"),
                            Err(AppendError::Refused(_)) if per_second > 0 => {}
                            Err(error) => panic!("append failed: {error}"),
                        }
                    }
                })
            })
            .collect();
        for appender in appenders {
            appender.await.unwrap();
        }
    });
}

/// The child: appends from several tasks until killed, printing
/// `acked SEQ` after each append returns.
#[test]
#[ignore = "run as a child process by acknowledged_appends_survive_sigkill"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    append_until_killed(
        Arc::new(SledStore::open(&dir).expect("the child opens the store")),
        0,
    );
}

/// Runs the ignored test `child` as a child process with `env` set to
/// `path`, lets it print `lines` lines, then (after a random pause drawn
/// from `seed`, none when it is 0) kills it with SIGKILL; answers what it
/// printed.
fn run_and_kill(child: &str, env: &str, path: &Path, lines: usize, seed: &mut u64) -> Vec<String> {
    let mut process = Command::new(std::env::current_exe().unwrap())
        .args([
            child,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let said = Arc::clone(&said);
        let stdout = process.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                said.lock().unwrap().push(line);
            }
        })
    };
    let started = Instant::now();
    while said.lock().unwrap().len() < lines && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    if *seed != 0 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        std::thread::sleep(Duration::from_millis(50 + *seed % 450));
    }
    process.kill().unwrap();
    process.wait().unwrap();
    reader.join().unwrap();
    let said = said.lock().unwrap().clone();
    said
}

/// The numbers of the lines that start with `prefix`.
fn numbers(said: &[String], prefix: &str) -> Vec<u64> {
    said.iter()
        .filter_map(|line| line.strip_prefix(prefix)?.parse().ok())
        .collect()
}

fn seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let mut seed = seed();
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let acked = numbers(
            &run_and_kill("crash_child", CHILD_DIR, &path, 20, &mut seed),
            "acked ",
        );
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
    let said = run_and_kill("session_crash_child", SESSION_CHILD_DIR, &path, 40, &mut 0);
    let (created, removed) = (numbers(&said, "created "), numbers(&said, "removed "));
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

const RETIRING_CHILD_DIR: &str = "CREDLOG_RETIRING_CRASH_CHILD_DIR";

/// The nonce window and retention the retiring child runs with: its clock
/// moves one second every eight appends, so records leave the live log
/// within a few hundred appends of being written.
const RETIRING_WINDOW: u64 = 5;
const RETAINED: Retention = Retention {
    seconds: 11,
    archive: true,
};

fn open_retaining(path: &Path) -> SledStore {
    SledStore::open_retaining(
        path,
        RETIRING_WINDOW,
        Some(RETAINED),
        Usage::Serving,
        &|_, _| {},
    )
    .expect("the store opens")
}

/// The retiring child: appends as `crash_child` does, on a clock that
/// runs fast, while a thread retires old records as often as it can, so
/// that a kill lands in an archive move as often as not.
#[test]
#[ignore = "run as a child process by a_kill_during_retirement_loses_nothing"]
fn retiring_crash_child() {
    let Ok(dir) = std::env::var(RETIRING_CHILD_DIR) else {
        return;
    };
    let store = Arc::new(open_retaining(Path::new(&dir)));
    let housekeeper = Arc::clone(&store);
    std::thread::spawn(move || loop {
        housekeeper.housekeep().expect("a retirement pass works");
        std::thread::sleep(Duration::from_millis(1));
    });
    append_until_killed(store, 8);
}

#[test]
fn a_kill_during_retirement_loses_nothing() {
    let mut seed = seed();
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let said = run_and_kill(
            "retiring_crash_child",
            RETIRING_CHILD_DIR,
            &path,
            2000,
            &mut seed,
        );
        let acked = numbers(&said, "acked ");
        assert!(
            !acked.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = open_retaining(&path);
            let seqs = |records: &[credlog_core::store::Record]| -> Vec<u64> {
                records.iter().map(|record| record.seq).collect()
            };
            let live = store.read_log(1, usize::MAX).await.unwrap();
            let archived = store.read_archive(1, usize::MAX).await.unwrap();
            assert!(
                archived.iter().all(projections::retirable),
                "round {round}: the archive holds a record that changes a credential"
            );
            let mut both: Vec<u64> = seqs(&live).into_iter().chain(seqs(&archived)).collect();
            both.sort_unstable();
            both.dedup();
            for seq in &acked {
                assert!(
                    both.binary_search(seq).is_ok(),
                    "round {round}: acknowledged record {seq} is in neither the log nor the archive"
                );
            }
            let report = store.check().await.unwrap();
            assert!(
                report.is_consistent(),
                "round {round}: {:?}",
                report.mismatches
            );
            // A pass the kill interrupted is redone: afterwards every
            // record is in exactly one of the two.
            store.housekeep().unwrap();
            let live = seqs(&store.read_log(1, usize::MAX).await.unwrap());
            let archived = seqs(&store.read_archive(1, usize::MAX).await.unwrap());
            let mut all: Vec<u64> = live.iter().chain(&archived).copied().collect();
            all.sort_unstable();
            let last = store.last_seq().await.unwrap();
            assert_eq!(all, (1..=last).collect::<Vec<_>>(), "round {round}");
            assert!(store.check().await.unwrap().is_consistent());
            eprintln!(
                "round {round}: {} acknowledged, {} archived, {} live after SIGKILL, check passed",
                acked.len(),
                archived.len(),
                live.len()
            );
        });
    }
}
