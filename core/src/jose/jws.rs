//! JSON Web Signatures in the compact serialization (RFC 7515 7.1): the
//! server's signing keys (RS256, PS256, ES256, EdDSA), and the check of a
//! JWT against a client's registered keys.

use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{Map, Value};

use super::jwk::{canonical_thumbprint, KeyType, PublicKey};
use super::{b64_decode, b64_encode, install_crypto_provider, JoseError, JwkSet, Part};

/// The longest JWT accepted, in bytes: ID tokens and assertions are far
/// shorter, and the cap bounds the work an attacker can ask for.
pub const MAX_JWT_LEN: usize = 8 * 1024;

/// The signature algorithms accepted (RFC 7518 3.1, RFC 8037 3.1):
/// public-key ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 3.3).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 (RFC 7518 3.5).
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 3.4).
    ES256,
    /// EdDSA (RFC 8037 3.1), here on Ed25519 only.
    EdDSA,
}

impl SignatureAlg {
    /// Every algorithm verified here.
    pub const ALL: [SignatureAlg; 8] = [
        SignatureAlg::RS256,
        SignatureAlg::RS384,
        SignatureAlg::RS512,
        SignatureAlg::PS256,
        SignatureAlg::PS384,
        SignatureAlg::PS512,
        SignatureAlg::ES256,
        SignatureAlg::EdDSA,
    ];

    /// The algorithms the server signs with, RS256 (the default) first:
    /// the ones [`SigningKey::generate_for`] makes keys for.
    pub const SIGNING: [SignatureAlg; 4] = [
        SignatureAlg::RS256,
        SignatureAlg::PS256,
        SignatureAlg::ES256,
        SignatureAlg::EdDSA,
    ];

    /// Its `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlg::RS256 => "RS256",
            SignatureAlg::RS384 => "RS384",
            SignatureAlg::RS512 => "RS512",
            SignatureAlg::PS256 => "PS256",
            SignatureAlg::PS384 => "PS384",
            SignatureAlg::PS512 => "PS512",
            SignatureAlg::ES256 => "ES256",
            SignatureAlg::EdDSA => "EdDSA",
        }
    }

    /// The algorithm of this `alg` name (case-sensitive, RFC 7515 4.1.1).
    pub fn from_name(name: &str) -> Option<SignatureAlg> {
        SignatureAlg::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// Whether the server signs with it (one of [`SignatureAlg::SIGNING`]).
    pub fn signs(self) -> bool {
        SignatureAlg::SIGNING.contains(&self)
    }

    pub(super) fn key_type(self) -> KeyType {
        match self {
            SignatureAlg::ES256 => KeyType::EcP256,
            SignatureAlg::EdDSA => KeyType::Ed25519,
            _ => KeyType::Rsa,
        }
    }

    fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm;
        match self {
            SignatureAlg::RS256 => Algorithm::RS256,
            SignatureAlg::RS384 => Algorithm::RS384,
            SignatureAlg::RS512 => Algorithm::RS512,
            SignatureAlg::PS256 => Algorithm::PS256,
            SignatureAlg::PS384 => Algorithm::PS384,
            SignatureAlg::PS512 => Algorithm::PS512,
            SignatureAlg::ES256 => Algorithm::ES256,
            SignatureAlg::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl std::fmt::Display for SignatureAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The private half of a [`SigningKey`].
#[derive(Clone)]
enum Private {
    /// For RS256 and PS256.
    Rsa(Box<RsaPrivateKey>),
    /// For ES256.
    P256(p256::SecretKey),
    /// For EdDSA.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// One of the server's private keys, for signing ID tokens (and other
/// JWTs) with one algorithm of [`SignatureAlg::SIGNING`]. Its `Debug`
/// shows the algorithm and key id only.
#[derive(Clone)]
pub struct SigningKey {
    alg: SignatureAlg,
    private: Private,
    encoding: EncodingKey,
    /// The public key's members (`kty`, `crv`, `n`, `e`, `x`, `y`).
    public: Map<String, Value>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg.name())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new 2048-bit RS256 key from the operating system's random source.
    pub fn generate() -> SigningKey {
        SigningKey::generate_for(SignatureAlg::RS256)
            .expect("RS256 is an algorithm the server signs with")
    }

    /// A new key for `alg` from the operating system's random source: a
    /// 2048-bit RSA key for RS256 and PS256, a P-256 key for ES256, an
    /// Ed25519 key for EdDSA. Refuses an algorithm the server does not
    /// sign with.
    pub fn generate_for(alg: SignatureAlg) -> Result<SigningKey, JoseError> {
        // OsRng fails only when the OS has no entropy source at all; a
        // server that cannot make keys must not make guessable ones.
        let private = match alg {
            SignatureAlg::RS256 | SignatureAlg::PS256 => Private::Rsa(Box::new(
                RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect(
                    "generating an RSA key from the operating system's random source failed",
                ),
            )),
            SignatureAlg::ES256 => Private::P256(p256::SecretKey::random(&mut rand::rngs::OsRng)),
            SignatureAlg::EdDSA => Private::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(
                &mut rand::rngs::OsRng,
            ))),
            other => return Err(JoseError::NotSigningAlg(other.name().to_owned())),
        };
        SigningKey::from_private(alg, private)
    }

    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) RSA key of at
    /// least 2048 bits (RFC 7518 3.3) for RS256.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, JoseError> {
        SigningKey::from_pkcs8_pem_for(SignatureAlg::RS256, pem)
    }

    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) key for `alg`:
    /// RSA of at least 2048 bits for RS256 and PS256, P-256 for ES256,
    /// Ed25519 for EdDSA.
    pub fn from_pkcs8_pem_for(alg: SignatureAlg, pem: &str) -> Result<SigningKey, JoseError> {
        let private = match alg {
            SignatureAlg::RS256 | SignatureAlg::PS256 => Private::Rsa(Box::new(
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| JoseError::BadPrivateKeyPem(alg))?,
            )),
            SignatureAlg::ES256 => Private::P256(
                p256::SecretKey::from_pkcs8_pem(pem)
                    .map_err(|_| JoseError::BadPrivateKeyPem(alg))?,
            ),
            SignatureAlg::EdDSA => Private::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                    .map_err(|_| JoseError::BadPrivateKeyPem(alg))?,
            )),
            other => return Err(JoseError::NotSigningAlg(other.name().to_owned())),
        };
        SigningKey::from_private(alg, private)
    }

    fn from_private(alg: SignatureAlg, private: Private) -> Result<SigningKey, JoseError> {
        let bad = || JoseError::BadPrivateKeyPem(alg);
        let (encoding, members): (EncodingKey, Vec<(&'static str, String)>) = match &private {
            Private::Rsa(private) => {
                let bits = private.n().bits();
                if bits < 2048 {
                    return Err(JoseError::WeakSigningKey { bits });
                }
                let der = private.to_pkcs1_der().map_err(|_| bad())?;
                let n = b64_encode(&private.n().to_bytes_be());
                let e = b64_encode(&private.e().to_bytes_be());
                (
                    EncodingKey::from_rsa_der(der.as_bytes()),
                    vec![("e", e), ("kty", "RSA".to_owned()), ("n", n)],
                )
            }
            Private::P256(secret) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let der = secret.to_pkcs8_der().map_err(|_| bad())?;
                let point = secret.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(bad());
                };
                (
                    EncodingKey::from_ec_der(der.as_bytes()),
                    vec![
                        ("crv", "P-256".to_owned()),
                        ("kty", "EC".to_owned()),
                        ("x", b64_encode(x)),
                        ("y", b64_encode(y)),
                    ],
                )
            }
            Private::Ed25519(secret) => {
                let der = secret.to_pkcs8_der().map_err(|_| bad())?;
                let x = b64_encode(secret.verifying_key().as_bytes());
                (
                    EncodingKey::from_ed_der(der.as_bytes()),
                    vec![
                        ("crv", "Ed25519".to_owned()),
                        ("kty", "OKP".to_owned()),
                        ("x", x),
                    ],
                )
            }
        };
        let sorted: Vec<(&str, &str)> = members
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let kid = canonical_thumbprint(&sorted);
        let public = members
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect();
        Ok(SigningKey {
            alg,
            private,
            encoding,
            public,
            kid,
        })
    }

    /// The key as PKCS#8 PEM, for storing. It is the private key: keep it
    /// as secret as the key itself.
    pub fn to_pkcs8_pem(&self) -> String {
        const ENCODES: &str = "encoding a valid private key as PKCS#8 does not fail";
        match &self.private {
            Private::Rsa(private) => private.to_pkcs8_pem(LineEnding::LF).expect(ENCODES),
            Private::P256(secret) => secret.to_pkcs8_pem(LineEnding::LF).expect(ENCODES),
            Private::Ed25519(secret) => secret.to_pkcs8_pem(LineEnding::LF).expect(ENCODES),
        }
        .to_string()
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> SignatureAlg {
        self.alg
    }

    /// The key id: the RFC 7638 thumbprint of the public key, as
    /// [`thumbprint`](super::thumbprint) computes it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (RFC 7517 4; RFC 7518 6.2.1, 6.3.1; RFC
    /// 8037 2) for the server's JWK Set: `kty`, `use: sig`, `alg`, `kid`
    /// and the key's own members (`n`, `e`; `crv`, `x`, `y`; `crv`, `x`).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.public.clone();
        jwk.insert("use".to_owned(), "sig".into());
        jwk.insert("alg".to_owned(), self.alg.name().into());
        jwk.insert("kid".to_owned(), self.kid.clone().into());
        Value::Object(jwk)
    }

    /// Signs `claims` (a JWT claims set, RFC 7519 4: a JSON object) as a
    /// compact JWS with the header `{"alg":...,"typ":"JWT","kid":...}`,
    /// `alg` being this key's.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typed("JWT", claims)
    }

    /// Signs `claims` as [`SigningKey::sign`] does, with `typ` in the
    /// header (RFC 9068 2.1's `at+jwt` for an access token).
    pub fn sign_typed(&self, typ: &str, claims: &Value) -> String {
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'static str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = Header {
            alg: self.alg.name(),
            typ,
            kid: &self.kid,
        };
        let header = serde_json::to_vec(&header).expect("a header of three strings serializes");
        let signing_input = format!(
            "{}.{}",
            b64_encode(&header),
            b64_encode(claims.to_string().as_bytes())
        );
        install_crypto_provider();
        let signature = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &self.encoding,
            self.alg.jsonwebtoken(),
        )
        .expect("signing with a valid key of its own algorithm does not fail");
        format!("{signing_input}.{signature}")
    }
}

/// A JWT whose signature verified, and what its header said.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    /// The header's `alg` (RFC 7515 4.1.1).
    pub alg: SignatureAlg,
    /// The header's `kid` (4.1.4), if any.
    pub kid: Option<String>,
    /// The header's `typ` (4.1.9), if it is a string.
    pub typ: Option<String>,
    /// The claims set (RFC 7519 4). No claim has been checked yet: `exp`,
    /// `aud` and the rest are the caller's (see `rfc7523`).
    pub claims: Map<String, Value>,
}

/// The three parts of a compact JWS, split but not yet trusted.
struct Compact<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signing_input: &'a str,
}

fn split(jwt: &str) -> Result<Compact<'_>, JoseError> {
    if jwt.len() > MAX_JWT_LEN {
        return Err(JoseError::TooLarge { limit: MAX_JWT_LEN });
    }
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::NotCompact);
    };
    let signing_input = &jwt[..header.len() + 1 + payload.len()];
    Ok(Compact {
        header,
        payload,
        signature,
        signing_input,
    })
}

fn json_object(encoded: &str, part: Part) -> Result<Map<String, Value>, JoseError> {
    let bytes = b64_decode(encoded).ok_or(JoseError::NotBase64Url(part))?;
    serde_json::from_slice(&bytes).map_err(|_| JoseError::NotJsonObject(part))
}

/// An attacker's string, cut short before it goes into an error message.
fn echo(text: &str) -> String {
    text.chars().take(32).collect()
}

/// RFC 7515 5.2: checks a compact JWS against `keys` and returns its
/// header's `alg`, `kid`, `typ` and its claims. Refuses `alg: none`, HMAC
/// algorithms, unknown algorithms and `crit` extensions. A `kid` in the
/// header picks the key of that `kid` (or, when none has it, the keys
/// registered without a `kid` are tried); without one, every key fitting
/// the `alg` is tried. Keys or certificates named in the header itself (`jwk`, `jku`,
/// `x5c`, `x5u`) are never used. Checks no claim: that is for the caller.
pub fn verify(jwt: &str, keys: &JwkSet) -> Result<VerifiedJwt, JoseError> {
    let compact = split(jwt)?;
    let header = json_object(compact.header, Part::Header)?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        None => return Err(JoseError::MissingAlg),
        Some("none") => return Err(JoseError::AlgNone),
        Some(name) if name.starts_with("HS") => return Err(JoseError::SymmetricAlg(echo(name))),
        Some(name) => {
            SignatureAlg::from_name(name).ok_or_else(|| JoseError::UnsupportedAlg(echo(name)))?
        }
    };
    if header.contains_key("crit") {
        return Err(JoseError::CriticalExtension);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(JoseError::KidNotString),
    };
    let payload = b64_decode(compact.payload).ok_or(JoseError::NotBase64Url(Part::Payload))?;
    b64_decode(compact.signature).ok_or(JoseError::NotBase64Url(Part::Signature))?;

    let checks = |key: &PublicKey| {
        jsonwebtoken::crypto::verify(
            compact.signature,
            compact.signing_input.as_bytes(),
            &key.decoding,
            alg.jsonwebtoken(),
        )
        .unwrap_or(false)
    };
    install_crypto_provider();
    let named = kid
        .as_ref()
        .and_then(|kid| keys.keys().iter().find(|key| key.kid.as_ref() == Some(kid)));
    let verified = match (&kid, named) {
        (Some(kid), Some(key)) => {
            if !key.fits(alg) {
                return Err(JoseError::KeyDoesNotFitAlg {
                    kid: echo(kid),
                    alg: alg.name(),
                });
            }
            checks(key)
        }
        // A `kid` no key has may still name a key registered without one.
        (Some(kid), None) => {
            let mut fitting = keys
                .keys()
                .iter()
                .filter(|key| key.kid.is_none() && key.fits(alg))
                .peekable();
            if fitting.peek().is_none() {
                return Err(JoseError::UnknownKid(echo(kid)));
            }
            fitting.any(checks)
        }
        (None, _) => {
            let mut fitting = keys.keys().iter().filter(|key| key.fits(alg)).peekable();
            if fitting.peek().is_none() {
                return Err(JoseError::NoKeyForAlg(alg.name()));
            }
            fitting.any(checks)
        }
    };
    if !verified {
        return Err(JoseError::BadSignature);
    }
    let claims =
        serde_json::from_slice(&payload).map_err(|_| JoseError::NotJsonObject(Part::Payload))?;
    let typ = header.get("typ").and_then(Value::as_str).map(str::to_owned);
    Ok(VerifiedJwt {
        alg,
        kid,
        typ,
        claims,
    })
}

/// The claims of a compact JWS, **without checking its signature**: only
/// for finding out which keys to verify it with.
pub fn peek_claims(jwt: &str) -> Result<Map<String, Value>, JoseError> {
    let compact = split(jwt)?;
    json_object(compact.payload, Part::Payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::jwk_set;
    use proptest::prelude::*;
    use serde_json::json;
    use std::sync::OnceLock;

    /// One key for every test: RSA key generation is slow.
    pub(crate) fn test_key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(SigningKey::generate)
    }

    fn keys_of(key: &SigningKey) -> JwkSet {
        JwkSet::parse(&jwk_set(&[key.public_jwk()])).unwrap()
    }

    use super::super::examples::{a2_keys, a3_keys, A2_JWS, A3_JWS};

    #[test]
    fn the_rfc7515_a2_example_verifies() {
        let verified = verify(A2_JWS, &a2_keys()).unwrap();
        assert_eq!(verified.alg, SignatureAlg::RS256);
        assert_eq!(verified.kid, None);
        assert_eq!(verified.claims["iss"], "joe");
        assert_eq!(verified.claims["exp"], 1300819380);
        assert_eq!(verified.claims["http://example.com/is_root"], true);
    }

    #[test]
    fn the_rfc7515_a2_example_fails_with_one_signature_byte_changed() {
        let dot = A2_JWS.rfind('.').unwrap();
        let mut tampered = A2_JWS.to_owned();
        // 'c' -> 'd' changes the first signature byte and stays base64url.
        tampered.replace_range(dot + 1..dot + 2, "d");
        assert_eq!(verify(&tampered, &a2_keys()), Err(JoseError::BadSignature));
        let other = keys_of(test_key());
        assert_eq!(verify(A2_JWS, &other), Err(JoseError::BadSignature));
    }

    #[test]
    fn signed_tokens_verify_and_carry_the_kid() {
        let key = test_key();
        let claims = json!({"iss": "https://server.example", "sub": "alice", "aud": "c1"});
        let token = key.sign(&claims);
        let header = token.split('.').next().unwrap();
        assert_eq!(
            String::from_utf8(b64_decode(header).unwrap()).unwrap(),
            format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, key.kid())
        );
        let verified = verify(&token, &keys_of(key)).unwrap();
        assert_eq!(verified.kid.as_deref(), Some(key.kid()));
        assert_eq!(verified.typ.as_deref(), Some("JWT"));
        // Registered without its kid, the key is still found.
        let mut bare = key.public_jwk();
        bare.as_object_mut().unwrap().remove("kid");
        let kidless = JwkSet::parse(&jwk_set(&[bare])).unwrap();
        assert_eq!(
            verify(&token, &kidless).unwrap().kid.as_deref(),
            Some(key.kid())
        );
        assert_eq!(
            verify(&token, &a2_keys()),
            Err(JoseError::BadSignature),
            "a kid-less key that did not sign it"
        );
        assert_eq!(Value::Object(verified.claims), claims);
        assert_eq!(
            crate::jose::thumbprint(&key.public_jwk()).unwrap(),
            key.kid()
        );
    }

    #[test]
    fn keys_round_trip_through_pem_and_debug_hides_them() {
        let key = test_key();
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert!(verify(&again.sign(&json!({})), &keys_of(key)).is_ok());
        assert_eq!(
            SigningKey::from_pkcs8_pem("nope").unwrap_err(),
            JoseError::BadPrivateKeyPem(SignatureAlg::RS256)
        );
        let debug = format!("{key:?}");
        assert!(debug.contains(key.kid()), "{debug}");
        assert!(
            !debug.contains(&pem[28..60]) && debug.len() < 100,
            "{debug}"
        );
    }

    fn token(header: &Value, claims: &str, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            b64_encode(header.to_string().as_bytes()),
            b64_encode(claims.as_bytes()),
            signature
        )
    }

    #[test]
    fn bad_headers_and_shapes_are_refused_with_the_reason() {
        let keys = keys_of(test_key());
        let kid = test_key().kid();
        let v = |jwt: &str| verify(jwt, &keys).unwrap_err();
        assert_eq!(
            v(&"a".repeat(MAX_JWT_LEN + 1)),
            JoseError::TooLarge { limit: MAX_JWT_LEN }
        );
        assert_eq!(v("a.b"), JoseError::NotCompact);
        assert_eq!(v("a.b.c.d"), JoseError::NotCompact);
        assert_eq!(v("*.e30.AA"), JoseError::NotBase64Url(Part::Header));
        assert_eq!(v("e30=.e30.AA"), JoseError::NotBase64Url(Part::Header));
        assert_eq!(v("WzFd.e30.AA"), JoseError::NotJsonObject(Part::Header));
        assert_eq!(v(&token(&json!({}), "{}", "AA")), JoseError::MissingAlg);
        assert_eq!(
            v(&token(&json!({"alg": "none"}), "{}", "")),
            JoseError::AlgNone
        );
        assert_eq!(
            v(&token(&json!({"alg": "HS256"}), "{}", "AA")),
            JoseError::SymmetricAlg("HS256".into())
        );
        assert_eq!(
            v(&token(&json!({"alg": "ES512"}), "{}", "AA")),
            JoseError::UnsupportedAlg("ES512".into())
        );
        assert_eq!(
            v(&token(
                &json!({"alg": "RS256", "crit": ["exp"]}),
                "{}",
                "AA"
            )),
            JoseError::CriticalExtension
        );
        assert_eq!(
            v(&token(&json!({"alg": "RS256", "kid": 1}), "{}", "AA")),
            JoseError::KidNotString
        );
        assert_eq!(
            v(&token(&json!({"alg": "RS256", "kid": "other"}), "{}", "AA")),
            JoseError::UnknownKid("other".into())
        );
        assert_eq!(
            v(&token(&json!({"alg": "ES256", "kid": kid}), "{}", "AA")),
            JoseError::KeyDoesNotFitAlg {
                kid: kid[..32].to_owned(),
                alg: "ES256"
            }
        );
        assert_eq!(
            v(&token(&json!({"alg": "ES256"}), "{}", "AA")),
            JoseError::NoKeyForAlg("ES256")
        );
        assert_eq!(
            v(&token(&json!({"alg": "RS256"}), "{}", "A")),
            JoseError::NotBase64Url(Part::Signature)
        );
        assert_eq!(
            v(&token(&json!({"alg": "RS256"}), "{}", "AAAA")),
            JoseError::BadSignature
        );
    }

    /// RFC 7515 A.3: the ES256 example, checked with the published public key.
    #[test]
    fn the_rfc7515_a3_es256_example_verifies() {
        let (keys, jws) = (a3_keys(), A3_JWS);
        let verified = verify(jws, &keys).unwrap();
        assert_eq!(verified.alg, SignatureAlg::ES256);
        assert_eq!(verified.claims["iss"], "joe");
        assert_eq!(verify(A2_JWS, &keys), Err(JoseError::NoKeyForAlg("RS256")));
    }

    use super::super::examples::{rfc8037_keys, RFC8037_D, RFC8037_JWS, RFC8037_X};

    /// RFC 8037 A.4 and A.5: the Ed25519 example signs to the published
    /// JWS (Ed25519 is deterministic), which verifies with the A.2 public
    /// key; changed, it does not.
    #[test]
    fn the_rfc8037_eddsa_example_signs_and_verifies() {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use ed25519_dalek::Signer;
        let d: [u8; 32] = b64_decode(RFC8037_D).unwrap().try_into().unwrap();
        let private = ed25519_dalek::SigningKey::from_bytes(&d);
        let (input, signature) = RFC8037_JWS.rsplit_once('.').unwrap();
        assert_eq!(
            b64_encode(&private.sign(input.as_bytes()).to_bytes()),
            signature
        );
        // The payload is text, not a claims set: it is refused only after
        // its signature verified.
        assert_eq!(
            verify(RFC8037_JWS, &rfc8037_keys()),
            Err(JoseError::NotJsonObject(Part::Payload))
        );
        let tampered = RFC8037_JWS.replace(".hgyY", ".hgyZ");
        assert_eq!(
            verify(&tampered, &rfc8037_keys()),
            Err(JoseError::BadSignature)
        );
        assert_eq!(
            verify(A2_JWS, &rfc8037_keys()),
            Err(JoseError::NoKeyForAlg("RS256"))
        );
        // As the server's key: its kid is the A.3 thumbprint.
        let pem = private.to_pkcs8_pem(LineEnding::LF).unwrap();
        let key = SigningKey::from_pkcs8_pem_for(SignatureAlg::EdDSA, &pem).unwrap();
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(key.public_jwk()["x"], RFC8037_X);
        let token = key.sign(&json!({"sub": "alice"}));
        let verified = verify(&token, &rfc8037_keys()).unwrap();
        assert_eq!(verified.alg, SignatureAlg::EdDSA);
        assert_eq!(verified.claims["sub"], "alice");
    }

    /// Each algorithm the server signs with: a key made, kept as PKCS#8 PEM
    /// and read back, named by its thumbprint, published with its `alg`,
    /// signing tokens whose header names that `alg` and that verify.
    #[test]
    fn every_signing_alg_makes_keys_that_sign_and_verify() {
        for alg in SignatureAlg::SIGNING {
            let key = match alg {
                SignatureAlg::RS256 => test_key().clone(),
                _ => SigningKey::generate_for(alg).unwrap(),
            };
            assert_eq!(key.alg(), alg);
            let jwk = key.public_jwk();
            assert_eq!(jwk["alg"], alg.name(), "{jwk}");
            assert_eq!(jwk["use"], "sig", "{jwk}");
            assert_eq!(jwk["kid"], key.kid(), "{jwk}");
            assert!(jwk.get("d").is_none(), "{jwk}");
            assert_eq!(crate::jose::thumbprint(&jwk).unwrap(), key.kid());
            let pem = key.to_pkcs8_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
            let again = SigningKey::from_pkcs8_pem_for(alg, &pem).unwrap();
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.public_jwk(), jwk);

            let token = again.sign_typed("at+jwt", &json!({"sub": "alice"}));
            let header: Value =
                serde_json::from_slice(&b64_decode(token.split('.').next().unwrap()).unwrap())
                    .unwrap();
            assert_eq!(
                header,
                json!({"alg": alg.name(), "typ": "at+jwt", "kid": key.kid()})
            );
            let verified = verify(&token, &keys_of(&key)).unwrap();
            assert_eq!(verified.alg, alg);
            assert_eq!(verified.claims["sub"], "alice");
            // Another key of the same kind does not verify it.
            if alg != SignatureAlg::RS256 && alg != SignatureAlg::PS256 {
                let other = SigningKey::generate_for(alg).unwrap();
                let mut jwk = other.public_jwk();
                jwk["kid"] = key.kid().into();
                let impostor = JwkSet::parse(&jwk_set(&[jwk])).unwrap();
                assert_eq!(verify(&token, &impostor), Err(JoseError::BadSignature));
            }
            let debug = format!("{key:?}");
            assert!(debug.contains(alg.name()) && debug.len() < 120, "{debug}");
        }
    }

    #[test]
    fn keys_are_only_for_the_algorithm_they_were_made_for() {
        let ps = SigningKey::from_pkcs8_pem_for(SignatureAlg::PS256, &test_key().to_pkcs8_pem())
            .unwrap();
        assert_eq!(ps.alg(), SignatureAlg::PS256);
        assert_eq!(ps.kid(), test_key().kid(), "one RSA key, one thumbprint");
        // The RS256 JWK (its own alg RS256) does not check a PS256 token.
        let token = ps.sign(&json!({}));
        assert_eq!(
            verify(&token, &keys_of(test_key())),
            Err(JoseError::KeyDoesNotFitAlg {
                kid: test_key().kid()[..32].to_owned(),
                alg: "PS256"
            })
        );
        assert!(verify(&token, &keys_of(&ps)).is_ok());

        let ec = SigningKey::generate_for(SignatureAlg::ES256).unwrap();
        let ed = SigningKey::generate_for(SignatureAlg::EdDSA).unwrap();
        assert_eq!(
            SigningKey::from_pkcs8_pem_for(SignatureAlg::EdDSA, &ec.to_pkcs8_pem()).unwrap_err(),
            JoseError::BadPrivateKeyPem(SignatureAlg::EdDSA)
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem_for(SignatureAlg::ES256, &ed.to_pkcs8_pem()).unwrap_err(),
            JoseError::BadPrivateKeyPem(SignatureAlg::ES256)
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem_for(SignatureAlg::PS256, &ed.to_pkcs8_pem()).unwrap_err(),
            JoseError::BadPrivateKeyPem(SignatureAlg::PS256)
        );
        assert_eq!(
            SigningKey::generate_for(SignatureAlg::RS384).unwrap_err(),
            JoseError::NotSigningAlg("RS384".into())
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem_for(SignatureAlg::PS512, "x").unwrap_err(),
            JoseError::NotSigningAlg("PS512".into())
        );
        // An EdDSA token is not checked by an EC key, even one named by
        // its kid.
        let mut ec_jwk = ec.public_jwk();
        ec_jwk["kid"] = ed.kid().into();
        let ec_named = JwkSet::parse(&jwk_set(&[ec_jwk])).unwrap();
        assert_eq!(
            verify(&ed.sign(&json!({})), &ec_named),
            Err(JoseError::KeyDoesNotFitAlg {
                kid: ed.kid()[..32].to_owned(),
                alg: "EdDSA"
            })
        );
    }

    fn claim_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
            prop::collection::vec(".{0,8}", 0..4).prop_map(Value::from),
        ]
    }

    proptest! {
        #[test]
        fn verify_never_panics_on_any_string(jwt in ".{0,300}") {
            let _ = verify(&jwt, &a2_keys());
            let _ = peek_claims(&jwt);
        }

        #[test]
        fn verify_never_panics_on_three_base64url_parts(
            header in "[A-Za-z0-9_-]{0,60}",
            payload in "[A-Za-z0-9_-]{0,60}",
            signature in "[A-Za-z0-9_-]{0,400}",
            alg in prop::sample::select(vec!["RS256", "PS512", "ES256", "EdDSA", "none", "HS256", "x"]),
        ) {
            let _ = verify(&format!("{header}.{payload}.{signature}"), &a2_keys());
            let header = b64_encode(json!({"alg": alg}).to_string().as_bytes());
            let _ = verify(&format!("{header}.{payload}.{signature}"), &a2_keys());
            let _ = verify(&format!("{header}.{payload}.{signature}"), &rfc8037_keys());
        }

        #[test]
        fn signed_claims_round_trip(
            claims in prop::collection::btree_map("[a-z_]{1,10}", claim_value(), 0..8)
        ) {
            let claims: Map<String, Value> = claims.into_iter().collect();
            let key = test_key();
            let verified = verify(&key.sign(&Value::Object(claims.clone())), &keys_of(key)).unwrap();
            prop_assert_eq!(verified.claims, claims);
        }
    }
}
