//! What the sled backend promises beyond the suite: what is written
//! survives a reopen, a held directory is refused at once, damaged
//! data gives a clear error, never a panic, and the health probe writes
//! nothing the log or the projections show.

mod support;
use support::copy_dir;

use std::path::Path;
use std::time::{Duration, Instant};

use credlog_conformance::store_suite::{self, nonce, NOW};
use credlog_core::store::codec::CodecError;
use credlog_core::store::projections::{seq_key, Tree};
use credlog_core::store::{
    AppendError, CredentialStore, Event, Failure, NonceKey, Precondition, Status, StoreError,
};
use credlog_storage_sled::SledStore;

fn open(path: &Path) -> SledStore {
    SledStore::open(path).expect("the store opens")
}

#[tokio::test]
async fn a_revoked_credential_and_a_used_nonce_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let used = nonce("c1", Some("t1"), NOW, "once");
    {
        let store = open(&path);
        store_suite::client_with_temporary(&store).await;
        store_suite::deny_temporary(&store, NOW).await;
        let precondition = Precondition::NonceUnused(NonceKey::from(&used));
        store
            .append(&[precondition], vec![Event::Verified(used.clone())], NOW)
            .await
            .unwrap();
    }
    let store = open(&path);
    assert_eq!(
        store.credential("t1").await.unwrap().unwrap().status,
        Status::Revoked
    );
    assert_eq!(store.last_seq().await.unwrap(), 4);
    refuses_again_and_checks_clean(&store, used, 4).await;
}

/// The nonce `used` is refused as used, and `check` finds `records`
/// records and nothing amiss.
async fn refuses_again_and_checks_clean(
    store: &SledStore,
    used: credlog_core::store::Verified,
    records: u64,
) {
    let again = store
        .append(
            &[Precondition::NonceUnused(NonceKey::from(&used))],
            vec![Event::Verified(used)],
            NOW,
        )
        .await;
    assert!(matches!(again, Err(AppendError::Refused(r)) if r.failure == Failure::NonceUsed));
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, records);
}

#[tokio::test]
async fn the_probe_writes_and_flushes_but_changes_nothing_a_read_sees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    {
        let store = open(&path);
        store_suite::client_with_temporary(&store).await;
        let last = store.last_seq().await.unwrap();
        for _ in 0..3 {
            store.probe().await.expect("the probe");
        }
        assert_eq!(store.last_seq().await.unwrap(), last);
        let report = store.check().await.unwrap();
        assert!(report.is_consistent(), "{:?}", report.mismatches);
        assert_eq!(report.records, last);
    }
    // And a refusal names its reason from the fixed set (a metric label).
    let store = open(&path);
    let used = nonce("c1", Some("t1"), NOW, "once");
    let verified = || {
        (
            [Precondition::NonceUnused(NonceKey::from(&used))],
            vec![Event::Verified(used.clone())],
        )
    };
    let (preconditions, events) = verified();
    store.append(&preconditions, events, NOW).await.unwrap();
    let (preconditions, events) = verified();
    match store.append(&preconditions, events, NOW).await {
        Err(AppendError::Refused(refused)) => assert_eq!(refused.reason(), "nonce_reused"),
        other => panic!("{other:?}"),
    }
    store.probe().await.expect("the probe after a reopen");
}

#[test]
fn a_directory_in_use_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let _held = open(&path);
    let started = Instant::now();
    let second = SledStore::open(&path);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "opening a held directory must not wait"
    );
    match second {
        Err(StoreError::Locked { path: locked }) => assert!(locked.ends_with("data")),
        other => panic!("expected Locked, got {other:?}"),
    }
    let message = StoreError::Locked { path: "x".into() }.to_string();
    assert!(message.contains("in use by another process"), "{message}");
}

/// Writes raw bytes under a key of one tree, with the store closed.
fn poke(path: &Path, tree: Tree, key: &[u8], value: &[u8]) {
    let db = sled::open(path).unwrap();
    db.open_tree(tree.name())
        .unwrap()
        .insert(key, value)
        .unwrap();
    db.flush().unwrap();
}

#[tokio::test]
async fn a_damaged_record_is_named_by_its_sequence_number() {
    // Open rebuilds the nonce window from the log's end, so a damaged
    // record there refuses the open itself (a nonce it held could
    // otherwise be replayed), naming the record.
    for (seq, bytes, version) in [
        (3, &[1, 0xff, 0xff, 0xff][..], None),
        (2, &[7][..], Some(7)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        {
            let store = open(&path);
            store_suite::revocation_reaches_family_and_client(&store).await;
        }
        poke(&path, Tree::Log, &seq_key(seq), bytes);
        let opened = support::open_released(&path);
        match (&opened, version) {
            (Err(StoreError::CorruptRecord { seq: at, .. }), None) => assert_eq!(*at, seq),
            (
                Err(StoreError::CorruptRecord {
                    seq: at,
                    error: CodecError::UnknownVersion(found),
                }),
                Some(version),
            ) => assert_eq!((*at, *found), (seq, version)),
            _ => panic!("{opened:?}"),
        }
        let message = opened.unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("log record {seq} is damaged")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn the_check_finds_a_projection_that_disagrees_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    {
        let store = open(&path);
        store_suite::revocation_reaches_family_and_client(&store).await;
        assert!(store.check().await.unwrap().is_consistent());
    }
    // Un-revoke the client behind the log's back.
    let db = sled::open(&path).unwrap();
    let clients = db.open_tree(Tree::Clients.name()).unwrap();
    let mut state: credlog_core::store::ClientState =
        credlog_core::store::codec::decode(&clients.get("c1").unwrap().unwrap()).unwrap();
    state.revoked = false;
    clients
        .insert("c1", credlog_core::store::codec::encode(&state))
        .unwrap();
    db.open_tree(Tree::ClientIndex.name())
        .unwrap()
        .clear()
        .unwrap();
    db.flush().unwrap();
    drop(clients);
    drop(db);

    let report = support::reopen(&path).check().await.unwrap();
    assert!(!report.is_consistent());
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.contains("clients") && m.contains("c1") && m.contains("differs")),
        "{:?}",
        report.mismatches
    );
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.contains("client_index") && m.contains("in the log but not stored")),
        "{:?}",
        report.mismatches
    );
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if std::fs::metadata(&path).unwrap().len() > 0 {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Flips bytes across the files of copies of a data directory: opening,
/// reading and checking each copy either works or fails with an error,
/// and never panics.
#[tokio::test]
async fn flipped_bytes_on_disk_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("data");
    {
        let store = open(&original);
        store_suite::revocation_reaches_family_and_client(&store).await;
    }
    let files = files(&original);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..24 {
        let copy = dir.path().join(format!("copy-{round}"));
        copy_dir(&original, &copy);
        let relative = files[next() as usize % files.len()]
            .strip_prefix(&original)
            .unwrap()
            .to_path_buf();
        let file = copy.join(&relative);
        let mut bytes = std::fs::read(&file).unwrap();
        for _ in 0..8 {
            let at = next() as usize % bytes.len();
            bytes[at] ^= 1 << (next() % 8);
        }
        std::fs::write(&file, bytes).unwrap();

        let outcome = match SledStore::open(&copy) {
            Err(error) => {
                eprintln!("copy {round}: {error}");
                format!("open: {}", kind_of(&error))
            }
            Ok(store) => match (store.read_log(1, 1000).await, store.check().await) {
                (Err(error), _) | (_, Err(error)) => format!("read: {}", kind_of(&error)),
                (Ok(_), Ok(report)) if report.is_consistent() => "unharmed".to_owned(),
                (Ok(_), Ok(_)) => "check reports mismatches".to_owned(),
            },
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    eprintln!("outcomes of 24 damaged copies: {outcomes:?}");
    assert!(
        outcomes.keys().any(|o| o != "unharmed"),
        "no copy was damaged enough to notice: {outcomes:?}"
    );
}

fn kind_of(error: &StoreError) -> &'static str {
    match error {
        StoreError::Backend(_) => "backend error",
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Locked { .. } => "locked",
        StoreError::CorruptRecord { .. } => "damaged record",
        StoreError::CorruptProjection { .. } => "damaged projection",
        StoreError::Corrupt(_) => "damaged directory",
        StoreError::CorruptSession(_) => "damaged session",
    }
}

/// Appends that come together are written as one batch (one log entry,
/// compressed); every record of it reads back on its own, from any point,
/// before and after a reopen, and `check` replays them.
#[tokio::test]
async fn records_written_together_read_back_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let store = std::sync::Arc::new(open(&path));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                let used = nonce("c1", None, NOW, &format!("together-{i}"));
                let precondition = Precondition::NonceUnused(NonceKey::from(&used));
                store
                    .append(&[precondition], vec![Event::Verified(used)], NOW)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let store = std::sync::Arc::into_inner(store).unwrap();
    reads_back_one_by_one(&store).await;
    drop(store);
    reads_back_one_by_one(&open(&path)).await;
    let entries = sled::open(&path)
        .unwrap()
        .open_tree(Tree::Log.name())
        .unwrap()
        .len();
    assert!(
        entries < 64,
        "no batch held two records: {entries} log entries"
    );
}

async fn reads_back_one_by_one(store: &SledStore) {
    assert_eq!(store.last_seq().await.unwrap(), 64);
    for from in 1..=64 {
        let records = store.read_log(from, 3).await.unwrap();
        let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
        let expected: Vec<u64> = (from..=64).take(3).collect();
        assert_eq!(seqs, expected);
    }
    refuses_again_and_checks_clean(store, nonce("c1", None, NOW, "together-17"), 64).await;
}
