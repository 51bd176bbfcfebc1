//! A client's registered grant types and response types (RFC 7591 2),
//! checked against the grants the running [`Oauth2Server`] has. The types
//! themselves are domain types ([`crate::domain::client_metadata`]).

use super::server::Oauth2Server;
pub use crate::domain::client_metadata::{parse_all, GrantType, MetadataError, ResponseType};

impl Oauth2Server {
    /// Checks a registration's grant and response types against the grants
    /// this server has: each grant type must be a registered grant's, each
    /// response type answered by one (RFC 7591 2: the server rejects what
    /// it does not support).
    pub fn check_registration(
        &self,
        grant_types: &[GrantType],
        response_types: &[ResponseType],
    ) -> Result<(), MetadataError> {
        if let Some(grant) = grant_types
            .iter()
            .find(|grant| !self.has_grant(grant.as_str()))
        {
            return Err(MetadataError::GrantTypeUnavailable(grant.clone()));
        }
        if let Some(&kind) = response_types
            .iter()
            .find(|kind| self.response_grant(kind.as_str()).is_none())
        {
            return Err(MetadataError::ResponseTypeUnavailable(kind));
        }
        Ok(())
    }

    /// Parses a registration's grant and response types (RFC 7591 2) and
    /// checks them against this server's grants: the first unknown or
    /// unavailable one is the error.
    pub fn registration_types<G: AsRef<str>, R: AsRef<str>>(
        &self,
        grant_types: &[G],
        response_types: &[R],
    ) -> Result<(Vec<GrantType>, Vec<ResponseType>), MetadataError> {
        let grants = parse_all(grant_types)?;
        let responses = parse_all(response_types)?;
        self.check_registration(&grants, &responses)?;
        Ok((grants, responses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc6749::Oauth2Config;

    #[test]
    fn registration_is_checked_against_the_grants_the_server_has() {
        let full = Oauth2Server::new(Oauth2Config::default());
        assert_eq!(
            full.registration_types(&["authorization_code", "implicit"], &["code", "token"]),
            Ok((
                vec![GrantType::AuthorizationCode, GrantType::Implicit],
                vec![ResponseType::Code, ResponseType::Token]
            ))
        );

        let mut no_implicit = full.clone();
        no_implicit.unregister("implicit");
        let refused = no_implicit.registration_types(&["implicit"], &["code"]);
        assert_eq!(
            refused,
            Err(MetadataError::GrantTypeUnavailable(GrantType::Implicit))
        );
        assert_eq!(
            refused.unwrap_err().to_string(),
            "grant type \"implicit\" is not supported"
        );
        assert_eq!(
            no_implicit.registration_types(&["authorization_code"], &["token"]),
            Err(MetadataError::ResponseTypeUnavailable(ResponseType::Token))
        );
        assert!(no_implicit
            .registration_types(&["authorization_code"], &["code"])
            .is_ok());

        // Implicit sign-in is the implicit grant's on an OpenID Provider,
        // and nowhere else.
        assert_eq!(
            full.registration_types(&["implicit"], &["token id_token"]),
            Ok((vec![GrantType::Implicit], vec![ResponseType::IdTokenToken]))
        );
        assert_eq!(full.response_types(), ["code", "token", "id_token token"]);
        let mut delegation_only = full.clone();
        delegation_only.set_openid(false);
        assert_eq!(
            delegation_only.registration_types(&["implicit"], &["id_token token"]),
            Err(MetadataError::ResponseTypeUnavailable(
                ResponseType::IdTokenToken
            ))
        );
        assert_eq!(delegation_only.response_types(), ["code", "token"]);
        assert!(no_implicit.response_grant("id_token token").is_none());

        // An extension grant only once the deployment registered it.
        assert_eq!(
            full.registration_types(&["urn:example:trust"], &[] as &[&str]),
            Err(MetadataError::GrantTypeUnavailable(GrantType::Extension(
                "urn:example:trust".into()
            )))
        );
        assert_eq!(
            full.registration_types(&["magic"], &["code"]),
            Err(MetadataError::UnknownGrantType("magic".into()))
        );
    }
}
