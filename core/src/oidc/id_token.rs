//! ID tokens (OpenID Connect Core 1.0 2, 3.1.3.6, 12.2) and the subject
//! identifiers they name.

use serde_json::{json, Value};

use crate::jose::{at_hash, SignatureAlg};
use crate::random::random_token;
use crate::rfc6749::Scope;
use crate::store::{
    AppendError, CredentialStore, Event, Precondition, StoreError, SubjectAssigned,
};

/// What an ID token issued with a token response says beyond who and for
/// whom: set by the grant that issues it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdTokenFor {
    /// When the user signed in (`auth_time`), if known.
    pub auth_time: Option<u64>,
    /// The authentication request's `nonce`: only in the first ID token of
    /// a grant, never in one issued by a refresh (12.2).
    pub nonce: Option<String>,
}

impl IdTokenFor {
    /// What an ID token for `scope` says of the sign-in recorded under `id`
    /// (a code, a device code, a refresh token's family): `None` without
    /// scope `openid`; its `auth_time`, and its `nonce` when `with_nonce`
    /// (the first ID token of a grant, not a refresh's: 12.2).
    pub async fn recorded(
        store: &dyn CredentialStore,
        id: &str,
        scope: &Scope,
        with_nonce: bool,
    ) -> Result<Option<IdTokenFor>, StoreError> {
        if !super::is_openid(scope) {
            return Ok(None);
        }
        let authenticated = store.authentication(id).await?;
        Ok(Some(IdTokenFor {
            auth_time: authenticated.as_ref().map(|a| a.auth_time),
            nonce: authenticated.and_then(|a| a.nonce).filter(|_| with_nonce),
        }))
    }
}

/// `user`'s subject identifier (`sub`), chosen now if it has none: random,
/// so that it is stable for the account and never names another one, even
/// one of the same name made after it was removed. Two servers choosing at
/// once agree on the first one written.
pub async fn subject_of(
    store: &dyn CredentialStore,
    user: &str,
    now: u64,
) -> Result<Option<String>, StoreError> {
    if let Some(sub) = store.subject(user).await? {
        return Ok(Some(sub));
    }
    let assigned = Event::SubjectAssigned(SubjectAssigned {
        user: user.to_owned(),
        sub: random_token(),
    });
    let preconditions = [
        Precondition::UserExists {
            name: user.to_owned(),
        },
        Precondition::SubjectUnassigned {
            user: user.to_owned(),
        },
    ];
    match store.append(&preconditions, vec![assigned], now).await {
        Ok(_) | Err(AppendError::Refused(_)) => store.subject(user).await,
        Err(AppendError::Store(error)) => Err(error),
    }
}

/// The claims of an ID token (OpenID Connect Core 1.0 2): for `sub`, by
/// `issuer`, for the client `audience`, issued at `now` and good for
/// `lifetime` seconds; `at_hash` when it comes with an access token
/// (3.1.3.6), hashed as the algorithm it is signed with asks.
pub fn claims(
    issuer: &str,
    sub: &str,
    audience: &str,
    now: u64,
    lifetime: u64,
    what: &IdTokenFor,
    access_token: Option<(SignatureAlg, &str)>,
) -> Value {
    let mut claims = json!({
        "iss": issuer,
        "sub": sub,
        "aud": audience,
        "exp": now.saturating_add(lifetime),
        "iat": now,
    });
    if let Some(auth_time) = what.auth_time {
        claims["auth_time"] = auth_time.into();
    }
    if let Some(nonce) = &what.nonce {
        claims["nonce"] = nonce.as_str().into();
    }
    if let Some((alg, access_token)) = access_token {
        claims["at_hash"] = at_hash(alg, access_token).into();
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_carry_what_the_grant_knew() {
        let what = IdTokenFor {
            auth_time: Some(990),
            nonce: Some("n-0S6_WzA2Mj".to_owned()),
        };
        let claims = claims(
            "https://server.example.com",
            "24400320",
            "s6BhdRkqt3",
            1000,
            600,
            &what,
            Some((
                SignatureAlg::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
            )),
        );
        assert_eq!(claims["iss"], "https://server.example.com");
        assert_eq!(claims["aud"], "s6BhdRkqt3");
        assert_eq!(claims["exp"], 1600);
        assert_eq!(claims["iat"], 1000);
        assert_eq!(claims["auth_time"], 990);
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        // OpenID Connect Core 1.0 A.3: this access token's at_hash.
        assert_eq!(claims["at_hash"], "77QmUPtjPfzWtF2AnpK9RQ");
        let bare = super::claims("i", "s", "a", 1, 1, &IdTokenFor::default(), None);
        assert!(bare.get("nonce").is_none() && bare.get("at_hash").is_none());
    }
}
