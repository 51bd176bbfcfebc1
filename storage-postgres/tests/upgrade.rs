//! Upgrading a database the previous release wrote (schema version 3):
//! its projections were built by rules without [`Tree::DeviceExpiry`], so
//! device codes nobody approved stayed after they expired and none was
//! indexed for the sweep. Opened by this build, the database's
//! projections become what a replay of its log gives under today's rules
//! (CONTRACT.md "Users and sessions": a device code nobody approved is
//! gone from the store's projections once it expires; DESIGN.md rule 3:
//! `check` finds them equal), once, however many nodes open it together,
//! and the log keeps every record.

use credlog_core::rfc6749::{ClientAuthMethod, GrantType, Scope};
use credlog_core::store::events::{Authorized, ClientRecord, Issued, TokenRecord};
use credlog_core::store::projections::{
    self, Projection, ProjectionError, ProjectionMut, Trees, DEVICE_BUCKET, DEVICE_SWEEP_GRACE,
};
use credlog_core::store::{CredentialKind, CredentialStore, Event, Secret, Tree, UserRecord};
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::{PostgresStore, SCHEMA_VERSION};
use tokio_postgres::{GenericClient, NoTls};

const WINDOW: u64 = 300;

/// The schema version the previous release wrote and left its
/// projections at.
const PREVIOUS_SCHEMA: i32 = 3;

/// When the codes were asked for, and when they expire.
const ISSUED: u64 = 1_000_000;
const EXPIRES: u64 = ISSUED + 600;
/// Long after they expired (and the sweep's grace).
const LATER: u64 = EXPIRES + DEVICE_BUCKET + DEVICE_SWEEP_GRACE + 1_000;

/// The projections as the previous release's rules built them: the same
/// rules but [`Tree::DeviceExpiry`], which they did not have (so nothing
/// was indexed and nothing was ever swept).
#[derive(Default)]
struct PreviousRules(Trees);

impl Projection for PreviousRules {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        match tree {
            Tree::DeviceExpiry => Ok(None),
            tree => self.0.get(tree, key),
        }
    }
}

impl ProjectionMut for PreviousRules {
    fn insert(&mut self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), ProjectionError> {
        match tree {
            Tree::DeviceExpiry => Ok(()),
            tree => self.0.insert(tree, key, value),
        }
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), ProjectionError> {
        self.0.remove(tree, key)
    }
}

fn client() -> Event {
    Event::Issued(Issued::Client(ClientRecord {
        client_id: "tv".into(),
        secret: Secret::None,
        owner: "alice".into(),
        name: "A television".into(),
        redirect_uris: vec![],
        scope: Scope::parse("profile").expect("a scope"),
        grant_types: vec![GrantType::Extension(
            "urn:ietf:params:oauth:grant-type:device_code".into(),
        )],
        response_types: vec![],
        auth_method: ClientAuthMethod::None,
        rsa_public_key: None,
    }))
}

/// A device code `device` and its user code `user`, as the device
/// authorization endpoint issues them, expiring at `expires_at`.
fn codes(device: &str, user: &str, expires_at: u64) -> Vec<Event> {
    let token = |kind, id: &str, parent: Option<&str>| {
        Event::Issued(Issued::Token(TokenRecord {
            kind,
            id: id.into(),
            secret: Secret::None,
            client_id: "tv".into(),
            user: None,
            scope: "profile".into(),
            expires_at: Some(expires_at),
            parent: parent.map(str::to_owned),
            redirect_uri: None,
            code_challenge: None,
        }))
    };
    vec![
        token(CredentialKind::DeviceCode, device, None),
        token(CredentialKind::UserCode, user, Some(device)),
    ]
}

/// The previous release's database: a log in which `expired-*` codes
/// nobody approved expired long before the last record, `approved-*` ones
/// were allowed by alice, and `pending-*` ones are still live; its
/// projections as the previous rules left them. Answers the trees written.
async fn previous_release(database: &TestDatabase) -> PreviousRules {
    // This build makes the tables; the rows and the version are then the
    // previous release's.
    drop(
        PostgresStore::connect(database.config.clone(), WINDOW)
            .await
            .expect("a new database opens"),
    );
    let alice = Event::Issued(Issued::User(UserRecord {
        name: "alice".into(),
        password: Secret::None,
    }));
    let batches: Vec<(Vec<Event>, u64)> = vec![
        (vec![alice, client()], ISSUED - 10),
        (codes("expired-device", "expired-user", EXPIRES), ISSUED),
        (codes("approved-device", "approved-user", EXPIRES), ISSUED),
        (
            vec![Event::Authorized(Authorized {
                id: "approved-device".into(),
                user: "alice".into(),
                verifier: None,
            })],
            ISSUED + 30,
        ),
        (codes("pending-device", "pending-user", LATER + 600), LATER),
    ];
    let mut previous = PreviousRules::default();
    for (events, time) in &batches {
        projections::append(&mut previous, &[], events, *time)
            .expect("the rules apply")
            .expect("no precondition");
    }

    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    store_rows(&client, &previous.0).await;
    client
        .execute(
            "UPDATE credlog_schema SET version = $1",
            &[&PREVIOUS_SCHEMA],
        )
        .await
        .unwrap();
    previous
}

/// Writes `trees` as rows, as the previous release's appends did: the
/// log's records and the projections' keys (over any already there).
async fn store_rows(client: &impl GenericClient, trees: &Trees) {
    for (key, record) in trees.entries(Tree::Log) {
        let seq = i64::try_from(u64::from_be_bytes(key.try_into().unwrap())).unwrap();
        client
            .execute(
                "INSERT INTO credlog_log (seq, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&seq, &record],
            )
            .await
            .unwrap();
    }
    for &tree in Tree::PROJECTIONS {
        for (key, value) in trees.entries(tree) {
            client
                .execute(
                    "INSERT INTO credlog_projection (tree, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                    &[&tree.name(), &key, &value],
                )
                .await
                .unwrap();
        }
    }
}

/// The ids the `credentials` projection holds, as the table stores them.
async fn stored_credentials(database: &TestDatabase) -> Vec<String> {
    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT key FROM credlog_projection WHERE tree = $1 ORDER BY key",
            &[&Tree::Credentials.name()],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| String::from_utf8(row.get::<_, Vec<u8>>(0)).unwrap())
        .collect()
}

#[tokio::test]
async fn a_previous_release_database_is_brought_to_the_new_rules_once_on_open() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let previous = previous_release(&database).await;
    // The premise: under today's rules the old projections differ from a
    // replay of their log (the expired codes, the expiry index).
    let log: Vec<_> = previous
        .0
        .entries(Tree::Log)
        .map(|(_, bytes)| Ok(credlog_core::store::codec::decode_record(bytes).unwrap()))
        .collect();
    let (replayed, _) = Trees::replay(log, 0, 0).unwrap();
    let differences = replayed
        .compare(|tree| previous.0.owned_entries(tree), 100)
        .unwrap();
    assert!(
        differences
            .iter()
            .any(|line| line.contains("device_expiry"))
            && differences
                .iter()
                .any(|line| line.contains("expired-device")),
        "{differences:?}"
    );
    assert!(stored_credentials(&database)
        .await
        .contains(&"expired-user".to_owned()));

    // Three nodes of this build start together on it.
    let open = || PostgresStore::connect(database.config.clone(), WINDOW);
    let (a, b, c) = tokio::join!(open(), open(), open());
    let nodes = [a, b, c].map(|node| node.expect("each node opens"));

    for node in &nodes {
        let report = node.check().await.expect("check runs");
        assert!(report.is_consistent(), "{:?}", report.mismatches);
        assert_eq!(report.records, 5);
    }
    let node = &nodes[0];
    for gone in ["expired-device", "expired-user"] {
        assert_eq!(node.credential(gone).await, Ok(None), "{gone}");
    }
    for kept in [
        "approved-device",
        "approved-user",
        "pending-device",
        "pending-user",
    ] {
        assert!(node.credential(kept).await.unwrap().is_some(), "{kept}");
    }
    assert_eq!(
        stored_credentials(&database).await,
        [
            "approved-device",
            "approved-user",
            "pending-device",
            "pending-user"
        ]
    );
    // The log keeps every record, the expired codes' among them.
    let log = node.read_log(1, 100).await.unwrap();
    assert_eq!(log.len(), 5);
    assert!(log[1].events.iter().any(|event| matches!(
        event,
        Event::Issued(Issued::Token(token)) if token.id == "expired-device"
    )));

    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    let versions = client
        .query("SELECT version FROM credlog_schema", &[])
        .await
        .unwrap();
    let versions: Vec<i32> = versions.iter().map(|row| row.get(0)).collect();
    assert_eq!(versions, [SCHEMA_VERSION]);

    // The codes the previous release issued are indexed now: once the
    // pending ones expire, the next append sweeps them as it would new ones.
    let after = LATER + 600 + DEVICE_BUCKET + DEVICE_SWEEP_GRACE + 10;
    node.append(&[], codes("next-device", "next-user", after + 600), after)
        .await
        .expect("an append");
    for gone in ["pending-device", "pending-user"] {
        assert_eq!(node.credential(gone).await, Ok(None), "{gone}");
    }
    let report = nodes[1].check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

/// The advisory lock every append of every release takes for its
/// transaction (`APPEND_LOCK` in `lib.rs`).
const APPEND_LOCK: i64 = 0x6372_6564_6c6f_6701;

#[tokio::test]
async fn an_append_of_a_previous_release_node_still_serving_is_not_lost_to_the_upgrade() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let mut previous = previous_release(&database).await;
    // A node of the previous release is in the middle of an append.
    let (mut old_node, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    let append = old_node.transaction().await.unwrap();
    append
        .execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
        .await
        .unwrap();

    let config = database.config.clone();
    let opening = tokio::spawn(async move { PostgresStore::connect(config, WINDOW).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !opening.is_finished(),
        "the upgrade waits for the append under way"
    );
    let events = codes("late-device", "late-user", LATER + 600);
    projections::append(&mut previous, &[], &events, LATER + 5)
        .expect("the rules apply")
        .expect("no precondition");
    store_rows(&append, &previous.0).await;
    append.commit().await.unwrap();

    let node = opening.await.unwrap().expect("the node opens");
    let report = node.check().await.expect("check runs");
    assert!(report.is_consistent(), "{:?}", report.mismatches);
    assert_eq!(report.records, 6);
    assert!(node.credential("late-device").await.unwrap().is_some());
    assert_eq!(node.credential("expired-device").await, Ok(None));
}
