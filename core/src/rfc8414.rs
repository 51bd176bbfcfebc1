//! Authorization server metadata (RFC 8414): what this server supports,
//! derived from its grants and settings, so that it lists exactly that.

use std::collections::BTreeSet;

use crate::jose::SignatureAlg;
use crate::rfc6749::{ClientAuthMethod, Oauth2Server};

/// The endpoint paths, relative to the issuer.
pub const AUTHORIZATION_PATH: &str = "/oauth2/authorize";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// The revocation endpoint (RFC 7009).
pub const REVOCATION_PATH: &str = "/oauth2/revoke";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECTION_PATH: &str = "/oauth2/introspect";
/// The device authorization endpoint (RFC 8628 3.1).
pub const DEVICE_AUTHORIZATION_PATH: &str = "/oauth2/device_authorization";
/// Where pushed authorization requests are posted (RFC 9126 2).
pub const PUSHED_AUTHORIZATION_PATH: &str = "/oauth2/par";
/// Where the metadata is served (RFC 8414 3).
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

fn names(methods: &[ClientAuthMethod]) -> Vec<&'static str> {
    let set: BTreeSet<ClientAuthMethod> = methods.iter().copied().collect();
    set.into_iter().map(ClientAuthMethod::name).collect()
}

impl Oauth2Server {
    /// The RFC 8414 2 metadata document for `issuer` (a URL with no query
    /// or fragment, without a trailing slash).
    pub fn metadata(&self, issuer: &str) -> serde_json::Value {
        let issuer = issuer.trim_end_matches('/');
        let grants: Vec<_> = self.grants().collect();
        let token_methods: Vec<ClientAuthMethod> = grants
            .iter()
            .filter(|grant| grant.at_token_endpoint())
            .flat_map(|grant| self.auth_methods(*grant))
            .collect();
        let response_types = self.response_types();
        let response_modes: BTreeSet<&str> = grants
            .iter()
            .filter(|g| g.response_type().is_some())
            .map(|g| g.response_mode().name())
            .collect();
        let mut pkce = vec!["S256"];
        if self.config().allow_plain_pkce {
            pkce.push("plain");
        }
        let mut metadata = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}{AUTHORIZATION_PATH}"),
            "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
            "revocation_endpoint": format!("{issuer}{REVOCATION_PATH}"),
            "introspection_endpoint": format!("{issuer}{INTROSPECTION_PATH}"),
            "response_types_supported": response_types,
            "response_modes_supported": response_modes,
            "grant_types_supported": grants.iter().map(|g| g.grant_type()).collect::<Vec<_>>(),
            "token_endpoint_auth_methods_supported": names(&token_methods),
            "revocation_endpoint_auth_methods_supported": names(&self.config().revocation_auth_methods),
            "introspection_endpoint_auth_methods_supported": names(&self.config().introspection_auth_methods),
            "code_challenge_methods_supported": pkce,
        });
        // RFC 8628 4: listed where the device grant is served.
        // RFC 9126 5: where requests are pushed, and whether every client
        // must push them (a client may still be required to alone: its
        // registration says so).
        metadata["pushed_authorization_request_endpoint"] =
            format!("{issuer}{PUSHED_AUTHORIZATION_PATH}").into();
        metadata["require_pushed_authorization_requests"] = self
            .config()
            .requires_par(&crate::domain::ClientOptions::default())
            .into();
        // RFC 9207 3: every authorization response names its issuer.
        metadata["authorization_response_iss_parameter_supported"] = true.into();
        if self.has_grant(crate::rfc8628::DEVICE_CODE_GRANT) {
            metadata["device_authorization_endpoint"] =
                format!("{issuer}{DEVICE_AUTHORIZATION_PATH}").into();
        }
        // RFC 9449 5.1: the algorithms a DPoP proof may be signed with.
        metadata["dpop_signing_alg_values_supported"] = crate::rfc9449::PROOF_ALGS.to_vec().into();
        if let Some(scopes) = &self.config().allowed_scopes {
            metadata["scopes_supported"] = scopes.tokens().collect::<Vec<_>>().into();
        }
        // RFC 8414 2: whoever lists private_key_jwt lists the algorithms
        // its assertions may be signed with: under FAPI 2.0 for every
        // client, PS256 and ES256 alone (its 5.4.1).
        let fapi = self.config().profile == Some(crate::domain::Profile::Fapi2);
        let algorithms: Vec<&str> = SignatureAlg::ALL
            .iter()
            .filter(|alg| !fapi || matches!(alg, SignatureAlg::PS256 | SignatureAlg::ES256))
            .map(|alg| alg.name())
            .collect();
        for endpoint in [
            "token_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
        ] {
            let methods = &metadata[format!("{endpoint}_auth_methods_supported")];
            if methods
                .as_array()
                .is_some_and(|methods| methods.iter().any(|m| m == "private_key_jwt"))
            {
                metadata[format!("{endpoint}_auth_signing_alg_values_supported")] =
                    algorithms.clone().into();
            }
        }
        if self.openid().is_some() {
            self.openid_endpoints(issuer, &mut metadata);
        }
        metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc6749::{Oauth2Config, Scope};

    #[test]
    fn metadata_lists_what_the_server_supports() {
        let mut server = Oauth2Server::new(Oauth2Config {
            allow_plain_pkce: false,
            allowed_scopes: Some(Scope::parse("profile email").unwrap()),
            ..Oauth2Config::default()
        });
        server.unregister("implicit");
        let metadata = server.metadata("http://127.0.0.1:8080/");
        assert_eq!(metadata["issuer"], "http://127.0.0.1:8080");
        assert_eq!(
            metadata["token_endpoint"],
            "http://127.0.0.1:8080/oauth2/token"
        );
        assert_eq!(
            metadata["response_types_supported"],
            serde_json::json!(["code"])
        );
        assert_eq!(
            metadata["response_modes_supported"],
            serde_json::json!(["query"])
        );
        assert_eq!(
            metadata["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            metadata["scopes_supported"],
            serde_json::json!(["profile", "email"])
        );
        let grants = metadata["grant_types_supported"].as_array().unwrap();
        assert!(!grants.contains(&"implicit".into()));
        assert!(grants.contains(&"refresh_token".into()));
        assert_eq!(
            metadata["token_endpoint_auth_signing_alg_values_supported"][0],
            "RS256"
        );
        assert_eq!(
            metadata["token_endpoint_auth_methods_supported"],
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "none",
                "private_key_jwt"
            ])
        );
        assert!(grants.contains(&crate::rfc8628::DEVICE_CODE_GRANT.into()));
        assert_eq!(
            metadata["device_authorization_endpoint"],
            "http://127.0.0.1:8080/oauth2/device_authorization"
        );
        assert_eq!(
            metadata["pushed_authorization_request_endpoint"],
            "http://127.0.0.1:8080/oauth2/par"
        );
        assert_eq!(metadata["require_pushed_authorization_requests"], false);
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        server.unregister(crate::rfc8628::DEVICE_CODE_GRANT);
        let metadata = server.metadata("http://127.0.0.1:8080/");
        assert!(metadata.get("device_authorization_endpoint").is_none());
    }

    #[test]
    fn metadata_says_when_every_client_must_push() {
        for config in [
            Oauth2Config {
                require_pushed_authorization_requests: true,
                ..Oauth2Config::default()
            },
            Oauth2Config {
                profile: Some(crate::domain::Profile::Fapi2),
                ..Oauth2Config::default()
            },
        ] {
            let metadata = Oauth2Server::new(config).metadata("https://as.example");
            assert_eq!(metadata["require_pushed_authorization_requests"], true);
        }
    }
}
