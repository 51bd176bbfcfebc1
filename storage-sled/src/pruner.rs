//! The background pruning of old nonces: a nonce older than the window
//! behind the newest record can never be presented again, so its entry
//! goes, and the in-memory nonce window stays bounded.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use credlog_core::store::projections::retention_cutoff;
use credlog_core::store::StoreError;

use crate::live::Live;
use crate::retention;
use crate::{Housekeeping, SledTrees};

/// How often the pruner looks.
const EVERY: Duration = Duration::from_secs(5);

/// The pruning thread; dropping it stops the thread.
pub(crate) struct Pruner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Pruner {
    pub(crate) fn start(live: Arc<Live>, housekeeping: Housekeeping) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("credlog-nonce-pruner".into())
            .spawn(move || loop {
                match stopped.recv_timeout(EVERY) {
                    Err(RecvTimeoutError::Timeout) => {
                        // A failed database is opened again here too, when
                        // no append comes to do it.
                        if live.recover().is_ok() {
                            if let Ok(trees) = live.trees() {
                                let _ = prune_once(&trees, &housekeeping);
                            }
                        }
                    }
                    _ => return,
                }
            })?;
        Ok(Pruner {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Prunes below the newest record's time minus the window, then, with a
/// retention, retires the records older than it allows (only after a
/// prune that worked: a retired record's nonces must be below the floor);
/// answers how many records were retired. A failure is left for the next
/// round: pruning is housekeeping, never correctness; a failed retirement
/// is logged, since the disk then fills.
pub(crate) fn prune_once(
    trees: &SledTrees,
    housekeeping: &Housekeeping,
) -> Result<u64, StoreError> {
    let window = housekeeping.window;
    let Some(record) = trees.newest()? else {
        return Ok(0);
    };
    trees.prune_nonces(record.time.saturating_sub(window))?;
    let Some((retention, archive)) = &housekeeping.retention else {
        return Ok(0);
    };
    let cutoff = retention_cutoff(record.time, retention.seconds, window);
    let archive = retention.archive.then_some(archive);
    let retired = retention::retire(trees, cutoff, archive).inspect_err(|error| {
        tracing::warn!(%error, "retiring old Verified records failed");
    })?;
    if retired > 0 {
        tracing::debug!(retired, cutoff, "retired old Verified records");
    }
    Ok(retired)
}

impl Drop for Pruner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
