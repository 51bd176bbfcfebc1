//! Group commit on PostgreSQL (DESIGN.md rule 2): a node's appends go
//! through one writer task, which takes every append queued while its last
//! transaction ran and writes them in one transaction: the append lock
//! taken once, each append checked in order against the projections as
//! the ones before it left them ([`Overlay`]), a refused one writing
//! nothing, and one commit (one durable flush on the server, and on its
//! synchronous standbys) answering them all. The lock, the commit and
//! their round trips are paid per batch, not per append; a lone append
//! waits for nothing.
//!
//! What the batch's appends read is fetched a round at a time for all of
//! them together ([`Rounds`]): a batch costs a few queries, not a few per
//! append. The values cannot change meanwhile: every writer of the
//! projections holds the append lock.
//!
//! A transaction that fails fails every append in it, none written: a
//! lost connection answers each [`StoreError::Unavailable`].
//!
//! It reports as sled's writer does: `credlog_store_appends_total{outcome}`,
//! `credlog_store_appends_refused_total{reason}`,
//! `credlog_store_append_batch_size` and, for the commit,
//! `credlog_store_flush_duration_seconds`.

use credlog_core::store::projections::{self, Overlay};
use credlog_core::store::{count_append, AppendError, Event, Precondition, Seq, StoreError};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use crate::rounds::Rounds;
use crate::{locked, pg, pool_error, prune_in, store_error, write, APPEND_LOCK, PRUNE_EVERY};

/// The most appends one transaction holds.
const MOST: usize = 256;

/// One queued append and where its answer goes.
pub(crate) struct Pending {
    pub(crate) preconditions: Vec<Precondition>,
    pub(crate) events: Vec<Event>,
    pub(crate) time: u64,
    pub(crate) answer: oneshot::Sender<Result<Seq, AppendError>>,
}

/// Starts the writer of a store on `pool` keeping nonces `window` seconds;
/// it runs until every sender is dropped (the store is).
pub(crate) fn start(pool: Pool, window: u64) -> mpsc::UnboundedSender<Pending> {
    let (queue, mut queued) = mpsc::unbounded_channel::<Pending>();
    tokio::spawn(async move {
        while let Some(first) = queued.recv().await {
            let mut batch = vec![first];
            while batch.len() < MOST {
                match queued.try_recv() {
                    Ok(pending) => batch.push(pending),
                    Err(_) => break,
                }
            }
            let (requests, answers): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .map(|p| ((p.preconditions, p.events, p.time), p.answer))
                .unzip();
            metrics::histogram!("credlog_store_append_batch_size").record(answers.len() as f64);
            let outcomes = match commit(&pool, window, requests).await {
                Ok(outcomes) => outcomes,
                Err(error) => answers
                    .iter()
                    .map(|_| Err(AppendError::Store(error.clone())))
                    .collect(),
            };
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                count_append(&outcome);
                let _ = answer.send(outcome);
            }
        }
    });
    queue
}

/// One batch's transaction: each append's outcome, or the failure of all.
async fn commit(
    pool: &Pool,
    window: u64,
    requests: Vec<(Vec<Precondition>, Vec<Event>, u64)>,
) -> Result<Vec<Result<Seq, AppendError>>, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let txn = locked(&mut client, APPEND_LOCK).await?;
    let (outcomes, changes) = Rounds::run(&txn, |p| {
        let mut overlay = Overlay::new(p);
        let outcomes = requests
            .iter()
            .map(|(preconditions, events, time)| {
                projections::append(&mut overlay, preconditions, events, *time)
            })
            .collect::<Result<Vec<_>, _>>();
        outcomes.map(|outcomes| (outcomes, overlay.into_changes()))
    })
    .await?
    .map_err(store_error)?;
    let outcomes: Vec<Result<Seq, AppendError>> = outcomes
        .into_iter()
        .map(|outcome| outcome.map_err(AppendError::Refused))
        .collect();
    let written = || outcomes.iter().filter_map(|outcome| outcome.as_ref().ok());
    let (Some(&first), Some(&last)) = (written().min(), written().max()) else {
        // Every append refused: nothing to write.
        txn.rollback().await.map_err(pg)?;
        return Ok(outcomes);
    };
    write(&txn, changes).await?;
    // Every PRUNE_EVERY records, the nonces below the window go.
    if last / PRUNE_EVERY > (first - 1) / PRUNE_EVERY {
        let newest = requests.iter().map(|(_, _, time)| *time).max().unwrap_or(0);
        prune_in(&txn, newest.saturating_sub(window)).await?;
    }
    let committing = std::time::Instant::now();
    txn.commit().await.map_err(pg)?;
    metrics::histogram!("credlog_store_flush_duration_seconds")
        .record(committing.elapsed().as_secs_f64());
    Ok(outcomes)
}
