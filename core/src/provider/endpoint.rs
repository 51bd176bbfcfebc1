//! The route table of the one dispatch: every protocol endpoint, its path
//! and the methods it answers, listed once for every adapter.

use crate::oidc::{DISCOVERY_PATH, JWKS_PATH, USERINFO_PATH};
use crate::rfc8414::{
    AUTHORIZATION_PATH, DEVICE_AUTHORIZATION_PATH, INTROSPECTION_PATH, METADATA_PATH,
    PUSHED_AUTHORIZATION_PATH, REVOCATION_PATH, TOKEN_PATH,
};
use crate::rfc8628::VERIFICATION_PATH;

/// A protocol endpoint [`crate::Provider::handle`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// RFC 5849 2.1: temporary credentials.
    Oauth1Initiate,
    /// RFC 5849 2.2: resource owner authorization (a page).
    Oauth1Authorize,
    /// RFC 5849 2.3: token credentials.
    Oauth1Token,
    /// RFC 6749 3.1: the authorization endpoint (a page).
    Authorize,
    /// RFC 6749 3.2: the token endpoint.
    Token,
    /// RFC 7009 2: token revocation.
    Revocation,
    /// RFC 7662 2: token introspection.
    Introspection,
    /// RFC 8414 3: the authorization server's metadata.
    Metadata,
    /// OpenID Connect Discovery 1.0 4: the provider's configuration.
    Discovery,
    /// RFC 7517 5: the keys ID tokens are signed with.
    Jwks,
    /// OpenID Connect Core 1.0 5.3: UserInfo.
    UserInfo,
    /// RFC 8628 3.1: device authorization.
    DeviceAuthorization,
    /// RFC 8628 3.3: where a person types their device's user code (a page).
    DeviceVerification,
    /// RFC 9126 2: pushed authorization requests.
    PushedAuthorization,
}

impl Endpoint {
    /// Every endpoint, in the order of the table.
    pub const ALL: [Endpoint; 14] = [
        Endpoint::Oauth1Initiate,
        Endpoint::Oauth1Authorize,
        Endpoint::Oauth1Token,
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::Revocation,
        Endpoint::Introspection,
        Endpoint::Metadata,
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::UserInfo,
        Endpoint::DeviceAuthorization,
        Endpoint::DeviceVerification,
        Endpoint::PushedAuthorization,
    ];

    /// Its path, relative to the issuer.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Oauth1Initiate => "/oauth1/initiate",
            Endpoint::Oauth1Authorize => "/oauth1/authorize",
            Endpoint::Oauth1Token => "/oauth1/token",
            Endpoint::Authorize => AUTHORIZATION_PATH,
            Endpoint::Token => TOKEN_PATH,
            Endpoint::Revocation => REVOCATION_PATH,
            Endpoint::Introspection => INTROSPECTION_PATH,
            Endpoint::Metadata => METADATA_PATH,
            Endpoint::Discovery => DISCOVERY_PATH,
            Endpoint::Jwks => JWKS_PATH,
            Endpoint::UserInfo => USERINFO_PATH,
            Endpoint::DeviceAuthorization => DEVICE_AUTHORIZATION_PATH,
            Endpoint::DeviceVerification => VERIFICATION_PATH,
            Endpoint::PushedAuthorization => PUSHED_AUTHORIZATION_PATH,
        }
    }

    /// The methods it answers; any other is refused with 405.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Endpoint::Oauth1Authorize
            | Endpoint::Authorize
            | Endpoint::UserInfo
            | Endpoint::DeviceVerification => &["GET", "POST"],
            Endpoint::Metadata | Endpoint::Discovery | Endpoint::Jwks => &["GET"],
            Endpoint::Oauth1Initiate
            | Endpoint::Oauth1Token
            | Endpoint::Token
            | Endpoint::Revocation
            | Endpoint::Introspection
            | Endpoint::DeviceAuthorization
            | Endpoint::PushedAuthorization => &["POST"],
        }
    }

    /// Whether a person's browser posts a page's form here: such a `POST`
    /// from another site is refused before anything is read
    /// ([`super::origin::cross_site`]).
    pub fn is_page(self) -> bool {
        matches!(
            self,
            Endpoint::Oauth1Authorize | Endpoint::Authorize | Endpoint::DeviceVerification
        )
    }

    /// The endpoint at `path` (exactly; no trailing slash), if any.
    pub fn at(path: &str) -> Option<Endpoint> {
        Endpoint::ALL
            .into_iter()
            .find(|endpoint| endpoint.path() == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_names_one_endpoint() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::at(endpoint.path()), Some(endpoint));
            assert!(!endpoint.methods().is_empty());
        }
        assert_eq!(Endpoint::at("/oauth2/token/"), None);
        assert_eq!(Endpoint::at("/"), None);
        assert_eq!(
            Endpoint::at("/oauth2/par"),
            Some(Endpoint::PushedAuthorization)
        );
        assert_eq!(Endpoint::PushedAuthorization.methods(), ["POST"]);
        assert!(!Endpoint::PushedAuthorization.is_page());
    }
}
