//! Replaying `REPLAY_EVENTS` events (default 1,000,000; the issue's figure
//! is 10,000,000): `credlog check` rebuilds every projection from the log
//! and compares. Reports how long opening the store takes after a crash
//! (the process that built the log exits without closing it), then the
//! seconds the check takes and the memory it needs, in a fresh process so
//! that building the log does not count; then a check from the snapshot
//! that one kept. The log is built once (64
//! concurrent appenders; a token issued per four signed requests; the
//! clock advancing a second per 1,000 events, so the nonce window holds
//! the last 300,000) and kept under `target/` for later runs.
//!
//! ```text
//! cargo bench -p credlog-benches --bench store_replay
//! REPLAY_EVENTS=10000000 cargo bench -p credlog-benches --bench store_replay
//! ```

/// The allocator the `credlog` binary ships with, so the check measured
/// here allocates as `credlog check` does (sled's node rewrites are mostly
/// allocation).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use credlog_benches::memory_mib;
use credlog_conformance::store_suite::{client, nonce, token, NOW};
use credlog_core::store::{CredentialKind, CredentialStore, Event, Issued, NonceKey, Precondition};
use credlog_storage_sled::{SledStore, Usage};

const APPENDERS: u64 = 64;
const REPLAY_DIR: &str = "CREDLOG_REPLAY_DIR";
const BUILD_DIR: &str = "CREDLOG_REPLAY_BUILD_DIR";
/// Events appended a second of the log's clock.
const RATE: u64 = 1_000;

fn events() -> u64 {
    std::env::var("REPLAY_EVENTS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1_000_000)
}

fn replay(path: &Path) {
    let opening = Instant::now();
    // As `credlog check` opens it.
    let window = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;
    let store = SledStore::open_retaining(path, window, None, Usage::Once, &|_, _| {})
        .expect("the store opens");
    let (open_resident, open_peak) = memory_mib();
    println!(
        "open after a crash: {:.2} s; resident {open_resident:.0} MiB, peak {open_peak:.0} MiB",
        opening.elapsed().as_secs_f64()
    );
    let (before, _) = memory_mib();
    let started = Instant::now();
    let report = futures_ready(store.check()).expect("the check runs");
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory_mib();
    let events = report.records;
    println!(
        "replay: {events} events in {seconds:.2} s ({:.0} events/s); resident {before:.0} MiB after open, peak {peak:.0} MiB (+{:.0} MiB for the replay)",
        events as f64 / seconds,
        peak - before
    );
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    // That check kept its rebuild as the snapshot: the next starts there.
    let started = Instant::now();
    let report = futures_ready(store.check_from_snapshot(&|_| {})).expect("the check runs");
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    println!(
        "check from the snapshot at record {:?}: {} records replayed in {:.2} s; peak {:.0} MiB",
        report.snapshot,
        report.records,
        started.elapsed().as_secs_f64(),
        memory_mib().1
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
        let events = events();
        if store.last_seq().await.unwrap() >= events {
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
                    for i in 0..(events - 1) / APPENDERS + 1 {
                        let time = NOW + i * APPENDERS / RATE;
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
                            let used = nonce("c1", None, time, &format!("{task}-{i}"));
                            (
                                vec![Precondition::NonceUnused(NonceKey::from(&used))],
                                Event::Verified(used),
                            )
                        };
                        store.append(&event.0, vec![event.1], time).await.unwrap();
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
        // Leave as a crash would: no close, no final flush.
        std::process::exit(0);
    });
}

fn main() {
    if let Ok(dir) = std::env::var(REPLAY_DIR) {
        replay(Path::new(&dir));
        return;
    }
    if let Ok(dir) = std::env::var(BUILD_DIR) {
        build(Path::new(&dir));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join(format!("credlog-replay-{}", events()));
    let status = Command::new(std::env::current_exe().unwrap())
        .env(BUILD_DIR, &path)
        .status()
        .expect("the build process runs");
    assert!(status.success());
    let status = Command::new(std::env::current_exe().unwrap())
        .env(REPLAY_DIR, &path)
        .status()
        .expect("the replay process runs");
    assert!(status.success());
}
