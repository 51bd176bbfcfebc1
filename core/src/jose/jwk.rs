//! JSON Web Keys (RFC 7517; RFC 8037 for Ed25519's `OKP` keys): the public
//! keys a client registers, and the JWK thumbprint (RFC 7638) that names a
//! key.

use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jws::SignatureAlg;
use super::{b64_decode, b64_encode, install_crypto_provider, JoseError};

/// The most keys a registered JWK Set may hold: each key without a `kid`
/// may cost one signature check per JWT.
pub const MAX_KEYS: usize = 10;

/// The longest JWK Set accepted as text, in bytes.
pub const MAX_JWK_SET_LEN: usize = 64 * 1024;

/// Members that only a private or secret key has (RFC 7518 6.2.2, 6.3.2,
/// 6.4.1; RFC 8037 2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The shape of a key, which decides the algorithms it can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyType {
    /// `kty: RSA` (RFC 7518 6.3).
    Rsa,
    /// `kty: EC` on `crv: P-256` (RFC 7518 6.2).
    EcP256,
    /// `kty: OKP` on `crv: Ed25519` (RFC 8037 2).
    Ed25519,
}

/// One verified-usable public key of a [`JwkSet`].
#[derive(Debug, Clone)]
pub(super) struct PublicKey {
    /// `kid` (RFC 7517 4.5).
    pub(super) kid: Option<String>,
    /// The key's own `alg` (RFC 7517 4.4), when it names one.
    pub(super) alg: Option<SignatureAlg>,
    /// Its shape.
    pub(super) key_type: KeyType,
    /// False when `use` (4.2) or `key_ops` (4.3) says it is not for
    /// checking signatures.
    pub(super) verifies: bool,
    /// The key as `jsonwebtoken` takes it.
    pub(super) decoding: DecodingKey,
}

impl PublicKey {
    /// Whether this key may check a signature made with `alg`.
    pub(super) fn fits(&self, alg: SignatureAlg) -> bool {
        self.verifies && alg.key_type() == self.key_type && self.alg.is_none_or(|own| own == alg)
    }
}

/// A client's registered public keys (RFC 7517 5), checked once at
/// registration: public RSA (2048 to 4096 bits), P-256 and Ed25519 keys
/// only.
#[derive(Debug, Clone)]
pub struct JwkSet {
    keys: Vec<PublicKey>,
}

impl JwkSet {
    /// Reads a JWK Set (RFC 7517 5). Refuses an empty set, more than
    /// [`MAX_KEYS`] keys, a key without `kty`, any private or secret key
    /// material, key types other than RSA, EC P-256 and OKP Ed25519, RSA
    /// keys under
    /// 2048 bits, and two keys with one `kid`.
    pub fn parse(set: &Value) -> Result<JwkSet, JoseError> {
        let keys = set
            .as_object()
            .and_then(|set| set.get("keys"))
            .and_then(Value::as_array)
            .ok_or(JoseError::NotJwkSet)?;
        if keys.is_empty() {
            return Err(JoseError::EmptyKeySet);
        }
        if keys.len() > MAX_KEYS {
            return Err(JoseError::TooManyKeys {
                count: keys.len(),
                limit: MAX_KEYS,
            });
        }
        let mut parsed: Vec<PublicKey> = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let key = parse_key(index, key)?;
            if let Some(kid) = &key.kid {
                if parsed.iter().any(|other| other.kid.as_ref() == Some(kid)) {
                    return Err(JoseError::DuplicateKid(kid.clone()));
                }
            }
            parsed.push(key);
        }
        Ok(JwkSet { keys: parsed })
    }

    /// Reads a JWK Set from its JSON text, at most [`MAX_JWK_SET_LEN`] bytes.
    pub fn parse_str(text: &str) -> Result<JwkSet, JoseError> {
        if text.len() > MAX_JWK_SET_LEN {
            return Err(JoseError::JwkSetTooLarge {
                limit: MAX_JWK_SET_LEN,
            });
        }
        let value: Value = serde_json::from_str(text).map_err(|_| JoseError::JwkSetNotJson)?;
        JwkSet::parse(&value)
    }

    pub(super) fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// A JWK Set document `{"keys": [...]}` (RFC 7517 5), e.g. for the
/// server's `jwks_uri`.
pub fn jwk_set(keys: &[Value]) -> Value {
    serde_json::json!({ "keys": keys })
}

/// The JWK thumbprint (RFC 7638 3): base64url of the SHA-256 of the key's
/// required members, sorted, as compact JSON. For `RSA` keys `e`, `kty`,
/// `n`; for `EC` keys `crv`, `kty`, `x`, `y`; for `OKP` keys `crv`, `kty`,
/// `x` (RFC 8037 2). Other members are ignored.
pub fn thumbprint(jwk: &Value) -> Result<String, JoseError> {
    let member = |name: &'static str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or(JoseError::ThumbprintMember(name))
    };
    let kty = member("kty")?;
    let required: &[&'static str] = match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        other => return Err(JoseError::ThumbprintKeyType(other.to_owned())),
    };
    let mut members = Vec::with_capacity(required.len());
    for &name in required {
        members.push((name, member(name)?));
    }
    Ok(canonical_thumbprint(&members))
}

/// RFC 7638 3.2-3.3 over members already in lexicographic order.
pub(super) fn canonical_thumbprint(members: &[(&str, &str)]) -> String {
    let mut canonical = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // Value's Display writes a JSON string with RFC 8259 escaping.
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(*value).to_string());
    }
    canonical.push('}');
    b64_encode(&Sha256::digest(canonical.as_bytes()))
}

fn parse_key(index: usize, key: &Value) -> Result<PublicKey, JoseError> {
    let key = key.as_object().ok_or(JoseError::KeyNotObject { index })?;
    let kty = key
        .get("kty")
        .and_then(Value::as_str)
        .ok_or(JoseError::MissingKty { index })?;
    if let Some(&member) = PRIVATE_MEMBERS.iter().find(|m| key.contains_key(**m)) {
        return Err(JoseError::PrivateKey { index, member });
    }
    let kid = optional_str(key, index, "kid")?.map(str::to_owned);
    let alg = match optional_str(key, index, "alg")? {
        None => None,
        Some(name) => {
            Some(
                SignatureAlg::from_name(name).ok_or_else(|| JoseError::UnsupportedKeyAlg {
                    index,
                    alg: name.to_owned(),
                })?,
            )
        }
    };
    let (key_type, decoding) = match kty {
        "RSA" => (KeyType::Rsa, rsa_key(index, key)?),
        "EC" => (KeyType::EcP256, ec_key(index, key)?),
        "OKP" => (KeyType::Ed25519, okp_key(index, key)?),
        other => {
            return Err(JoseError::UnsupportedKeyType {
                index,
                kty: other.to_owned(),
            })
        }
    };
    if let Some(alg) = alg.filter(|alg| alg.key_type() != key_type) {
        return Err(JoseError::UnsupportedKeyAlg {
            index,
            alg: alg.name().to_owned(),
        });
    }
    Ok(PublicKey {
        kid,
        alg,
        key_type,
        verifies: verifies(index, key)?,
        decoding,
    })
}

/// RFC 7517 4.2 and 4.3: whether the key is meant for checking signatures.
fn verifies(index: usize, key: &Map<String, Value>) -> Result<bool, JoseError> {
    let for_signatures = optional_str(key, index, "use")?.is_none_or(|use_| use_ == "sig");
    let ops_allow = match key.get("key_ops") {
        None => true,
        Some(ops) => {
            let ops = ops
                .as_array()
                .filter(|ops| ops.iter().all(Value::is_string))
                .ok_or(JoseError::BadKeyMember {
                    index,
                    member: "key_ops",
                })?;
            ops.iter().any(|op| op == "verify")
        }
    };
    Ok(for_signatures && ops_allow)
}

fn optional_str<'a>(
    key: &'a Map<String, Value>,
    index: usize,
    member: &'static str,
) -> Result<Option<&'a str>, JoseError> {
    match key.get(member) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(JoseError::BadKeyMember { index, member }),
    }
}

fn base64_member(
    key: &Map<String, Value>,
    index: usize,
    member: &'static str,
) -> Result<Vec<u8>, JoseError> {
    key.get(member)
        .and_then(Value::as_str)
        .and_then(b64_decode)
        .filter(|bytes| !bytes.is_empty())
        .ok_or(JoseError::BadKeyMember { index, member })
}

/// RFC 7518 6.3.1: `n` and `e`, at least 2048 bits (3.3).
fn rsa_key(index: usize, key: &Map<String, Value>) -> Result<DecodingKey, JoseError> {
    let n = base64_member(key, index, "n")?;
    let e = base64_member(key, index, "e")?;
    let significant = &n[n.iter().take_while(|&&b| b == 0).count()..];
    let bits = match significant.first() {
        None => 0,
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
    };
    if bits < 2048 {
        return Err(JoseError::WeakRsaKey { index, bits });
    }
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .map_err(|_| JoseError::InvalidRsaKey { index })?;
    Ok(DecodingKey::from_rsa_raw_components(&n, &e))
}

/// RFC 7518 6.2.1: `crv` P-256 and the 32-byte coordinates `x` and `y` of
/// a point on the curve.
fn ec_key(index: usize, key: &Map<String, Value>) -> Result<DecodingKey, JoseError> {
    if key.get("crv").and_then(Value::as_str) != Some("P-256") {
        return Err(JoseError::InvalidEcKey { index });
    }
    let x = base64_member(key, index, "x")?;
    let y = base64_member(key, index, "y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(JoseError::InvalidEcKey { index });
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let decoding = DecodingKey::from_ec_der(&point);
    // Building a verifier parses the point; an empty signature then
    // simply fails to verify. An error means the point is not on P-256.
    install_crypto_provider();
    jsonwebtoken::crypto::verify("", b"", &decoding, jsonwebtoken::Algorithm::ES256)
        .map_err(|_| JoseError::InvalidEcKey { index })?;
    Ok(decoding)
}

/// RFC 8037 2: `crv` Ed25519 and the 32-byte public key `x`, which must
/// decode to a point of the curve that is not of small order (a weak key,
/// for which signatures prove nothing).
fn okp_key(index: usize, key: &Map<String, Value>) -> Result<DecodingKey, JoseError> {
    if key.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return Err(JoseError::InvalidOkpKey { index });
    }
    let x = base64_member(key, index, "x")?;
    let x: [u8; 32] = x
        .as_slice()
        .try_into()
        .map_err(|_| JoseError::InvalidOkpKey { index })?;
    let point = ed25519_dalek::VerifyingKey::from_bytes(&x)
        .map_err(|_| JoseError::InvalidOkpKey { index })?;
    if point.is_weak() {
        return Err(JoseError::InvalidOkpKey { index });
    }
    // Exactly 32 bytes: `jsonwebtoken`'s verifier reads the first 32.
    Ok(DecodingKey::from_ed_der(&x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 3.1: the example RSA key's modulus.
    pub(crate) const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn the_rfc7638_example_thumbprint() {
        let jwk =
            json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(
            thumbprint(&json!({"n": RFC7638_N})),
            Err(JoseError::ThumbprintMember("kty"))
        );
        assert_eq!(
            thumbprint(&json!({"kty": "RSA", "n": RFC7638_N})),
            Err(JoseError::ThumbprintMember("e"))
        );
        assert_eq!(
            thumbprint(&json!({"kty": "oct", "k": "AA"})),
            Err(JoseError::ThumbprintKeyType("oct".into()))
        );
    }

    fn rsa(extra: Value) -> Value {
        let mut jwk = json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"});
        if let (Some(jwk), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
            jwk.extend(extra.clone());
        }
        jwk
    }

    use crate::jose::examples::{RFC8037_D, RFC8037_X};

    /// RFC 8037 A.3: the thumbprint of the A.2 public key.
    #[test]
    fn the_rfc8037_a3_okp_thumbprint() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X});
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        assert_eq!(
            thumbprint(&json!({"kty": "OKP", "x": RFC8037_X})),
            Err(JoseError::ThumbprintMember("crv"))
        );
        let set = JwkSet::parse(&jwk_set(&[jwk])).unwrap();
        assert!(set.keys()[0].fits(SignatureAlg::EdDSA));
        assert!(!set.keys()[0].fits(SignatureAlg::ES256));
        assert!(!set.keys()[0].fits(SignatureAlg::RS256));
    }

    #[test]
    fn a_public_rsa_key_set_parses() {
        let set = JwkSet::parse(&jwk_set(&[rsa(
            json!({"kid": "a", "use": "sig", "alg": "RS256"}),
        )]))
        .unwrap();
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.keys()[0].kid.as_deref(), Some("a"));
        assert!(set.keys()[0].fits(SignatureAlg::RS256));
        assert!(!set.keys()[0].fits(SignatureAlg::PS256));
        assert!(!set.keys()[0].fits(SignatureAlg::ES256));
        let enc = JwkSet::parse(&jwk_set(&[rsa(json!({"use": "enc"}))])).unwrap();
        assert!(!enc.keys()[0].fits(SignatureAlg::RS256));
    }

    #[test]
    fn bad_key_sets_are_refused_with_the_reason() {
        let parse = |v: Value| JwkSet::parse(&v).unwrap_err();
        assert_eq!(parse(json!([])), JoseError::NotJwkSet);
        assert_eq!(parse(json!({"keys": []})), JoseError::EmptyKeySet);
        assert_eq!(
            parse(jwk_set(&vec![rsa(json!({})); 11])),
            JoseError::TooManyKeys {
                count: 11,
                limit: 10
            }
        );
        assert_eq!(
            parse(json!({"keys": [1]})),
            JoseError::KeyNotObject { index: 0 }
        );
        assert_eq!(
            parse(json!({"keys": [{"n": "AQAB"}]})),
            JoseError::MissingKty { index: 0 }
        );
        assert_eq!(
            parse(jwk_set(&[rsa(json!({})), rsa(json!({"d": "AQAB"}))])),
            JoseError::PrivateKey {
                index: 1,
                member: "d"
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
            JoseError::PrivateKey {
                index: 0,
                member: "k"
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AQAB"}]})),
            JoseError::InvalidOkpKey { index: 0 }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "OKP", "crv": "X25519", "x": RFC8037_X}]})),
            JoseError::InvalidOkpKey { index: 0 }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "OKP", "crv": "Ed25519"}]})),
            JoseError::BadKeyMember {
                index: 0,
                member: "x"
            }
        );
        // The identity point: of small order, so it "verifies" anything.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            parse(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64_encode(&identity)}]})),
            JoseError::InvalidOkpKey { index: 0 }
        );
        assert_eq!(
            parse(
                json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}]})
            ),
            JoseError::PrivateKey {
                index: 0,
                member: "d"
            }
        );
        assert_eq!(
            parse(
                json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "ES256"}]})
            ),
            JoseError::UnsupportedKeyAlg {
                index: 0,
                alg: "ES256".into()
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "EdDSA"}]})),
            JoseError::UnsupportedKeyAlg {
                index: 0,
                alg: "EdDSA".into()
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "XYZ"}]})),
            JoseError::UnsupportedKeyType {
                index: 0,
                kty: "XYZ".into()
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "RSA", "e": "AQAB"}]})),
            JoseError::BadKeyMember {
                index: 0,
                member: "n"
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})),
            JoseError::WeakRsaKey { index: 0, bits: 17 }
        );
        assert_eq!(
            parse(jwk_set(&[rsa(json!({"alg": "HS256"}))])),
            JoseError::UnsupportedKeyAlg {
                index: 0,
                alg: "HS256".into()
            }
        );
        assert_eq!(
            parse(jwk_set(&[rsa(json!({"alg": "ES256"}))])),
            JoseError::UnsupportedKeyAlg {
                index: 0,
                alg: "ES256".into()
            }
        );
        assert_eq!(
            parse(jwk_set(&[
                rsa(json!({"kid": "x"})),
                rsa(json!({"kid": "x"}))
            ])),
            JoseError::DuplicateKid("x".into())
        );
        assert_eq!(
            parse(jwk_set(&[rsa(json!({"kid": 7}))])),
            JoseError::BadKeyMember {
                index: 0,
                member: "kid"
            }
        );
        assert_eq!(
            parse(json!({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]})),
            JoseError::InvalidEcKey { index: 0 }
        );
        let off_curve = b64_encode(&[1u8; 32]);
        assert_eq!(
            parse(json!({"keys": [{"kty": "EC", "crv": "P-256", "x": off_curve, "y": off_curve}]})),
            JoseError::InvalidEcKey { index: 0 }
        );
        assert_eq!(
            JwkSet::parse_str("{").unwrap_err(),
            JoseError::JwkSetNotJson
        );
    }
}
