//! The memory and sled backends give identical answers to any sequence of
//! operations: the same appends accepted and refused for the same reasons,
//! the same reads, the same log, and a consistent check on both. The
//! operations include closing and reopening the sled store, which rebuilds
//! its in-memory nonce window and counters from the log.

use credlog_conformance::equivalence::{op, reads, run, Op};
use credlog_core::store::CredentialStore;
use credlog_storage_memory::MemoryStore;
use credlog_storage_sled::SledStore;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn memory_and_sled_answer_alike(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("data");
            let mut sled = SledStore::open(&path).unwrap();
            let memory = MemoryStore::new();
            for (i, op) in ops.iter().enumerate() {
                if let Op::Reopen = op {
                    drop(sled);
                    sled = SledStore::open(&path).unwrap();
                    continue;
                }
                let (on_memory, on_sled) = (run(&memory, op).await, run(&sled, op).await);
                prop_assert_eq!(on_memory, on_sled, "operation {} ({:?})", i, op);
            }
            prop_assert_eq!(reads(&memory).await, reads(&sled).await);
            for store in [&memory as &dyn CredentialStore, &sled] {
                let report = store.check().await.unwrap();
                prop_assert!(report.is_consistent(), "{:?}", report.mismatches);
            }
            Ok(())
        })?;
    }
}
