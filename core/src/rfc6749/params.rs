//! Request parameters (RFC 6749 3.1, 3.2: form-encoded, none twice) and
//! scope strings (RFC 6749 3.3, within the caps of CONTRACT.md "Users and
//! sessions"), both parsed in time linear in their length. The [`Scope`]
//! itself is a domain type ([`crate::domain::scope`]); here it is parsed
//! as a request gives it, a refusal being `invalid_scope`.

use super::errors::Oauth2Error;
pub use crate::domain::scope::{Scope, ScopeError, MAX_SCOPE_TOKENS, MAX_SCOPE_TOKEN_CHARS};
use crate::form::form_decode;

/// The parameters that may be sent more than once: RFC 8707 2's
/// `resource`, one per resource the token is for.
pub const REPEATABLE: [&str; 1] = ["resource"];

/// The parameters of an OAuth 2 request: a query or a form body, decoded,
/// with no name twice (RFC 6749 3.1, 3.2) but the [`REPEATABLE`] ones. Empty values count as absent
/// (RFC 6749 3.1: "parameters sent without a value MUST be treated as if
/// they were omitted").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes form-encoded text, refusing a parameter sent twice (but
    /// a [`REPEATABLE`] one).
    pub fn parse(text: &[u8]) -> Result<Params, Oauth2Error> {
        let text = std::str::from_utf8(text).map_err(|_| Oauth2Error::MalformedForm)?;
        let pairs = form_decode(text).map_err(|_| Oauth2Error::MalformedForm)?;
        // One pass with a set of the names seen: linear in the pairs.
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        if let Some((name, _)) = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .filter(|(name, _)| !REPEATABLE.contains(&name.as_ref()))
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

    /// Every value of `name`, in order (several for a [`REPEATABLE`] one).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or `MissingParameter`.
    pub fn require(&self, name: &'static str) -> Result<&str, Oauth2Error> {
        self.get(name).ok_or(Oauth2Error::MissingParameter(name))
    }

    /// Every parameter as owned pairs, in order (what a pushed request
    /// stores: RFC 9126 2.1).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.0.clone()
    }

    /// The parameters without those named in `names`.
    pub fn without(&self, names: &[&str]) -> Params {
        Params(
            self.0
                .iter()
                .filter(|(name, _)| !names.contains(&name.as_str()))
                .cloned()
                .collect(),
        )
    }

    /// The parameters with `name` set to `value` (replacing any value it had).
    pub fn with(mut self, name: &str, value: &str) -> Params {
        self.0.retain(|(n, _)| n != name);
        if !value.is_empty() {
            self.0.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// A refused scope is `invalid_scope` (RFC 6749 4.1.2.1, 5.2).
impl From<ScopeError> for Oauth2Error {
    fn from(error: ScopeError) -> Self {
        Oauth2Error::InvalidScope(error.to_string())
    }
}

impl Scope {
    /// Parses a scope a request or registration gives (RFC 6749 3.3):
    /// tokens of `NQCHAR` separated by single spaces, a repeated token
    /// counted once, at most [`MAX_SCOPE_TOKENS`] tokens of at most
    /// [`MAX_SCOPE_TOKEN_CHARS`] characters (CONTRACT.md). A refusal is
    /// `invalid_scope`; [`ScopeError`] says why (`text.parse::<Scope>()`).
    pub fn parse(text: &str) -> Result<Scope, Oauth2Error> {
        text.parse().map_err(Oauth2Error::from)
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
    fn resource_may_repeat() {
        let params = Params::parse(b"resource=https%3A%2F%2Fa%2F&x=1&resource=urn%3Ab").unwrap();
        let all: Vec<&str> = params.get_all("resource").collect();
        assert_eq!(all, ["https://a/", "urn:b"]);
        assert_eq!(params.get_all("x").collect::<Vec<_>>(), ["1"]);
        assert_eq!(params.get_all("y").count(), 0);
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

    #[test]
    fn scopes_hold_at_most_64_tokens_of_at_most_128_characters() {
        let tokens = |n: usize| {
            (0..n)
                .map(|i| format!("t{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(tokens(64).parse::<Scope>().map(|s| s.len()), Ok(64));
        assert_eq!(tokens(65).parse::<Scope>(), Err(ScopeError::TooManyTokens));
        // A repeated token counts once.
        let repeated = format!("{} t0 t63 t1", tokens(64));
        assert_eq!(repeated.parse::<Scope>().map(|s| s.len()), Ok(64));
        assert!("x".repeat(128).parse::<Scope>().is_ok());
        assert_eq!(
            format!("a {}", "x".repeat(129)).parse::<Scope>(),
            Err(ScopeError::TokenTooLong { length: 129 })
        );
        assert!(matches!(
            Scope::parse(&tokens(65)),
            Err(Oauth2Error::InvalidScope(message)) if message.contains("64 tokens")
        ));
        // What was stored before the caps still reads, whole.
        assert_eq!(Scope::stored(&tokens(15_000)).len(), 15_000);
    }

    #[test]
    fn scopes_are_sets_equal_in_any_order() {
        let ab = Scope::parse("a b").unwrap();
        let ba = Scope::parse("b a b").unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ba.to_string(), "b a");
        let bc = Scope::parse("b c").unwrap();
        assert_eq!(ab.union(&bc).to_string(), "a b c");
        assert_eq!(bc.union(&ab).to_string(), "b c a");
        assert_eq!(ab.intersection(&bc).to_string(), "b");
        assert!(Scope::default().is_subset_of(&ab));
        assert!(!ab.is_subset_of(&bc));
    }
}
