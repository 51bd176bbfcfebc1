//! Request parameters (RFC 6749 3.1, 3.2: form-encoded, none twice) and
//! scope strings (RFC 6749 3.3).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::errors::Oauth2Error;
use crate::form::form_decode;

/// The parameters of an OAuth 2 request: a query or a form body, decoded,
/// with no name twice (RFC 6749 3.1, 3.2). Empty values count as absent
/// (RFC 6749 3.1: "parameters sent without a value MUST be treated as if
/// they were omitted").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes form-encoded text, refusing a parameter sent twice.
    pub fn parse(text: &[u8]) -> Result<Params, Oauth2Error> {
        let text = std::str::from_utf8(text).map_err(|_| Oauth2Error::MalformedForm)?;
        let pairs = form_decode(text).map_err(|_| Oauth2Error::MalformedForm)?;
        // One pass with a set of the names seen: linear in the pairs.
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        if let Some((name, _)) = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .find(|(name, _)| !seen.insert(name.as_ref()))
        {
            return Err(Oauth2Error::DuplicateParameter(name.clone().into_owned()));
        }
        Ok(Params(
            pairs
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        ))
    }

    /// Parameters from pairs (for tests and for adapters that parsed already).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        Params(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        )
    }

    /// The value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or `MissingParameter`.
    pub fn require(&self, name: &'static str) -> Result<&str, Oauth2Error> {
        self.get(name).ok_or(Oauth2Error::MissingParameter(name))
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// A scope: a set of scope tokens, in the order first given (RFC 6749 3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<String>);

/// Whether `c` may appear in a scope token: `%x21 / %x23-5B / %x5D-7E`.
fn is_nqchar(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

impl Scope {
    /// Parses a space-delimited scope string (RFC 6749 3.3). Tokens are
    /// separated by single spaces; a repeated token counts once.
    pub fn parse(text: &str) -> Result<Scope, Oauth2Error> {
        let mut tokens: Vec<String> = Vec::new();
        for token in text.split(' ') {
            if token.is_empty() || !token.chars().all(is_nqchar) {
                return Err(Oauth2Error::InvalidScope(format!(
                    "scope {text:?} is not a space-delimited list of scope tokens"
                )));
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        Ok(Scope(tokens))
    }

    /// The scope stored with a credential or client (already validated when
    /// written; an empty string is the empty scope).
    pub fn stored(text: &str) -> Scope {
        Scope(
            text.split(' ')
                .filter(|t| !t.is_empty())
                .fold(Vec::new(), |mut tokens, token| {
                    if !tokens.iter().any(|t: &String| t == token) {
                        tokens.push(token.to_owned());
                    }
                    tokens
                }),
        )
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.iter().all(|token| other.contains(token))
    }

    /// Whether the scope holds `token`.
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// The tokens of `self` that are also in `other`, in `self`'s order.
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(
            self.0
                .iter()
                .filter(|t| other.contains(t))
                .cloned()
                .collect(),
        )
    }

    /// Whether it holds no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Its tokens.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// A scope is stored and answered as its space-delimited string (RFC 6749 3.3).
impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a scope as [`Scope::stored`] does: it was validated when written,
/// and the empty string is the empty scope.
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Scope::stored(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_sent_twice_is_refused_and_empty_ones_are_absent() {
        assert_eq!(
            Params::parse(b"grant_type=password&scope=a&grant_type=password"),
            Err(Oauth2Error::DuplicateParameter("grant_type".into()))
        );
        let params = Params::parse(b"a=1&b=&c=x+y%21").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y!"));
        assert_eq!(Params::parse(b"a=%zz"), Err(Oauth2Error::MalformedForm));
        assert_eq!(Params::parse(b"a=\xff"), Err(Oauth2Error::MalformedForm));
    }

    #[test]
    fn scopes_parse_as_sets_of_nqchar_tokens() {
        let scope = Scope::parse("profile email profile").unwrap();
        assert_eq!(scope.to_string(), "profile email");
        for bad in ["", "a  b", " a", "a\"b", "a\\b", "caf\u{e9}"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
        let wide = Scope::parse("a b c").unwrap();
        let narrow = Scope::parse("c a").unwrap();
        assert!(narrow.is_subset_of(&wide));
        assert!(!wide.is_subset_of(&narrow));
        assert_eq!(wide.intersection(&narrow).to_string(), "a c");
    }

    #[test]
    fn scopes_serialize_as_their_string() {
        let scope = Scope::parse("profile email").unwrap();
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, r#""profile email""#);
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        assert_eq!(
            serde_json::from_str::<Scope>(r#""""#).unwrap(),
            Scope::default()
        );
        assert_eq!(
            serde_json::from_str::<Scope>(r#""a a b""#)
                .unwrap()
                .to_string(),
            "a b"
        );
    }
}
