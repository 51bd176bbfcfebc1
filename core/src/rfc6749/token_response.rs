//! The token response (RFC 6749 5.1): what every grant answers when it
//! issues an access token, as the token endpoint's JSON body or as the
//! implicit grant's redirect fragment (4.2.2). Its [`TokenType`] names
//! how the client presents the token (RFC 6749 7.1).

use serde_json::Value;

use crate::rfc6749::Scope;
use crate::Response;

/// How an access token is presented to a protected resource (RFC 6749
/// 7.1), as `token_type` names it. The names are those of the IANA "OAuth
/// Access Token Types" registry; a proof-of-possession type (RFC 9449
/// `DPoP`) joins them here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TokenType {
    /// RFC 6750: whoever holds the token may use it.
    #[default]
    Bearer,
    /// RFC 9449: bound to a key its holder proves with each use.
    DPoP,
}

impl TokenType {
    /// The `token_type` value (RFC 6749 5.1; matched case-insensitively
    /// by clients, 7.1).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A successful token response (RFC 6749 5.1; 4.2.2 for the implicit
/// grant), with OpenID Connect's `id_token` (Core 1.0 3.1.3.3, 3.2.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// `access_token`: the token issued.
    pub access_token: String,
    /// `token_type`: how it is presented.
    pub token_type: TokenType,
    /// `expires_in`: its lifetime in seconds from now.
    pub expires_in: u64,
    /// `refresh_token`, when one was issued (never by the implicit grant,
    /// 4.2.2).
    pub refresh_token: Option<String>,
    /// `scope`: the access token's scope, always sent.
    pub scope: Scope,
    /// `id_token`, when the response signs the user in.
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// A response for a bearer `access_token` living `expires_in` seconds
    /// with `scope`, and no refresh or ID token.
    pub fn bearer(access_token: String, expires_in: u64, scope: Scope) -> Self {
        TokenResponse {
            access_token,
            token_type: TokenType::Bearer,
            expires_in,
            refresh_token: None,
            scope,
            id_token: None,
        }
    }

    /// Its parameters in the order RFC 6749 lists them, absent ones left
    /// out: the one source of both forms.
    fn parameters(&self) -> Vec<(&'static str, Value)> {
        let mut parameters = vec![
            ("access_token", Value::from(self.access_token.as_str())),
            ("token_type", Value::from(self.token_type.as_str())),
            ("expires_in", Value::from(self.expires_in)),
        ];
        if let Some(refresh_token) = &self.refresh_token {
            parameters.push(("refresh_token", Value::from(refresh_token.as_str())));
        }
        parameters.push(("scope", Value::from(self.scope.to_string())));
        if let Some(id_token) = &self.id_token {
            parameters.push(("id_token", Value::from(id_token.as_str())));
        }
        parameters
    }

    /// The JSON object of the token endpoint's answer (RFC 6749 5.1).
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.parameters()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }

    /// The token endpoint's answer: 200, JSON, `no-store` (RFC 6749 5.1).
    pub fn to_response(&self) -> Response {
        Response::json(200, &self.to_json())
    }

    /// The parameters as text, for a redirect URI's fragment (RFC 6749
    /// 4.2.2); `expires_in` in decimal.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.parameters()
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (name.to_owned(), text)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> TokenResponse {
        TokenResponse::bearer("at".into(), 3600, Scope::stored("read write"))
    }

    #[test]
    fn the_token_type_is_named_as_the_registry_names_it() {
        assert_eq!(TokenType::Bearer.as_str(), "Bearer");
        assert_eq!(TokenType::default().to_string(), "Bearer");
    }

    #[test]
    fn the_json_body_leaves_out_what_was_not_issued() {
        let body = response().to_json();
        assert_eq!(
            body,
            serde_json::json!({
                "access_token": "at",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "read write",
            })
        );
        let full = TokenResponse {
            refresh_token: Some("rt".into()),
            id_token: Some("jwt".into()),
            ..response()
        };
        let body = full.to_json();
        assert_eq!(body["refresh_token"], "rt");
        assert_eq!(body["id_token"], "jwt");
        assert_eq!(body["expires_in"], 3600);
        let response = full.to_response();
        assert_eq!(response.status, 200);
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }

    #[test]
    fn the_fragment_pairs_keep_the_rfc_order_as_text() {
        let pairs = response().to_pairs();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("access_token", "at"),
                ("token_type", "Bearer"),
                ("expires_in", "3600"),
                ("scope", "read write"),
            ]
        );
    }
}
