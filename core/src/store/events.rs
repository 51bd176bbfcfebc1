//! The event log's vocabulary: every change to a credential is one event
//! (DESIGN.md, "The event log"), appended in a [`Record`] with a sequence
//! number and a time.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{ClientAuthMethod, GrantType, ResponseType, Scope};

/// A position in the log: the first record is 1.
pub type Seq = u64;

/// What kind of credential an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CredentialKind {
    /// A registered client (OAuth 1 consumer, OAuth 2 client).
    Client,
    /// A resource owner's account.
    User,
    /// An OAuth 1 temporary credential (RFC 5849 2.1).
    Temporary,
    /// An OAuth 1 token credential (RFC 5849 2.3).
    TokenCredential,
    /// An OAuth 2 authorization code (RFC 6749 4.1).
    AuthorizationCode,
    /// An OAuth 2 access token.
    AccessToken,
    /// An OAuth 2 refresh token.
    RefreshToken,
    /// A device code (RFC 8628 3.2): what the device polls with.
    DeviceCode,
    /// A user code (RFC 8628 3.2): what the user types; its parent is the
    /// device code it stands for.
    UserCode,
    /// A pushed authorization request (RFC 9126 2): its id is the hash of
    /// the `request_uri`, its parameters are in a [`Pushed`] event.
    PushedRequest,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialKind::Client => "client",
            CredentialKind::User => "user",
            CredentialKind::Temporary => "temporary credential",
            CredentialKind::TokenCredential => "token credential",
            CredentialKind::AuthorizationCode => "authorization code",
            CredentialKind::AccessToken => "access token",
            CredentialKind::RefreshToken => "refresh token",
            CredentialKind::DeviceCode => "device code",
            CredentialKind::UserCode => "user code",
            CredentialKind::PushedRequest => "pushed authorization request",
        })
    }
}

/// A secret as the store keeps it (DESIGN.md rule 4).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Secret {
    /// No secret (a public client).
    None,
    /// Kept as it is, because the server signs with it (OAuth 1 client and
    /// token shared-secrets). Never printed by the audit log.
    Plain(String),
    /// SHA-256 of a server-generated secret of at least 128 random bits.
    Sha256([u8; 32]),
    /// An argon2 PHC string of a password a person chose.
    Argon2(String),
}

impl Secret {
    /// The SHA-256 form of a server-generated secret.
    pub fn sha256(secret: &str) -> Self {
        Secret::Sha256(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `candidate` is this secret, compared in constant time
    /// (`Argon2` is checked by the password module, never here).
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        match self {
            Secret::None | Secret::Argon2(_) => false,
            Secret::Plain(plain) => plain.as_bytes().ct_eq(candidate.as_bytes()).into(),
            Secret::Sha256(hash) => {
                let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
                hash.ct_eq(&candidate).into()
            }
        }
    }
}

/// Secrets never show in debug output or logs.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Secret::None => "Secret::None",
            Secret::Plain(_) => "Secret::Plain(..)",
            Secret::Sha256(_) => "Secret::Sha256(..)",
            Secret::Argon2(_) => "Secret::Argon2(..)",
        })
    }
}

/// A registered client: its secret and its registration metadata (RFC 7591),
/// parsed when it was registered. Each metadata field is stored, and
/// answered, as the string the client registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The client identifier (`oauth_consumer_key`, `client_id`).
    pub client_id: String,
    /// The client secret: plain (OAuth 1 signs with it), or none for a public client.
    pub secret: Secret,
    /// The user who registered it.
    pub owner: String,
    /// `client_name`.
    pub name: String,
    /// `redirect_uris`, also the OAuth 1 callbacks it may use.
    pub redirect_uris: Vec<String>,
    /// `scope`: what it may ask for (RFC 6749 3.3).
    pub scope: Scope,
    /// `grant_types`.
    pub grant_types: Vec<GrantType>,
    /// `response_types`.
    pub response_types: Vec<ResponseType>,
    /// `token_endpoint_auth_method`.
    pub auth_method: ClientAuthMethod,
    /// An RSA public key (PEM) for RSA-SHA1.
    pub rsa_public_key: Option<String>,
}

impl ClientRecord {
    /// Whether it registered the grant type named `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types
            .iter()
            .any(|grant| grant.as_str() == grant_type)
    }

    /// Whether it registered the response type named `response_type`, in
    /// any order of its words (or `token`, for `id_token token`).
    pub fn allows_response_type(&self, response_type: &str) -> bool {
        let Ok(asked) = response_type.parse::<ResponseType>() else {
            return false;
        };
        // `id_token token` is `token` with sign-in: a client that may have
        // access tokens in the fragment may have its ID token beside them.
        self.response_types.iter().any(|&kind| {
            kind == asked || (asked == ResponseType::IdTokenToken && kind == ResponseType::Token)
        })
    }
}

/// A resource owner's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user name.
    pub name: String,
    /// The password, argon2-hashed.
    pub password: Secret,
}

/// A credential issued to a client: a temporary or token credential, a
/// code, an access or refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Temporary, token credential, code, access or refresh token.
    pub kind: CredentialKind,
    /// How it is looked up: the OAuth 1 `oauth_token`, or the hex SHA-256
    /// of an OAuth 2 token or code (see [`token_id`]).
    pub id: String,
    /// The secret: plain for OAuth 1, none for OAuth 2 (the id is the hash).
    pub secret: Secret,
    /// The client it was issued to.
    pub client_id: String,
    /// The resource owner, once known.
    pub user: Option<String>,
    /// The scope, space-separated.
    pub scope: String,
    /// When it stops working (seconds since the epoch), if ever.
    pub expires_at: Option<u64>,
    /// The credential it was issued from (a temporary credential, a code,
    /// a refresh token), for cascades.
    pub parent: Option<String>,
    /// The OAuth 1 callback or OAuth 2 redirect URI it is bound to.
    pub redirect_uri: Option<String>,
    /// PKCE (RFC 7636): the code challenge and its method.
    pub code_challenge: Option<(String, String)>,
}

/// The lookup id of an OAuth 2 token or code: the hex SHA-256 of its value,
/// so that the store never holds the value itself.
pub fn token_id(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(value.as_bytes());
    let mut id = String::with_capacity(2 * digest.len());
    for byte in digest {
        id.push(HEX[usize::from(byte >> 4)] as char);
        id.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    id
}

/// What an `Issued` event creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Issued {
    /// A client was registered.
    Client(ClientRecord),
    /// A user account was created.
    User(UserRecord),
    /// A credential was issued to a client.
    Token(TokenRecord),
}

/// A signed OAuth 1 request passed (RFC 5849 3.2). Recording it uses the nonce.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Verified {
    /// The client.
    pub client_id: String,
    /// The token, if the request carried one.
    pub token: Option<String>,
    /// `oauth_timestamp`.
    pub timestamp: u64,
    /// `oauth_nonce`.
    pub nonce: String,
}

/// The resource owner granted a temporary credential (RFC 5849 2.2) or an
/// OAuth 2 consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorized {
    /// The credential granted.
    pub id: String,
    /// Who granted it.
    pub user: String,
    /// The OAuth 1 verifier, hashed (it is server-generated).
    pub verifier: Option<Secret>,
}

/// A credential was traded for a new one (issued in the same record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchanged {
    /// The temporary credential, code or refresh token traded.
    pub id: String,
}

/// Why a credential ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevocationReason {
    /// A revocation request (RFC 7009) or an operator.
    Requested,
    /// The resource owner denied the request.
    Denied,
    /// A wrong OAuth 1 verifier was presented (no guessing).
    WrongVerifier,
    /// An authorization code was used twice (RFC 6749 4.1.2).
    CodeReplay,
    /// A retired refresh token was presented again.
    RefreshReuse,
    /// The client was removed.
    ClientRemoved,
}

/// A credential ended; a client's end ends every credential issued to it,
/// and `whole_family` ends every credential of the same grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// What ended: a client id or a token id.
    pub id: String,
    /// Whether `id` names a client (else a credential issued to one).
    pub kind: CredentialKind,
    /// Why.
    pub reason: RevocationReason,
    /// Whether every credential of its family (issued from the same grant:
    /// the same code, temporary credential or first token) ends too.
    pub whole_family: bool,
}

/// A client's secret was replaced: the old one stops working with this record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRotated {
    /// The client.
    pub client_id: String,
    /// The new secret, kept as registration keeps it (never printed).
    pub secret: Secret,
}

/// A resource owner took back what they granted one client: every
/// credential that client holds for them ends, families included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRevoked {
    /// The resource owner.
    pub user: String,
    /// The client.
    pub client_id: String,
}

/// Every credential issued to a client until now ended; the client stays
/// registered and may be granted anew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsRevoked {
    /// The client.
    pub client_id: String,
}

/// A user account was removed: every client it owns and every credential
/// it granted end with it, and its name is free again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRemoved {
    /// The user name.
    pub name: String,
}

/// A user's OpenID Connect subject identifier was chosen (OpenID Connect
/// Core 1.0 2, `sub`): random, so never the same for two accounts, even
/// for a name removed and added again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectAssigned {
    /// The user name.
    pub user: String,
    /// The subject identifier.
    pub sub: String,
}

/// A key the server signs ID tokens with was created; it becomes the
/// current one, and the one before it retires (it stays published until
/// what it signed has expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyCreated {
    /// Its key id (RFC 7638 thumbprint).
    pub kid: String,
    /// The private key, PKCS#8 PEM, kept plain because the server signs
    /// with it (never printed).
    pub private_key: Secret,
}

/// A client registered its public keys (RFC 7591 2 `jwks`, RFC 7517 5),
/// for `private_key_jwt` and the JWT bearer grant (RFC 7523).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKeysRegistered {
    /// The client.
    pub client_id: String,
    /// The JWK Set, as JSON.
    pub jwks: String,
}

/// How the user who granted a code had signed in (OpenID Connect Core 1.0
/// 2, 3.1.2.1): what the ID tokens issued from that code, and from the
/// refresh tokens that descend from it, say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// The authorization code (its id), which starts the family.
    pub id: String,
    /// When the user signed in (seconds since the epoch).
    pub auth_time: u64,
    /// The request's `nonce`, if it carried one.
    pub nonce: Option<String>,
}

/// What a token is bound to, written in the record that issues it: the
/// key its holder must prove (RFC 9449 6, `cnf.jkt`) and the resources it
/// is for (RFC 8707 2, `aud`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constrained {
    /// The credential (its id).
    pub id: String,
    /// The RFC 7638 thumbprint of the DPoP key it is bound to, if any.
    pub jkt: Option<String>,
    /// The resources (absolute URIs) it may be used at; empty: any.
    pub audience: Vec<String>,
}

/// A client registered options beyond RFC 7591's own fields (DPoP, PAR,
/// signing algorithm, token format, profile): a JSON object, read by
/// [`crate::domain::ClientOptions`]. A later event replaces an earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOptionsRegistered {
    /// The client.
    pub client_id: String,
    /// The options, as a JSON object.
    pub options: String,
}

/// The parameters of a pushed authorization request (RFC 9126 2.1),
/// written with the [`CredentialKind::PushedRequest`] credential they
/// belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    /// The credential (the hash of its `request_uri`).
    pub id: String,
    /// The request's parameters, as pushed (client authentication removed).
    pub params: Vec<(String, String)>,
}

/// A key for signing with `alg` (other than the RS256 keys of
/// [`SigningKeyCreated`]) was created and became that algorithm's current
/// one; the one before it retires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgKeyCreated {
    /// The JWS algorithm (`PS256`, `ES256`, `EdDSA`).
    pub alg: String,
    /// Its key id.
    pub kid: String,
    /// The private key, PKCS#8 PEM, kept plain because the server signs
    /// with it (never printed).
    pub private_key: Secret,
}

/// One change to a credential. New variants go at the end: a record's
/// events are encoded by variant index, so records written before a
/// variant existed read the same (DESIGN.md rule 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Something was created.
    Issued(Issued),
    /// A signed OAuth 1 request passed.
    Verified(Verified),
    /// The resource owner granted something.
    Authorized(Authorized),
    /// A credential was traded for a new one.
    Exchanged(Exchanged),
    /// A credential ended.
    Revoked(Revoked),
    /// A client's secret was replaced.
    SecretRotated(SecretRotated),
    /// A user's password was changed (the record holds the new hash).
    PasswordChanged(UserRecord),
    /// A resource owner revoked a client's grant.
    GrantRevoked(GrantRevoked),
    /// A user account was removed.
    UserRemoved(UserRemoved),
    /// Every credential issued to a client so far ended.
    CredentialsRevoked(CredentialsRevoked),
    /// A user's subject identifier was chosen.
    SubjectAssigned(SubjectAssigned),
    /// A signing key was created and became the current one.
    SigningKeyCreated(SigningKeyCreated),
    /// A client registered public keys.
    ClientKeysRegistered(ClientKeysRegistered),
    /// A code was granted by a user who signed in at a known time.
    Authenticated(Authenticated),
    /// A credential was bound to a key or to resources.
    Constrained(Constrained),
    /// A client registered options beyond RFC 7591's fields.
    ClientOptionsRegistered(ClientOptionsRegistered),
    /// An authorization request was pushed.
    Pushed(Pushed),
    /// A signing key for an algorithm other than RS256 was created.
    AlgKeyCreated(AlgKeyCreated),
}

/// One append: its events, with the sequence number and time they were
/// written at. The events of a record were checked and written together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its position in the log.
    pub seq: Seq,
    /// When it was appended (seconds since the epoch).
    pub time: u64,
    /// What happened.
    pub events: Vec<Event>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_are_the_hex_sha256_of_the_value() {
        // FIPS 180-2 B.1.
        assert_eq!(
            token_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(token_id("abc"), token_id("abd"));
    }
}
