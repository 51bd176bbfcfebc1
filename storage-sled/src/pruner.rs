//! The background pruning of old nonces: a nonce older than the window
//! behind the newest record can never be presented again, so its entry
//! goes, and the in-memory nonce window stays bounded.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::SledTrees;

/// How often the pruner looks.
const EVERY: Duration = Duration::from_secs(5);

/// The pruning thread; dropping it stops the thread.
pub(crate) struct Pruner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Pruner {
    pub(crate) fn start(trees: Arc<SledTrees>, window: u64) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("credlog-nonce-pruner".into())
            .spawn(move || loop {
                match stopped.recv_timeout(EVERY) {
                    Err(RecvTimeoutError::Timeout) => prune_once(&trees, window),
                    _ => return,
                }
            })?;
        Ok(Pruner {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Prunes below the newest record's time minus the window. A failure is
/// left for the next round: pruning is housekeeping, never correctness.
fn prune_once(trees: &SledTrees, window: u64) {
    if let Ok(Some(record)) = trees.newest() {
        let _ = trees.prune_nonces(record.time.saturating_sub(window));
    }
}

impl Drop for Pruner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
