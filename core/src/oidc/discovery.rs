//! OpenID Connect Discovery 1.0 (3): the RFC 8414 metadata, which lists
//! the grants and settings, with what OpenID Connect adds. One source for
//! both documents.

use super::{JWKS_PATH, OPENID, USERINFO_PATH};
use crate::jose::SignatureAlg;
use crate::rfc6749::Oauth2Server;

impl Oauth2Server {
    /// The Discovery document for `issuer`: [`Oauth2Server::metadata`]
    /// plus the OpenID Provider fields (Discovery 1.0 3).
    pub fn openid_configuration(&self, issuer: &str) -> serde_json::Value {
        let mut document = self.metadata(issuer);
        document["subject_types_supported"] = serde_json::json!(["public"]);
        document["claims_supported"] = serde_json::json!([
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "preferred_username"
        ]);
        if document.get("scopes_supported").is_none() {
            document["scopes_supported"] = serde_json::json!([OPENID, "profile"]);
        }
        document
    }

    /// What the RFC 8414 document and the Discovery document share about
    /// OpenID Connect: the JWK Set, the UserInfo endpoint and every
    /// algorithm ID tokens are signed with (the client picks one with
    /// `id_token_signed_response_alg`; CONTRACT.md lists them in both).
    pub(crate) fn openid_endpoints(&self, issuer: &str, metadata: &mut serde_json::Value) {
        metadata["jwks_uri"] = format!("{issuer}{JWKS_PATH}").into();
        metadata["userinfo_endpoint"] = format!("{issuer}{USERINFO_PATH}").into();
        metadata["id_token_signing_alg_values_supported"] = SignatureAlg::SIGNING
            .iter()
            .map(|alg| alg.name())
            .collect::<Vec<_>>()
            .into();
    }
}
