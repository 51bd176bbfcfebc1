//! The sign-in throttle's counts in the database (CONTRACT.md "Users and
//! sessions"), so that every node counts the same guesses: a user name's
//! run of wrong passwords and an address's failures in its window, one
//! row each, changed under the row's lock by the rule in
//! [`credlog_core::throttle::Limits`]. Rows older than what they can still
//! count are removed now and then, so spraying names grows nothing for
//! long.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use credlog_core::store::StoreError;
use credlog_core::throttle::{
    AddressWindow, Attempt, Limits, Throttle, UserRun, Verdict, USER_MEMORY,
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

async fn user_run(
    client: &impl GenericClient,
    name: &str,
    lock: bool,
) -> Result<Option<UserRun>, StoreError> {
    let query = if lock {
        "SELECT failures, locked_until, last_failure FROM credlog_throttle_user WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT failures, locked_until, last_failure FROM credlog_throttle_user WHERE name = $1"
    };
    let row = client.query_opt(query, &[&name]).await.map_err(pg)?;
    Ok(row.map(|row| UserRun {
        failures: u32::try_from(row.get::<_, i64>(0)).unwrap_or(u32::MAX),
        locked_until: number(row.get(1)),
        last_failure: number(row.get(2)),
    }))
}

async fn address_window(
    client: &impl GenericClient,
    address: IpAddr,
    lock: bool,
) -> Result<Option<AddressWindow>, StoreError> {
    let query = if lock {
        "SELECT started, failures FROM credlog_throttle_address WHERE address = $1 FOR UPDATE"
    } else {
        "SELECT started, failures FROM credlog_throttle_address WHERE address = $1"
    };
    let row = client
        .query_opt(query, &[&address.to_string()])
        .await
        .map_err(pg)?;
    Ok(row.map(|row| AddressWindow {
        started: number(row.get(0)),
        failures: u32::try_from(row.get::<_, i64>(1)).unwrap_or(u32::MAX),
    }))
}

#[async_trait]
impl Throttle for PostgresThrottle {
    async fn verdict(&self, attempt: &Attempt<'_>, now: u64) -> Result<Verdict, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let run = user_run(&client, attempt.user, false).await?;
        let window = match attempt.address {
            Some(address) => address_window(&client, address, false).await?,
            None => None,
        };
        Ok(self.limits.verdict(run.as_ref(), window.as_ref(), now))
    }

    async fn failed(&self, attempt: &Attempt<'_>, now: u64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let txn = client.transaction().await.map_err(pg)?;
        txn.execute(
            "INSERT INTO credlog_throttle_user (name, failures, locked_until, last_failure) \
             VALUES ($1, 0, 0, 0) ON CONFLICT DO NOTHING",
            &[&attempt.user],
        )
        .await
        .map_err(pg)?;
        let mut run = user_run(&txn, attempt.user, true)
            .await?
            .unwrap_or_default();
        self.limits.user_failed(&mut run, now);
        txn.execute(
            "UPDATE credlog_throttle_user SET failures = $2, locked_until = $3, last_failure = $4 \
             WHERE name = $1",
            &[
                &attempt.user,
                &i64::from(run.failures),
                &int(run.locked_until)?,
                &int(run.last_failure)?,
            ],
        )
        .await
        .map_err(pg)?;
        if let Some(address) = attempt.address {
            let shown = address.to_string();
            txn.execute(
                "INSERT INTO credlog_throttle_address (address, started, failures) \
                 VALUES ($1, 0, 0) ON CONFLICT DO NOTHING",
                &[&shown],
            )
            .await
            .map_err(pg)?;
            let mut window = address_window(&txn, address, true)
                .await?
                .unwrap_or_default();
            self.limits.address_failed(&mut window, now);
            txn.execute(
                "UPDATE credlog_throttle_address SET started = $2, failures = $3 WHERE address = $1",
                &[&shown, &int(window.started)?, &i64::from(window.failures)],
            )
            .await
            .map_err(pg)?;
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
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute(
                "DELETE FROM credlog_throttle_user WHERE name = $1",
                &[&attempt.user],
            )
            .await
            .map_err(pg)?;
        Ok(())
    }
}
