//! The one place records and projection values become bytes: a format
//! version byte (DESIGN.md rule 5), then bincode 2.
//!
//! Log records are in format 2, whose client records hold their metadata
//! parsed ([`crate::store::ClientRecord`]); records of format 1, where it
//! was strings, are still read, through the shape kept in
//! `store/v1.rs`. Projection values are still in format 1: a client's
//! typed metadata encodes as the very strings format 1 held, so
//! projections written before format 2 need no rebuild and check clean.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::events::Record;
use super::v1::RecordV1;
use crate::domain::MetadataError;

/// The format of the log records written today. A later format gets a new
/// number and a decoder beside this one, so old logs stay readable.
pub const FORMAT_VERSION: u8 = 2;

/// The first format, before client metadata was typed; still read.
pub const FORMAT_VERSION_1: u8 = 1;

/// The format of the projection values written today (unchanged since
/// format 1; see the module documentation).
pub const VALUE_FORMAT_VERSION: u8 = 1;

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
    /// A format-1 client's metadata does not parse as registration would.
    #[error("client {client_id:?} of a format-1 record cannot be read: {error}")]
    UnreadableClient {
        /// The client.
        client_id: String,
        /// What does not parse.
        error: MetadataError,
    },
}

/// The largest value decoded: a damaged length prefix must not make the
/// decoder ask for gigabytes.
const DECODE_LIMIT: usize = 16 * 1024 * 1024;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

fn encode_as<T: Serialize>(version: u8, value: &T) -> Vec<u8> {
    let mut bytes = vec![version];
    bincode::serde::encode_into_std_write(value, &mut bytes, config())
        .expect("encoding into a Vec cannot fail");
    bytes
}

/// Decodes a body after its version byte; every byte must be used.
fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodecError> {
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

/// Encodes a projection value with the version byte in front.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_as(VALUE_FORMAT_VERSION, value)
}

/// Decodes what [`encode`] wrote; every byte must be used.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    if version != VALUE_FORMAT_VERSION {
        return Err(CodecError::UnknownVersion(version));
    }
    decode_body(body)
}

/// Encodes a log record, in format [`FORMAT_VERSION`].
pub fn encode_record(record: &Record) -> Vec<u8> {
    encode_as(FORMAT_VERSION, record)
}

/// Decodes a log record of format 2, or of format 1 into today's types.
pub fn decode_record(bytes: &[u8]) -> Result<Record, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    match version {
        FORMAT_VERSION => decode_body(body),
        FORMAT_VERSION_1 => decode_body::<RecordV1>(body)?.upgrade(),
        other => Err(CodecError::UnknownVersion(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientAuthMethod, GrantType, ResponseType, Scope};
    use crate::store::events::{
        ClientRecord, CredentialKind, Event, Issued, RevocationReason, Revoked, Secret,
        TokenRecord, Verified,
    };
    use crate::store::v1::{ClientRecordV1, EventV1, IssuedV1};
    use crate::store::ClientState;
    use proptest::prelude::*;

    fn client_v1() -> ClientRecordV1 {
        ClientRecordV1 {
            client_id: "app".into(),
            secret: Secret::Plain("s3cret".into()),
            owner: "alice".into(),
            name: "App".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            scope: "profile email".into(),
            grant_types: vec![
                "authorization_code".into(),
                "refresh_token".into(),
                "urn:example:device-trust".into(),
            ],
            response_types: vec!["code".into(), "token".into()],
            auth_method: "client_secret_basic".into(),
            rsa_public_key: None,
        }
    }

    fn client_typed() -> ClientRecord {
        ClientRecord {
            client_id: "app".into(),
            secret: Secret::Plain("s3cret".into()),
            owner: "alice".into(),
            name: "App".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            scope: Scope::parse("profile email").unwrap(),
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::Extension("urn:example:device-trust".into()),
            ],
            response_types: vec![ResponseType::Code, ResponseType::Token],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            rsa_public_key: None,
        }
    }

    fn token() -> TokenRecord {
        TokenRecord {
            kind: CredentialKind::AccessToken,
            id: "t1".into(),
            secret: Secret::None,
            client_id: "app".into(),
            user: Some("alice".into()),
            scope: "profile".into(),
            expires_at: Some(1_700_003_600),
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        }
    }

    /// A format-1 record with every kind of event that changed shape or
    /// sits beside one that did.
    fn record_v1() -> RecordV1 {
        RecordV1 {
            seq: 3,
            time: 1_700_000_000,
            events: vec![
                EventV1::Issued(IssuedV1::Client(client_v1())),
                EventV1::Issued(IssuedV1::Token(token())),
                EventV1::Verified(Verified {
                    client_id: "app".into(),
                    token: None,
                    timestamp: 1_700_000_000,
                    nonce: "n".into(),
                }),
                EventV1::Revoked(Revoked {
                    id: "t1".into(),
                    kind: CredentialKind::AccessToken,
                    reason: RevocationReason::Requested,
                    whole_family: false,
                }),
            ],
        }
    }

    fn record_typed() -> Record {
        Record {
            seq: 3,
            time: 1_700_000_000,
            events: vec![
                Event::Issued(Issued::Client(client_typed())),
                Event::Issued(Issued::Token(token())),
                Event::Verified(Verified {
                    client_id: "app".into(),
                    token: None,
                    timestamp: 1_700_000_000,
                    nonce: "n".into(),
                }),
                Event::Revoked(Revoked {
                    id: "t1".into(),
                    kind: CredentialKind::AccessToken,
                    reason: RevocationReason::Requested,
                    whole_family: false,
                }),
            ],
        }
    }

    #[test]
    fn format_1_records_decode_into_typed_client_metadata() {
        let bytes = encode_as(FORMAT_VERSION_1, &record_v1());
        assert_eq!(decode_record(&bytes), Ok(record_typed()));
        // Written again, the record is format 2, and reads back the same.
        let again = encode_record(&record_typed());
        assert_eq!(again[0], 2);
        assert_eq!(decode_record(&again), Ok(record_typed()));
    }

    /// [`record_v1`] as the code before format 2 (commit 8fe725a) encoded it.
    const GOLDEN_V1: &str = "0103fc00f1536504000003617070010673336372657405616c69636503417070\
        011668747470733a2f2f6170702e6578616d706c652f63620d70726f66696c6520656d61696c03126175\
        74686f72697a6174696f6e5f636f64650d726566726573685f746f6b656e1875726e3a6578616d706c65\
        3a6465766963652d74727573740204636f646505746f6b656e13636c69656e745f7365637265745f6261\
        7369630000020502743100036170700105616c6963650770726f66696c6501fc10ff5365000000010361\
        707000fc00f15365016e04027431050000";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn bytes_written_before_format_2_decode_into_typed_client_metadata() {
        let golden = hex(GOLDEN_V1);
        // The kept format-1 shape is the one that code wrote ...
        assert_eq!(encode_as(FORMAT_VERSION_1, &record_v1()), golden);
        // ... and its bytes read as today's record.
        assert_eq!(decode_record(&golden), Ok(record_typed()));
    }

    #[test]
    fn a_format_1_client_that_does_not_parse_is_named() {
        let mut record = record_v1();
        let mut client = client_v1();
        client.auth_method = "client_secret_jwt".into();
        record.events[0] = EventV1::Issued(IssuedV1::Client(client));
        let error = decode_record(&encode_as(FORMAT_VERSION_1, &record)).unwrap_err();
        assert_eq!(
            error,
            CodecError::UnreadableClient {
                client_id: "app".into(),
                error: MetadataError::UnknownAuthMethod("client_secret_jwt".into()),
            }
        );
        assert!(error.to_string().contains("\"app\""), "{error}");
    }

    #[test]
    fn a_typed_client_encodes_as_the_strings_format_1_held() {
        // So projection values written before format 2 read, and compare, as they are.
        let state = ClientState {
            record: client_typed(),
            revoked: false,
            issued_seq: 3,
        };
        #[derive(serde::Serialize)]
        struct ClientStateV1 {
            record: ClientRecordV1,
            revoked: bool,
            issued_seq: u64,
        }
        let old = ClientStateV1 {
            record: client_v1(),
            revoked: false,
            issued_seq: 3,
        };
        assert_eq!(encode(&state), encode(&old));
        assert_eq!(decode::<ClientState>(&encode(&old)), Ok(state));
    }

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
