//! JWT profile for OAuth 2.0 client authentication and authorization
//! grants (RFC 7523): the checks of a signed assertion's claims (section
//! 3), on top of [`crate::jose`]'s signature check. The caller supplies
//! the keys, the time, and the replay check of the returned `jti`.

use serde_json::{Map, Value};

use crate::jose::{self, JoseError, JwkSet};
use crate::store::{CredentialStore, Event, NonceKey, Precondition, StoreError, Verified};

/// `client_assertion_type` for JWT client authentication (RFC 7523 2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `grant_type` for a JWT used as an authorization grant (RFC 7523 2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The longest `jti` accepted, in bytes: the server stores it to refuse
/// replays (RFC 7523 3, item 7).
pub const MAX_JTI_LEN: usize = 256;

/// What an assertion must satisfy besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionRules {
    /// Values one of which `aud` must contain (RFC 7523 3, item 3): the
    /// token endpoint's URL and the server's issuer identifier.
    pub audiences: Vec<String>,
    /// The furthest in the future `exp` may be, in seconds from now: a
    /// long-lived assertion is a long-lived password.
    pub max_lifetime: u64,
    /// Allowed clock skew, in seconds, for `iat`, `nbf` and `max_lifetime`.
    pub leeway: u64,
}

impl AssertionRules {
    /// The longest lifetime [`AssertionRules::new`] allows.
    pub const MAX_LIFETIME: u64 = 300;
    /// The clock skew [`AssertionRules::new`] allows.
    pub const LEEWAY: u64 = 30;

    /// The rules for these audiences, with a 300 s lifetime and a 30 s leeway.
    pub fn new(audiences: Vec<String>) -> AssertionRules {
        AssertionRules {
            audiences,
            max_lifetime: Self::MAX_LIFETIME,
            leeway: Self::LEEWAY,
        }
    }
}

// A used `jti` is kept under its `exp`; a store rebuilding its nonces
// from the log's tail reads back as far as an `exp` can reach.
const _: () = assert!(
    AssertionRules::MAX_LIFETIME + AssertionRules::LEEWAY
        <= crate::store::projections::ASSERTION_REACH
);

/// An assertion whose signature and claims passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// `iss`: who made it.
    pub issuer: String,
    /// `sub`: whom it is about.
    pub subject: String,
    /// `jti`: its id, which the caller must remember until `exp` to refuse
    /// a replay.
    pub jti: String,
    /// `exp`, in seconds since the epoch.
    pub exp: u64,
}

/// Why an assertion was refused; each message can be an `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// The JWT is malformed or its signature does not verify.
    #[error("{0}")]
    Jws(#[from] JoseError),
    /// A required claim is absent (RFC 7523 3).
    #[error("the assertion has no \"{0}\" claim (RFC 7523 3)")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (RFC 7519 4.1).
    #[error("the assertion's \"{0}\" claim has the wrong type (RFC 7519 4.1)")]
    ClaimType(&'static str),
    /// `iss` is not the client id (RFC 7523 3, item 1; 2.2).
    #[error("the assertion's \"iss\" is not the client's id (RFC 7523 3)")]
    WrongIssuer,
    /// `sub` is not the client id (RFC 7523 3, item 2.B; 2.2).
    #[error("the assertion's \"sub\" is not the client's id (RFC 7523 3)")]
    WrongSubject,
    /// `sub` is an empty string (RFC 7523 3, item 2).
    #[error("the assertion's \"sub\" is empty (RFC 7523 3)")]
    EmptySubject,
    /// `aud` names neither the token endpoint nor the issuer (RFC 7523 3, item 3).
    #[error("the assertion's \"aud\" does not name this server (RFC 7523 3)")]
    WrongAudience,
    /// `exp` has passed (RFC 7523 3, item 4).
    #[error("the assertion expired (RFC 7523 3)")]
    Expired,
    /// `exp` is further in the future than the server accepts.
    #[error("the assertion's \"exp\" is more than {max_lifetime} s away")]
    TooLongLived {
        /// The longest lifetime accepted, in seconds.
        max_lifetime: u64,
    },
    /// `nbf` is in the future (RFC 7523 3, item 5).
    #[error("the assertion is not valid yet (\"nbf\", RFC 7523 3)")]
    NotYetValid,
    /// `iat` is in the future (RFC 7523 3, item 6).
    #[error("the assertion's \"iat\" is in the future (RFC 7523 3)")]
    IssuedInFuture,
    /// `jti` is absent or empty (RFC 7523 3, item 7; required here to
    /// refuse replays).
    #[error("the assertion has no \"jti\" (RFC 7523 3)")]
    MissingJti,
    /// `jti` is longer than [`MAX_JTI_LEN`] bytes.
    #[error("the assertion's \"jti\" is longer than {MAX_JTI_LEN} bytes")]
    JtiTooLong,
}

/// Why a `client_assertion` did not authenticate its client (RFC 7523
/// 2.2, 3); each message can be an `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAssertionError {
    /// The assertion itself broke a rule.
    #[error(transparent)]
    Invalid(#[from] AssertionError),
    /// The client registered no keys to check it with.
    #[error("the client registered no keys")]
    NoKeys,
    /// Its `jti` was used before (RFC 7523 3, item 7).
    #[error("the assertion's jti was used before (RFC 7523 3)")]
    JtiReused,
}

/// Why a JWT bearer grant's `assertion` was traded for nothing (RFC 7523
/// 2.1, 3.1); each message can be an `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantAssertionError {
    /// The assertion itself broke a rule.
    #[error(transparent)]
    Invalid(#[from] AssertionError),
    /// The client registered no keys (`jwks`) to check it with.
    #[error("the client registered no keys (jwks)")]
    NoKeys,
    /// Its `iss` is not the authenticated client (RFC 7523 3, item 1).
    #[error("its iss must be the client's id (RFC 7523 3)")]
    IssuerNotClient,
    /// Its `jti` was used before (RFC 7523 3, item 7).
    #[error("its jti was used before (RFC 7523 3)")]
    JtiReused,
    /// Its `sub` is neither the client nor a user whose grant to the
    /// client is live (CONTRACT.md "OAuth 2.0").
    #[error("its sub is neither the client nor a user whose grant to it is live")]
    NoLiveGrant,
    /// The grant the token would rest on ended before it was issued.
    #[error("the grant it rests on ended meanwhile")]
    GrantEnded,
}

/// The keys `client_id` registered (RFC 7591 `jwks`), if it did. Keys
/// that no longer parse (registered by an older, laxer server) read as
/// none.
pub async fn client_keys(
    store: &dyn CredentialStore,
    client_id: &str,
) -> Result<Option<JwkSet>, StoreError> {
    Ok(store
        .client_keys(client_id)
        .await?
        .and_then(|text| JwkSet::parse_str(&text).ok()))
}

/// RFC 7523 3, item 7: an assertion's `jti` is used once. Its use is kept
/// as a nonce of `client_id`'s (with `kind`, the assertion type or grant,
/// in the token's place, and `exp` as its timestamp), so the same atomic
/// precondition that refuses a replayed OAuth 1 nonce refuses a replayed
/// assertion, and it is forgotten once `exp` is behind the window. The
/// precondition and the event to append together.
pub fn jti_use(client_id: &str, kind: &str, assertion: &Assertion) -> (Precondition, Event) {
    let verified = Verified {
        client_id: client_id.to_owned(),
        token: Some(kind.to_owned()),
        timestamp: assertion.exp,
        nonce: assertion.jti.clone(),
    };
    (
        Precondition::NonceUnused(NonceKey::from(&verified)),
        Event::Verified(verified),
    )
}

/// RFC 7523 2.2 and 3: checks a `client_assertion` from `client_id`:
/// signed by one of its `keys`, `iss` and `sub` both the client id.
pub fn check_client_assertion(
    assertion: &str,
    client_id: &str,
    keys: &JwkSet,
    rules: &AssertionRules,
    now: u64,
) -> Result<Assertion, AssertionError> {
    let checked = check(assertion, keys, rules, now)?;
    if checked.issuer != client_id {
        return Err(AssertionError::WrongIssuer);
    }
    if checked.subject != client_id {
        return Err(AssertionError::WrongSubject);
    }
    Ok(checked)
}

/// RFC 7523 2.1 and 3: checks an `assertion` presented as a JWT bearer
/// grant. `sub` may be any non-empty string; the caller decides whether
/// it names a user who authorized the client or the client itself, and
/// compares the returned `issuer` with the client.
pub fn check_grant_assertion(
    assertion: &str,
    keys: &JwkSet,
    rules: &AssertionRules,
    now: u64,
) -> Result<Assertion, AssertionError> {
    check(assertion, keys, rules, now)
}

/// The `iss` claim of an assertion, **unverified**: only for finding
/// whose keys to check the signature with. Trust nothing else about it.
pub fn peek_issuer(assertion: &str) -> Result<String, AssertionError> {
    let claims = jose::peek_claims(assertion)?;
    Ok(required_str(&claims, "iss")?.to_owned())
}

fn check(
    assertion: &str,
    keys: &JwkSet,
    rules: &AssertionRules,
    now: u64,
) -> Result<Assertion, AssertionError> {
    let claims = jose::verify(assertion, keys)?.claims;
    let issuer = required_str(&claims, "iss")?;
    let subject = required_str(&claims, "sub")?;
    if subject.is_empty() {
        return Err(AssertionError::EmptySubject);
    }
    check_audience(&claims, &rules.audiences)?;
    let exp = numeric_date(&claims, "exp")?.ok_or(AssertionError::MissingClaim("exp"))?;
    if exp <= now {
        return Err(AssertionError::Expired);
    }
    let latest = now.saturating_add(rules.leeway);
    if exp > latest.saturating_add(rules.max_lifetime) {
        return Err(AssertionError::TooLongLived {
            max_lifetime: rules.max_lifetime,
        });
    }
    if numeric_date(&claims, "nbf")?.is_some_and(|nbf| nbf > latest) {
        return Err(AssertionError::NotYetValid);
    }
    if numeric_date(&claims, "iat")?.is_some_and(|iat| iat > latest) {
        return Err(AssertionError::IssuedInFuture);
    }
    let jti = match claims.get("jti") {
        None => return Err(AssertionError::MissingJti),
        Some(Value::String(jti)) if jti.is_empty() => return Err(AssertionError::MissingJti),
        Some(Value::String(jti)) if jti.len() > MAX_JTI_LEN => {
            return Err(AssertionError::JtiTooLong)
        }
        Some(Value::String(jti)) => jti.clone(),
        Some(_) => return Err(AssertionError::ClaimType("jti")),
    };
    Ok(Assertion {
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        jti,
        exp,
    })
}

fn required_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, AssertionError> {
    match claims.get(name) {
        None => Err(AssertionError::MissingClaim(name)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(AssertionError::ClaimType(name)),
    }
}

/// RFC 7519 4.1.3: `aud` is one string or an array of strings.
fn check_audience(claims: &Map<String, Value>, audiences: &[String]) -> Result<(), AssertionError> {
    let named = |aud: &str| audiences.iter().any(|ours| ours == aud);
    let ok = match claims.get("aud") {
        None => return Err(AssertionError::MissingClaim("aud")),
        Some(Value::String(aud)) => named(aud),
        Some(Value::Array(auds)) => {
            if !auds.iter().all(Value::is_string) {
                return Err(AssertionError::ClaimType("aud"));
            }
            auds.iter().filter_map(Value::as_str).any(named)
        }
        Some(_) => return Err(AssertionError::ClaimType("aud")),
    };
    if ok {
        Ok(())
    } else {
        Err(AssertionError::WrongAudience)
    }
}

/// RFC 7519 2 NumericDate: seconds since the epoch, possibly fractional
/// (the fraction is dropped). Negative or non-numeric values are refused.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, AssertionError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => match (number.as_u64(), number.as_f64()) {
            (Some(seconds), _) => Ok(Some(seconds)),
            (None, Some(seconds)) if seconds.is_finite() && seconds >= 0.0 => {
                // Saturating float-to-int conversion: never panics.
                Ok(Some(seconds as u64))
            }
            _ => Err(AssertionError::ClaimType(name)),
        },
        Some(_) => Err(AssertionError::ClaimType(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{jwk_set, SigningKey};
    use serde_json::json;
    use std::sync::OnceLock;

    /// RFC 7515 A.2's JWS through the checks that serve assertions, at a
    /// clock just before its `exp` (1300819380): its signature verifies
    /// with A.2's key, its claims are read as the RFC prints them (`iss`
    /// "joe"), and it is refused for the first claim RFC 7523 needs that
    /// it lacks; with any other key, for its signature.
    #[test]
    fn the_rfc7515_a2_jws_reaches_the_claim_checks() {
        use crate::jose::examples::{a2_keys, A2_JWS};
        let before_exp = 1_300_819_370;
        assert_eq!(peek_issuer(A2_JWS).unwrap(), "joe");
        assert_eq!(
            check_grant_assertion(A2_JWS, &a2_keys(), &rules(), before_exp),
            Err(AssertionError::MissingClaim("sub"))
        );
        assert_eq!(
            check_grant_assertion(A2_JWS, &client_keys(), &rules(), before_exp),
            Err(AssertionError::Jws(JoseError::BadSignature))
        );
    }

    const NOW: u64 = 1_700_000_000;
    const CLIENT: &str = "s6BhdRkqt3";
    /// RFC 7523 2.1's example token endpoint.
    const TOKEN_ENDPOINT: &str = "https://as.example.com/token.oauth2";

    fn keys() -> &'static [SigningKey; 2] {
        static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
        KEYS.get_or_init(|| [SigningKey::generate(), SigningKey::generate()])
    }

    fn client_keys() -> JwkSet {
        JwkSet::parse(&jwk_set(&[keys()[0].public_jwk()])).unwrap()
    }

    fn rules() -> AssertionRules {
        AssertionRules::new(vec![TOKEN_ENDPOINT.into(), "https://as.example.com".into()])
    }

    /// The claims RFC 7523 3 asks of a client assertion (2.2): `iss` and
    /// `sub` the client id, `aud` the token endpoint, `exp`, `jti`.
    fn claims() -> Value {
        json!({
            "iss": CLIENT,
            "sub": CLIENT,
            "aud": TOKEN_ENDPOINT,
            "exp": NOW + 60,
            "iat": NOW,
            "jti": "id-1",
        })
    }

    fn with(changes: Value) -> Value {
        let mut claims = claims();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    fn client(claims: &Value) -> Result<Assertion, AssertionError> {
        let jwt = keys()[0].sign(claims);
        check_client_assertion(&jwt, CLIENT, &client_keys(), &rules(), NOW)
    }

    #[test]
    fn a_good_client_assertion_passes() {
        let assertion = client(&claims()).unwrap();
        assert_eq!(
            assertion,
            Assertion {
                issuer: CLIENT.into(),
                subject: CLIENT.into(),
                jti: "id-1".into(),
                exp: NOW + 60
            }
        );
        let array = with(json!({"aud": ["https://rs.example", "https://as.example.com"]}));
        assert!(client(&array).is_ok());
        assert!(client(&with(json!({"nbf": NOW + 30, "iat": NOW + 30}))).is_ok());
        assert!(client(&with(json!({"exp": NOW as f64 + 60.5}))).is_ok());
    }

    #[test]
    fn each_broken_rule_has_its_own_error() {
        let err = |changes: Value| client(&with(changes)).unwrap_err();
        assert_eq!(err(json!({"exp": NOW})), AssertionError::Expired);
        assert_eq!(err(json!({"exp": NOW - 1000})), AssertionError::Expired);
        assert_eq!(
            err(json!({"exp": NOW + 331})),
            AssertionError::TooLongLived { max_lifetime: 300 }
        );
        assert_eq!(
            err(json!({"exp": null})),
            AssertionError::MissingClaim("exp")
        );
        assert_eq!(
            err(json!({"exp": "soon"})),
            AssertionError::ClaimType("exp")
        );
        assert_eq!(err(json!({"exp": -5})), AssertionError::ClaimType("exp"));
        assert_eq!(
            err(json!({"aud": "https://other.example"})),
            AssertionError::WrongAudience
        );
        assert_eq!(err(json!({"aud": []})), AssertionError::WrongAudience);
        assert_eq!(
            err(json!({"aud": [TOKEN_ENDPOINT, 1]})),
            AssertionError::ClaimType("aud")
        );
        assert_eq!(
            err(json!({"aud": null})),
            AssertionError::MissingClaim("aud")
        );
        assert_eq!(
            err(json!({"iss": "someone-else"})),
            AssertionError::WrongIssuer
        );
        assert_eq!(
            err(json!({"iss": null})),
            AssertionError::MissingClaim("iss")
        );
        assert_eq!(
            err(json!({"sub": "someone-else"})),
            AssertionError::WrongSubject
        );
        assert_eq!(err(json!({"nbf": NOW + 31})), AssertionError::NotYetValid);
        assert_eq!(
            err(json!({"iat": NOW + 31})),
            AssertionError::IssuedInFuture
        );
        assert_eq!(err(json!({"jti": null})), AssertionError::MissingJti);
        assert_eq!(err(json!({"jti": ""})), AssertionError::MissingJti);
        assert_eq!(err(json!({"jti": 7})), AssertionError::ClaimType("jti"));
        assert_eq!(
            err(json!({"jti": "x".repeat(257)})),
            AssertionError::JtiTooLong
        );
        assert!(client(&with(json!({"jti": "x".repeat(256)}))).is_ok());
    }

    #[test]
    fn an_assertion_signed_by_another_key_is_refused() {
        let jwt = keys()[1].sign(&claims());
        assert_eq!(
            check_client_assertion(&jwt, CLIENT, &client_keys(), &rules(), NOW),
            Err(AssertionError::Jws(JoseError::UnknownKid(
                keys()[1].kid()[..32].to_owned()
            )))
        );
        // Without a kid every RS256 key is tried, and none verifies a
        // signature the other key made.
        let payload = jwt.split('.').nth(1).unwrap();
        let signature = jwt.rsplit('.').next().unwrap();
        let no_kid = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.{signature}");
        assert_eq!(
            check_client_assertion(&no_kid, CLIENT, &client_keys(), &rules(), NOW),
            Err(AssertionError::Jws(JoseError::BadSignature))
        );
        assert!(matches!(
            check_client_assertion("not a jwt", CLIENT, &client_keys(), &rules(), NOW),
            Err(AssertionError::Jws(JoseError::NotCompact))
        ));
    }

    #[test]
    fn a_grant_assertion_may_name_a_user() {
        // RFC 7523 2.1: the assertion's subject is the resource owner the
        // client acts for; the issuer is the client (or a trusted party).
        let grant = with(json!({"sub": "mike@example.com"}));
        let jwt = keys()[0].sign(&grant);
        let assertion = check_grant_assertion(&jwt, &client_keys(), &rules(), NOW).unwrap();
        assert_eq!(assertion.issuer, CLIENT);
        assert_eq!(assertion.subject, "mike@example.com");
        let empty = keys()[0].sign(&with(json!({"sub": ""})));
        assert_eq!(
            check_grant_assertion(&empty, &client_keys(), &rules(), NOW),
            Err(AssertionError::EmptySubject)
        );
        let expired = keys()[0].sign(&with(json!({"exp": NOW - 1})));
        assert_eq!(
            check_grant_assertion(&expired, &client_keys(), &rules(), NOW),
            Err(AssertionError::Expired)
        );
    }

    #[test]
    fn the_issuer_can_be_read_before_verifying() {
        let jwt = keys()[1].sign(&claims());
        assert_eq!(peek_issuer(&jwt).unwrap(), CLIENT);
        let no_iss = keys()[1].sign(&with(json!({"iss": null})));
        assert_eq!(
            peek_issuer(&no_iss),
            Err(AssertionError::MissingClaim("iss"))
        );
        assert_eq!(
            peek_issuer("a.b"),
            Err(AssertionError::Jws(JoseError::NotCompact))
        );
    }

    #[test]
    fn the_constants_are_the_registered_urns() {
        assert_eq!(
            CLIENT_ASSERTION_TYPE,
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert_eq!(
            JWT_BEARER_GRANT,
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        );
    }
}
