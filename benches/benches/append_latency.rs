//! A lone client's append latency beside the disk's: `LATENCY_APPENDS`
//! (default 5,000) durable `Verified` appends to a sled store, one at a
//! time, each timed; then as many 512-byte writes to a file in the same
//! directory, each followed by `fdatasync`. Prints p50, p90 and p99 of
//! both and the ratio of the p50s (the goal: within 2x).
//!
//! With `LATENCY_STORE=postgres` the appends go to a new database on the
//! tests' PostgreSQL (`CREDLOG_TEST_POSTGRES`, dropped after) instead: one
//! transaction each, committed durably by the server (the fdatasync beside
//! is still this machine's disk, which the server writes its WAL to).
//!
//! ```text
//! cargo bench -p credlog-benches --bench append_latency
//! LATENCY_STORE=postgres cargo bench -p credlog-benches --bench append_latency
//! ```
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use credlog_benches::setting;
use credlog_core::rfc5849::client::random_nonce;
use credlog_core::store::{CredentialStore, Event, NonceKey, Precondition, Verified};
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use credlog_storage_sled::SledStore;

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn show(what: &str, mut latencies: Vec<Duration>) -> Duration {
    latencies.sort_unstable();
    let p50 = percentile(&latencies, 0.5);
    println!(
        "{what:34} p50 {:>7.1} µs   p90 {:>7.1} µs   p99 {:>7.1} µs",
        p50.as_secs_f64() * 1e6,
        percentile(&latencies, 0.9).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
    );
    p50
}

fn bench() -> Result<(), Failure> {
    let appends: usize = setting("LATENCY_APPENDS", 5_000)?;
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let postgres = std::env::var("LATENCY_STORE").is_ok_and(|store| store == "postgres");
    let mut database = None;
    let store: Box<dyn CredentialStore> = if postgres {
        let created = runtime
            .block_on(TestDatabase::create())
            .ok_or("PostgreSQL does not answer")?;
        let config = created.config.clone();
        database = Some(created);
        Box::new(runtime.block_on(PostgresStore::connect(config, 300))?)
    } else {
        Box::new(SledStore::open(dir.path().join("data"))?)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut appended = Vec::with_capacity(appends);
    runtime.block_on(async {
        for _ in 0..appends {
            let used = Verified {
                client_id: "a-client-id-of-thirty-two-letter".into(),
                token: Some("a-token-id-of-thirty-two-letters".into()),
                timestamp: now,
                nonce: random_nonce(),
            };
            let precondition = Precondition::NonceUnused(NonceKey::from(&used));
            let started = Instant::now();
            store
                .append(&[precondition], vec![Event::Verified(used)], now)
                .await?;
            appended.push(started.elapsed());
        }
        Ok::<_, Failure>(())
    })?;
    runtime.block_on(async move { drop(store) });
    drop(database);

    let mut file = std::fs::File::create(dir.path().join("fsync"))?;
    let block = [0x5au8; 512];
    let mut synced = Vec::with_capacity(appends);
    for _ in 0..appends {
        let started = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        synced.push(started.elapsed());
    }
    let what = if postgres {
        "durable append (PostgreSQL), 1:"
    } else {
        "durable append, 1 appender:"
    };
    let append = show(what, appended);
    let fsync = show("512 bytes written + fdatasync:", synced);
    println!(
        "append p50 / fdatasync p50 = {:.2} (goal <= 2)",
        append.as_secs_f64() / fsync.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("append_latency: {error}");
            ExitCode::FAILURE
        }
    }
}
