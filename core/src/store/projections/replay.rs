//! Rebuilding the projections from the log (DESIGN.md rule 3): a record
//! at a time in memory ([`Replay`]), or over a backend's trees in bounded
//! stretches ([`replay_through`]), missing records allowed only where a
//! retention took them.

use super::super::events::{Record, Seq};
use super::super::StoreError;
use super::keys::LAST_SEQ;
use super::{
    apply, raise_nonce_floor, Changes, Overlay, Projection, ProjectionError, ProjectionMut, Tree,
    Trees,
};

/// [`Trees::replay`] a record at a time, for a backend that reads its log
/// in pages (asynchronously): [`Replay::apply`] each record in order, then
/// [`Replay::finish`].
pub struct Replay {
    trees: Trees,
    order: Order,
    count: u64,
    nonce_floor: u64,
}

impl Replay {
    /// A replay from record 1; records below `retired_below` may be
    /// missing (see [`Trees::replay`]).
    pub fn new(nonce_floor: u64, retired_below: Seq) -> Self {
        Replay {
            trees: Trees::new(),
            order: Order::starting(1, retired_below),
            count: 0,
            nonce_floor,
        }
    }

    /// Applies the next record.
    pub fn apply(&mut self, record: &Record) -> Result<(), StoreError> {
        replay_record(&mut self.trees, &mut self.order, record)?;
        self.count += 1;
        // Keep memory bounded while replaying a long log.
        if self.count.is_multiple_of(65_536) {
            self.trees.prune_nonces(self.nonce_floor);
        }
        Ok(())
    }

    /// The rebuilt projections, and how many records were replayed.
    pub fn finish(mut self) -> Result<(Trees, u64), StoreError> {
        self.trees.prune_nonces(self.nonce_floor);
        if self.nonce_floor > 0 {
            raise_nonce_floor(&mut self.trees, self.nonce_floor).map_err(unwrap_store)?;
        }
        Ok((self.trees, self.count))
    }
}

/// Where a replay is in the log: the sequence number it expects next, and
/// below which records may be missing (a retention took them).
struct Order {
    expected: Seq,
    retired_below: Seq,
}

impl Order {
    fn starting(expected: Seq, retired_below: Seq) -> Self {
        Order {
            expected,
            retired_below,
        }
    }

    /// The next record is `seq`: the one expected, or one after a gap a
    /// retention left.
    fn check(&mut self, seq: Seq) -> Result<(), StoreError> {
        let retired = seq > self.expected && seq <= self.retired_below;
        if seq != self.expected && !retired {
            return Err(StoreError::Corrupt(format!(
                "log record {} is missing (found {seq})",
                self.expected
            )));
        }
        self.expected = seq + 1;
        Ok(())
    }
}

/// Replays one record onto `p`, the next in `order`: every replay's step.
fn replay_record<P: ProjectionMut>(
    p: &mut P,
    order: &mut Order,
    record: &Record,
) -> Result<(), StoreError> {
    order.check(record.seq)?;
    p.insert(Tree::Meta, LAST_SEQ, record.seq.to_be_bytes().to_vec())
        .map_err(unwrap_store)?;
    apply(p, record).map_err(unwrap_store)
}

/// [`Trees::replay`] for a log too long to rebuild in memory: the changes
/// of each `budget` events gather over `base` (reads see them first, then
/// `base`) and are handed to `flush`, which writes them to `base`; memory
/// holds one budget's changes. Nonces below the floor are never written.
/// `records` start at `from`: `base` is empty for 1, else the projections
/// as the records before `from` left them (a snapshot, its nonces below
/// the floor removed). `base` then holds what [`Trees::replay`] would
/// return; answers how many records were replayed.
pub fn replay_through<P: Projection>(
    records: impl IntoIterator<Item = Result<Record, StoreError>>,
    nonce_floor: u64,
    retired_below: Seq,
    from: Seq,
    base: &P,
    mut flush: impl FnMut(Changes) -> Result<(), StoreError>,
    budget: usize,
) -> Result<u64, StoreError> {
    let mut overlay = Overlay::new(base);
    if nonce_floor > 0 {
        raise_nonce_floor(&mut overlay, nonce_floor).map_err(unwrap_store)?;
    }
    let mut order = Order::starting(from, retired_below);
    let (mut count, mut pending) = (0, 0);
    for record in records {
        let record = record?;
        replay_record(&mut overlay, &mut order, &record)?;
        count += 1;
        pending += record.events.len();
        if pending >= budget {
            flush(std::mem::replace(&mut overlay, Overlay::new(base)).into_changes())?;
            pending = 0;
        }
    }
    flush(overlay.into_changes())?;
    Ok(count)
}

/// The store's error behind a projection error of trees in memory, which
/// cannot conflict.
pub(super) fn unwrap_store(error: ProjectionError) -> StoreError {
    match error {
        ProjectionError::Store(error) => error,
        ProjectionError::Conflict => {
            StoreError::Backend("an in-memory projection cannot conflict".into())
        }
    }
}
