//! PostgreSQL gives the memory store's answers (the model) to any sequence
//! of operations, reopening included (a new pool on the same database),
//! and both check consistent after.

use credlog_conformance::equivalence::{op, reads, run, Op};
use credlog_core::store::CredentialStore;
use credlog_storage_memory::MemoryStore;
use credlog_storage_postgres::testing::TestDatabase;
use credlog_storage_postgres::PostgresStore;
use proptest::prelude::*;

const WINDOW: u64 = credlog_core::rfc5849::DEFAULT_TIMESTAMP_WINDOW;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn memory_and_postgres_answer_alike(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let Some(database) = TestDatabase::create().await else {
                return Ok(());
            };
            let open = || PostgresStore::connect(database.config.clone(), WINDOW);
            let mut postgres = open().await.unwrap();
            let memory = MemoryStore::new();
            for (i, op) in ops.iter().enumerate() {
                if let Op::Reopen = op {
                    drop(postgres);
                    postgres = open().await.unwrap();
                    continue;
                }
                let (on_memory, on_postgres) = (run(&memory, op).await, run(&postgres, op).await);
                prop_assert_eq!(on_memory, on_postgres, "operation {} ({:?})", i, op);
            }
            prop_assert_eq!(reads(&memory).await, reads(&postgres).await);
            for store in [&memory as &dyn CredentialStore, &postgres] {
                let report = store.check().await.unwrap();
                prop_assert!(report.is_consistent(), "{:?}", report.mismatches);
            }
            Ok(())
        })?;
    }
}
