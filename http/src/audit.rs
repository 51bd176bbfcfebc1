//! The audit trail as `credlog log` prints it: one event a line, as text
//! or JSON, filtered by client or user. No secret is ever printed: events
//! hold them only in [`credlog_core::store::Secret`] fields, which are
//! left out here.

use credlog_core::rfc7523::{CLIENT_ASSERTION_TYPE, JWT_BEARER_GRANT};
use credlog_core::store::{
    CredentialKind, CredentialStore, Event, Issued, Record, StoreError, Verified,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Which events to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only events about this client.
    pub client: Option<String>,
    /// Only events about this user.
    pub user: Option<String>,
}

/// One event as printed: its record's sequence number and time, what
/// happened, and the fields worth reading (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// The record's sequence number.
    pub seq: u64,
    /// The record's time (seconds since the epoch).
    pub time: u64,
    /// `issued`, `verified`, `authorized`, `exchanged` or `revoked`.
    pub event: String,
    /// The client it concerns, when known.
    pub client: Option<String>,
    /// The user it concerns, when known.
    pub user: Option<String>,
    /// The rest, as name and value, in a fixed order.
    pub fields: Vec<(String, String)>,
}

impl Line {
    /// `SEQ TIME EVENT name=value ...`. A value is quoted, with its escapes
    /// written out, when it holds a space, a quote or a control character:
    /// a client name or nonce holding ESC or BEL reaches the operator's
    /// terminal as `\u{1b}` and `\u{7}`, never as the character itself.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{} {} {}",
            self.seq,
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.time)
            ),
            self.event
        );
        let named = [("client", &self.client), ("user", &self.user)];
        let known = named
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|value| (*name, value.clone())));
        let fields = self
            .fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()));
        for (name, value) in fields.chain(known) {
            text.push_str(&format!(" {name}={}", escaped(&value)));
        }
        text
    }

    /// One JSON object (serde_json escapes control characters itself).
    pub fn json(&self) -> Value {
        let mut object = json!({
            "seq": self.seq,
            "time": self.time,
            "event": self.event,
            "client": self.client,
            "user": self.user,
        });
        for (name, value) in &self.fields {
            object[name.as_str()] = Value::String(value.clone());
        }
        object
    }
}

/// `value` as a text line shows it: as it is, or, when it is empty or
/// holds a space, a quote or a control character, quoted with its escapes
/// written out (`"Evil\u{1b}[2J"`), so that what a user or client typed
/// never reaches an operator's terminal as itself and a line still splits
/// at its spaces. `credlog client list` and `user list` print names so too.
pub fn escaped(value: &str) -> std::borrow::Cow<'_, str> {
    if value.is_empty() || value.contains(needs_quoting) {
        format!("{value:?}").into()
    } else {
        value.into()
    }
}

/// Characters a text line shows escaped: white space and quotes (which
/// would break the `name=value` form) and every control or other character
/// Rust's `escape_debug` writes out (ESC, BEL, bidirectional overrides ...).
fn needs_quoting(c: char) -> bool {
    c.is_whitespace() || c == '"' || c.is_control() || c.escape_debug().len() > 1
}

/// A credential kind as the log names it (`access_token`, `token_credential` ...).
pub fn kind_name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Client => "client",
        CredentialKind::User => "user",
        CredentialKind::Temporary => "temporary_credential",
        CredentialKind::TokenCredential => "token_credential",
        CredentialKind::AuthorizationCode => "authorization_code",
        CredentialKind::AccessToken => "access_token",
        CredentialKind::RefreshToken => "refresh_token",
        CredentialKind::DeviceCode => "device_code",
        CredentialKind::UserCode => "user_code",
        CredentialKind::PushedRequest => "pushed_request",
    }
}

/// The lines of one record. Events that name only a credential id are
/// attributed to its client and user through the projections.
pub async fn lines(store: &dyn CredentialStore, record: &Record) -> Result<Vec<Line>, StoreError> {
    let mut lines = Vec::with_capacity(record.events.len());
    for event in &record.events {
        let line = |event: &str,
                    client: Option<String>,
                    user: Option<String>,
                    fields: Vec<(&str, String)>| Line {
            seq: record.seq,
            time: record.time,
            event: event.to_owned(),
            client,
            user,
            fields: fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        };
        lines.push(match event {
            Event::Issued(Issued::Client(client)) => line(
                "issued",
                Some(client.client_id.clone()),
                Some(client.owner.clone()),
                vec![
                    ("kind", "client".to_owned()),
                    ("name", client.name.clone()),
                    ("redirect_uris", client.redirect_uris.join(" ")),
                    ("scope", client.scope.to_string()),
                ],
            ),
            Event::Issued(Issued::User(user)) => line(
                "issued",
                None,
                Some(user.name.clone()),
                vec![("kind", "user".to_owned())],
            ),
            Event::Issued(Issued::Token(token)) => {
                let mut fields = vec![
                    ("kind", kind_name(token.kind).to_owned()),
                    ("id", token.id.clone()),
                    ("scope", token.scope.clone()),
                ];
                if let Some(parent) = &token.parent {
                    fields.push(("parent", parent.clone()));
                }
                if let Some(expires_at) = token.expires_at {
                    fields.push(("expires_at", expires_at.to_string()));
                }
                line(
                    "issued",
                    Some(token.client_id.clone()),
                    token.user.clone(),
                    fields,
                )
            }
            // RFC 7523 3: an assertion's jti, kept as a nonce of its client's.
            Event::Verified(Verified {
                client_id,
                token: Some(kind),
                timestamp,
                nonce,
            }) if kind == CLIENT_ASSERTION_TYPE || kind == JWT_BEARER_GRANT => line(
                "assertion_used",
                Some(client_id.clone()),
                None,
                vec![
                    ("type", kind.clone()),
                    ("jti", nonce.clone()),
                    ("exp", timestamp.to_string()),
                ],
            ),
            Event::Verified(verified) => {
                let user = match &verified.token {
                    Some(token) => owner_of(store, token).await?.1,
                    None => None,
                };
                let mut fields = vec![
                    ("timestamp", verified.timestamp.to_string()),
                    ("nonce", verified.nonce.clone()),
                ];
                if let Some(token) = &verified.token {
                    fields.insert(0, ("token", token.clone()));
                }
                line("verified", Some(verified.client_id.clone()), user, fields)
            }
            Event::Authorized(authorized) => {
                let (client, _) = owner_of(store, &authorized.id).await?;
                line(
                    "authorized",
                    client,
                    Some(authorized.user.clone()),
                    vec![("id", authorized.id.clone())],
                )
            }
            Event::Exchanged(exchanged) => {
                let (client, user) = owner_of(store, &exchanged.id).await?;
                line(
                    "exchanged",
                    client,
                    user,
                    vec![("id", exchanged.id.clone())],
                )
            }
            Event::Revoked(revoked) => {
                let (client, user) = if revoked.kind == CredentialKind::Client {
                    (Some(revoked.id.clone()), None)
                } else {
                    owner_of(store, &revoked.id).await?
                };
                let mut fields = vec![
                    ("kind", kind_name(revoked.kind).to_owned()),
                    ("id", revoked.id.clone()),
                    ("reason", format!("{:?}", revoked.reason).to_lowercase()),
                ];
                if revoked.whole_family {
                    fields.push(("whole_family", "true".to_owned()));
                }
                line("revoked", client, user, fields)
            }
            // The new secret is never printed: only that there is one.
            Event::SecretRotated(rotated) => line(
                "secret_rotated",
                Some(rotated.client_id.clone()),
                None,
                vec![],
            ),
            Event::PasswordChanged(user) => {
                line("password_changed", None, Some(user.name.clone()), vec![])
            }
            Event::GrantRevoked(revoked) => line(
                "grant_revoked",
                Some(revoked.client_id.clone()),
                Some(revoked.user.clone()),
                vec![],
            ),
            Event::UserRemoved(removed) => {
                line("user_removed", None, Some(removed.name.clone()), vec![])
            }
            Event::CredentialsRevoked(revoked) => line(
                "credentials_revoked",
                Some(revoked.client_id.clone()),
                None,
                vec![],
            ),
            Event::SubjectAssigned(assigned) => line(
                "subject_assigned",
                None,
                Some(assigned.user.clone()),
                vec![("sub", assigned.sub.clone())],
            ),
            // The private key is never printed: only its id.
            Event::SigningKeyCreated(created) => line(
                "signing_key_created",
                None,
                None,
                vec![("kid", created.kid.clone())],
            ),
            Event::ClientKeysRegistered(registered) => line(
                "client_keys_registered",
                Some(registered.client_id.clone()),
                None,
                vec![("jwks", registered.jwks.clone())],
            ),
            Event::Authenticated(authenticated) => {
                let (client, user) = owner_of(store, &authenticated.id).await?;
                let mut fields = vec![
                    ("id", authenticated.id.clone()),
                    ("auth_time", authenticated.auth_time.to_string()),
                ];
                if let Some(nonce) = &authenticated.nonce {
                    fields.push(("nonce", nonce.clone()));
                }
                line("authenticated", client, user, fields)
            }
            Event::Constrained(constrained) => {
                let (client, user) = owner_of(store, &constrained.id).await?;
                let mut fields = vec![("id", constrained.id.clone())];
                if let Some(jkt) = &constrained.jkt {
                    fields.push(("jkt", jkt.clone()));
                }
                if !constrained.audience.is_empty() {
                    fields.push(("aud", constrained.audience.join(" ")));
                }
                line("constrained", client, user, fields)
            }
            Event::ClientOptionsRegistered(registered) => line(
                "client_options_registered",
                Some(registered.client_id.clone()),
                None,
                vec![("options", registered.options.clone())],
            ),
            // Client authentication never reaches a pushed request's
            // parameters, so they print as pushed.
            Event::Pushed(pushed) => {
                let (client, user) = owner_of(store, &pushed.id).await?;
                let params = credlog_core::form::form_encode(
                    pushed.params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                );
                line(
                    "pushed",
                    client,
                    user,
                    vec![("id", pushed.id.clone()), ("params", params)],
                )
            }
            // The private key is never printed: only its id.
            Event::AlgKeyCreated(created) => line(
                "signing_key_created",
                None,
                None,
                vec![("kid", created.kid.clone()), ("alg", created.alg.clone())],
            ),
        });
    }
    Ok(lines)
}

/// One page of the log: what `credlog log` prints and `GET /admin/log` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The sequence number to ask for next.
    pub next: u64,
    /// The events of the records read, in order.
    pub lines: Vec<Line>,
}

/// The most records a page holds.
const PAGE: usize = 1024;

/// The events of up to 1,024 records from `since` on, and where the next
/// page starts; with `archive`, the records a retention archived are read
/// too, in sequence order among the live ones.
pub async fn page(
    store: &dyn CredentialStore,
    since: u64,
    archive: bool,
) -> Result<LogPage, StoreError> {
    let records = records_page(store, since, archive).await?;
    let mut page = LogPage {
        next: records.last().map_or(since, |record| record.seq + 1),
        lines: Vec::new(),
    };
    for record in &records {
        page.lines.extend(lines(store, record).await?);
    }
    Ok(page)
}

/// Up to 1,024 records from `since` on, in order; with `archive`, the
/// records a retention archived among them.
pub async fn records_page(
    store: &dyn CredentialStore,
    since: u64,
    archive: bool,
) -> Result<Vec<Record>, StoreError> {
    let records = store.read_log(since, PAGE).await?;
    if !archive {
        return Ok(records);
    }
    Ok(merged(records, store.read_archive(since, PAGE).await?))
}

/// The first [`PAGE`] of two runs of records in sequence order, merged; a
/// record in both (a retirement cut short holds it in both) once. Each run
/// is its source's first page, so the merge's first page is whole: a
/// record beyond either run's end comes after a page of the other.
fn merged(live: Vec<Record>, archived: Vec<Record>) -> Vec<Record> {
    let mut all: Vec<Record> = live.into_iter().chain(archived).collect();
    all.sort_by_key(|record| record.seq);
    all.dedup_by_key(|record| record.seq);
    all.truncate(PAGE);
    all
}

async fn owner_of(
    store: &dyn CredentialStore,
    id: &str,
) -> Result<(Option<String>, Option<String>), StoreError> {
    Ok(match store.credential(id).await? {
        Some(state) => (Some(state.record.client_id), state.record.user),
        None => (None, None),
    })
}

impl Filter {
    /// Whether a line passes.
    pub fn admits(&self, line: &Line) -> bool {
        let wanted = |filter: &Option<String>, value: &Option<String>| {
            filter
                .as_ref()
                .is_none_or(|filter| value.as_ref() == Some(filter))
        };
        wanted(&self.client, &line.client) && wanted(&self.user, &line.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credlog_core::store::{Secret, TokenRecord, Verified};
    use credlog_storage_memory::MemoryStore;

    #[test]
    fn what_clients_typed_reaches_the_terminal_escaped() {
        let line = Line {
            seq: 7,
            time: 0,
            event: "issued".into(),
            client: Some("app".into()),
            user: None,
            fields: vec![
                ("name".into(), "evil\u{1b}[2J\u{7}".into()),
                ("nonce".into(), "rtl\u{202e}txt".into()),
                ("scope".into(), "plain".into()),
            ],
        };
        let text = line.text();
        assert!(!text.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{text:?}");
        assert!(text.contains(r#"name="evil\u{1b}[2J\u{7}""#), "{text}");
        assert!(text.contains(r#"nonce="rtl\u{202e}txt""#), "{text}");
        assert!(text.contains(" scope=plain "), "{text}");
    }

    #[tokio::test]
    async fn management_events_name_who_and_what_and_never_the_new_secret() {
        use credlog_core::store::{
            CredentialsRevoked, GrantRevoked, SecretRotated, UserRecord, UserRemoved,
        };
        let store = MemoryStore::new();
        let events = vec![
            Event::SecretRotated(SecretRotated {
                client_id: "app".into(),
                secret: Secret::Plain("brand-new-secret".into()),
            }),
            Event::PasswordChanged(UserRecord {
                name: "alice".into(),
                password: Secret::Argon2("$argon2id$the-new-hash".into()),
            }),
            Event::GrantRevoked(GrantRevoked {
                user: "alice".into(),
                client_id: "app".into(),
            }),
            Event::CredentialsRevoked(CredentialsRevoked {
                client_id: "app".into(),
            }),
            Event::UserRemoved(UserRemoved {
                name: "alice".into(),
            }),
        ];
        store.append(&[], events, 1_700_000_000).await.unwrap();
        let record = &store.read_log(1, 1).await.unwrap()[0];
        let texts: Vec<String> = lines(&store, record)
            .await
            .unwrap()
            .iter()
            .map(Line::text)
            .collect();
        let at = "1 2023-11-14T22:13:20Z";
        assert_eq!(
            texts,
            [
                format!("{at} secret_rotated client=app"),
                format!("{at} password_changed user=alice"),
                format!("{at} grant_revoked client=app user=alice"),
                format!("{at} credentials_revoked client=app"),
                format!("{at} user_removed user=alice"),
            ]
        );
        for line in lines(&store, record).await.unwrap() {
            let json = line.json().to_string();
            assert!(
                !json.contains("brand-new-secret") && !json.contains("argon2"),
                "{json}"
            );
        }
    }

    #[tokio::test]
    async fn lines_name_client_and_user_and_never_a_secret() {
        let store = MemoryStore::new();
        let token = TokenRecord {
            kind: CredentialKind::TokenCredential,
            id: "tok".into(),
            secret: Secret::Plain("very-secret-value".into()),
            client_id: "app".into(),
            user: Some("alice".into()),
            scope: "profile email".into(),
            expires_at: None,
            parent: None,
            redirect_uri: None,
            code_challenge: None,
        };
        store
            .append(
                &[],
                vec![Event::Issued(Issued::Token(token))],
                1_700_000_000,
            )
            .await
            .unwrap();
        let verified = Verified {
            client_id: "app".into(),
            token: Some("tok".into()),
            timestamp: 1_700_000_000,
            nonce: "n1".into(),
        };
        store
            .append(&[], vec![Event::Verified(verified)], 1_700_000_001)
            .await
            .unwrap();
        let mut printed = Vec::new();
        for record in store.read_log(1, 10).await.unwrap() {
            printed.extend(lines(&store, &record).await.unwrap());
        }
        assert_eq!(
            printed[0].text(),
            "1 2023-11-14T22:13:20Z issued kind=token_credential id=tok scope=\"profile email\" client=app user=alice"
        );
        assert_eq!(printed[1].user.as_deref(), Some("alice"));
        assert_eq!(printed[1].json()["nonce"], "n1");
        for line in &printed {
            assert!(!line.text().contains("very-secret-value"));
            assert!(!line.json().to_string().contains("very-secret-value"));
        }
        let alice = Filter {
            client: None,
            user: Some("alice".into()),
        };
        let bob = Filter {
            client: None,
            user: Some("bob".into()),
        };
        let other_client = Filter {
            client: Some("other".into()),
            user: None,
        };
        assert!(printed.iter().all(|line| alice.admits(line)));
        assert!(!printed
            .iter()
            .any(|line| bob.admits(line) || other_client.admits(line)));
    }
}
