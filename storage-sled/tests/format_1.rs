//! A data directory written before log format 2 (client metadata as
//! strings, format 1) opens, reads as today's types and checks clean.
//!
//! The directory is made the way that code made it: the store writes it,
//! then every log record is rewritten in format 1 with a private copy of
//! the old record shape (the layout core's codec tests pin against bytes
//! that code wrote). Projection values are in the same format as then.

mod support;
use support::reopen;

use std::path::Path;

use credlog_conformance::store_suite::{self, NOW};
use credlog_core::store::codec::{self, decode_record};
use credlog_core::store::projections::{seq_key, Tree};
use credlog_core::store::{
    Authorized, ClientRecord, ClientState, CredentialStore, Event, Exchanged, Issued, Record,
    Revoked, Secret, TokenRecord, UserRecord, Verified,
};
use credlog_storage_sled::SledStore;
use serde::Serialize;

/// The format-1 shape of a record: the same as today's but for the client.
#[derive(Serialize)]
struct RecordV1 {
    seq: u64,
    time: u64,
    events: Vec<EventV1>,
}

#[derive(Serialize)]
enum EventV1 {
    Issued(IssuedV1),
    Verified(Verified),
    Authorized(Authorized),
    Exchanged(Exchanged),
    Revoked(Revoked),
}

#[derive(Serialize)]
enum IssuedV1 {
    Client(ClientRecordV1),
    User(UserRecord),
    Token(TokenRecord),
}

#[derive(Serialize)]
struct ClientRecordV1 {
    client_id: String,
    secret: Secret,
    owner: String,
    name: String,
    redirect_uris: Vec<String>,
    scope: String,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    auth_method: String,
    rsa_public_key: Option<String>,
}

#[derive(Serialize)]
struct ClientStateV1 {
    record: ClientRecordV1,
    revoked: bool,
    issued_seq: u64,
}

/// How the code before format 2 held a client, with `scope` as registered.
fn client_v1(client: &ClientRecord, scope: &str) -> ClientRecordV1 {
    ClientRecordV1 {
        client_id: client.client_id.clone(),
        secret: client.secret.clone(),
        owner: client.owner.clone(),
        name: client.name.clone(),
        redirect_uris: client.redirect_uris.clone(),
        scope: scope.to_owned(),
        grant_types: client.grant_types.iter().map(|g| g.to_string()).collect(),
        response_types: client
            .response_types
            .iter()
            .map(|r| r.to_string())
            .collect(),
        auth_method: client.auth_method.to_string(),
        rsa_public_key: client.rsa_public_key.clone(),
    }
}

fn record_v1(record: &Record, scope: &str) -> RecordV1 {
    let events = record
        .events
        .iter()
        .cloned()
        .map(|event| match event {
            Event::Issued(Issued::Client(client)) => {
                EventV1::Issued(IssuedV1::Client(client_v1(&client, scope)))
            }
            Event::Issued(Issued::User(user)) => EventV1::Issued(IssuedV1::User(user)),
            Event::Issued(Issued::Token(token)) => EventV1::Issued(IssuedV1::Token(token)),
            Event::Verified(verified) => EventV1::Verified(verified),
            Event::Authorized(authorized) => EventV1::Authorized(authorized),
            Event::Exchanged(exchanged) => EventV1::Exchanged(exchanged),
            Event::Revoked(revoked) => EventV1::Revoked(revoked),
            later => panic!("format 1 had no {later:?}"),
        })
        .collect();
    RecordV1 {
        seq: record.seq,
        time: record.time,
        events,
    }
}

fn format_1<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = vec![1];
    bincode::serde::encode_into_std_write(value, &mut bytes, bincode::config::standard()).unwrap();
    bytes
}

/// Rewrites the directory as the code before format 2 wrote it, with
/// client `c1` registered with `scope` (spelled as the client sent it).
fn rewrite_in_format_1(path: &Path, scope: &str) {
    let db = sled::open(path).unwrap();
    let log = db.open_tree(Tree::Log.name()).unwrap();
    for entry in log.iter() {
        let (key, bytes) = entry.unwrap();
        assert_eq!(bytes[0], 2, "today's store writes format 2");
        let record = decode_record(&bytes).unwrap();
        log.insert(key, format_1(&record_v1(&record, scope)))
            .unwrap();
    }
    let clients = db.open_tree(Tree::Clients.name()).unwrap();
    let state: ClientState = codec::decode(&clients.get("c1").unwrap().unwrap()).unwrap();
    let old = ClientStateV1 {
        record: client_v1(&state.record, scope),
        revoked: state.revoked,
        issued_seq: state.issued_seq,
    };
    clients.insert("c1", format_1(&old)).unwrap();
    db.flush().unwrap();
    assert_eq!(
        decode_record(&log.get(seq_key(1)).unwrap().unwrap()).map(|r| r.seq),
        Ok(1)
    );
    assert_eq!(log.get(seq_key(1)).unwrap().unwrap()[0], 1);
}

async fn written_then_rewritten(path: &Path, scope: &str) -> Vec<Record> {
    let log = {
        let store = SledStore::open(path).unwrap();
        store_suite::revocation_reaches_family_and_client(&store).await;
        store.read_log(1, 1000).await.unwrap()
    };
    rewrite_in_format_1(path, scope);
    log
}

#[tokio::test]
async fn a_format_1_directory_opens_reads_typed_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let written = written_then_rewritten(&path, "profile").await;

    let store = reopen(&path);
    assert_eq!(store.read_log(1, 1000).await.unwrap(), written);
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, written.len() as u64);
    let client = store.client("c1").await.unwrap().unwrap();
    assert_eq!(client.record, store_suite::client("c1"));
    assert!(client.revoked);

    // New records go on in format 2 beside the old ones, and still check clean.
    let more = Event::Issued(Issued::Client(store_suite::client("c2")));
    store.append(&[], vec![more], NOW).await.unwrap();
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(
        store.client("c2").await.unwrap().unwrap().record,
        store_suite::client("c2")
    );
}

#[tokio::test]
async fn a_format_1_client_with_a_repeated_scope_token_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    written_then_rewritten(&path, "profile profile").await;

    let store = reopen(&path);
    let report = store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    // A scope is a set (RFC 6749 3.3): the token counts once.
    let client = store.client("c1").await.unwrap().unwrap();
    assert_eq!(client.record.scope.to_string(), "profile");
}
