//! The log tree's values. A batch of one append writes its record as the
//! codec encodes it (a format byte first, DESIGN.md rule 5), under its
//! sequence number, as every version before did. A batch of several
//! writes one chunk under its first record's sequence number: a marker
//! byte no record format uses, then, compressed with zstd, each record's
//! length (4 bytes, little-endian) and encoding. Under load a batch holds
//! dozens of signed requests' `Verified` records, which repeat their
//! client and token ids: compressed together they take a fraction of their
//! size, and sled keeps one entry for the batch instead of one a record.
//!
//! A reader finds the record of sequence number `n` in the entry with the
//! greatest key at or below `n`.

use credlog_core::store::codec::{decode_record, CodecError};
use credlog_core::store::{Record, Seq, StoreError};

/// The first byte of a chunk; record formats are numbered from 1 up.
const CHUNK: u8 = 0xC7;

/// zstd's level: fast, and most of what a higher one would gain on
/// records this repetitive.
const LEVEL: i32 = 1;

/// The largest chunk unpacked: a damaged frame must not ask for gigabytes.
const UNPACKED_LIMIT: usize = 64 * 1024 * 1024;

/// One value for a batch's encoded records, in sequence order.
pub(crate) fn pack(records: &[Vec<u8>]) -> Vec<u8> {
    if let [one] = records {
        return one.clone();
    }
    let mut plain = Vec::with_capacity(records.iter().map(|r| r.len() + 4).sum());
    for record in records {
        plain.extend_from_slice(&(record.len() as u32).to_le_bytes());
        plain.extend_from_slice(record);
    }
    let mut packed = vec![CHUNK];
    // Compressing into a Vec fails only when memory does.
    zstd::stream::copy_encode(plain.as_slice(), &mut packed, LEVEL)
        .expect("compressing into memory cannot fail");
    packed
}

/// The records of one log entry, `key` its first sequence number.
pub(crate) fn unpack(key: &[u8], value: &[u8]) -> Result<Vec<Record>, StoreError> {
    let first = key.try_into().map(u64::from_be_bytes).unwrap_or_default();
    let damaged = |seq: Seq, error: CodecError| StoreError::CorruptRecord { seq, error };
    if value.first() != Some(&CHUNK) {
        return Ok(vec![decode_record(value).map_err(|e| damaged(first, e))?]);
    }
    let plain = unpack_frame(&value[1..]).map_err(|e| damaged(first, e))?;
    let mut records = Vec::new();
    let mut rest = plain.as_slice();
    while !rest.is_empty() {
        // A retention may have taken records out between the ones kept.
        let seq = records
            .last()
            .map_or(first, |record: &Record| record.seq + 1);
        let Some((length, body)) = rest.split_first_chunk::<4>() else {
            return Err(damaged(
                seq,
                CodecError::Malformed("a chunk ends early".into()),
            ));
        };
        let length = u32::from_le_bytes(*length) as usize;
        let Some((record, after)) = body.split_at_checked(length) else {
            return Err(damaged(
                seq,
                CodecError::Malformed("a chunk ends early".into()),
            ));
        };
        records.push(decode_record(record).map_err(|e| damaged(seq, e))?);
        rest = after;
    }
    Ok(records)
}

fn unpack_frame(frame: &[u8]) -> Result<Vec<u8>, CodecError> {
    use std::io::Read;
    let mut decoder = zstd::stream::read::Decoder::new(frame)
        .map_err(|e| CodecError::Malformed(format!("a chunk does not decompress: {e}")))?;
    let mut plain = Vec::new();
    let read = (&mut decoder)
        .take(UNPACKED_LIMIT as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|e| CodecError::Malformed(format!("a chunk does not decompress: {e}")))?;
    if read > UNPACKED_LIMIT {
        return Err(CodecError::Malformed("a chunk unpacks too large".into()));
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use credlog_core::store::codec::encode_record;
    use credlog_core::store::{Event, Verified};
    use proptest::prelude::*;

    fn record(seq: Seq, nonce: &str) -> Record {
        Record {
            seq,
            time: 1_700_000_000 + seq,
            events: vec![Event::Verified(Verified {
                client_id: "a-client-id-of-thirty-two-letter".into(),
                token: Some("a-token-id-of-thirty-two-letters".into()),
                timestamp: 1_700_000_000,
                nonce: nonce.into(),
            })],
        }
    }

    proptest! {
        #[test]
        fn a_batch_unpacks_to_its_records(
            first in 1u64..1_000_000,
            nonces in proptest::collection::vec("[0-9a-f]{32}", 1..80),
        ) {
            let records: Vec<Record> = nonces
                .iter()
                .enumerate()
                .map(|(i, nonce)| record(first + i as u64, nonce))
                .collect();
            let encoded: Vec<Vec<u8>> = records.iter().map(encode_record).collect();
            let packed = pack(&encoded);
            prop_assert_eq!(unpack(&first.to_be_bytes(), &packed).unwrap(), records);
            if encoded.len() > 1 {
                prop_assert_eq!(packed[0], CHUNK);
            } else {
                prop_assert_eq!(&packed, &encoded[0]);
            }
        }

        #[test]
        fn damaged_bytes_are_an_error_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut chunk = vec![CHUNK];
            chunk.extend_from_slice(&bytes);
            for value in [bytes, chunk] {
                let _ = unpack(&7u64.to_be_bytes(), &value);
            }
        }
    }

    #[test]
    fn a_chunk_of_signed_requests_is_a_fraction_of_its_records() {
        let records: Vec<Vec<u8>> = (1..=64)
            .map(|seq| {
                encode_record(&record(
                    seq,
                    &format!("{:032x}", seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                ))
            })
            .collect();
        let plain: usize = records.iter().map(Vec::len).sum();
        let packed = pack(&records).len();
        assert!(packed * 3 < plain, "{packed} bytes packed from {plain}");
    }

    #[test]
    fn a_damaged_chunk_names_its_first_record() {
        let records: Vec<Vec<u8>> = (5..8).map(|seq| encode_record(&record(seq, "n"))).collect();
        let mut packed = pack(&records);
        packed.truncate(packed.len() / 2);
        let error = unpack(&5u64.to_be_bytes(), &packed).unwrap_err();
        assert!(
            matches!(error, StoreError::CorruptRecord { seq: 5, .. }),
            "{error:?}"
        );
    }
}
