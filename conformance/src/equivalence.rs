//! Random sequences of store operations, for the proptest that a backend
//! answers every one as the memory store does (the model): the same
//! appends accepted and refused for the same reasons, the same reads, the
//! same log. Each backend's test runs them, with [`Op::Reopen`] done its
//! own way, and checks both stores after.

#![allow(missing_docs)]

use crate::store_suite::{client, nonce, token, NOW};
use credlog_core::store::{
    Authorized, CredentialKind, CredentialStore, Event, Exchanged, Issued, NonceKey, Precondition,
    RevocationReason, Revoked, Secret, Status, TokenRecord, UserRecord,
};
use proptest::prelude::*;

/// One operation on a store.
#[derive(Debug, Clone)]
pub enum Op {
    RegisterClient(u8),
    AddUser(u8),
    IssueTemporary {
        client: u8,
        id: u8,
        lifetime: Option<u8>,
    },
    Authorize {
        id: u8,
        client: u8,
        verifier: u8,
    },
    Exchange {
        id: u8,
        client: u8,
        verifier: u8,
        new_id: u8,
    },
    Revoke {
        id: u8,
        token_credential: bool,
        whole_family: bool,
    },
    RevokeClient(u8),
    UseNonce {
        client: u8,
        token: Option<u8>,
        age: u8,
        nonce: u8,
    },
    Prune(u16),
    /// Closing and opening the store again (the backend's own to do).
    Reopen,
}

/// Any operation, over a few ids each, so they meet.
pub fn op() -> impl Strategy<Value = Op> {
    let small = || 0..4u8;
    prop_oneof![
        small().prop_map(Op::RegisterClient),
        small().prop_map(Op::AddUser),
        (small(), small(), proptest::option::of(0..3u8)).prop_map(|(client, id, lifetime)| {
            Op::IssueTemporary {
                client,
                id,
                lifetime,
            }
        }),
        (small(), small(), small()).prop_map(|(id, client, verifier)| Op::Authorize {
            id,
            client,
            verifier
        }),
        (small(), small(), small(), small()).prop_map(|(id, client, verifier, new_id)| {
            Op::Exchange {
                id,
                client,
                verifier,
                new_id,
            }
        }),
        (small(), any::<bool>(), any::<bool>()).prop_map(|(id, token_credential, whole_family)| {
            Op::Revoke {
                id,
                token_credential,
                whole_family,
            }
        }),
        small().prop_map(Op::RevokeClient),
        (small(), proptest::option::of(small()), 0..4u8, 0..3u8).prop_map(
            |(client, token, age, nonce)| Op::UseNonce {
                client,
                token,
                age,
                nonce
            }
        ),
        (0..400u16).prop_map(Op::Prune),
        Just(Op::Reopen),
    ]
}

fn c(n: u8) -> String {
    format!("c{n}")
}
fn t(n: u8) -> String {
    format!("t{n}")
}
fn k(n: u8) -> String {
    format!("k{n}")
}

fn temporary(id: &str, client_id: &str, status: Status) -> Precondition {
    Precondition::Credential {
        id: id.into(),
        kind: CredentialKind::Temporary,
        client_id: client_id.into(),
        status,
        now: NOW,
    }
}

/// The preconditions and events an operation appends (`None` for a prune).
fn append_of(op: &Op) -> Option<(Vec<Precondition>, Vec<Event>)> {
    Some(match op {
        Op::RegisterClient(n) => (
            vec![Precondition::Absent {
                kind: CredentialKind::Client,
                id: c(*n),
            }],
            vec![Event::Issued(Issued::Client(client(&c(*n))))],
        ),
        Op::AddUser(n) => (
            vec![Precondition::Absent {
                kind: CredentialKind::User,
                id: format!("u{n}"),
            }],
            vec![Event::Issued(Issued::User(UserRecord {
                name: format!("u{n}"),
                password: Secret::Argon2(format!("hash-{n}")),
            }))],
        ),
        Op::IssueTemporary {
            client: cl,
            id,
            lifetime,
        } => {
            let record = TokenRecord {
                expires_at: lifetime.map(|l| NOW - 1 + u64::from(l)),
                ..token(CredentialKind::Temporary, &t(*id), &c(*cl), None)
            };
            (
                vec![
                    Precondition::ClientLive { client_id: c(*cl) },
                    Precondition::Absent {
                        kind: CredentialKind::Temporary,
                        id: t(*id),
                    },
                ],
                vec![Event::Issued(Issued::Token(record))],
            )
        }
        Op::Authorize {
            id,
            client: cl,
            verifier,
        } => (
            vec![temporary(&t(*id), &c(*cl), Status::Issued)],
            vec![Event::Authorized(Authorized {
                id: t(*id),
                user: "u0".into(),
                verifier: Some(Secret::sha256(&verifier.to_string())),
            })],
        ),
        Op::Exchange {
            id,
            client: cl,
            verifier,
            new_id,
        } => (
            vec![
                temporary(&t(*id), &c(*cl), Status::Authorized),
                Precondition::VerifierMatches {
                    id: t(*id),
                    verifier: verifier.to_string(),
                },
                Precondition::Absent {
                    kind: CredentialKind::TokenCredential,
                    id: k(*new_id),
                },
            ],
            vec![
                Event::Exchanged(Exchanged { id: t(*id) }),
                Event::Issued(Issued::Token(token(
                    CredentialKind::TokenCredential,
                    &k(*new_id),
                    &c(*cl),
                    Some(&t(*id)),
                ))),
            ],
        ),
        Op::Revoke {
            id,
            token_credential,
            whole_family,
        } => {
            let (id, kind) = if *token_credential {
                (k(*id), CredentialKind::TokenCredential)
            } else {
                (t(*id), CredentialKind::Temporary)
            };
            (
                vec![],
                vec![Event::Revoked(Revoked {
                    id,
                    kind,
                    reason: RevocationReason::Requested,
                    whole_family: *whole_family,
                })],
            )
        }
        Op::RevokeClient(n) => (
            vec![Precondition::ClientLive { client_id: c(*n) }],
            vec![Event::Revoked(Revoked {
                id: c(*n),
                kind: CredentialKind::Client,
                reason: RevocationReason::ClientRemoved,
                whole_family: false,
            })],
        ),
        Op::UseNonce {
            client: cl,
            token: tok,
            age,
            nonce: n,
        } => {
            let used = nonce(
                &c(*cl),
                tok.map(t).as_deref(),
                NOW - 100 * u64::from(*age),
                &n.to_string(),
            );
            (
                vec![Precondition::NonceUnused(NonceKey::from(&used))],
                vec![Event::Verified(used)],
            )
        }
        Op::Prune(_) | Op::Reopen => return None,
    })
}

/// Runs an operation other than [`Op::Reopen`]; its answer, written out.
pub async fn run(store: &dyn CredentialStore, op: &Op) -> String {
    match (append_of(op), op) {
        (Some((preconditions, events)), _) => {
            format!("{:?}", store.append(&preconditions, events, NOW).await)
        }
        (None, Op::Prune(age)) => format!("{:?}", store.prune_nonces(NOW - u64::from(*age)).await),
        (None, _) => unreachable!("a reopen is the caller's"),
    }
}

/// Every read over the ids the operations use, and the log, written out.
pub async fn reads(store: &dyn CredentialStore) -> Vec<String> {
    let mut answers = Vec::new();
    for n in 0..4 {
        answers.push(format!("{:?}", store.client(&c(n)).await));
        answers.push(format!("{:?}", store.user(&format!("u{n}")).await));
        answers.push(format!("{:?}", store.credential(&t(n)).await));
        answers.push(format!("{:?}", store.credential(&k(n)).await));
        for age in 0..4 {
            for nonce_n in 0..3 {
                for token in [None, Some(t(n))] {
                    let key = NonceKey::from(&nonce(
                        &c(n),
                        token.as_deref(),
                        NOW - 100 * age,
                        &nonce_n.to_string(),
                    ));
                    answers.push(format!("{:?}", store.nonce_seen(&key).await));
                }
            }
        }
    }
    answers.push(format!("{:?}", store.read_log(1, usize::MAX).await));
    answers.push(format!("{:?}", store.last_seq().await));
    answers
}
