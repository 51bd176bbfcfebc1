//! JOSE for OpenID Connect ID tokens and RFC 7523 assertions: JSON Web
//! Keys (RFC 7517, with RFC 8037's Ed25519 keys) and their thumbprints (RFC
//! 7638), and JSON Web Signatures in the compact serialization (RFC 7515)
//! over JWT claims (RFC 7519). The signature arithmetic is `jsonwebtoken`'s RustCrypto
//! provider; the parsing, the choice of key and every refusal are here.
//!
//! Signing an ID token and checking it against the published key set:
//!
//! ```
//! use credlog_core::jose::{jwk_set, verify, JwkSet, SignatureAlg, SigningKey};
//! use serde_json::json;
//!
//! let key = SigningKey::generate_for(SignatureAlg::EdDSA).unwrap();
//! let token = key.sign(&json!({"iss": "https://server.example", "sub": "alice"}));
//! let keys = JwkSet::parse(&jwk_set(&[key.public_jwk()])).unwrap();
//! let verified = verify(&token, &keys).unwrap();
//! assert_eq!(verified.alg, SignatureAlg::EdDSA);
//! assert_eq!(verified.kid.as_deref(), Some(key.kid()));
//! assert_eq!(verified.claims["sub"], "alice");
//! ```

#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod examples;
mod jwk;
mod jws;

pub use jwk::{jwk_set, thumbprint, JwkSet, MAX_JWK_SET_LEN, MAX_KEYS};
pub use jws::{peek_claims, verify, SignatureAlg, SigningKey, VerifiedJwt, MAX_JWT_LEN};

use base64::Engine;
use sha2::{Digest, Sha256, Sha512};

/// Which of the three parts of a compact JWS (RFC 7515 7.1) was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The JOSE header, before the first `.`.
    Header,
    /// The payload (the JWT claims set), between the dots.
    Payload,
    /// The signature, after the second `.`.
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a JWT, a JWK or a JWK Set was refused. Each message can go out as
/// an `error_description`: it names the rule and never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The JWT is longer than [`MAX_JWT_LEN`] bytes.
    #[error("the JWT is longer than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not three base64url parts separated by two dots (RFC 7515 7.1).
    #[error("the JWT is not three base64url parts separated by dots (RFC 7515 7.1)")]
    NotCompact,
    /// A part is not unpadded base64url (RFC 7515 2).
    #[error("the JWT's {0} is not unpadded base64url (RFC 7515 2)")]
    NotBase64Url(Part),
    /// The header or the payload is not a JSON object (RFC 7515 4, RFC 7519 7.2).
    #[error("the JWT's {0} is not a JSON object (RFC 7519 7.2)")]
    NotJsonObject(Part),
    /// The header has no `alg` string (RFC 7515 4.1.1).
    #[error("the JWT header has no \"alg\" (RFC 7515 4.1.1)")]
    MissingAlg,
    /// `alg` is `none`: an unsecured JWT (RFC 7519 6) is never accepted.
    #[error("unsigned JWTs (\"alg\": \"none\") are not accepted")]
    AlgNone,
    /// `alg` is an HMAC: registered keys are public keys, so a shared-secret
    /// MAC cannot be checked against them.
    #[error("\"alg\": \"{0}\" is a shared-secret MAC; only public-key signatures are accepted")]
    SymmetricAlg(String),
    /// An `alg` this server does not verify.
    #[error(
        "\"alg\": \"{0}\" is not supported (RS256, RS384, RS512, PS256, PS384, PS512, ES256, EdDSA are)"
    )]
    UnsupportedAlg(String),
    /// The header lists critical extensions (RFC 7515 4.1.11), none of which
    /// this server understands.
    #[error("the JWT header has \"crit\" extensions, which are not supported (RFC 7515 4.1.11)")]
    CriticalExtension,
    /// `kid` is present but not a string (RFC 7515 4.1.4).
    #[error("the JWT header's \"kid\" is not a string (RFC 7515 4.1.4)")]
    KidNotString,
    /// No key in the set has the header's `kid`, and every key has a `kid`
    /// of its own.
    #[error("no registered key has \"kid\": \"{0}\"")]
    UnknownKid(String),
    /// The key named by `kid` cannot check this `alg` (wrong key type, its own
    /// `alg` differs, or it is not for signatures).
    #[error("the key \"{kid}\" is not for \"alg\": \"{alg}\"")]
    KeyDoesNotFitAlg {
        /// The key's id.
        kid: String,
        /// The header's algorithm.
        alg: &'static str,
    },
    /// The header has no `kid` and no key in the set fits its `alg`.
    #[error("no registered key is for \"alg\": \"{0}\"")]
    NoKeyForAlg(&'static str),
    /// The signature does not verify.
    #[error("the JWT's signature does not verify")]
    BadSignature,

    /// A JWK Set is not an object with a `keys` array (RFC 7517 5).
    #[error("the JWK Set is not a JSON object with a \"keys\" array (RFC 7517 5)")]
    NotJwkSet,
    /// A JWK Set with no keys.
    #[error("the JWK Set has no keys")]
    EmptyKeySet,
    /// A JWK Set with more than [`MAX_KEYS`] keys.
    #[error("the JWK Set has {count} keys; at most {limit} are accepted")]
    TooManyKeys {
        /// How many it has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A JWK is not a JSON object (RFC 7517 4).
    #[error("key {index} of the JWK Set is not a JSON object (RFC 7517 4)")]
    KeyNotObject {
        /// Its position in `keys`, from 0.
        index: usize,
    },
    /// A JWK without a `kty` string (RFC 7517 4.1).
    #[error("key {index} of the JWK Set has no \"kty\" (RFC 7517 4.1)")]
    MissingKty {
        /// Its position in `keys`, from 0.
        index: usize,
    },
    /// A `kty` other than `RSA`, `EC` and `OKP`.
    #[error(
        "key {index} of the JWK Set has \"kty\": \"{kty}\"; only RSA, EC and OKP keys are accepted"
    )]
    UnsupportedKeyType {
        /// Its position in `keys`, from 0.
        index: usize,
        /// Its `kty`.
        kty: String,
    },
    /// A JWK carrying private or secret material (`d`, `p`, `k`...): a
    /// client registers public keys only.
    #[error("key {index} of the JWK Set holds private key material (\"{member}\"); register public keys only")]
    PrivateKey {
        /// Its position in `keys`, from 0.
        index: usize,
        /// The private member found.
        member: &'static str,
    },
    /// A required member is missing, or a member is of the wrong type or
    /// not base64url (RFC 7518 6.2.1, 6.3.1).
    #[error("key {index} of the JWK Set has a missing or malformed \"{member}\" (RFC 7518 6)")]
    BadKeyMember {
        /// Its position in `keys`, from 0.
        index: usize,
        /// The member.
        member: &'static str,
    },
    /// An RSA modulus shorter than 2048 bits (RFC 7518 3.3).
    #[error("key {index} of the JWK Set is a {bits}-bit RSA key; at least 2048 bits are required (RFC 7518 3.3)")]
    WeakRsaKey {
        /// Its position in `keys`, from 0.
        index: usize,
        /// Its modulus length.
        bits: usize,
    },
    /// An RSA key the RSA implementation refuses (modulus over 4096 bits,
    /// or an unusable exponent).
    #[error("key {index} of the JWK Set is not a usable RSA public key")]
    InvalidRsaKey {
        /// Its position in `keys`, from 0.
        index: usize,
    },
    /// An EC key on a curve other than P-256, or whose point is not on it.
    #[error("key {index} of the JWK Set is not a P-256 public key (RFC 7518 6.2.1)")]
    InvalidEcKey {
        /// Its position in `keys`, from 0.
        index: usize,
    },
    /// An OKP key on a curve other than Ed25519, or whose `x` is not an
    /// Ed25519 public key (or is one of the weak, small-order points).
    #[error("key {index} of the JWK Set is not an Ed25519 public key (RFC 8037 2)")]
    InvalidOkpKey {
        /// Its position in `keys`, from 0.
        index: usize,
    },
    /// A JWK whose own `alg` (RFC 7517 4.4) is not one this server supports
    /// for its key type.
    #[error("key {index} of the JWK Set has \"alg\": \"{alg}\", which is not supported for its key type")]
    UnsupportedKeyAlg {
        /// Its position in `keys`, from 0.
        index: usize,
        /// Its `alg`.
        alg: String,
    },
    /// Two keys share a `kid` (RFC 7517 4.5).
    #[error("two keys of the JWK Set have \"kid\": \"{0}\" (RFC 7517 4.5)")]
    DuplicateKid(String),
    /// A JWK Set given as text longer than [`MAX_JWK_SET_LEN`] bytes.
    #[error("the JWK Set is longer than {limit} bytes")]
    JwkSetTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A JWK without a required member for its thumbprint (RFC 7638 3.2).
    #[error("the JWK has no \"{0}\" string, which its thumbprint needs (RFC 7638 3.2)")]
    ThumbprintMember(&'static str),
    /// A `kty` whose thumbprint members this server does not know.
    #[error("no thumbprint for \"kty\": \"{0}\"; only RSA, EC and OKP keys have one here")]
    ThumbprintKeyType(String),
    /// A JWK Set given as text that is not JSON.
    #[error("the JWK Set is not JSON")]
    JwkSetNotJson,

    /// A PEM private key that is not a PKCS#8 key of the algorithm's kind
    /// (RSA for RS256 and PS256, P-256 for ES256, Ed25519 for EdDSA).
    #[error("the {0} signing key is not a PKCS#8 PEM private key of its kind")]
    BadPrivateKeyPem(SignatureAlg),
    /// An algorithm the server does not sign with.
    #[error("the server does not sign with \"{0}\" (RS256, PS256, ES256 and EdDSA it does)")]
    NotSigningAlg(String),
    /// A signing key shorter than 2048 bits (RFC 7518 3.3).
    #[error("the signing key has {bits} bits; at least 2048 are required (RFC 7518 3.3)")]
    WeakSigningKey {
        /// Its modulus length.
        bits: usize,
    },
}

/// OpenID Connect Core 3.1.3.6 `at_hash` for an ID token signed with
/// `alg`: base64url of the left half of the access token's hash, the hash
/// being `alg`'s: SHA-256 for the `*256` algorithms, SHA-384 and SHA-512
/// for the `*384` and `*512` ones, and SHA-512 for EdDSA on Ed25519 (the
/// hash Ed25519 itself uses, as the OpenID Foundation's errata and
/// node-oidc-provider's `oidc-token-hash` read it).
pub fn at_hash(alg: SignatureAlg, access_token: &str) -> String {
    let token = access_token.as_bytes();
    let digest = match alg {
        SignatureAlg::RS256 | SignatureAlg::PS256 | SignatureAlg::ES256 => {
            Sha256::digest(token).to_vec()
        }
        SignatureAlg::RS384 | SignatureAlg::PS384 => sha2::Sha384::digest(token).to_vec(),
        SignatureAlg::RS512 | SignatureAlg::PS512 | SignatureAlg::EdDSA => {
            Sha512::digest(token).to_vec()
        }
    };
    b64_encode(&digest[..digest.len() / 2])
}

/// Decodes unpadded base64url, refusing padding and non-canonical endings.
fn b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// Encodes as unpadded base64url.
fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Makes `jsonwebtoken` use its RustCrypto provider, whatever other
/// features a dependency may switch on: with two providers compiled in it
/// would otherwise pick none and panic.
fn install_crypto_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Refused only when a provider is already installed, which is fine.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenID Connect Core 3.1.3.6 by hand: SHA-256 of "abc" begins
    /// ba7816bf 8f01cfea 414140de 5dae2223.
    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        let left = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23,
        ];
        for alg in [
            SignatureAlg::RS256,
            SignatureAlg::PS256,
            SignatureAlg::ES256,
        ] {
            assert_eq!(at_hash(alg, "abc"), b64_encode(&left));
        }
        assert_eq!(at_hash(SignatureAlg::RS256, "abc").len(), 22);
    }

    /// For EdDSA on Ed25519 the hash is SHA-512 (as oidc-token-hash has
    /// it): SHA-512 of "abc" begins ddaf35a1 93617aba cc417349 ae204131
    /// 12e6fa4e 89a97ea2 0a9eeee6 4b55d39a (FIPS 180-2 C.1), its left half
    /// being those 32 bytes.
    #[test]
    fn at_hash_for_eddsa_is_the_left_half_of_sha512() {
        let left = [
            0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba, 0xcc, 0x41, 0x73, 0x49, 0xae, 0x20,
            0x41, 0x31, 0x12, 0xe6, 0xfa, 0x4e, 0x89, 0xa9, 0x7e, 0xa2, 0x0a, 0x9e, 0xee, 0xe6,
            0x4b, 0x55, 0xd3, 0x9a,
        ];
        assert_eq!(at_hash(SignatureAlg::EdDSA, "abc"), b64_encode(&left));
        assert_eq!(at_hash(SignatureAlg::EdDSA, "abc").len(), 43);
    }
}
