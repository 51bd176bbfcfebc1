//! The credential store: durable appends on sled with 1 and 64 concurrent
//! appenders, the nonce check-and-record, a credential look-up among
//! 100,000, and the sizes a `/metrics` scrape reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_benches::ready;
use credlog_conformance::store_suite::{client, nonce, token, NOW};
use credlog_core::store::{CredentialKind, CredentialStore, Event, Issued, NonceKey, Precondition};
use credlog_storage_memory::MemoryStore;
use credlog_storage_sled::SledStore;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;

/// Every appended event is a new nonce use, as a signed request makes.
static NEXT: AtomicU64 = AtomicU64::new(0);

async fn record_nonce(store: &dyn CredentialStore) {
    let used = nonce(
        "bench",
        None,
        NOW,
        &NEXT.fetch_add(1, Ordering::Relaxed).to_string(),
    );
    let precondition = Precondition::NonceUnused(NonceKey::from(&used));
    store
        .append(&[precondition], vec![Event::Verified(used)], NOW)
        .await
        .expect("the append is written");
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn durable_appends(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path().join("data")).unwrap());
    let mut group = c.benchmark_group("sled durable appends");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(10));
    for appenders in [1u64, 64] {
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{appenders} appenders")),
            &appenders,
            |b, &appenders| {
                b.to_async(&runtime).iter_custom(|iterations| {
                    let store = Arc::clone(&store);
                    async move {
                        let started = Instant::now();
                        let tasks: Vec<_> = (0..appenders)
                            .map(|task| {
                                let store = Arc::clone(&store);
                                let share = iterations / appenders
                                    + u64::from(task < iterations % appenders);
                                tokio::spawn(async move {
                                    for _ in 0..share {
                                        record_nonce(&*store).await;
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.unwrap();
                        }
                        started.elapsed()
                    }
                });
            },
        );
    }
    group.finish();
}

fn nonce_check_and_record(c: &mut Criterion) {
    let runtime = runtime();
    let memory = MemoryStore::new();
    let mut group = c.benchmark_group("nonce check-and-record");
    group.bench_function("memory", |b| b.iter(|| ready(record_nonce(&memory))));
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path().join("data")).unwrap();
    group.bench_function("sled, durable, alone", |b| {
        b.to_async(&runtime).iter(|| record_nonce(&sled))
    });
    group.finish();
}

fn credential_lookup(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let sled = Arc::new(SledStore::open(dir.path().join("data")).unwrap());
    runtime.block_on(async {
        sled.append(&[], vec![Event::Issued(Issued::Client(client("c1")))], NOW)
            .await
            .unwrap();
        let batches: Vec<_> = (0..100u32)
            .map(|batch| {
                let sled = Arc::clone(&sled);
                tokio::spawn(async move {
                    for i in 0..1000 {
                        let issued = token(
                            CredentialKind::TokenCredential,
                            &format!("token-{batch}-{i}"),
                            "c1",
                            None,
                        );
                        sled.append(&[], vec![Event::Issued(Issued::Token(issued))], NOW)
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for batch in batches {
            batch.await.unwrap();
        }
    });
    let mut group = c.benchmark_group("credential look-up among 100,000");
    group.bench_function("sled", |b| {
        let mut i = 0u32;
        b.iter(|| {
            i = (i + 7919) % 100_000;
            let id = format!("token-{}-{}", i / 1000, i % 1000);
            black_box(ready(sled.credential(&id)).unwrap().expect("issued"))
        })
    });
    group.finish();
}

/// The disk's own durable-write latency, beside which a lone appender's
/// latency is judged: 512 bytes appended to a file and `fdatasync`ed, in
/// the same temporary directory the stores use.
fn fsync_alone(c: &mut Criterion) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join("fsync")).unwrap();
    let record = [7u8; 512];
    let mut group = c.benchmark_group("the disk");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("512 bytes appended and fdatasync", |b| {
        b.iter(|| {
            file.write_all(&record).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

/// What a `/metrics` scrape asks the store: the nonces held (sled walks
/// the tree to count them) and the live sessions, with 100,000 nonces in
/// the window and 1,000 sessions.
fn sizes_scrape(c: &mut Criterion) {
    use credlog_core::store::{SessionHash, SessionLimits, SessionRecord};
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path().join("data")).unwrap();
    let limits = SessionLimits {
        lifetime: 43_200,
        idle: 1_800,
        per_user: 16,
        in_all: 100_000,
    };
    runtime.block_on(async {
        for batch in 0..100 {
            let events = (0..1000)
                .map(|i| Event::Verified(nonce("c1", None, NOW, &format!("{batch}-{i}"))))
                .collect();
            sled.append(&[], events, NOW).await.unwrap();
        }
        for i in 0..1000 {
            let id = format!("session-{i}");
            let session = SessionRecord::new(
                SessionHash::of(&id),
                &format!("user{}", i % 100),
                "csrf",
                NOW,
            );
            sled.create_session(session, &limits).await.unwrap();
        }
    });
    let sizes = runtime.block_on(sled.sizes(&limits, NOW)).unwrap();
    assert_eq!((sizes.nonces, sizes.live_sessions), (100_000, 1000));
    let mut group = c.benchmark_group("a scrape's store sizes");
    group.bench_function("sled, 100,000 nonces and 1,000 sessions", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(sled.sizes(&limits, NOW).await.unwrap()) })
    });
    group.finish();
}

criterion_group!(
    benches,
    durable_appends,
    nonce_check_and_record,
    credential_lookup,
    sizes_scrape,
    fsync_alone
);
criterion_main!(benches);
