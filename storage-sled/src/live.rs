//! The open database, and opening it again after a write failed.
//!
//! sled 0.34 poisons itself when a write to its files fails (a full disk,
//! a data directory made read-only): it keeps the error and answers every
//! later flush with it for as long as the database is open. So the writer
//! marks the database failed ([`Live::note`]). While it is, appends and
//! flushes are refused at once as [`StoreError::Unavailable`] (503, try
//! again), and reads are still answered from it. Every half second at
//! most, someone who needs to write ([`Live::recover`]: the writer, the
//! pruner, the health probe) writes and syncs a probe file in the data
//! directory; once that works, the database is closed and opened anew.
//! What it then holds is what was on disk: every acknowledged append
//! (DESIGN.md rule 2), and none that was refused. Readers that come
//! while it is closed and opened (milliseconds; up to a few seconds while
//! sled lets go of the directory's lock) wait for it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use credlog_core::store::StoreError;

use crate::sessions::SessionTrees;
use crate::{SledTrees, Usage};

/// How often a failed database is tried again, at most.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// How long closing a failed database waits for readers to let go of it
/// and for sled to release the directory's lock.
const CLOSING: Duration = Duration::from_secs(5);

/// The probe file written before a failed database is opened again.
const PROBE_FILE: &str = "credlog-write-probe";

/// How much the probe writes and holds until the database is closed: a
/// few sled segments, so that opening it again (which writes) and the
/// next flushes find room, even if something else fills the disk again
/// meanwhile. Opening it can still fail then, and reads are refused (503)
/// until it opens.
const PROBE_BYTES: usize = 4 << 20;

/// The trees of one open database.
#[derive(Clone)]
pub(crate) struct Opened {
    pub(crate) trees: Arc<SledTrees>,
    pub(crate) sessions: Arc<SessionTrees>,
}

/// The database in use, and what it takes to open it again.
pub(crate) struct Live {
    /// `None` while it is closed and opened again.
    opened: Mutex<Option<Opened>>,
    /// Whether it is being closed and opened again (readers wait).
    reopening: AtomicBool,
    /// Told when that ends.
    reopened: Condvar,
    failed: AtomicBool,
    last_try: Mutex<Option<Instant>>,
    path: PathBuf,
    window: u64,
    usage: Usage,
}

/// The error of a write refused while the database is failed.
fn unwritable() -> StoreError {
    StoreError::Unavailable("the data directory cannot be written to".into())
}

impl Live {
    /// The database `opened` from `path`, opened again as it was (nonces
    /// kept `window` seconds, for `usage`) when it fails.
    pub(crate) fn new(opened: Opened, path: &Path, window: u64, usage: Usage) -> Live {
        Live {
            opened: Mutex::new(Some(opened)),
            reopening: AtomicBool::new(false),
            reopened: Condvar::new(),
            failed: AtomicBool::new(false),
            last_try: Mutex::new(None),
            path: path.to_path_buf(),
            window,
            usage,
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Opened>> {
        self.opened.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The open database; while it is being opened again, waits for it
    /// (up to twice [`CLOSING`]).
    fn current(&self) -> Result<Opened, StoreError> {
        let (slot, _) = self
            .reopened
            .wait_timeout_while(self.slot(), CLOSING * 2, |slot| {
                slot.is_none() && self.reopening.load(Ordering::SeqCst)
            })
            .unwrap_or_else(|e| e.into_inner());
        slot.clone().ok_or_else(|| {
            StoreError::Unavailable("the data directory could not be reopened".into())
        })
    }

    /// The trees, to read (failed or not) or write.
    pub(crate) fn trees(&self) -> Result<Arc<SledTrees>, StoreError> {
        self.current().map(|opened| opened.trees)
    }

    /// The login sessions' trees.
    pub(crate) fn sessions(&self) -> Result<Arc<SessionTrees>, StoreError> {
        self.current().map(|opened| opened.sessions)
    }

    /// Whether a write failed and the database has not been opened again.
    pub(crate) fn is_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Marks the database failed when `error` says its files could not be
    /// written ([`StoreError::Unavailable`], as [`crate::backend`] maps
    /// sled's I/O errors).
    pub(crate) fn note(&self, error: &StoreError) {
        if matches!(error, StoreError::Unavailable(_)) && !self.failed.swap(true, Ordering::SeqCst)
        {
            tracing::warn!(%error, "a write to the data directory failed; refusing writes until it can be written again");
        }
    }

    /// Opens a failed database again once the data directory takes
    /// writes (tried every [`RETRY_EVERY`] at most); `Ok` when it is not
    /// failed (any more). The caller must hold none of its trees.
    pub(crate) fn recover(&self) -> Result<(), StoreError> {
        if !self.is_failed() {
            return Ok(());
        }
        // Held throughout: one reopening at a time.
        let mut last = self.last_try.lock().unwrap_or_else(|e| e.into_inner());
        if !self.is_failed() {
            return Ok(());
        }
        if last.is_some_and(|at| at.elapsed() < RETRY_EVERY) {
            return Err(unwritable());
        }
        *last = Some(Instant::now());
        let reserved = Reserved::write(&self.path)?;
        self.reopening.store(true, Ordering::SeqCst);
        let reopened = self.reopen(reserved);
        {
            let _slot = self.slot();
            self.reopening.store(false, Ordering::SeqCst);
        }
        self.reopened.notify_all();
        reopened?;
        tracing::warn!("the data directory takes writes again; the store was reopened");
        Ok(())
    }

    /// Closes the failed database and opens it again.
    fn reopen(&self, reserved: Reserved) -> Result<(), StoreError> {
        let failed = self.slot().take();
        if let Some(failed) = failed {
            self.close(failed)?;
        }
        drop(reserved);
        let opened = crate::open_trees(&self.path, self.window, self.usage, &|_, _| {})?;
        *self.slot() = Some(opened);
        self.failed.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Drops the failed database once nobody else holds it, and waits
    /// until sled has released the directory's lock.
    fn close(&self, failed: Opened) -> Result<(), StoreError> {
        let deadline = Instant::now() + CLOSING;
        while Arc::strong_count(&failed.trees) > 1 || Arc::strong_count(&failed.sessions) > 1 {
            if Instant::now() >= deadline {
                *self.slot() = Some(failed);
                return Err(StoreError::Unavailable(
                    "the failed store is still in use; it is reopened later".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(failed);
        crate::wait_for_lock(&self.path.join("db"), CLOSING);
        Ok(())
    }
}

/// [`PROBE_BYTES`] written and synced in the data directory: whether it
/// takes writes again. Dropping it removes the file, and frees its room
/// for the database.
struct Reserved(PathBuf);

impl Reserved {
    fn write(path: &Path) -> Result<Reserved, StoreError> {
        let reserved = Reserved(path.join(PROBE_FILE));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&reserved.0)
            .and_then(|mut probe| {
                probe.write_all(&vec![0; PROBE_BYTES])?;
                probe.sync_all()
            })
            .map_err(|error| {
                let message = format!("the data directory cannot be written to: {error}");
                StoreError::unavailable(message, error)
            })?;
        Ok(reserved)
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
