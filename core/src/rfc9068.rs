//! JWT access tokens (RFC 9068): an access token that is a JWT signed by
//! the server, `typ: at+jwt`, saying who it speaks for, to whom it was
//! issued, for which resources and scope, and until when, so that a
//! resource server elsewhere can check it with the published JWK Set
//! alone.
//!
//! A client gets them when it registered `access_token_format: "jwt"`, or
//! when the deployment set `access_token_format = "jwt"` and the client
//! chose nothing ([`crate::rfc6749::Oauth2Config::access_token_format_of`]).
//! The store records a JWT access token like any other, by the digest of
//! its value ([`crate::store::token_id`]): credlog's own resources,
//! revocation and introspection treat it as they treat an opaque one, and
//! refuse it once it is revoked, whatever its signature says.
//!
//! The tokens are signed by the OpenID Provider's key ring. A server that
//! is not an OpenID Provider ([`Oauth2Server::set_openid`]`(false)`) has
//! no key to sign with and publishes no JWK Set: it issues opaque tokens
//! instead, and logs a warning each time a JWT was asked for.

use serde_json::{json, Value};

use crate::domain::{AccessTokenFormat, ClientOptions};
use crate::oidc;
use crate::random::random_token;
use crate::rfc6749::{Oauth2Config, Oauth2Error, Oauth2Server, Scope};
use crate::store::{CredentialKind, CredentialStore};

/// The `typ` of a JWT access token's header (RFC 9068 2.1).
pub const TYP: &str = "at+jwt";

/// What a JWT access token says (RFC 9068 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenClaims<'a> {
    /// `iss`: the issuer.
    pub issuer: &'a str,
    /// `sub`: the user's subject identifier (the one ID tokens carry), or
    /// the client's id for a token that speaks for the client itself.
    pub subject: &'a str,
    /// The resources it is for (RFC 8707); empty: the issuer's own.
    pub audience: &'a [String],
    /// `client_id`: the client it was issued to.
    pub client_id: &'a str,
    /// `scope`.
    pub scope: &'a Scope,
    /// `iat`, seconds since the epoch.
    pub issued_at: u64,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// `jti`: unique to this token.
    pub jti: &'a str,
    /// The RFC 7638 thumbprint of the DPoP key it is bound to: `cnf.jkt`
    /// (RFC 9449 6.1).
    pub jkt: Option<&'a str>,
    /// `auth_time`: when the user signed in, if known.
    pub auth_time: Option<u64>,
}

impl AccessTokenClaims<'_> {
    /// The claims as the JWT carries them.
    pub fn to_json(&self) -> Value {
        let mut claims = json!({
            "iss": self.issuer,
            "sub": self.subject,
            "aud": audience_claim(self.audience, self.issuer),
            "exp": self.expires_at,
            "iat": self.issued_at,
            "jti": self.jti,
            "client_id": self.client_id,
        });
        if !self.scope.is_empty() {
            claims["scope"] = self.scope.to_string().into();
        }
        if let Some(jkt) = self.jkt {
            claims["cnf"] = json!({ "jkt": jkt });
        }
        if let Some(auth_time) = self.auth_time {
            claims["auth_time"] = auth_time.into();
        }
        claims
    }
}

/// The `aud` of a token for `audience`: its one resource as a string,
/// several as an array (RFC 7519 4.1.3), or with none the default resource
/// RFC 9068 3 asks for: the issuer, whose own resources (`/api/me`,
/// `/oauth2/userinfo`) take any of its tokens.
pub fn audience_claim(audience: &[String], issuer: &str) -> Value {
    match audience {
        [] => Value::String(issuer.to_owned()),
        [one] => Value::String(one.clone()),
        many => many.iter().cloned().collect(),
    }
}

/// How long a retired signing key must stay in the JWK Set: as long as
/// the longest-lived token it may have signed, an ID token or a JWT
/// access token of any grant.
pub fn signed_token_lifetime(config: &Oauth2Config) -> u64 {
    config
        .grants
        .values()
        .filter_map(|grant| grant.access_token_lifetime)
        .fold(
            config.id_token_lifetime.max(config.access_token_lifetime),
            u64::max,
        )
}

/// What an access token is minted for, whatever its format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Minting<'a> {
    /// The issuer as the request reached it.
    pub issuer: &'a str,
    /// The grant type it is issued by (for the opaque token generator).
    pub grant_type: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// The options the client registered (its format and algorithm).
    pub options: &'a ClientOptions,
    /// The user it speaks for (`None`: the client itself).
    pub user: Option<&'a str>,
    /// Its resources.
    pub audience: &'a [String],
    /// Its scope.
    pub scope: &'a Scope,
    /// Now.
    pub now: u64,
    /// Seconds it lives.
    pub lifetime: u64,
    /// The DPoP key it is bound to.
    pub jkt: Option<&'a str>,
    /// When the user signed in, if known.
    pub auth_time: Option<u64>,
}

impl Oauth2Server {
    /// The format of the access tokens of `client_id`, which registered
    /// `options`: its own choice, else the server's; opaque on a server
    /// that is not an OpenID Provider, which has no key to sign a JWT with.
    fn format_of(&self, options: &ClientOptions, client_id: &str) -> AccessTokenFormat {
        let format = self.config().access_token_format_of(options);
        if format == AccessTokenFormat::Jwt && self.openid().is_none() {
            tracing::warn!(
                client_id,
                "JWT access tokens need the OpenID Provider's signing keys; \
                 this server is not one, so an opaque token is issued"
            );
            return AccessTokenFormat::Opaque;
        }
        format
    }

    /// The value of an access token minted for `minting`: a random one,
    /// or a signed JWT (RFC 9068) for a client whose format is `jwt`. The
    /// key and the user's subject are had here, before anything is
    /// written, so that a failure issues nothing.
    pub(crate) async fn access_token_value(
        &self,
        store: &dyn CredentialStore,
        minting: &Minting<'_>,
    ) -> Result<String, Oauth2Error> {
        let format = self.format_of(minting.options, minting.client_id);
        let openid = match (format, self.openid()) {
            (AccessTokenFormat::Jwt, Some(openid)) => openid,
            _ => {
                return Ok(self.config().access_tokens.generate(
                    CredentialKind::AccessToken,
                    minting.client_id,
                    minting.grant_type,
                ))
            }
        };
        // The algorithm the client chose for its ID tokens (a FAPI 2.0
        // client chooses PS256 or ES256), RS256 when it chose none (RFC
        // 9068 4: every resource server supports RS256).
        let alg = oidc::keys::client_alg(minting.options);
        let key = openid.keys.current(store, alg, minting.now).await?;
        let subject = match minting.user {
            Some(user) => oidc::subject_of(store, user, minting.now).await?.ok_or(
                Oauth2Error::InvalidGrant("the user who granted this is gone"),
            )?,
            None => minting.client_id.to_owned(),
        };
        let jti = random_token();
        let claims = AccessTokenClaims {
            issuer: minting.issuer,
            subject: &subject,
            audience: minting.audience,
            client_id: minting.client_id,
            scope: minting.scope,
            issued_at: minting.now,
            expires_at: minting.now.saturating_add(minting.lifetime),
            jti: &jti,
            jkt: minting.jkt,
            auth_time: minting.auth_time,
        };
        Ok(key.sign_typed(TYP, &claims.to_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    fn claims<'a>(audience: &'a [String], scope: &'a Scope) -> AccessTokenClaims<'a> {
        AccessTokenClaims {
            issuer: "https://as.example",
            subject: "sub-1",
            audience,
            client_id: "c1",
            scope,
            issued_at: 1_000,
            expires_at: 4_600,
            jti: "j1",
            jkt: None,
            auth_time: None,
        }
    }

    #[test]
    fn the_claims_are_rfc_9068s() {
        let scope = Scope::parse("profile email").unwrap();
        let json = claims(&[], &scope).to_json();
        assert_eq!(
            json,
            json!({
                "iss": "https://as.example",
                "sub": "sub-1",
                "aud": "https://as.example",
                "exp": 4_600,
                "iat": 1_000,
                "jti": "j1",
                "client_id": "c1",
                "scope": "profile email",
            })
        );
        let two = vec!["https://a/".to_owned(), "https://b/".to_owned()];
        let bound = AccessTokenClaims {
            jkt: Some("thumb"),
            auth_time: Some(900),
            ..claims(&two, &scope)
        }
        .to_json();
        assert_eq!(bound["aud"], json!(["https://a/", "https://b/"]));
        assert_eq!(bound["cnf"], json!({"jkt": "thumb"}));
        assert_eq!(bound["auth_time"], 900);
        let one = vec!["https://a/".to_owned()];
        assert_eq!(claims(&one, &scope).to_json()["aud"], "https://a/");
        let none = Scope::default();
        assert!(claims(&one, &none).to_json().get("scope").is_none());
    }

    #[test]
    fn retired_keys_outlive_every_token_they_signed() {
        let mut config = Oauth2Config {
            id_token_lifetime: 600,
            access_token_lifetime: 900,
            ..Oauth2Config::default()
        };
        assert_eq!(signed_token_lifetime(&config), 900);
        config.grants.insert(
            "client_credentials".to_owned(),
            crate::rfc6749::GrantSettings {
                access_token_lifetime: Some(7200),
                ..Default::default()
            },
        );
        assert_eq!(signed_token_lifetime(&config), 7200);
        config.id_token_lifetime = 9000;
        assert_eq!(signed_token_lifetime(&config), 9000);
    }

    #[test]
    fn a_signed_token_says_at_jwt_and_verifies() {
        let key = SigningKey::generate();
        let scope = Scope::parse("profile").unwrap();
        let token = key.sign_typed(TYP, &claims(&[], &scope).to_json());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        assert!(crate::rfc6750::is_b64token(&token), "{token}");
    }
}
