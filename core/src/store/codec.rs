//! The one place records and projection values become bytes: a format
//! version byte (DESIGN.md rule 5), then bincode 2.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::events::Record;

/// The format of everything written today. A later format gets a new
/// number and a decoder beside this one, so old logs stay readable.
pub const FORMAT_VERSION: u8 = 1;

/// Why stored bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Nothing was stored where a value should be.
    #[error("the stored value is empty")]
    Empty,
    /// The version byte names a format this build does not know.
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    /// The bytes do not decode, or leave bytes over.
    #[error("malformed value: {0}")]
    Malformed(String),
}

/// The largest value decoded: a damaged length prefix must not make the
/// decoder ask for gigabytes.
const DECODE_LIMIT: usize = 16 * 1024 * 1024;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encodes a value with the version byte in front.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = vec![FORMAT_VERSION];
    bincode::serde::encode_into_std_write(value, &mut bytes, config())
        .expect("encoding into a Vec cannot fail");
    bytes
}

/// Decodes what [`encode`] wrote; every byte must be used.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(CodecError::UnknownVersion(version));
    }
    let (value, used) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != body.len() {
        return Err(CodecError::Malformed(format!(
            "{} bytes left over",
            body.len() - used
        )));
    }
    Ok(value)
}

/// Encodes a log record.
pub fn encode_record(record: &Record) -> Vec<u8> {
    encode(record)
}

/// Decodes a log record.
pub fn decode_record(bytes: &[u8]) -> Result<Record, CodecError> {
    decode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::events::{Event, Verified};
    use proptest::prelude::*;

    fn record(nonce: &str) -> Record {
        Record {
            seq: 7,
            time: 1_700_000_000,
            events: vec![Event::Verified(Verified {
                client_id: "c".into(),
                token: None,
                timestamp: 1_700_000_000,
                nonce: nonce.into(),
            })],
        }
    }

    #[test]
    fn records_round_trip_with_their_version_byte() {
        let bytes = encode_record(&record("n"));
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode_record(&bytes), Ok(record("n")));
    }

    #[test]
    fn damaged_bytes_are_errors_not_panics() {
        let bytes = encode_record(&record("n"));
        assert_eq!(decode_record(&[]), Err(CodecError::Empty));
        let mut future = bytes.clone();
        future[0] = 9;
        assert_eq!(decode_record(&future), Err(CodecError::UnknownVersion(9)));
        assert!(matches!(
            decode_record(&bytes[..bytes.len() - 1]),
            Err(CodecError::Malformed(_))
        ));
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(
            decode_record(&longer),
            Err(CodecError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_record(&bytes);
        }

        #[test]
        fn any_nonce_round_trips(nonce in any::<String>(), seq in any::<u64>()) {
            let record = Record { seq, ..record(&nonce) };
            prop_assert_eq!(decode_record(&encode_record(&record)), Ok(record));
        }
    }
}
