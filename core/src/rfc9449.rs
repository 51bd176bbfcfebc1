//! OAuth 2.0 Demonstrating Proof of Possession (RFC 9449): the checks of a
//! DPoP proof (section 4.3), sans-IO. The caller gives the request's
//! method and URI as the server sees them, the time, and at a resource the
//! access token; the checker answers the proof key's RFC 7638 thumbprint
//! and the `jti` use, which the caller appends with the store's atomic
//! nonce precondition ([`Proof::jti_use`]) so that a proof works once
//! however many servers share the store.
//!
//! Server nonces (sections 8 and 9) are stateless: a nonce is a time
//! window's number and an HMAC-SHA256 of it under a key derived from the
//! server's current signing key ([`NonceSource`]), so every server reading
//! the same store makes and accepts the same nonces with nothing stored.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jose::{self, JoseError, JwkSet};
use crate::rfc6749::Oauth2Error;
use crate::store::{
    AppendError, CredentialStore, Event, NonceKey, Precondition, StoreError, Verified,
};
use crate::Request;

/// The request header carrying the proof (RFC 9449 4.1).
pub const DPOP_HEADER: &str = "DPoP";

/// The response header carrying a server nonce (RFC 9449 8.1).
pub const NONCE_HEADER: &str = "DPoP-Nonce";

/// The proof's `typ` (RFC 9449 4.2).
pub const PROOF_TYP: &str = "dpop+jwt";

/// The algorithms a proof may be signed with, as metadata lists them
/// (`dpop_signing_alg_values_supported`, RFC 9449 5.1).
pub const PROOF_ALGS: [&str; 4] = ["ES256", "PS256", "RS256", "EdDSA"];

/// The longest `jti` accepted, in bytes: it is kept to refuse replays.
pub const MAX_JTI_LEN: usize = 128;

/// The longest server nonce accepted, in bytes.
pub const MAX_NONCE_LEN: usize = 128;

/// RFC 9449 4.1's example proof (Figure 2, its signature from 5.1's token
/// request): `POST https://server.example.com/token` at `iat` 1562262616.
pub const EXAMPLE_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";

/// RFC 9449 7.1's example proof at a resource (Figure 13): `GET
/// https://resource.example.org/protectedresource` at `iat` 1562262618,
/// with the `ath` of [`EXAMPLE_ACCESS_TOKEN`].
pub const EXAMPLE_RESOURCE_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";

/// The access token of RFC 9449 7.1's example (Figure 12).
pub const EXAMPLE_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// The thumbprint of the examples' key (RFC 9449 6.1, `cnf.jkt`).
pub const EXAMPLE_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/// The credential kind a proof's `jti` use is kept under, in the place of
/// an OAuth 1 token ([`Verified::token`]).
const JTI_KIND: &str = "DPoP";

/// The algorithms of [`PROOF_ALGS`] as the `algs` challenge parameter
/// (RFC 9449 7.1): space-separated.
pub fn algs() -> String {
    PROOF_ALGS.join(" ")
}

/// Why a proof was refused; each message can be an `error_description`.
/// Every one is `invalid_dpop_proof` except [`DpopError::UseNonce`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// The request carries no `DPoP` header, but needs one.
    #[error("the request carries no DPoP proof (RFC 9449 4.1)")]
    Missing,
    /// More than one `DPoP` header (RFC 9449 4.3, check 1).
    #[error("the request carries more than one DPoP header (RFC 9449 4.3)")]
    Multiple,
    /// The proof is not a well-formed JWS, or its signature does not verify.
    #[error("the DPoP proof does not verify: {0}")]
    Jws(JoseError),
    /// The header's `typ` is not `dpop+jwt` (RFC 9449 4.3, check 4).
    #[error("the DPoP proof's \"typ\" is not \"dpop+jwt\" (RFC 9449 4.2)")]
    WrongTyp,
    /// The header's `alg` is not one this server accepts (check 5).
    #[error("the DPoP proof's \"alg\" is not one of ES256 PS256 RS256 EdDSA (RFC 9449 4.3)")]
    UnsupportedAlg,
    /// The header has no `jwk` object (RFC 9449 4.2).
    #[error("the DPoP proof's header has no \"jwk\" (RFC 9449 4.2)")]
    MissingJwk,
    /// The header's `jwk` holds private or secret key material (check 7).
    #[error("the DPoP proof's \"jwk\" is not a public key (RFC 9449 4.3)")]
    PrivateJwk,
    /// The header's `jwk` is not a usable public key.
    #[error("the DPoP proof's \"jwk\" is not a usable public key: {0}")]
    BadJwk(JoseError),
    /// A required claim is absent or of the wrong type (RFC 9449 4.2).
    #[error("the DPoP proof has no valid \"{0}\" claim (RFC 9449 4.2)")]
    Claim(&'static str),
    /// `jti` is longer than [`MAX_JTI_LEN`] bytes.
    #[error("the DPoP proof's \"jti\" is longer than {MAX_JTI_LEN} bytes")]
    JtiTooLong,
    /// `htm` is not the request's method (check 8).
    #[error("the DPoP proof's \"htm\" is not the request's method (RFC 9449 4.3)")]
    WrongMethod,
    /// `htu` is not the request's URI (check 9).
    #[error("the DPoP proof's \"htu\" is not the request's URI (RFC 9449 4.3)")]
    WrongUri,
    /// `iat` is further from now than the window allows (check 11).
    #[error("the DPoP proof's \"iat\" is more than {window} s from now (RFC 9449 4.3)")]
    Stale {
        /// The window, in seconds either way.
        window: u64,
    },
    /// `ath` is absent where an access token came with the proof (check 12).
    #[error("the DPoP proof has no \"ath\" for the access token (RFC 9449 4.3)")]
    MissingAth,
    /// `ath` is not the hash of the access token that came with it.
    #[error("the DPoP proof's \"ath\" is not the hash of the access token (RFC 9449 4.3)")]
    WrongAth,
    /// A pushed request's `dpop_jkt` names another key than the proof
    /// that came with it (RFC 9449 10.1).
    #[error("dpop_jkt is not the thumbprint of the DPoP proof's key (RFC 9449 10.1)")]
    JktMismatch,
    /// The proof's `jti` was used before (RFC 9449 11.1).
    #[error("the DPoP proof was used before (RFC 9449 11.1)")]
    Replayed,
    /// The server wants a nonce it gave, and the proof has none, or an old
    /// or made-up one (RFC 9449 8, 9): `use_dpop_nonce`, with a fresh one.
    #[error("the DPoP proof must carry the server's nonce (RFC 9449 8)")]
    UseNonce {
        /// The nonce to use, sent as `DPoP-Nonce`.
        nonce: String,
    },
}

impl DpopError {
    /// The error code: `use_dpop_nonce` for a missing or stale nonce,
    /// `invalid_dpop_proof` for the rest (RFC 9449 5, 7.1, 12.2).
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::UseNonce { .. } => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }

    /// The nonce to send as `DPoP-Nonce`, when the error asks for one.
    pub fn nonce(&self) -> Option<&str> {
        match self {
            DpopError::UseNonce { nonce } => Some(nonce),
            _ => None,
        }
    }
}

/// What the proof must match: the request as the server sees it.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The request's absolute URI (its query and fragment are ignored).
    pub uri: &'a str,
    /// Now, in seconds since the epoch.
    pub now: u64,
    /// Seconds `iat` may be from now, either way.
    pub window: u64,
    /// At a resource, the access token that came with the proof: `ath`
    /// must be its hash.
    pub access_token: Option<&'a str>,
    /// When the server asks for nonces, where they come from.
    pub nonces: Option<&'a NonceSource>,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 thumbprint of its key (`jkt`, RFC 9449 6.1).
    pub jkt: String,
    /// `jti`.
    pub jti: String,
    /// `iat`, in seconds since the epoch.
    pub iat: u64,
    /// The algorithm it was signed with.
    pub alg: String,
}

impl Proof {
    /// RFC 9449 11.1: the proof is used once. Its `jti` is kept as a
    /// nonce of its key (the thumbprint in the client's place, `DPoP` in
    /// the token's, `iat` as its timestamp), so the store's atomic
    /// precondition that refuses a replayed OAuth 1 nonce refuses a
    /// replayed proof, on every server of one store. It is forgotten once
    /// `iat` is behind the store's nonce window (at least the OAuth 1
    /// timestamp window, longer than the proof window). The precondition
    /// and the event to append together.
    pub fn jti_use(&self) -> (Precondition, Event) {
        let verified = Verified {
            client_id: self.jkt.clone(),
            token: Some(JTI_KIND.to_owned()),
            timestamp: self.iat,
            nonce: self.jti.clone(),
        };
        (
            Precondition::NonceUnused(NonceKey::from(&verified)),
            Event::Verified(verified),
        )
    }
}

/// The proof a request carries: `Ok(None)` without one, an error with
/// more than one `DPoP` header (RFC 9449 4.3, check 1).
pub fn proof_of(request: &Request) -> Result<Option<&str>, DpopError> {
    let mut proofs = request.header_values(DPOP_HEADER);
    let first = proofs.next();
    if proofs.next().is_some() {
        return Err(DpopError::Multiple);
    }
    Ok(first.map(str::trim))
}

/// Why a proof could not be used: it was refused, or the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UseError {
    /// The proof broke a rule, or was used before.
    #[error(transparent)]
    Refused(#[from] DpopError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UseError> for Oauth2Error {
    fn from(error: UseError) -> Self {
        match error {
            UseError::Refused(error) => Oauth2Error::Dpop(error),
            UseError::Store(error) => Oauth2Error::Store(error),
        }
    }
}

/// Checks `proof` against `expected` (whose nonces, when `nonces` is
/// set, come from [`NonceSource::of_store`]) and uses its `jti` once, in
/// one append guarded by [`Proof::jti_use`]'s precondition: of two
/// requests with one proof, on one server or two, one is refused.
pub async fn check_and_use(
    store: &dyn CredentialStore,
    proof: &str,
    expected: Expected<'_>,
    nonces: bool,
) -> Result<Proof, UseError> {
    let source = match nonces {
        true => Some(NonceSource::of_store(store, expected.now).await?),
        false => None,
    };
    let expected = Expected {
        nonces: source.as_ref(),
        ..expected
    };
    let proof = check(proof, &expected)?;
    let (unused, used) = proof.jti_use();
    match store.append(&[unused], vec![used], expected.now).await {
        Ok(_) => Ok(proof),
        Err(AppendError::Refused(_)) => Err(DpopError::Replayed.into()),
        Err(AppendError::Store(error)) => Err(UseError::Store(error)),
    }
}

/// RFC 9449 7.1 `ath`: base64url of the SHA-256 of the access token.
pub fn ath(access_token: &str) -> String {
    b64(&Sha256::digest(access_token.as_bytes()))
}

/// Whether `jkt` has the syntax of a SHA-256 JWK thumbprint: 43
/// base64url characters (RFC 9449 10, `dpop_jkt`).
pub fn is_thumbprint(jkt: &str) -> bool {
    jkt.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jkt)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// Members that only a private or secret key has (RFC 7518 6.2.2, 6.3.2,
/// 6.4.1; RFC 8037 2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// RFC 9449 4.3: checks a proof against the request it came with.
pub fn check(proof: &str, expected: &Expected<'_>) -> Result<Proof, DpopError> {
    if proof.len() > jose::MAX_JWT_LEN {
        return Err(DpopError::Jws(JoseError::TooLarge {
            limit: jose::MAX_JWT_LEN,
        }));
    }
    let header = proof
        .split('.')
        .next()
        .and_then(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .ok_or(DpopError::Jws(JoseError::NotCompact))?;
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
        return Err(DpopError::WrongTyp);
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .filter(|alg| PROOF_ALGS.contains(alg))
        .ok_or(DpopError::UnsupportedAlg)?;
    let jwk = match header.get("jwk") {
        Some(jwk @ Value::Object(members)) => {
            if PRIVATE_MEMBERS
                .iter()
                .any(|name| members.contains_key(*name))
            {
                return Err(DpopError::PrivateJwk);
            }
            jwk
        }
        _ => return Err(DpopError::MissingJwk),
    };
    let keys = JwkSet::parse(&serde_json::json!({ "keys": [jwk] })).map_err(DpopError::BadJwk)?;
    let verified = jose::verify(proof, &keys).map_err(DpopError::Jws)?;
    let jkt = jose::thumbprint(jwk).map_err(DpopError::BadJwk)?;
    let claims = &verified.claims;
    let jti = claim_str(claims, "jti")?;
    if jti.len() > MAX_JTI_LEN {
        return Err(DpopError::JtiTooLong);
    }
    if claim_str(claims, "htm")? != expected.method {
        return Err(DpopError::WrongMethod);
    }
    let htu = claim_str(claims, "htu")?;
    match (normalized_uri(htu), normalized_uri(expected.uri)) {
        (Some(htu), Some(uri)) if htu == uri => {}
        _ => return Err(DpopError::WrongUri),
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|iat| iat.is_finite() && *iat >= 0.0)
        .ok_or(DpopError::Claim("iat"))? as u64;
    if iat.abs_diff(expected.now) > expected.window {
        return Err(DpopError::Stale {
            window: expected.window,
        });
    }
    if let Some(token) = expected.access_token {
        let hash = claims.get("ath").ok_or(DpopError::MissingAth)?;
        if hash.as_str() != Some(ath(token).as_str()) {
            return Err(DpopError::WrongAth);
        }
    }
    if let Some(nonces) = expected.nonces {
        let given = claims.get("nonce").and_then(Value::as_str);
        if !given.is_some_and(|nonce| nonces.accepts(nonce, expected.now)) {
            return Err(DpopError::UseNonce {
                nonce: nonces.issue(expected.now),
            });
        }
    }
    Ok(Proof {
        jkt,
        jti: jti.to_owned(),
        iat,
        alg: alg.to_owned(),
    })
}

fn claim_str<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, DpopError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .ok_or(DpopError::Claim(name))
}

/// An absolute `http` or `https` URI without its query and fragment,
/// normalised as RFC 9449 4.3 asks (RFC 3986 6.2.2, 6.2.3): scheme and
/// host in lower case, the default port dropped, an empty path as `/`,
/// percent-encodings in upper case and unreserved characters decoded,
/// and dot segments removed. `None` for anything else.
pub fn normalized_uri(uri: &str) -> Option<String> {
    let uri = uri.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rfind(':') {
        Some(at) if !authority[at..].contains(']') => (&authority[..at], &authority[at + 1..]),
        _ => (authority.as_str(), ""),
    };
    // An IP literal is one bracketed whole (RFC 3986 3.2.2); any other
    // host holds no colon or bracket.
    let literal = host.starts_with('[');
    if host.is_empty()
        || (literal && (!host.ends_with(']') || host[1..host.len() - 1].contains(['[', ']'])))
        || (!literal && host.contains([':', '[', ']']))
        || !port.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let authority = match port {
        "" => host.to_owned(),
        port if port == default_port => host.to_owned(),
        port => format!("{host}:{port}"),
    };
    let path = remove_dot_segments(&normalize_percent(path)?);
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    Some(format!("{scheme}://{authority}{path}"))
}

/// RFC 3986 6.2.2.1-2: percent-encodings in upper case, unreserved
/// characters decoded. `None` for a broken percent-encoding.
fn normalize_percent(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = path.get(at + 1..at + 3)?;
            let value = u8::from_str_radix(hex, 16).ok()?;
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                out.push(value as char);
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            at += 3;
        } else {
            let ch = path[at..].chars().next()?;
            out.push(ch);
            at += ch.len_utf8();
        }
    }
    Some(out)
}

/// RFC 3986 5.2.4, on a path that starts with `/` (or is empty).
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut parts = path.split('/').skip(1).peekable();
    while let Some(segment) = parts.next() {
        let last = parts.peek().is_none();
        match segment {
            "." => {
                if last {
                    segments.push("");
                }
            }
            ".." => {
                segments.pop();
                if last {
                    segments.push("");
                }
            }
            other => segments.push(other),
        }
    }
    if segments.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(path.len());
    for segment in segments {
        out.push('/');
        out.push_str(segment);
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Server nonces (RFC 9449 8, 9), stateless: a nonce is the number of the
/// [`NonceSource::PERIOD`]-second window it was made in and an
/// HMAC-SHA256 of that number, so checking one needs the key and the
/// clock only. One made in the current or the previous window is
/// accepted: a nonce lives between one and two periods. The key is
/// derived from the server's current signing key ([`NonceSource::of_store`]):
/// every server on one store shares it, and rotating the signing key
/// retires the nonces (clients are told `use_dpop_nonce` and retry).
#[derive(Clone)]
pub struct NonceSource {
    key: [u8; 32],
}

impl std::fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceSource").finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl NonceSource {
    /// Seconds in one nonce window.
    pub const PERIOD: u64 = 300;

    /// A source whose key is derived from `secret` (domain-separated, so
    /// the secret's other uses learn nothing from a nonce).
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"credlog RFC 9449 nonce key\0");
        digest.update(secret);
        NonceSource {
            key: digest.finalize().into(),
        }
    }

    /// The source every server on `store` shares: its key is derived from
    /// the current signing key, made first when the store has none.
    pub async fn of_store(store: &dyn CredentialStore, now: u64) -> Result<Self, StoreError> {
        let mut keys = store.signing_keys().await?;
        if keys.is_empty() {
            crate::oidc::keys::create_first(store, now)
                .await
                .map_err(|error| match error {
                    crate::oidc::keys::KeyError::Store(error) => error,
                    other => StoreError::Backend(other.to_string().into()),
                })?;
            keys = store.signing_keys().await?;
        }
        let current = keys
            .last()
            .ok_or_else(|| StoreError::Backend("no signing key to derive DPoP nonces".into()))?;
        // Signing keys are always kept plain (the server signs with them);
        // anything else would leave nothing secret to derive from.
        let crate::store::Secret::Plain(pem) = &current.private_key else {
            return Err(StoreError::Backend(
                "the signing key is not kept plain; DPoP nonces cannot be derived".into(),
            ));
        };
        Ok(NonceSource::from_secret(pem.as_bytes()))
    }

    fn tag(&self, window: u64) -> [u8; 16] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .expect("HMAC accepts a key of any length");
        // Its own label, so that no other use of the key yields a nonce.
        mac.update(b"credlog DPoP nonce\0");
        mac.update(&window.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&full[..16]);
        tag
    }

    /// A nonce for `now`.
    pub fn issue(&self, now: u64) -> String {
        let window = now / Self::PERIOD;
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.tag(window));
        b64(&bytes)
    }

    /// Whether `nonce` was made by this source in the current window or
    /// the one before.
    pub fn accepts(&self, nonce: &str, now: u64) -> bool {
        if nonce.len() > MAX_NONCE_LEN {
            return false;
        }
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        if bytes.len() != 24 {
            return false;
        }
        let mut number = [0u8; 8];
        number.copy_from_slice(&bytes[..8]);
        let window = u64::from_be_bytes(number);
        let current = now / Self::PERIOD;
        if window != current && window.saturating_add(1) != current {
            return false;
        }
        use subtle::ConstantTimeEq;
        bool::from(self.tag(window).ct_eq(&bytes[8..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_PROOF: &str = EXAMPLE_PROOF;
    const RFC_RESOURCE_PROOF: &str = EXAMPLE_RESOURCE_PROOF;
    const RFC_TOKEN: &str = EXAMPLE_ACCESS_TOKEN;
    const RFC_JKT: &str = EXAMPLE_JKT;

    fn token_endpoint(now: u64) -> Expected<'static> {
        Expected {
            method: "POST",
            uri: "https://server.example.com/token",
            now,
            window: 60,
            access_token: None,
            nonces: None,
        }
    }

    #[test]
    fn the_rfc_9449_token_request_proof_passes_with_its_thumbprint() {
        let proof = check(RFC_PROOF, &token_endpoint(1_562_262_616)).unwrap();
        assert_eq!(proof.jkt, RFC_JKT);
        assert_eq!(proof.jti, "-BwC3ESc6acc2lTc");
        assert_eq!(proof.iat, 1_562_262_616);
        assert_eq!(proof.alg, "ES256");
        // Within the window either way, not beyond.
        assert!(check(RFC_PROOF, &token_endpoint(1_562_262_616 + 60)).is_ok());
        assert!(check(RFC_PROOF, &token_endpoint(1_562_262_616 - 60)).is_ok());
        for now in [1_562_262_616 + 61, 1_562_262_616 - 61] {
            assert_eq!(
                check(RFC_PROOF, &token_endpoint(now)),
                Err(DpopError::Stale { window: 60 })
            );
        }
    }

    #[test]
    fn the_rfc_9449_resource_proof_passes_with_its_ath() {
        assert_eq!(
            ath(RFC_TOKEN),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
        let expected = Expected {
            method: "GET",
            uri: "https://resource.example.org/protectedresource",
            now: 1_562_262_618,
            window: 60,
            access_token: Some(RFC_TOKEN),
            nonces: None,
        };
        let proof = check(RFC_RESOURCE_PROOF, &expected).unwrap();
        assert_eq!(proof.jkt, RFC_JKT);
        let other = Expected {
            access_token: Some("another token"),
            ..expected
        };
        assert_eq!(check(RFC_RESOURCE_PROOF, &other), Err(DpopError::WrongAth));
        // The token endpoint's proof has no `ath`.
        let no_ath = Expected {
            uri: "https://server.example.com/token",
            method: "POST",
            ..expected
        };
        assert_eq!(check(RFC_PROOF, &no_ath), Err(DpopError::MissingAth));
    }

    #[test]
    fn method_and_uri_must_be_the_requests() {
        let now = 1_562_262_616;
        let get = Expected {
            method: "GET",
            ..token_endpoint(now)
        };
        assert_eq!(check(RFC_PROOF, &get), Err(DpopError::WrongMethod));
        let other = Expected {
            uri: "https://server.example.com/other",
            ..token_endpoint(now)
        };
        assert_eq!(check(RFC_PROOF, &other), Err(DpopError::WrongUri));
        // The query, the default port and case do not matter (RFC 9449 4.3).
        for uri in [
            "https://server.example.com/token?x=1",
            "HTTPS://Server.Example.COM:443/token",
            "https://server.example.com/./token#f",
            "https://server.example.com/%74oken",
        ] {
            let same = Expected {
                uri,
                ..token_endpoint(now)
            };
            assert!(check(RFC_PROOF, &same).is_ok(), "{uri}");
        }
        let port = Expected {
            uri: "https://server.example.com:8443/token",
            ..token_endpoint(now)
        };
        assert_eq!(check(RFC_PROOF, &port), Err(DpopError::WrongUri));
    }

    #[test]
    fn uris_normalise_as_rfc_3986_6_2_says() {
        assert_eq!(
            normalized_uri("HTTP://A.Example:80").as_deref(),
            Some("http://a.example/")
        );
        assert_eq!(
            normalized_uri("https://a.example/a/b/../c/%7e%2f").as_deref(),
            Some("https://a.example/a/c/~%2F")
        );
        assert_eq!(normalized_uri("ftp://a.example/"), None);
        assert_eq!(normalized_uri("https://a.example/%zz"), None);
        assert_eq!(normalized_uri("/relative"), None);
        assert_eq!(normalized_uri("https://a.example::443/"), None);
        assert_eq!(normalized_uri("https://a.example:x/"), None);
        // An IP literal is one bracketed whole (found by the dpop_proof
        // fuzz target: this one normalised to a URI that normalised again
        // to another).
        assert_eq!(normalized_uri("http://[]:108::/%7e%2f"), None);
        assert_eq!(normalized_uri("http://[::1]x:8/"), None);
        assert_eq!(normalized_uri("http://a]b/"), None);
        assert_eq!(
            normalized_uri("https://[::1]:443/a").as_deref(),
            Some("https://[::1]/a")
        );
        assert_eq!(
            normalized_uri("https://a.example:8443").as_deref(),
            Some("https://a.example:8443/")
        );
    }

    fn forged(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(b"signature")
        )
    }

    fn rfc_jwk() -> Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        })
    }

    #[test]
    fn the_header_must_be_a_dpop_proofs() {
        let claims = serde_json::json!({"jti": "j", "htm": "POST",
            "htu": "https://server.example.com/token", "iat": 1_562_262_616});
        let expected = token_endpoint(1_562_262_616);
        let cases = [
            (
                serde_json::json!({"typ": "JWT", "alg": "ES256", "jwk": rfc_jwk()}),
                DpopError::WrongTyp,
            ),
            (
                serde_json::json!({"typ": "dpop+jwt", "alg": "none", "jwk": rfc_jwk()}),
                DpopError::UnsupportedAlg,
            ),
            (
                serde_json::json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": rfc_jwk()}),
                DpopError::UnsupportedAlg,
            ),
            (
                serde_json::json!({"typ": "dpop+jwt", "alg": "PS384", "jwk": rfc_jwk()}),
                DpopError::UnsupportedAlg,
            ),
            (
                serde_json::json!({"typ": "dpop+jwt", "alg": "ES256"}),
                DpopError::MissingJwk,
            ),
            (
                serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": "key"}),
                DpopError::MissingJwk,
            ),
        ];
        for (header, error) in cases {
            assert_eq!(
                check(&forged(header.clone(), claims.clone()), &expected),
                Err(error),
                "{header}"
            );
        }
        let mut private = rfc_jwk();
        private["d"] = "secret".into();
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private});
        assert_eq!(
            check(&forged(header, claims.clone()), &expected),
            Err(DpopError::PrivateJwk)
        );
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}});
        assert_eq!(
            check(&forged(header, claims.clone()), &expected),
            Err(DpopError::PrivateJwk)
        );
        // A good header over a forged signature.
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": rfc_jwk()});
        assert!(matches!(
            check(&forged(header, claims), &expected),
            Err(DpopError::Jws(_))
        ));
        assert!(matches!(
            check("garbage", &expected),
            Err(DpopError::Jws(_))
        ));
        assert!(matches!(check("", &expected), Err(DpopError::Jws(_))));
    }

    #[test]
    fn exactly_one_dpop_header_is_read() {
        let request = Request::new("GET", "https://rs.example/r");
        assert_eq!(proof_of(&request), Ok(None));
        let one = request.clone().with_header("DPoP", "a.b.c");
        assert_eq!(proof_of(&one), Ok(Some("a.b.c")));
        let two = one.with_header("dpop", "d.e.f");
        assert_eq!(proof_of(&two), Err(DpopError::Multiple));
    }

    #[test]
    fn nonces_are_accepted_for_two_windows_and_only_from_their_key() {
        let source = NonceSource::from_secret(b"key one");
        let now = 10 * NonceSource::PERIOD + 7;
        let nonce = source.issue(now);
        assert!(source.accepts(&nonce, now));
        assert!(source.accepts(&nonce, now + NonceSource::PERIOD));
        assert!(!source.accepts(&nonce, now + 2 * NonceSource::PERIOD));
        assert!(!source.accepts(&nonce, now - NonceSource::PERIOD));
        assert!(!NonceSource::from_secret(b"key two").accepts(&nonce, now));
        assert!(!source.accepts("not a nonce", now));
        assert!(!source.accepts("", now));
        // A proof without the nonce is told to use one.
        let expected = Expected {
            nonces: Some(&source),
            ..token_endpoint(1_562_262_616)
        };
        match check(RFC_PROOF, &expected) {
            Err(DpopError::UseNonce { nonce }) => {
                assert!(source.accepts(&nonce, 1_562_262_616));
                let error = DpopError::UseNonce { nonce };
                assert_eq!(error.code(), "use_dpop_nonce");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_proofs_jti_is_kept_under_its_key_and_iat() {
        let proof = check(RFC_PROOF, &token_endpoint(1_562_262_616)).unwrap();
        let (precondition, event) = proof.jti_use();
        let Precondition::NonceUnused(key) = precondition else {
            panic!("{precondition:?}")
        };
        assert_eq!(key.client_id, RFC_JKT);
        assert_eq!(key.timestamp, 1_562_262_616);
        assert_eq!(key.nonce, "-BwC3ESc6acc2lTc");
        assert!(matches!(event, Event::Verified(_)));
    }

    proptest::proptest! {
        /// A normalised URI is its own normal form (what the fuzz target
        /// `dpop_proof` also asserts).
        #[test]
        fn normalising_is_idempotent(uri in "(https?|HTTP|ftp)://[a-zA-Z0-9.:\\[\\]@]{0,12}(/[a-zA-Z0-9.%~_-]{0,6}){0,4}[?#]?[a-z]{0,3}") {
            if let Some(normal) = normalized_uri(&uri) {
                proptest::prop_assert_eq!(normalized_uri(&normal), Some(normal));
            }
        }
    }

    #[test]
    fn thumbprint_syntax() {
        assert!(is_thumbprint(RFC_JKT));
        assert!(!is_thumbprint("short"));
        assert!(!is_thumbprint(&"*".repeat(43)));
    }
}
