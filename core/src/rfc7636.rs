//! Proof Key for Code Exchange (RFC 7636): the challenge an authorization
//! request carries, and the check of the verifier at the token endpoint.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::rfc6749::Oauth2Error;

/// `code_challenge_method` (RFC 7636 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    /// `S256`: the challenge is BASE64URL(SHA256(verifier)).
    S256,
    /// `plain`: the challenge is the verifier.
    Plain,
}

impl ChallengeMethod {
    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ChallengeMethod::S256 => "S256",
            ChallengeMethod::Plain => "plain",
        }
    }

    /// The method of this name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "S256" => Some(ChallengeMethod::S256),
            "plain" => Some(ChallengeMethod::Plain),
            _ => None,
        }
    }
}

/// Whether `text` is 43 to 128 unreserved characters: the syntax of both a
/// code verifier (RFC 7636 4.1) and a code challenge (4.2).
pub fn is_well_formed(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Reads the challenge of an authorization request (RFC 7636 4.3): the
/// method defaults to `plain`, which a deployment may switch off.
pub fn challenge(
    code_challenge: Option<&str>,
    method: Option<&str>,
    allow_plain: bool,
) -> Result<Option<(String, ChallengeMethod)>, Oauth2Error> {
    let Some(challenge) = code_challenge else {
        return match method {
            Some(_) => Err(Oauth2Error::MissingParameter("code_challenge")),
            None => Ok(None),
        };
    };
    let method = match method {
        None => ChallengeMethod::Plain,
        Some(name) => ChallengeMethod::from_name(name)
            .ok_or_else(|| Oauth2Error::UnsupportedChallengeMethod(name.to_owned()))?,
    };
    if method == ChallengeMethod::Plain && !allow_plain {
        return Err(Oauth2Error::UnsupportedChallengeMethod("plain".to_owned()));
    }
    if !is_well_formed(challenge) {
        return Err(Oauth2Error::MalformedParameter {
            name: "code_challenge",
            why: "it must be 43 to 128 unreserved characters (RFC 7636 4.2)",
        });
    }
    Ok(Some((challenge.to_owned(), method)))
}

/// The S256 challenge of a verifier.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 4.6: whether `verifier` answers `challenge`, compared in constant time.
pub fn verify(verifier: &str, challenge: &str, method: ChallengeMethod) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let computed = match method {
        ChallengeMethod::S256 => s256(verifier),
        ChallengeMethod::Plain => verifier.to_owned(),
    };
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// FAPI 2.0 Security Profile 5.3.2.2: the request carried a challenge,
/// and its method is S256 (`plain` is refused even where the deployment
/// allows it). `challenge` is what the grant read: the challenge and its
/// method's name.
pub fn require_s256(challenge: Option<&(String, String)>) -> Result<(), Oauth2Error> {
    match challenge {
        None => Err(Oauth2Error::MissingParameter("code_challenge")),
        Some((_, method)) if method == ChallengeMethod::S256.name() => Ok(()),
        Some((_, method)) => Err(Oauth2Error::UnsupportedChallengeMethod(method.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn the_rfc_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256(verifier), challenge);
        assert!(verify(verifier, challenge, ChallengeMethod::S256));
        assert!(!verify(verifier, challenge, ChallengeMethod::Plain));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge,
            ChallengeMethod::S256
        ));
    }

    #[test]
    fn challenges_are_checked_when_requested() {
        let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(challenge(None, None, true), Ok(None));
        assert_eq!(
            challenge(None, Some("S256"), true),
            Err(Oauth2Error::MissingParameter("code_challenge"))
        );
        assert_eq!(
            challenge(Some(good), None, true),
            Ok(Some((good.to_owned(), ChallengeMethod::Plain)))
        );
        assert!(challenge(Some(good), None, false).is_err());
        assert!(challenge(Some(good), Some("S512"), true).is_err());
        assert!(challenge(Some("short"), Some("S256"), true).is_err());
    }

    #[test]
    fn the_fapi_profile_takes_s256_alone() {
        let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned();
        assert_eq!(
            require_s256(Some(&(good.clone(), "S256".to_owned()))),
            Ok(())
        );
        assert_eq!(
            require_s256(Some(&(good, "plain".to_owned()))),
            Err(Oauth2Error::UnsupportedChallengeMethod("plain".to_owned()))
        );
        assert_eq!(
            require_s256(None),
            Err(Oauth2Error::MissingParameter("code_challenge"))
        );
    }
}
