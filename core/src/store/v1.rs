//! Format 1 of log records, kept so that logs written by it stay readable
//! (DESIGN.md rule 5): its shape, and how it becomes today's [`Record`].
//!
//! Format 1 held a client's metadata as the strings it registered;
//! format 2 holds them parsed ([`ClientRecord`]). Every other event is
//! the same in both, so this module names only the types on the path to a
//! client record. A later change to any other event type must first copy
//! its format-1 shape here.

use serde::Deserialize;

use super::codec::CodecError;
use super::events::{
    Authorized, ClientRecord, Event as CurrentEvent, Exchanged, Issued as CurrentIssued, Record,
    Revoked, Secret, Seq, TokenRecord, UserRecord, Verified,
};
use crate::domain::{parse_all, Scope};

/// A format-1 log record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) struct RecordV1 {
    pub(super) seq: Seq,
    pub(super) time: u64,
    pub(super) events: Vec<EventV1>,
}

/// A format-1 event: variants in the order of [`CurrentEvent`]'s.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) enum EventV1 {
    Issued(IssuedV1),
    Verified(Verified),
    Authorized(Authorized),
    Exchanged(Exchanged),
    Revoked(Revoked),
}

/// What a format-1 `Issued` event creates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) enum IssuedV1 {
    Client(ClientRecordV1),
    User(UserRecord),
    Token(TokenRecord),
}

/// A format-1 client: its metadata as the strings registered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) struct ClientRecordV1 {
    pub(super) client_id: String,
    pub(super) secret: Secret,
    pub(super) owner: String,
    pub(super) name: String,
    pub(super) redirect_uris: Vec<String>,
    pub(super) scope: String,
    pub(super) grant_types: Vec<String>,
    pub(super) response_types: Vec<String>,
    pub(super) auth_method: String,
    pub(super) rsa_public_key: Option<String>,
}

impl ClientRecordV1 {
    /// Parses the metadata as registration does (it was validated when
    /// registered); the scope is read as [`Scope::stored`] reads it.
    fn upgrade(self) -> Result<ClientRecord, CodecError> {
        let client_id = self.client_id;
        let unreadable = |error| CodecError::UnreadableClient {
            client_id: client_id.clone(),
            error,
        };
        let grant_types = parse_all(&self.grant_types).map_err(unreadable)?;
        let response_types = parse_all(&self.response_types).map_err(unreadable)?;
        let auth_method = self.auth_method.parse().map_err(unreadable)?;
        Ok(ClientRecord {
            client_id,
            secret: self.secret,
            owner: self.owner,
            name: self.name,
            redirect_uris: self.redirect_uris,
            scope: Scope::stored(&self.scope),
            grant_types,
            response_types,
            auth_method,
            rsa_public_key: self.rsa_public_key,
        })
    }
}

impl RecordV1 {
    /// The same record in today's types.
    pub(super) fn upgrade(self) -> Result<Record, CodecError> {
        let events = self
            .events
            .into_iter()
            .map(|event| {
                Ok(match event {
                    EventV1::Issued(IssuedV1::Client(client)) => {
                        CurrentEvent::Issued(CurrentIssued::Client(client.upgrade()?))
                    }
                    EventV1::Issued(IssuedV1::User(user)) => {
                        CurrentEvent::Issued(CurrentIssued::User(user))
                    }
                    EventV1::Issued(IssuedV1::Token(token)) => {
                        CurrentEvent::Issued(CurrentIssued::Token(token))
                    }
                    EventV1::Verified(verified) => CurrentEvent::Verified(verified),
                    EventV1::Authorized(authorized) => CurrentEvent::Authorized(authorized),
                    EventV1::Exchanged(exchanged) => CurrentEvent::Exchanged(exchanged),
                    EventV1::Revoked(revoked) => CurrentEvent::Revoked(revoked),
                })
            })
            .collect::<Result<_, CodecError>>()?;
        Ok(Record {
            seq: self.seq,
            time: self.time,
            events,
        })
    }
}
