//! Signature methods (RFC 5849 3.4.2 - 3.4.4, plus HMAC-SHA256) behind one
//! small trait, and the set a deployment allows.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::digest::{Digest, KeyInit, Output};
use hmac::{Hmac, Mac};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::encoding::percent_encode_into;

/// What a signer holds: the shared secrets and, for RSA-SHA1, the client's
/// private key.
#[derive(Clone, Copy, Default)]
pub struct SigningKey<'a> {
    /// The client shared-secret (empty if none).
    pub client_secret: &'a str,
    /// The token shared-secret (empty when no token is used).
    pub token_secret: &'a str,
    /// The client's RSA private key, for RSA-SHA1.
    pub rsa_private_key: Option<&'a RsaPrivateKey>,
}

/// What a verifier holds: the shared secrets and, for RSA-SHA1, the
/// client's registered RSA public key.
#[derive(Clone, Copy, Default)]
pub struct VerifyingKey<'a> {
    /// The client shared-secret (empty if none).
    pub client_secret: &'a str,
    /// The token shared-secret (empty when no token is used).
    pub token_secret: &'a str,
    /// The client's RSA public key, for RSA-SHA1.
    pub rsa_public_key: Option<&'a RsaPublicKey>,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// RSA-SHA1 was asked for without a private key.
    #[error("RSA-SHA1 needs the client's RSA private key")]
    MissingRsaKey,
    /// The RSA operation failed.
    #[error("RSA signing failed: {0}")]
    Rsa(String),
}

/// A signature method (RFC 5849 3.4): a name carried in
/// `oauth_signature_method`, a way to sign a base string and a way to check
/// a signature. Verification must compare in constant time.
pub trait SignatureMethod: Send + Sync {
    /// The value of `oauth_signature_method`, e.g. `HMAC-SHA1`.
    fn name(&self) -> &str;

    /// Whether requests must carry `oauth_timestamp` and `oauth_nonce`
    /// (RFC 5849 3.1 lets PLAINTEXT omit them).
    fn requires_timestamp_and_nonce(&self) -> bool {
        true
    }

    /// Whether the signature gives the secret away, so that the method is
    /// safe only over TLS (RFC 5849 3.4.4 says so of PLAINTEXT).
    fn requires_tls(&self) -> bool {
        false
    }

    /// The `oauth_signature` value (decoded) for this base string.
    fn sign(&self, base_string: &str, key: &SigningKey<'_>) -> Result<String, SignError>;

    /// Whether `signature` (decoded) is right for this base string.
    fn verify(&self, base_string: &str, signature: &str, key: &VerifyingKey<'_>) -> bool;
}

/// RFC 5849 3.4.2: the key is the encoded client secret, `&`, the encoded
/// token secret.
fn shared_secret_key(client_secret: &str, token_secret: &str) -> String {
    let mut key = String::with_capacity(client_secret.len() + token_secret.len() + 1);
    percent_encode_into(&mut key, client_secret);
    key.push('&');
    percent_encode_into(&mut key, token_secret);
    key
}

fn hmac_tag<M: Mac + KeyInit>(
    base_string: &str,
    client_secret: &str,
    token_secret: &str,
) -> Output<M> {
    let key = shared_secret_key(client_secret, token_secret);
    let mut mac =
        <M as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts a key of any length");
    mac.update(base_string.as_bytes());
    mac.finalize().into_bytes()
}

fn hmac_sign<M: Mac + KeyInit>(base_string: &str, key: &SigningKey<'_>) -> String {
    BASE64.encode(hmac_tag::<M>(
        base_string,
        key.client_secret,
        key.token_secret,
    ))
}

fn hmac_verify<M: Mac + KeyInit>(
    base_string: &str,
    signature: &str,
    key: &VerifyingKey<'_>,
) -> bool {
    // Decoded on the stack; a signature too long for the buffer cannot be right.
    let mut given = [0u8; 64];
    let Ok(length) = BASE64.decode_slice(signature, &mut given) else {
        return false;
    };
    let expected = hmac_tag::<M>(base_string, key.client_secret, key.token_secret);
    expected.ct_eq(&given[..length]).into()
}

/// HMAC-SHA1 (RFC 5849 3.4.2).
#[derive(Debug, Clone, Copy, Default)]
pub struct HmacSha1;

impl SignatureMethod for HmacSha1 {
    fn name(&self) -> &str {
        "HMAC-SHA1"
    }

    fn sign(&self, base_string: &str, key: &SigningKey<'_>) -> Result<String, SignError> {
        Ok(hmac_sign::<Hmac<Sha1>>(base_string, key))
    }

    fn verify(&self, base_string: &str, signature: &str, key: &VerifyingKey<'_>) -> bool {
        hmac_verify::<Hmac<Sha1>>(base_string, signature, key)
    }
}

/// HMAC-SHA256: HMAC-SHA1's construction with SHA-256, a common extension.
#[derive(Debug, Clone, Copy, Default)]
pub struct HmacSha256;

impl SignatureMethod for HmacSha256 {
    fn name(&self) -> &str {
        "HMAC-SHA256"
    }

    fn sign(&self, base_string: &str, key: &SigningKey<'_>) -> Result<String, SignError> {
        Ok(hmac_sign::<Hmac<Sha256>>(base_string, key))
    }

    fn verify(&self, base_string: &str, signature: &str, key: &VerifyingKey<'_>) -> bool {
        hmac_verify::<Hmac<Sha256>>(base_string, signature, key)
    }
}

/// RSA-SHA1 (RFC 5849 3.4.3): RSASSA-PKCS1-v1_5 over SHA-1 of the base
/// string, checked with the client's registered public key.
#[derive(Debug, Clone, Copy, Default)]
pub struct RsaSha1;

impl SignatureMethod for RsaSha1 {
    fn name(&self) -> &str {
        "RSA-SHA1"
    }

    fn sign(&self, base_string: &str, key: &SigningKey<'_>) -> Result<String, SignError> {
        let private_key = key.rsa_private_key.ok_or(SignError::MissingRsaKey)?;
        let digest = Sha1::digest(base_string.as_bytes());
        let signature = private_key
            .sign(Pkcs1v15Sign::new::<Sha1>(), &digest)
            .map_err(|e| SignError::Rsa(e.to_string()))?;
        Ok(BASE64.encode(signature))
    }

    fn verify(&self, base_string: &str, signature: &str, key: &VerifyingKey<'_>) -> bool {
        let (Some(public_key), Ok(given)) = (key.rsa_public_key, BASE64.decode(signature)) else {
            return false;
        };
        let digest = Sha1::digest(base_string.as_bytes());
        public_key
            .verify(Pkcs1v15Sign::new::<Sha1>(), &digest, &given)
            .is_ok()
    }
}

/// PLAINTEXT (RFC 5849 3.4.4): the signature is the key itself, so it is
/// only safe over TLS. Timestamp and nonce may be omitted (3.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Plaintext;

impl SignatureMethod for Plaintext {
    fn name(&self) -> &str {
        "PLAINTEXT"
    }

    fn requires_timestamp_and_nonce(&self) -> bool {
        false
    }

    fn requires_tls(&self) -> bool {
        true
    }

    fn sign(&self, _base_string: &str, key: &SigningKey<'_>) -> Result<String, SignError> {
        Ok(shared_secret_key(key.client_secret, key.token_secret))
    }

    fn verify(&self, _base_string: &str, signature: &str, key: &VerifyingKey<'_>) -> bool {
        let expected = shared_secret_key(key.client_secret, key.token_secret);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }
}

/// The signature methods a deployment accepts, looked up by name.
#[derive(Clone)]
pub struct SignatureMethods {
    methods: Vec<Arc<dyn SignatureMethod>>,
}

impl SignatureMethods {
    /// No method at all; add them with [`SignatureMethods::with`].
    pub fn none() -> Self {
        SignatureMethods {
            methods: Vec::new(),
        }
    }

    /// The four built in: HMAC-SHA1, HMAC-SHA256, RSA-SHA1 and PLAINTEXT.
    pub fn all_builtin() -> Self {
        SignatureMethods::none()
            .with(HmacSha1)
            .with(HmacSha256)
            .with(RsaSha1)
            .with(Plaintext)
    }

    /// Adds a method, replacing one of the same name.
    pub fn with(mut self, method: impl SignatureMethod + 'static) -> Self {
        self.methods.retain(|m| m.name() != method.name());
        self.methods.push(Arc::new(method));
        self
    }

    /// The method of this name, if allowed.
    pub fn find(&self, name: &str) -> Option<&dyn SignatureMethod> {
        self.methods
            .iter()
            .find(|m| m.name() == name)
            .map(|m| m.as_ref())
    }

    /// The names allowed, in the order added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.methods.iter().map(|m| m.name())
    }
}

/// HMAC-SHA1 only, as Authlib's default.
impl Default for SignatureMethods {
    fn default() -> Self {
        SignatureMethods::none().with(HmacSha1)
    }
}

impl fmt::Debug for SignatureMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Why a PEM key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RSA {kind} key in PEM (PKCS#8 or PKCS#1)")]
pub struct KeyError {
    kind: &'static str,
}

/// Reads an RSA public key from PEM: `BEGIN PUBLIC KEY` (SPKI) or `BEGIN RSA PUBLIC KEY` (PKCS#1).
pub fn rsa_public_key_from_pem(pem: &str) -> Result<RsaPublicKey, KeyError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError { kind: "public" })
}

/// Reads an RSA private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY` (PKCS#1).
pub fn rsa_private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::from_pkcs8_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError { kind: "private" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets<'a>(
        client_secret: &'a str,
        token_secret: &'a str,
    ) -> (SigningKey<'a>, VerifyingKey<'a>) {
        (
            SigningKey {
                client_secret,
                token_secret,
                rsa_private_key: None,
            },
            VerifyingKey {
                client_secret,
                token_secret,
                rsa_public_key: None,
            },
        )
    }

    /// VECTORS.md V4: raw HMAC-SHA1 of `bs`.
    #[test]
    fn hmac_sha1_raw_vectors() {
        let (sign, verify) = secrets("cs", "");
        assert_eq!(
            HmacSha1.sign("bs", &sign).unwrap(),
            "egQqG5AJep5sJ7anhXju1unge2I="
        );
        assert!(HmacSha1.verify("bs", "egQqG5AJep5sJ7anhXju1unge2I=", &verify));
        let (sign, verify) = secrets("cs", "ts");
        assert_eq!(
            HmacSha1.sign("bs", &sign).unwrap(),
            "VZVjXceV7JgPq/dOTnNmEfO0Fv8="
        );
        assert!(!HmacSha1.verify("bs", "egQqG5AJep5sJ7anhXju1unge2I=", &verify));
        assert!(!HmacSha1.verify("bs", "not base64!", &verify));
    }

    /// VECTORS.md V2: PLAINTEXT with client secret `ja893SD9` and no token.
    #[test]
    fn plaintext_is_the_encoded_key() {
        let (sign, verify) = secrets("ja893SD9", "");
        assert_eq!(Plaintext.sign("ignored", &sign).unwrap(), "ja893SD9&");
        assert!(Plaintext.verify("anything", "ja893SD9&", &verify));
        assert!(!Plaintext.verify("anything", "ja893SD9", &verify));
        let (sign, _) = secrets("a b", "c&d");
        assert_eq!(Plaintext.sign("", &sign).unwrap(), "a%20b&c%26d");
    }

    #[test]
    fn the_default_set_is_hmac_sha1_only() {
        let methods = SignatureMethods::default();
        assert_eq!(methods.names().collect::<Vec<_>>(), ["HMAC-SHA1"]);
        assert!(methods.find("PLAINTEXT").is_none());
        let all = SignatureMethods::all_builtin();
        assert_eq!(
            all.names().collect::<Vec<_>>(),
            ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"]
        );
    }

    #[test]
    fn rsa_without_a_key_neither_signs_nor_verifies() {
        let (sign, verify) = secrets("", "");
        assert_eq!(RsaSha1.sign("bs", &sign), Err(SignError::MissingRsaKey));
        assert!(!RsaSha1.verify("bs", "AAAA", &verify));
        assert!(rsa_public_key_from_pem("not a key").is_err());
        assert!(rsa_private_key_from_pem("not a key").is_err());
    }
}
