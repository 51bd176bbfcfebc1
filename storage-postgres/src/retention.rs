//! Housekeeping on PostgreSQL: old nonces pruned, and retention (DESIGN.md
//! rule 7): records of `Verified` events only older than the configured
//! retention leave the live log, into `credlog_archive` or away; every
//! other record stays for ever. The same rules as on sled
//! ([`projections::retention_cutoff`]): a retired record is at least two
//! nonce windows older than the newest, so its nonces are below the floor
//! already, and the newest record always stays.
//!
//! A pass is one transaction: it reads the log from the retirement mark
//! (`credlog_mark`, `retired_below`: every retirable record below it has
//! left), moves what it retires and raises the mark together, so a crash
//! leaves either all of a pass or none of it. Passes of several nodes take
//! turns under an advisory lock (a node that finds it held skips: another
//! is retiring). Appends go on meanwhile: a pass never touches the newest
//! record, and appends only add records above it.

use credlog_core::store::codec::decode_record;
use credlog_core::store::projections::{self, retention_cutoff};
use credlog_core::store::{Record, Retention, Seq, StoreError};
use deadpool_postgres::GenericClient;

use crate::{int, pg};

/// The lock a retirement pass takes for its transaction.
pub(crate) const RETIRE_LOCK: i64 = 0x6372_6564_6c6f_6704;

/// The most records one pass reads.
const PASS_RECORDS: i64 = 8192;

/// The mark's name in `credlog_mark`.
pub(crate) const RETIRED_BELOW: &str = "retired_below";

/// Below which sequence number records may be missing from the live log
/// (a retention took them): 0 when none was ever retired.
pub(crate) async fn retired_below(client: &impl GenericClient) -> Result<Seq, StoreError> {
    let row = client
        .query_opt(
            "SELECT value FROM credlog_mark WHERE name = $1",
            &[&RETIRED_BELOW],
        )
        .await
        .map_err(pg)?;
    Ok(row.map_or(0, |row| {
        u64::try_from(row.get::<_, i64>(0)).unwrap_or_default()
    }))
}

/// Retires every retirable record older than `retention` allows behind
/// the newest record, a pass at a time; answers how many left the live log.
pub(crate) async fn retire(
    client: &mut deadpool_postgres::Client,
    retention: Retention,
    window: u64,
) -> Result<u64, StoreError> {
    let mut retired = 0;
    loop {
        let (count, more) = pass(client, retention, window).await?;
        retired += count;
        if !more {
            return Ok(retired);
        }
    }
}

/// One pass: answers how many records it retired, and whether more may
/// be waiting.
async fn pass(
    client: &mut deadpool_postgres::Client,
    retention: Retention,
    window: u64,
) -> Result<(u64, bool), StoreError> {
    let txn = client.transaction().await.map_err(pg)?;
    let ours: bool = txn
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&RETIRE_LOCK])
        .await
        .map_err(pg)?
        .get(0);
    if !ours {
        return Ok((0, false));
    }
    let mark = retired_below(&txn).await?.max(1);
    let Some(newest) = newest(&txn).await? else {
        return Ok((0, false));
    };
    let cutoff = retention_cutoff(newest.time, retention.seconds, window);
    // The newest record stays, whatever its age.
    let rows = txn
        .query(
            "SELECT seq, record FROM credlog_log WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3",
            &[&int(mark)?, &int(newest.seq)?, &PASS_RECORDS],
        )
        .await
        .map_err(pg)?;
    let mut gone: Vec<i64> = Vec::new();
    let mut next_mark = mark;
    let mut reached_cutoff = false;
    for row in &rows {
        let record = decoded(row)?;
        if record.time >= cutoff {
            reached_cutoff = true;
            break;
        }
        if projections::retirable(&record) {
            gone.push(row.get(0));
        }
        next_mark = record.seq + 1;
    }
    if next_mark == mark {
        return Ok((0, false));
    }
    if retention.archive {
        txn.execute(
            "INSERT INTO credlog_archive (seq, record) \
             SELECT seq, record FROM credlog_log WHERE seq = ANY($1)",
            &[&gone],
        )
        .await
        .map_err(pg)?;
    }
    txn.execute("DELETE FROM credlog_log WHERE seq = ANY($1)", &[&gone])
        .await
        .map_err(pg)?;
    txn.execute(
        "INSERT INTO credlog_mark (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&RETIRED_BELOW, &int(next_mark)?],
    )
    .await
    .map_err(pg)?;
    txn.commit().await.map_err(pg)?;
    let more = !reached_cutoff && rows.len() as i64 == PASS_RECORDS;
    Ok((gone.len() as u64, more))
}

/// The log's newest record, if any.
pub(crate) async fn newest(client: &impl GenericClient) -> Result<Option<Record>, StoreError> {
    let row = client
        .query_opt(
            "SELECT seq, record FROM credlog_log ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(pg)?;
    row.as_ref().map(decoded).transpose()
}

/// The record of a `(seq, record)` row.
pub(crate) fn decoded(row: &tokio_postgres::Row) -> Result<Record, StoreError> {
    let seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or_default();
    let bytes: &[u8] = row.get(1);
    decode_record(bytes).map_err(|error| StoreError::CorruptRecord { seq, error })
}
