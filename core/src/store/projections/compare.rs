//! Comparing rebuilt projections with stored ones (DESIGN.md rule 3),
//! tree by tree in key order: what `credlog check` reports.

use std::cmp::Ordering;

use super::super::codec;
use super::super::{ClientState, StoreError};
use super::keys::{nonce_key_timestamp, pair_parts};
use super::Tree;

/// One key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A tree's entries in key order, as a backend reads them.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + 'a>;

/// Compares rebuilt projections with stored ones, tree by tree, each read
/// in key order; one line per difference, at most `limit` lines.
pub fn compare_trees<'a>(
    rebuilt: impl Fn(Tree) -> Entries<'a>,
    stored: impl Fn(Tree) -> Entries<'a>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut mismatches = Vec::new();
    for &tree in Tree::PROJECTIONS {
        let mut rebuilt = rebuilt(tree).peekable();
        let mut stored = stored(tree).peekable();
        loop {
            if mismatches.len() >= limit {
                return Ok(mismatches);
            }
            let order = match (peeked(&mut rebuilt)?, peeked(&mut stored)?) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(new), Some(old)) => {
                    let order = new.0.cmp(&old.0);
                    let differs = new.1 != old.1 && !same_value(tree, &new.1, &old.1);
                    if order == Ordering::Equal && differs {
                        let key = show_key(tree, &new.0);
                        mismatches.push(format!("{}: {key} differs", tree.name()));
                    }
                    order
                }
            };
            let (side, what) = match order {
                Ordering::Equal => {
                    rebuilt.next();
                    stored.next();
                    continue;
                }
                Ordering::Less => (&mut rebuilt, "is in the log but not stored"),
                Ordering::Greater => (&mut stored, "is stored but not in the log"),
            };
            if let Some(Ok((key, _))) = side.next() {
                mismatches.push(format!("{}: {} {what}", tree.name(), show_key(tree, &key)));
            }
        }
    }
    Ok(mismatches)
}

/// The next entry of `entries` without taking it; its error taken.
fn peeked<'e>(
    entries: &'e mut std::iter::Peekable<Entries<'_>>,
) -> Result<Option<&'e Entry>, StoreError> {
    if matches!(entries.peek(), Some(Err(_))) {
        return Err(entries
            .next()
            .and_then(Result::err)
            .unwrap_or_else(|| StoreError::Backend("read failed".into())));
    }
    Ok(entries.peek().and_then(|entry| entry.as_ref().ok()))
}

/// Whether two encodings of a projection value mean the same value. A
/// client stored before its metadata was typed may spell its scope with a
/// repeated token, which reads back once (RFC 6749 3.3: a scope is a set):
/// the same client as the one the log rebuilds.
fn same_value(tree: Tree, rebuilt: &[u8], stored: &[u8]) -> bool {
    match tree {
        Tree::Clients => {
            match (
                codec::decode::<ClientState>(rebuilt),
                codec::decode::<ClientState>(stored),
            ) {
                (Ok(rebuilt), Ok(stored)) => rebuilt == stored,
                _ => false,
            }
        }
        _ => false,
    }
}

/// A key as a person reads it: text where it is text, hex otherwise.
fn show_key(tree: Tree, key: &[u8]) -> String {
    match (tree, std::str::from_utf8(key)) {
        (Tree::Nonces, _) => format!("nonce at timestamp {}", nonce_key_timestamp(key)),
        (Tree::Grants | Tree::ClientIndex | Tree::ParentIndex, _) => match pair_parts(key) {
            Some((first, second)) => format!("{first:?} + {second:?}"),
            None => key.iter().map(|b| format!("{b:02x}")).collect(),
        },
        (_, Ok(text)) if text.chars().all(|c| !c.is_control()) => format!("{text:?}"),
        _ => key.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientAuthMethod, GrantType, Scope};
    use crate::store::events::{ClientRecord, Event, Issued, Record, Secret};
    use crate::store::projections::{ProjectionMut, Trees};

    /// A client as format 1 wrote it: metadata as strings.
    #[derive(serde::Serialize)]
    struct OldClientRecord<'a> {
        client_id: &'a str,
        secret: Secret,
        owner: &'a str,
        name: &'a str,
        redirect_uris: Vec<&'a str>,
        scope: &'a str,
        grant_types: Vec<&'a str>,
        response_types: Vec<&'a str>,
        auth_method: &'a str,
        rsa_public_key: Option<String>,
    }

    /// A client's projection value as format 1 wrote it.
    #[derive(serde::Serialize)]
    struct OldClientState<'a> {
        record: OldClientRecord<'a>,
        revoked: bool,
        issued_seq: u64,
    }

    fn old_client(scope: &str, revoked: bool) -> Vec<u8> {
        codec::encode(&OldClientState {
            record: OldClientRecord {
                client_id: "c1",
                secret: Secret::None,
                owner: "alice",
                name: "App",
                redirect_uris: vec![],
                scope,
                grant_types: vec!["client_credentials"],
                response_types: vec![],
                auth_method: "none",
                rsa_public_key: None,
            },
            revoked,
            issued_seq: 1,
        })
    }

    fn rebuilt() -> Trees {
        let client = ClientRecord {
            client_id: "c1".into(),
            secret: Secret::None,
            owner: "alice".into(),
            name: "App".into(),
            redirect_uris: vec![],
            scope: Scope::parse("profile").unwrap(),
            grant_types: vec![GrantType::ClientCredentials],
            response_types: vec![],
            auth_method: ClientAuthMethod::None,
            rsa_public_key: None,
        };
        let record = Record {
            seq: 1,
            time: 0,
            events: vec![Event::Issued(Issued::Client(client))],
        };
        Trees::replay([Ok(record)], 0, 0).unwrap().0
    }

    fn mismatches(rebuilt: &Trees, stored_client: Vec<u8>) -> Vec<String> {
        let mut stored = rebuilt.clone();
        stored.insert(Tree::Clients, b"c1", stored_client).unwrap();
        rebuilt
            .compare(
                |tree| {
                    let entries: Vec<_> = stored
                        .entries(tree)
                        .map(|(k, v)| Ok((k.to_vec(), v.to_vec())))
                        .collect();
                    Box::new(entries.into_iter())
                },
                10,
            )
            .unwrap()
    }

    #[test]
    fn a_format_1_client_checks_clean_even_with_a_repeated_scope_token() {
        let rebuilt = rebuilt();
        assert_eq!(
            mismatches(&rebuilt, old_client("profile", false)),
            Vec::<String>::new()
        );
        assert_eq!(
            mismatches(&rebuilt, old_client("profile profile", false)),
            Vec::<String>::new()
        );
        // A client that means something else still differs.
        assert_eq!(
            mismatches(&rebuilt, old_client("profile", true)),
            vec!["clients: \"c1\" differs".to_owned()]
        );
    }
}
