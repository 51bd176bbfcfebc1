//! The projection rules ([`credlog_core::store::projections`]) read keys
//! one at a time, synchronously; on PostgreSQL each read would be a round
//! trip. [`Rounds::run`] runs the rules over the keys fetched so far
//! instead, a key not fetched yet reading as absent and noted; it then
//! fetches every key noted in one query and runs them again, until a run
//! reads nothing new. That run's answer is the answer: it read only keys
//! as stored. A rule that reads a chain of keys (a credential, then its
//! family, client and watermark) costs one query per link of the chain,
//! not per key, and a batch of appends the longest chain of any of them.
//!
//! The rules are pure functions of what they read, so running them again
//! is only CPU; a run over keys not fetched yet may take a wrong turn or
//! fail, and its answer is never used.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use credlog_core::store::projections::{Projection, ProjectionError, Tree};
use credlog_core::store::StoreError;
use deadpool_postgres::GenericClient;

use crate::pg;

/// A key of a projection.
type Key = (Tree, Vec<u8>);

/// The keys fetched so far (`None`: stored under none), and those read
/// since the last fetch that were not.
#[derive(Default)]
pub(crate) struct Rounds {
    known: HashMap<Key, Option<Vec<u8>>>,
    missing: RefCell<BTreeSet<Key>>,
}

impl Projection for Rounds {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        let key = (tree, key.to_vec());
        match self.known.get(&key) {
            Some(value) => Ok(value.clone()),
            None => {
                self.missing.borrow_mut().insert(key);
                Ok(None)
            }
        }
    }
}

impl Rounds {
    /// Runs `work` over the projections as `client` reads them (in its
    /// transaction, if it is one), fetching what it reads a round at a
    /// time; answers the run that read only fetched keys.
    pub(crate) async fn run<T>(
        client: &impl GenericClient,
        mut work: impl FnMut(&Rounds) -> T,
    ) -> Result<T, StoreError> {
        let mut rounds = Rounds::default();
        loop {
            let answer = work(&rounds);
            let missing = std::mem::take(rounds.missing.get_mut());
            if missing.is_empty() {
                return Ok(answer);
            }
            rounds.fetch(client, missing).await?;
        }
    }

    /// Fetches `keys`: one lookup each, sent together (pipelined on the
    /// connection), so a round waits for one round trip. Lookups by the
    /// whole primary key are planned as index scans however small the
    /// table was when the plan was made; a join with an array of keys can
    /// be planned as a scan of the whole table, and kept as the table grows.
    async fn fetch(
        &mut self,
        client: &impl GenericClient,
        keys: BTreeSet<Key>,
    ) -> Result<(), StoreError> {
        let statement = client
            .prepare_cached("SELECT value FROM credlog_projection WHERE tree = $1 AND key = $2")
            .await
            .map_err(pg)?;
        let lookups = keys.iter().map(|(tree, key)| {
            let statement = &statement;
            async move { client.query_opt(statement, &[&tree.name(), key]).await }
        });
        let rows = futures::future::try_join_all(lookups).await.map_err(pg)?;
        for (key, row) in keys.into_iter().zip(rows) {
            self.known.insert(key, row.map(|row| row.get(0)));
        }
        Ok(())
    }
}
