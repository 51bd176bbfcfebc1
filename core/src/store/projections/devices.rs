//! The device expiry sweep (RFC 8628): device codes and user codes
//! indexed by when they expire, and those nobody approved swept from the
//! projections once expired, as each record is applied.

use super::super::codec;
use super::super::events::{CredentialKind, TokenRecord};
use super::super::{CredentialState, Status};
use super::keys::pair_key;
use super::values::{decode_value, stored};
use super::{Projection, ProjectionError, ProjectionMut, Tree};

/// Seconds of expiry times one key of [`Tree::DeviceExpiry`] gathers.
pub const DEVICE_BUCKET: u64 = 10;

/// How long past its bucket's end an expired device code nobody approved
/// stays in the projections: meanwhile a poll with it answers
/// `expired_token` (RFC 8628 3.5) on every node; once swept, it is unknown
/// (`invalid_grant`, which RFC 6749 5.2 gives for an expired grant too).
pub const DEVICE_SWEEP_GRACE: u64 = 20;

/// The key of [`Tree::DeviceExpiry`] listing its buckets, in order.
pub const DEVICE_BUCKETS: &[u8] = b"buckets";

/// The key of [`Tree::DeviceExpiry`] for the bucket starting at `start`.
fn device_bucket_key(start: u64) -> [u8; 8] {
    start.to_be_bytes()
}

/// Notes a device code or user code under the bucket of its expiry, for
/// [`sweep_devices`].
pub(super) fn index_device_expiry<P: ProjectionMut>(
    p: &mut P,
    token: &TokenRecord,
) -> Result<(), ProjectionError> {
    let (CredentialKind::DeviceCode | CredentialKind::UserCode) = token.kind else {
        return Ok(());
    };
    let Some(expires_at) = token.expires_at else {
        return Ok(());
    };
    let start = expires_at - expires_at % DEVICE_BUCKET;
    let key = device_bucket_key(start);
    let mut ids: Vec<String> = match p.get(Tree::DeviceExpiry, &key)? {
        Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes)?,
        None => {
            let mut buckets = device_buckets(p)?;
            if let Err(at) = buckets.binary_search(&start) {
                buckets.insert(at, start);
            }
            p.insert(Tree::DeviceExpiry, DEVICE_BUCKETS, codec::encode(&buckets))?;
            Vec::new()
        }
    };
    ids.push(token.id.clone());
    p.insert(Tree::DeviceExpiry, &key, codec::encode(&ids))
}

fn device_buckets<P: Projection>(p: &P) -> Result<Vec<u64>, ProjectionError> {
    match p.get(Tree::DeviceExpiry, DEVICE_BUCKETS)? {
        Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes),
        None => Ok(Vec::new()),
    }
}

/// CONTRACT.md "Users and sessions": a device code nobody approved is gone
/// from the projections once it expires (the log keeps its record). Run
/// as each record is applied, with the record's time, so that a replay of
/// the log sweeps exactly where the appends swept: every bucket whose
/// codes all expired [`DEVICE_SWEEP_GRACE`] or more before `time` is
/// emptied, each device code in it that no one approved (no user: still
/// pending, or denied) leaving with its user code. An approved or traded
/// code stays (its family may hold tokens), as does its user code.
/// Records of `Verified` events alone do not sweep: a retention may take
/// them out of the live log, and a replay without them must sweep alike.
pub fn sweep_devices<P: ProjectionMut>(p: &mut P, time: u64) -> Result<(), ProjectionError> {
    let buckets = device_buckets(p)?;
    let due = buckets.partition_point(|start| {
        start
            .saturating_add(DEVICE_BUCKET)
            .saturating_add(DEVICE_SWEEP_GRACE)
            <= time
    });
    if due == 0 {
        return Ok(());
    }
    for start in &buckets[..due] {
        let key = device_bucket_key(*start);
        let ids: Vec<String> = match p.get(Tree::DeviceExpiry, &key)? {
            Some(bytes) => decode_value(Tree::DeviceExpiry, &bytes)?,
            None => Vec::new(),
        };
        for id in &ids {
            sweep_device_credential(p, id)?;
        }
        p.remove(Tree::DeviceExpiry, &key)?;
    }
    let kept = &buckets[due..];
    if kept.is_empty() {
        p.remove(Tree::DeviceExpiry, DEVICE_BUCKETS)
    } else {
        p.insert(Tree::DeviceExpiry, DEVICE_BUCKETS, codec::encode(&kept))
    }
}

/// Removes the expired device code or user code `id` if no one approved
/// its device code (a user code whose device code is gone goes too).
fn sweep_device_credential<P: ProjectionMut>(p: &mut P, id: &str) -> Result<(), ProjectionError> {
    let Some(state) = stored::<_, CredentialState>(p, Tree::Credentials, id)? else {
        return Ok(());
    };
    let device = match state.record.kind {
        CredentialKind::DeviceCode => Some(state.clone()),
        CredentialKind::UserCode => match &state.record.parent {
            Some(parent) => stored::<_, CredentialState>(p, Tree::Credentials, parent)?,
            None => None,
        },
        _ => return Ok(()),
    };
    let approved = device
        .is_some_and(|device| device.record.user.is_some() || device.status == Status::Exchanged);
    if approved {
        return Ok(());
    }
    let record = &state.record;
    p.remove(Tree::Credentials, id.as_bytes())?;
    p.remove(Tree::ClientIndex, &pair_key(&record.client_id, id))?;
    if let Some(parent) = &record.parent {
        p.remove(Tree::ParentIndex, &pair_key(parent, id))?;
    }
    Ok(())
}
