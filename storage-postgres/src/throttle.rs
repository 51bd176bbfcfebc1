//! The throttle's counts in the database (CONTRACT.md "Users and
//! sessions"), so that every node counts the same guesses and requests:
//! each run of failures (a user name's wrong passwords, an account's wrong
//! user codes, a client's failed authentications) is a row of
//! `credlog_throttle_user`, each window (an address's failures, a
//! client's or an address's device requests) a row of
//! `credlog_throttle_address`, both keyed by [`Count`]'s key and changed
//! under the row's lock by the rules in [`credlog_core::throttle::Limits`].
//! Rows older than what they can still count are removed now and then, so
//! spraying names grows nothing for long.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use credlog_core::store::StoreError;
use credlog_core::throttle::{
    AddressWindow, Attempt, Count, Limits, RunLimit, Throttle, UserRun, Verdict, WindowLimit,
    USER_MEMORY,
};
use deadpool_postgres::{GenericClient, Pool};

use crate::{int, pg, pool_error};

/// Failures recorded between two removals of stale rows.
const CLEAN_EVERY: u64 = 256;

/// The throttle on a store's database ([`crate::PostgresStore::throttle`]).
pub struct PostgresThrottle {
    pub(crate) pool: Pool,
    pub(crate) limits: Limits,
    pub(crate) failures: AtomicU64,
}

fn number(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

async fn run_of(
    client: &impl GenericClient,
    key: &str,
    lock: bool,
) -> Result<Option<UserRun>, StoreError> {
    let query = if lock {
        "SELECT failures, locked_until, last_failure FROM credlog_throttle_user WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT failures, locked_until, last_failure FROM credlog_throttle_user WHERE name = $1"
    };
    let row = client.query_opt(query, &[&key]).await.map_err(pg)?;
    Ok(row.map(|row| UserRun {
        failures: u32::try_from(row.get::<_, i64>(0)).unwrap_or(u32::MAX),
        locked_until: number(row.get(1)),
        last_failure: number(row.get(2)),
    }))
}

async fn window_of(
    client: &impl GenericClient,
    key: &str,
    lock: bool,
) -> Result<Option<AddressWindow>, StoreError> {
    let query = if lock {
        "SELECT started, failures FROM credlog_throttle_address WHERE address = $1 FOR UPDATE"
    } else {
        "SELECT started, failures FROM credlog_throttle_address WHERE address = $1"
    };
    let row = client.query_opt(query, &[&key]).await.map_err(pg)?;
    Ok(row.map(|row| AddressWindow {
        started: number(row.get(0)),
        failures: u32::try_from(row.get::<_, i64>(1)).unwrap_or(u32::MAX),
    }))
}

/// One more failure in the run at `key`, under its row's lock.
async fn run_failed(
    txn: &impl GenericClient,
    key: &str,
    limit: &RunLimit,
    now: u64,
) -> Result<(), StoreError> {
    txn.execute(
        "INSERT INTO credlog_throttle_user (name, failures, locked_until, last_failure) \
         VALUES ($1, 0, 0, 0) ON CONFLICT DO NOTHING",
        &[&key],
    )
    .await
    .map_err(pg)?;
    let mut run = run_of(txn, key, true).await?.unwrap_or_default();
    limit.failed(&mut run, now);
    txn.execute(
        "UPDATE credlog_throttle_user SET failures = $2, locked_until = $3, last_failure = $4 \
         WHERE name = $1",
        &[
            &key,
            &i64::from(run.failures),
            &int(run.locked_until)?,
            &int(run.last_failure)?,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// One more counted in the window at `key`, under its row's lock.
async fn window_counted(
    txn: &impl GenericClient,
    key: &str,
    limit: &WindowLimit,
    now: u64,
) -> Result<(), StoreError> {
    txn.execute(
        "INSERT INTO credlog_throttle_address (address, started, failures) \
         VALUES ($1, 0, 0) ON CONFLICT DO NOTHING",
        &[&key],
    )
    .await
    .map_err(pg)?;
    let mut window = window_of(txn, key, true).await?.unwrap_or_default();
    limit.counted(&mut window, now);
    txn.execute(
        "UPDATE credlog_throttle_address SET started = $2, failures = $3 WHERE address = $1",
        &[&key, &int(window.started)?, &i64::from(window.failures)],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

#[async_trait]
impl Throttle for PostgresThrottle {
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let mut waits = Vec::new();
        for count in self.limits.counts(attempt) {
            waits.push(match count {
                Count::Run { key, limit } => run_of(&client, &key, false)
                    .await?
                    .and_then(|run| limit.wait(&run, now)),
                Count::Window { key, limit } => window_of(&client, &key, false)
                    .await?
                    .and_then(|window| limit.wait(&window, now)),
            });
        }
        Ok(Verdict::of(waits))
    }

    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let txn = client.transaction().await.map_err(pg)?;
        // Rows are locked in the order counts() gives them (the name's
        // first): two attempts never wait on each other's rows in a circle.
        for count in self.limits.counts(attempt) {
            match count {
                Count::Run { key, limit } => run_failed(&txn, &key, &limit, now).await?,
                Count::Window { key, limit } => window_counted(&txn, &key, &limit, now).await?,
            }
        }
        if self.failures.fetch_add(1, Ordering::Relaxed) % CLEAN_EVERY == CLEAN_EVERY - 1 {
            let users_before = int(now.saturating_sub(USER_MEMORY))?;
            let windows_before = int(now.saturating_sub(self.limits.address_window))?;
            txn.execute(
                "DELETE FROM credlog_throttle_user WHERE last_failure < $1 AND locked_until < $2",
                &[&users_before, &int(now)?],
            )
            .await
            .map_err(pg)?;
            txn.execute(
                "DELETE FROM credlog_throttle_address WHERE started < $1",
                &[&windows_before],
            )
            .await
            .map_err(pg)?;
        }
        txn.commit().await.map_err(pg)
    }

    async fn succeeded(&self, attempt: &Attempt<'_>, _now: u64) -> Result<(), StoreError> {
        let ended: Vec<String> = self
            .limits
            .counts(attempt)
            .into_iter()
            .filter_map(|count| match count {
                Count::Run { key, limit } if limit.ends_on_success => Some(key),
                _ => None,
            })
            .collect();
        if ended.is_empty() {
            return Ok(());
        }
        let client = self.pool.get().await.map_err(pool_error)?;
        for key in &ended {
            client
                .execute("DELETE FROM credlog_throttle_user WHERE name = $1", &[key])
                .await
                .map_err(pg)?;
        }
        Ok(())
    }
}
