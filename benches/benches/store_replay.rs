//! Replaying 1,000,000 events: `credlog check` rebuilds every projection
//! from the log and compares. Reports the seconds it takes and the memory
//! it needs, measured in a fresh process so that building the log does not
//! count. The log is built once (64 concurrent appenders) and kept under
//! `target/` for later runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use credlog_conformance::store_suite::{client, nonce, token, NOW};
use credlog_core::store::{CredentialKind, CredentialStore, Event, Issued, NonceKey, Precondition};
use credlog_storage_sled::SledStore;

const EVENTS: u64 = 1_000_000;
const APPENDERS: u64 = 64;
const REPLAY_DIR: &str = "CREDLOG_REPLAY_DIR";

/// The process's resident and peak resident memory, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn replay(path: &Path) {
    let store = SledStore::open(path).expect("the store opens");
    let (before, _) = memory_mib();
    let started = Instant::now();
    let report = futures_ready(store.check()).expect("the check runs");
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory_mib();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    let events = report.records;
    println!(
        "replay: {events} events in {seconds:.2} s ({:.0} events/s); resident {before:.0} MiB after open, peak {peak:.0} MiB (+{:.0} MiB for the replay)",
        events as f64 / seconds,
        peak - before
    );
}

fn futures_ready<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn build(path: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Arc::new(SledStore::open(path).expect("the store opens"));
        if store.last_seq().await.unwrap() >= EVENTS {
            return;
        }
        let started = Instant::now();
        store
            .append(&[], vec![Event::Issued(Issued::Client(client("c1")))], NOW)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..APPENDERS)
            .map(|task| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for i in 0..(EVENTS - 1) / APPENDERS + 1 {
                        // A token issued per four signed requests.
                        let event = if i % 5 == 0 {
                            let issued = token(
                                CredentialKind::TokenCredential,
                                &format!("t-{task}-{i}"),
                                "c1",
                                None,
                            );
                            (vec![], Event::Issued(Issued::Token(issued)))
                        } else {
                            let used = nonce("c1", None, NOW, &format!("{task}-{i}"));
                            (
                                vec![Precondition::NonceUnused(NonceKey::from(&used))],
                                Event::Verified(used),
                            )
                        };
                        store.append(&event.0, vec![event.1], NOW).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let seconds = started.elapsed().as_secs_f64();
        let written = store.last_seq().await.unwrap();
        println!(
            "built: {written} durable appends by {APPENDERS} appenders in {seconds:.1} s ({:.0}/s)",
            written as f64 / seconds
        );
    });
}

fn main() {
    if let Ok(dir) = std::env::var(REPLAY_DIR) {
        replay(Path::new(&dir));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join("credlog-replay-1m");
    build(&path);
    let status = Command::new(std::env::current_exe().unwrap())
        .env(REPLAY_DIR, &path)
        .status()
        .expect("the replay process runs");
    assert!(status.success());
}
