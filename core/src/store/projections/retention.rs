//! Which records a retention may take out of the live log, and how far
//! back (DESIGN.md rule 7).

use super::super::events::{Event, Record};

/// Whether a retention may take `record` out of the live log once it is
/// old enough (DESIGN.md rule 7): it holds only `Verified` events, which
/// change no credential's state and matter only inside the nonce window.
pub fn retirable(record: &Record) -> bool {
    !record.events.is_empty()
        && record
            .events
            .iter()
            .all(|event| matches!(event, Event::Verified(_)))
}

/// The shortest retention a nonce window of `window` seconds allows: two
/// windows, so that every record the nonce window is rebuilt from on open
/// (see [`window_from_tail`](super::window_from_tail)) stays, and every
/// nonce a retired record held is below the floor already.
pub fn shortest_retention(window: u64) -> u64 {
    window.saturating_mul(2)
}

/// How far behind the newest record's time a retention of `retain`
/// seconds takes records out, for a nonce window of `window` seconds:
/// past [`shortest_retention`] whatever `retain` says.
pub fn retention_cutoff(newest_time: u64, retain: u64, window: u64) -> u64 {
    newest_time.saturating_sub(retain.max(shortest_retention(window).saturating_add(1)))
}
