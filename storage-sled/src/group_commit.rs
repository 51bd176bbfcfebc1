//! Group commit (DESIGN.md rule 2): one writer thread takes every append
//! queued while it was busy, checks them in order against the projections
//! as the ones before left them ([`Overlay`]: the writer is the only
//! mutator, DESIGN.md rule 6, so nothing changes under it), writes the
//! batch's changes at once (`SledTrees::write`), flushes once, and
//! answers them all. Both the write and the fsync are paid per batch, not
//! per append.
//!
//! The writer also answers requests for a flush alone (a login session
//! written outside the log, [`crate::sessions`]): they share the batch's
//! fsync, and every flush the open store asks for runs on this one thread.
//! sled 0.34's `flush_async` is not used: with a few dozen at once it hung,
//! every thread of sled's pool waiting in a flush (holding sled's
//! concurrency-control read lock) while a transaction waited for the write
//! lock.
//!
//! When a write or a flush fails for the disk (full, read-only), sled
//! keeps failing: the writer marks the database failed and, before each
//! batch while it is, tries to open it again (`crate::live`); until that
//! works, appends and flushes are refused at once as unavailable.
//!
//! It reports through the `metrics` facade (a no-op until a recorder is
//! installed): `credlog_store_appends_total{outcome}`,
//! `credlog_store_appends_refused_total{reason}`,
//! `credlog_store_append_batch_size` and
//! `credlog_store_flush_duration_seconds`.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use credlog_core::store::projections::{self, Overlay, ProjectionError};
use credlog_core::store::{count_append, AppendError, Event, Precondition, Seq, StoreError};
use tokio::sync::oneshot;

use crate::live::Live;
use crate::SledTrees;

/// How long the writer waits for more appends to join a batch, per round,
/// when appends come together (a lone appender does not wait).
const GATHER_PAUSE: Duration = Duration::from_micros(100);
/// At most this many rounds.
const GATHER_ROUNDS: usize = 10;

/// One queued append and where its answer goes.
struct Pending {
    preconditions: Vec<Precondition>,
    events: Vec<Event>,
    time: u64,
    answer: oneshot::Sender<Result<Seq, AppendError>>,
}

/// What an append is answered.
type Outcome = Result<Seq, AppendError>;

/// How a flush went.
type Flushed = Result<(), StoreError>;

/// Where the answer to a flush request goes.
type FlushAnswer = oneshot::Sender<Flushed>;

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    flushes: Vec<FlushAnswer>,
    stopping: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writer thread; dropping it writes what is queued, then stops it.
pub struct GroupCommit {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the writer for these trees.
    pub(crate) fn start(live: Arc<Live>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let writer = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("credlog-writer".into())
            .spawn(move || run(&writer, &live))?;
        Ok(GroupCommit {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues an append and waits until it is written and on disk, or refused.
    pub async fn append(
        &self,
        preconditions: &[Precondition],
        events: Vec<Event>,
        time: u64,
    ) -> Result<Seq, AppendError> {
        let (answer, answered) = oneshot::channel();
        {
            let mut queue = self.shared.lock();
            if queue.stopping {
                return Err(StoreError::Backend("the store is closing".into()).into());
            }
            queue.pending.push(Pending {
                preconditions: preconditions.to_vec(),
                events,
                time,
                answer,
            });
        }
        self.shared.wake.notify_one();
        answered
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the writer stopped".into()).into()))
    }

    /// Waits until everything written to the store before the call is on
    /// disk, sharing the next batch's flush.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        {
            let mut queue = self.shared.lock();
            if queue.stopping {
                return Err(StoreError::Backend("the store is closing".into()));
            }
            queue.flushes.push(answer);
        }
        self.shared.wake.notify_one();
        answered
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the writer stopped".into())))
    }
}

fn run(shared: &Shared, live: &Live) {
    // How many appends a batch has held lately (a moving average): when
    // appends come one at a time, a lone appender is not made to wait for
    // company that is not coming; when they come together, one small batch
    // does not stop the pause that lets the next ones share an fsync.
    let mut recent_batch = 1.0_f64;
    loop {
        let (batch, flushes) = {
            let mut queue = shared.lock();
            while queue.pending.is_empty() && queue.flushes.is_empty() && !queue.stopping {
                queue = shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            if queue.pending.is_empty() && queue.flushes.is_empty() {
                return;
            }
            // Let appends that are on their way join this batch: wait
            // while the queue still grows, about a millisecond at most.
            let together = recent_batch > 1.5 || queue.pending.len() > 1;
            for _ in 0..if together { GATHER_ROUNDS } else { 0 } {
                let waiting = queue.pending.len();
                drop(queue);
                thread::sleep(GATHER_PAUSE);
                queue = shared.lock();
                if queue.pending.len() == waiting {
                    break;
                }
            }
            (
                std::mem::take(&mut queue.pending),
                std::mem::take(&mut queue.flushes),
            )
        };
        if !batch.is_empty() {
            recent_batch = 0.8 * recent_batch + 0.2 * batch.len() as f64;
        }
        metrics::histogram!("credlog_store_append_batch_size").record(batch.len() as f64);
        let (outcomes, flushed) = match live.recover().and_then(|()| live.trees()) {
            Ok(trees) => {
                let (outcomes, flushed) = write(&trees, &batch);
                let flushed = match flushed {
                    None if !flushes.is_empty() => Some(trees.flush()),
                    flushed => flushed,
                };
                (outcomes, flushed)
            }
            Err(error) => (
                batch
                    .iter()
                    .map(|_| Err(AppendError::Store(error.clone())))
                    .collect(),
                Some(Err(error)),
            ),
        };
        for outcome in &outcomes {
            if let Err(AppendError::Store(error)) = outcome {
                live.note(error);
            }
            count_append(outcome);
        }
        if let Some(Err(error)) = &flushed {
            live.note(error);
        }
        for (pending, outcome) in batch.into_iter().zip(outcomes) {
            let _ = pending.answer.send(outcome);
        }
        if !flushes.is_empty() {
            let flushed = flushed.unwrap_or(Ok(()));
            for answer in flushes {
                let _ = answer.send(flushed.clone());
            }
        }
    }
}

/// Writes a batch at once and flushes: each append is checked against what
/// the ones before it wrote, and a refused one writes nothing.
/// Also answers how the flush went, when there was one (not for an empty
/// batch, nor when the transaction failed).
fn write(trees: &SledTrees, batch: &[Pending]) -> (Vec<Outcome>, Option<Flushed>) {
    let failed = |error: &StoreError| {
        batch
            .iter()
            .map(|_| Err(AppendError::Store(error.clone())))
            .collect()
    };
    if batch.is_empty() {
        return (Vec::new(), None);
    }
    let mut overlay = Overlay::new(trees);
    let checked = batch
        .iter()
        .map(|pending| {
            projections::append(
                &mut overlay,
                &pending.preconditions,
                &pending.events,
                pending.time,
            )
        })
        .collect::<Result<Vec<_>, ProjectionError>>()
        .map_err(crate::store_error);
    let written = checked.and_then(|outcomes| {
        trees.write(overlay.into_changes())?;
        Ok(outcomes)
    });
    let outcomes = match written {
        Ok(outcomes) => outcomes,
        Err(error) => return (failed(&error), None),
    };
    let flushing = Instant::now();
    let flushed = trees.flush();
    metrics::histogram!("credlog_store_flush_duration_seconds")
        .record(flushing.elapsed().as_secs_f64());
    if let Err(error) = flushed {
        return (failed(&error), Some(Err(error)));
    }
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.map_err(AppendError::Refused))
        .collect();
    (outcomes, Some(Ok(())))
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
