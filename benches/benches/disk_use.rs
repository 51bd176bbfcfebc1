//! What a signed OAuth 1 request costs on disk: `DISK_REQUESTS` (default
//! 100,000) `Verified` records appended to a sled store as the server
//! appends them (the nonce precondition, one event, real-length ids and a
//! 128-bit hex nonce), by `DISK_APPENDERS` (default 64) appenders at once,
//! so that batches form as under load. Prints the encoded record's size,
//! then the data directory's size on disk and per request: right after the
//! appends, after the store is closed, and after it is opened and closed
//! again (once it has settled). All the nonces are inside the timestamp
//! window, so the resident memory they add (printed too) is what a server
//! holds for that many signed requests inside its window.
//!
//! ```text
//! cargo bench -p credlog-benches --bench disk_use
//! DISK_REQUESTS=1000000 cargo bench -p credlog-benches --bench disk_use
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_benches::{disk_use, memory_mib, setting};
use credlog_core::random::random_token;
use credlog_core::rfc5849::client::random_nonce;
use credlog_core::store::codec::encode_record;
use credlog_core::store::SessionLimits;
use credlog_core::store::{CredentialStore, Event, NonceKey, Precondition, Record, Verified};
use credlog_storage_sled::SledStore;

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn verified(client_id: &str, token: &str) -> Verified {
    Verified {
        client_id: client_id.to_owned(),
        token: Some(token.to_owned()),
        timestamp: now(),
        nonce: random_nonce(),
    }
}

fn report(what: &str, path: &std::path::Path, requests: u64) -> Result<(), Failure> {
    let bytes = disk_use(path)?;
    println!(
        "{what:38} {bytes:>12} bytes on disk = {:>7.1} bytes a signed request",
        bytes as f64 / requests as f64
    );
    Ok(())
}

fn bench() -> Result<(), Failure> {
    let requests: u64 = setting("DISK_REQUESTS", 100_000)?;
    let appenders = setting("DISK_APPENDERS", 64u64)?.max(1);
    let (client_id, token) = (random_token(), random_token());
    let record = Record {
        seq: requests,
        time: now(),
        events: vec![Event::Verified(verified(&client_id, &token))],
    };
    println!(
        "one Verified record encodes to {} bytes (ids of 32 letters, a 32-digit hex nonce)",
        encode_record(&record).len()
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("data");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store = Arc::new(SledStore::open(&path)?);
    let (resident_before, _) = memory_mib();
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..appenders)
            .map(|task| {
                let (store, client_id, token) =
                    (Arc::clone(&store), client_id.clone(), token.clone());
                let share = requests / appenders + u64::from(task < requests % appenders);
                tokio::spawn(async move {
                    for _ in 0..share {
                        let used = verified(&client_id, &token);
                        let precondition = Precondition::NonceUnused(NonceKey::from(&used));
                        store
                            .append(&[precondition], vec![Event::Verified(used)], now())
                            .await?;
                    }
                    Ok::<_, Failure>(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        Ok::<_, Failure>(())
    })?;
    println!(
        "{requests} signed requests' records appended by {appenders} appenders in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let held = runtime
        .block_on(store.sizes(
            &SessionLimits {
                lifetime: 1,
                idle: 1,
                per_user: 1,
                in_all: 1,
            },
            now(),
        ))?
        .nonces;
    let grown = memory_mib().0 - resident_before;
    println!(
        "{held} nonces held in the window; resident memory grew {grown:.1} MiB = {:.0} bytes a nonce (sled's cache included)",
        grown * 1024.0 * 1024.0 / held.max(1) as f64
    );
    report("while open:", &path, requests)?;
    drop(store);
    report("closed:", &path, requests)?;
    let store = SledStore::open(&path)?;
    std::thread::sleep(Duration::from_secs(2));
    drop(store);
    report("opened again and closed (settled):", &path, requests)?;
    Ok(())
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("disk_use: {error}");
            ExitCode::FAILURE
        }
    }
}
