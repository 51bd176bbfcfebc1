//! OpenID Connect Core 1.0 on the OAuth 2 server: ID tokens for the code
//! flow and its refreshes ([`id_token`]), what an authentication request
//! adds to an authorization request (`nonce`, `prompt`, `max_age`; this
//! module), the server's signing keys ([`keys`]), the UserInfo endpoint
//! ([`userinfo`]) and Discovery 1.0 ([`discovery`]).

pub mod discovery;
pub mod id_token;
pub mod keys;
pub mod userinfo;

use crate::rfc6749::{Oauth2Error, Params, Scope};

pub use id_token::{subject_of, IdTokenFor};
pub use keys::KeyRing;

/// The scope that makes an authorization request an OpenID Connect
/// authentication request (OpenID Connect Core 1.0 3.1.2.1).
pub const OPENID: &str = "openid";

/// Where the JWK Set is served.
pub const JWKS_PATH: &str = "/oauth2/jwks";
/// Where the UserInfo endpoint is (OpenID Connect Core 1.0 5.3).
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
/// Where the Discovery document is served (OpenID Connect Discovery 1.0 4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// The parameter a forced sign-in carries back to the authorization
/// endpoint: the time the sign-in must be after. It is credlog's own, so
/// that `prompt=login` and `max_age` ask for one fresh sign-in, not one
/// each time the request comes back.
pub const SIGNED_IN_AFTER: &str = "credlog_signed_in_after";

/// The OpenID Provider a server is: its signing keys, shared by its
/// clones. (How long ID tokens live is the server's
/// [`Oauth2Config::id_token_lifetime`](crate::rfc6749::Oauth2Config::id_token_lifetime).)
#[derive(Debug, Default)]
pub struct OpenId {
    /// The signing keys, as parsed so far.
    pub keys: KeyRing,
}

/// Whether `scope` asks for OpenID Connect.
pub fn is_openid(scope: &Scope) -> bool {
    scope.contains(OPENID)
}

/// `prompt` (OpenID Connect Core 1.0 3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompts {
    /// `none`: show nothing; fail if the user would have to sign in or consent.
    pub none: bool,
    /// `login`: sign in again, even with a session.
    pub login: bool,
    /// `consent`: ask for consent even where it was given before.
    pub consent: bool,
}

/// What an authentication request adds to an authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthenticationRequest {
    /// `nonce`, carried into the ID token.
    pub nonce: Option<String>,
    /// `prompt`.
    pub prompt: Prompts,
    /// `max_age`: the longest time since the user signed in, in seconds.
    pub max_age: Option<u64>,
    /// [`SIGNED_IN_AFTER`]: a sign-in this request already forced.
    pub signed_in_after: Option<u64>,
}

/// The longest `nonce` accepted: it is stored and echoed.
const MAX_NONCE: usize = 512;

impl AuthenticationRequest {
    /// Reads the OpenID Connect parameters of an authorization request
    /// (OpenID Connect Core 1.0 3.1.2.1).
    pub fn parse(params: &Params) -> Result<AuthenticationRequest, Oauth2Error> {
        let nonce = params.get("nonce").map(str::to_owned);
        if nonce
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.len() > MAX_NONCE)
        {
            return Err(Oauth2Error::MalformedParameter {
                name: "nonce",
                why: "it must be 1 to 512 characters",
            });
        }
        let mut prompt = Prompts::default();
        for value in params.get("prompt").unwrap_or("").split(' ') {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                // `select_account` and values this server does not know
                // ask for nothing it does differently.
                _ => {}
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(Oauth2Error::MalformedParameter {
                name: "prompt",
                why: "none cannot be combined with another value",
            });
        }
        let seconds = |name: &'static str| -> Result<Option<u64>, Oauth2Error> {
            params
                .get(name)
                .map(|text| {
                    text.parse::<u64>()
                        .map_err(|_| Oauth2Error::MalformedParameter {
                            name,
                            why: "it must be a whole number of seconds",
                        })
                })
                .transpose()
        };
        Ok(AuthenticationRequest {
            nonce,
            prompt,
            max_age: seconds("max_age")?,
            signed_in_after: seconds(SIGNED_IN_AFTER)?,
        })
    }

    /// Whether the user, who signed in at `auth_time` (`None`: unknown),
    /// must sign in again before this request goes on at `now`:
    /// `prompt=login`, or a `max_age` exceeded (OpenID Connect Core 1.0
    /// 3.1.2.1), unless the sign-in the request already forced happened.
    pub fn needs_sign_in(&self, auth_time: Option<u64>, now: u64) -> bool {
        if let Some(after) = self.signed_in_after {
            return auth_time.is_none_or(|at| at < after);
        }
        let too_old = self
            .max_age
            .is_some_and(|max_age| auth_time.is_none_or(|at| now.saturating_sub(at) > max_age));
        self.prompt.login || too_old
    }
}

/// The path and query a forced sign-in returns to: the request as it was,
/// without `prompt=login` and `max_age` (they are met once the user signs
/// in), with [`SIGNED_IN_AFTER`] set to `now`.
pub fn after_sign_in(path: &str, params: &Params, now: u64) -> String {
    let now = now.to_string();
    let kept = params
        .iter()
        .filter(|(name, _)| !matches!(*name, "prompt" | "max_age" | SIGNED_IN_AFTER))
        .chain(std::iter::once((SIGNED_IN_AFTER, now.as_str())));
    format!("{path}?{}", crate::form::form_encode(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> Result<AuthenticationRequest, Oauth2Error> {
        AuthenticationRequest::parse(&Params::parse(query.as_bytes()).unwrap())
    }

    #[test]
    fn prompt_and_max_age_are_read_and_checked() {
        let parsed = request("nonce=n-0S6_WzA2Mj&prompt=login%20consent&max_age=60").unwrap();
        assert_eq!(parsed.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
        assert!(parsed.prompt.login && parsed.prompt.consent && !parsed.prompt.none);
        assert_eq!(parsed.max_age, Some(60));
        assert!(request("prompt=none%20login").is_err());
        assert!(request("max_age=-1").is_err());
        assert!(request("max_age=soon").is_err());
        // RFC 6749 3.1: a parameter without a value is as if omitted.
        assert_eq!(request("nonce=").unwrap().nonce, None);
        assert!(request(&format!("nonce={}", "n".repeat(513))).is_err());
        assert!(request("prompt=select_account").unwrap().prompt == Prompts::default());
    }

    #[test]
    fn a_sign_in_is_forced_by_login_or_an_old_one_and_then_met() {
        let login = request("prompt=login").unwrap();
        assert!(login.needs_sign_in(Some(1_000), 1_000));
        let aged = request("max_age=60").unwrap();
        assert!(!aged.needs_sign_in(Some(1_000), 1_060));
        assert!(aged.needs_sign_in(Some(1_000), 1_061));
        assert!(aged.needs_sign_in(None, 1_000));
        assert!(!request("").unwrap().needs_sign_in(None, 1_000));

        // The return trip drops prompt=login and max_age, and asks for a
        // sign-in after the time it was sent.
        let params = Params::parse(b"client_id=c&prompt=login&max_age=0&scope=openid").unwrap();
        let back = after_sign_in("/oauth2/authorize", &params, 2_000);
        assert_eq!(
            back,
            "/oauth2/authorize?client_id=c&scope=openid&credlog_signed_in_after=2000"
        );
        let query = back.split_once('?').unwrap().1;
        let returned = request(query).unwrap();
        assert!(returned.needs_sign_in(Some(1_999), 2_500));
        assert!(!returned.needs_sign_in(Some(2_000), 2_500));
    }
}
