//! Retention (DESIGN.md rule 7): records of `Verified` events only (a
//! signed request's nonce) older than the configured retention leave the
//! live log, into compressed archive segments under the data directory or
//! away; every other record stays for ever.
//!
//! The pruner thread retires, right after it has raised the nonce floor:
//! a retired record is at least two nonce windows older than the newest
//! (see [`projections::retention_cutoff`]), so its nonces are below the
//! floor and a replay would forget them anyway. The newest record always
//! stays, so the last sequence number and the window's rebuild are as
//! before.
//!
//! A pass walks the log's entries from the retirement mark (sled's default
//! tree, `credlog-retired-below`: every retirable record below it has
//! left). For each entry wholly older than the cutoff it removes the
//! entry and writes the records kept back under the first one's sequence
//! number. It writes the pass's retired records as one archive segment
//! (written beside, synced, then renamed into place), and then changes the
//! log and the mark in one sled transaction, flushed. A crash between the
//! two leaves a segment whose records are still in the live log: the next
//! pass removes segments at or above the mark before it writes, and a
//! reader of the archive skips what it holds twice.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use credlog_core::store::codec::encode_record;
use credlog_core::store::projections::{self, seq_key, Tree};
pub use credlog_core::store::Retention;
use credlog_core::store::{Record, Seq, StoreError};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::{backend, chunks, SledTrees};

/// Where sled's default tree keeps the retirement mark: every retirable
/// record below this sequence number has left the live log.
pub(crate) const RETIRED_KEY: &[u8] = b"credlog-retired-below";

/// The archive's directory, under the data directory.
pub const ARCHIVE_DIR: &str = "archive";

/// The most records one pass retires, and so one segment holds: a reader
/// unpacks a whole segment for one page.
const SEGMENT_RECORDS: usize = 8192;

/// The archive segments of one data directory: files named by the first
/// and last sequence number they hold, each packed as a log chunk.
#[derive(Debug, Clone)]
pub(crate) struct Archive {
    dir: PathBuf,
}

impl Archive {
    pub(crate) fn in_data_dir(data: &Path) -> Self {
        Archive {
            dir: data.join(ARCHIVE_DIR),
        }
    }

    /// The segments, in order: first and last sequence number, and path.
    fn segments(&self) -> Result<Vec<(Seq, Seq, PathBuf)>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(self.failed("read", error)),
        };
        let mut segments = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| self.failed("read", e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some((first, last)) = name
                .strip_suffix(".zst")
                .and_then(|range| range.split_once('-'))
            else {
                continue;
            };
            if let (Ok(first), Ok(last)) = (first.parse(), last.parse()) {
                segments.push((first, last, path));
            }
        }
        segments.sort();
        Ok(segments)
    }

    /// Up to `limit` archived records from `from` on, in order.
    pub(crate) fn read(&self, from: Seq, limit: usize) -> Result<Vec<Record>, StoreError> {
        let mut records: Vec<Record> = Vec::new();
        for (first, last, path) in self.segments()? {
            if last < from {
                continue;
            }
            if records.len() >= limit {
                break;
            }
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                // Removed as a leftover since it was listed.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(self.failed("read", error)),
            };
            for record in chunks::unpack(&seq_key(first), &bytes)? {
                let after = records.last().map_or(0, |r| r.seq);
                if record.seq >= from && record.seq > after && records.len() < limit {
                    records.push(record);
                }
            }
        }
        Ok(records)
    }

    /// Writes one segment durably: beside, synced, renamed, the directory synced.
    fn write(&self, records: &[Record]) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(());
        };
        crate::private::prepare(&self.dir).map_err(|e| self.failed("create", e))?;
        let name = format!("{:020}-{:020}.zst", first.seq, last.seq);
        let part = self.dir.join(format!(".{name}.part"));
        let encoded: Vec<Vec<u8>> = records.iter().map(encode_record).collect();
        let written = (|| {
            let mut file = private_file(&part)?;
            file.write_all(&chunks::pack(&encoded))?;
            file.sync_all()?;
            fs::rename(&part, self.dir.join(&name))?;
            fs::File::open(&self.dir)?.sync_all()
        })();
        written.map_err(|e| self.failed("write", e))
    }

    /// Removes the segments at or above `mark`: a pass wrote them and
    /// crashed before it took their records out of the live log.
    fn remove_from(&self, mark: Seq) -> Result<(), StoreError> {
        for (first, _, path) in self.segments()? {
            if first >= mark {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(self.failed("remove", error)),
                }
            }
        }
        Ok(())
    }

    fn failed(&self, what: &str, error: std::io::Error) -> StoreError {
        let message = format!("cannot {what} the archive {}: {error}", self.dir.display());
        StoreError::backend(message, error)
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(crate::private::FILE_MODE)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

/// Retires every retirable record older than `cutoff`, a pass at a time;
/// answers how many left the live log.
pub(crate) fn retire(
    trees: &SledTrees,
    cutoff: u64,
    archive: Option<&Archive>,
) -> Result<u64, StoreError> {
    let mut retired = 0;
    loop {
        let (count, more) = pass(trees, cutoff, archive)?;
        retired += count;
        if !more {
            return Ok(retired);
        }
    }
}

/// One pass: at most [`SEGMENT_RECORDS`] records retired; answers how
/// many, and whether more may be waiting.
fn pass(
    trees: &SledTrees,
    cutoff: u64,
    archive: Option<&Archive>,
) -> Result<(u64, bool), StoreError> {
    let _only = trees.retiring.lock().unwrap_or_else(|e| e.into_inner());
    let mark = trees.stored_u64(RETIRED_KEY, "the retirement mark")?.max(1);
    let log = trees.tree(Tree::Log);
    // The newest entry stays, whatever its age.
    let Some((newest, _)) = log.last().map_err(backend)? else {
        return Ok((0, false));
    };
    if let Some(archive) = archive {
        archive.remove_from(mark)?;
    }
    let mut batch = sled::Batch::default();
    let mut retired = Vec::new();
    let mut next_mark = mark;
    let mut more = false;
    for entry in log.range(seq_key(mark).to_vec()..newest.to_vec()) {
        let (key, bytes) = entry.map_err(backend)?;
        let records = chunks::unpack(&key, &bytes)?;
        if records.iter().any(|record| record.time >= cutoff) {
            break;
        }
        let (gone, kept): (Vec<Record>, Vec<Record>) =
            records.into_iter().partition(projections::retirable);
        let last = gone.iter().chain(&kept).map(|r| r.seq).max().unwrap_or(0);
        next_mark = next_mark.max(last + 1);
        if !gone.is_empty() {
            batch.remove(key);
            if let Some(first) = kept.first() {
                let encoded: Vec<Vec<u8>> = kept.iter().map(encode_record).collect();
                batch.insert(seq_key(first.seq).to_vec(), chunks::pack(&encoded));
            }
            retired.extend(gone);
        }
        if retired.len() >= SEGMENT_RECORDS {
            more = true;
            break;
        }
    }
    if next_mark == mark {
        return Ok((0, false));
    }
    if let Some(archive) = archive {
        archive.write(&retired)?;
    }
    let default: &sled::Tree = &trees.db;
    [default, log]
        .as_slice()
        .transaction(|view| {
            view[1].apply_batch(&batch)?;
            view[0].insert(RETIRED_KEY, &next_mark.to_be_bytes())?;
            Ok::<_, ConflictableTransactionError<()>>(())
        })
        .map_err(|error| match error {
            TransactionError::Storage(error) => backend(error),
            TransactionError::Abort(()) => StoreError::Backend("a retirement aborted".into()),
        })?;
    trees.flush()?;
    Ok((retired.len() as u64, more))
}
