//! Request parameters (RFC 6749 3.1, 3.2: form-encoded, none twice) and
//! scope strings (RFC 6749 3.3, within the caps of CONTRACT.md "Users and
//! sessions"), both parsed in time linear in their length.

use std::fmt;
use std::str::FromStr;

use indexmap::IndexSet;
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

/// The most tokens a scope holds (CONTRACT.md "Users and sessions").
pub const MAX_SCOPE_TOKENS: usize = 64;

/// The most characters a scope token holds (CONTRACT.md "Users and sessions").
pub const MAX_SCOPE_TOKEN_CHARS: usize = 128;

/// Why a scope string is refused: RFC 6749 3.3's grammar, or the caps of
/// CONTRACT.md "Users and sessions". The messages are the
/// `error_description`s the endpoints answer with; none repeats the
/// scope, which may be long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// No scope, two spaces in a row, or a space at either end: RFC 6749
    /// 3.3 separates tokens of at least one character by single spaces.
    #[error("the scope has an empty token at byte {at}: scope tokens are separated by single spaces (RFC 6749 3.3)")]
    EmptyToken {
        /// Where the empty token starts, in bytes.
        at: usize,
    },
    /// A character outside RFC 6749 3.3's `NQCHAR`.
    #[error("the scope has the character U+{:04X} at byte {at}, which no scope token may hold (RFC 6749 3.3)", u32::from(*.character))]
    Character {
        /// The character.
        character: char,
        /// Where it is, in bytes.
        at: usize,
    },
    /// More distinct tokens than [`MAX_SCOPE_TOKENS`].
    #[error(
        "the scope holds more than {} tokens, the most allowed",
        MAX_SCOPE_TOKENS
    )]
    TooManyTokens,
    /// A token longer than [`MAX_SCOPE_TOKEN_CHARS`].
    #[error(
        "a scope token is {length} characters long, more than the {} characters allowed",
        MAX_SCOPE_TOKEN_CHARS
    )]
    TokenTooLong {
        /// Its length in characters.
        length: usize,
    },
}

/// A refused scope is `invalid_scope` (RFC 6749 4.1.2.1, 5.2).
impl From<ScopeError> for Oauth2Error {
    fn from(error: ScopeError) -> Self {
        Oauth2Error::InvalidScope(error.to_string())
    }
}

/// A scope: a set of scope tokens, in the order first given (RFC 6749
/// 3.3). Membership, subsets and intersections take time linear in the
/// tokens (a hash set); two scopes are equal when they hold the same
/// tokens, in whatever order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(IndexSet<String>);

/// Whether `c` may appear in a scope token: `%x21 / %x23-5B / %x5D-7E`.
fn is_nqchar(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
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

    /// The scope stored with a credential or client (already validated when
    /// written; an empty string is the empty scope). No cap applies: what
    /// was stored before the caps existed still reads, in linear time.
    pub fn stored(text: &str) -> Scope {
        Scope(
            text.split(' ')
                .filter(|token| !token.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether the scope holds `token`.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// The tokens of `self` that are also in `other`, in `self`'s order.
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }

    /// The tokens of `self`, then those of `other` not in `self`. The caps
    /// do not apply: a union of granted scopes may hold more tokens than
    /// one request may ask for.
    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    /// Whether it holds no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many tokens it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Its tokens, in the order first given.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// [`Scope::parse`] with the precise reason for a refusal. One pass over
/// the text: each token is checked and hashed once, and the parse stops
/// at the first token past a cap.
impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Scope, ScopeError> {
        let mut tokens = IndexSet::new();
        let mut at = 0;
        for token in text.split(' ') {
            if token.is_empty() {
                return Err(ScopeError::EmptyToken { at });
            }
            if let Some((offset, character)) = token.char_indices().find(|(_, c)| !is_nqchar(*c)) {
                return Err(ScopeError::Character {
                    character,
                    at: at + offset,
                });
            }
            // NQCHAR is ASCII: bytes are characters.
            if token.len() > MAX_SCOPE_TOKEN_CHARS {
                return Err(ScopeError::TokenTooLong {
                    length: token.len(),
                });
            }
            if tokens.insert(token) && tokens.len() > MAX_SCOPE_TOKENS {
                return Err(ScopeError::TooManyTokens);
            }
            at += token.len() + 1;
        }
        Ok(Scope(tokens.into_iter().map(str::to_owned).collect()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, token) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
        }
        Ok(())
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
    use proptest::prelude::*;

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
    fn refusals_say_where_and_never_repeat_the_scope() {
        assert_eq!(
            "a  b".parse::<Scope>(),
            Err(ScopeError::EmptyToken { at: 2 })
        );
        assert_eq!("".parse::<Scope>(), Err(ScopeError::EmptyToken { at: 0 }));
        assert_eq!(
            "ab c\"d".parse::<Scope>(),
            Err(ScopeError::Character {
                character: '"',
                at: 4
            })
        );
        let message = ScopeError::Character {
            character: '\u{e9}',
            at: 3,
        }
        .to_string();
        assert!(message.contains("U+00E9"), "{message}");
        // RFC 6749 5.2: error_description holds no '"' or '\'.
        assert!(!message.contains(['"', '\\']), "{message}");
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

    /// A short scope token: one of a few (so that scopes share tokens), or
    /// any `1*NQCHAR` of up to 8.
    fn short_token() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["a", "b", "c", "profile", "email"]).prop_map(String::from),
            "[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,8}",
        ]
    }

    /// A scope token, short or near the 128-character cap.
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => short_token(),
            1 => "[\\x21\\x23-\\x5B\\x5D-\\x7E]{120,136}",
        ]
    }

    /// Lists of tokens: many short ones (past the 64-token cap or not), or
    /// a few of any length (past the 128-character cap or not).
    fn token_lists() -> impl Strategy<Value = Vec<String>> {
        prop_oneof![
            prop::collection::vec(short_token(), 1..90),
            prop::collection::vec(token(), 1..12),
        ]
    }

    /// The tokens once each, in the order first given.
    fn distinct(tokens: &[String]) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        tokens
            .iter()
            .map(String::as_str)
            .filter(|token| seen.insert(*token))
            .collect()
    }

    proptest! {
        /// A list of tokens parses to its distinct tokens in order, within
        /// the caps, or is refused for the cap it passes; what parses
        /// prints as text that parses (and reads as stored) to the same.
        #[test]
        fn token_lists_parse_within_the_caps_and_round_trip(
            tokens in token_lists(),
        ) {
            let text = tokens.join(" ");
            let distinct = distinct(&tokens);
            match text.parse::<Scope>() {
                Ok(scope) => {
                    prop_assert!(distinct.len() <= MAX_SCOPE_TOKENS);
                    prop_assert!(distinct.iter().all(|t| t.len() <= MAX_SCOPE_TOKEN_CHARS));
                    prop_assert_eq!(scope.tokens().collect::<Vec<_>>(), distinct);
                    let printed = scope.to_string();
                    let again = printed.parse::<Scope>();
                    prop_assert_eq!(again.as_ref().map(Scope::to_string), Ok(printed.clone()));
                    prop_assert_eq!(again, Ok(scope.clone()));
                    prop_assert_eq!(Scope::stored(&printed).to_string(), printed);
                }
                Err(ScopeError::TooManyTokens) => {
                    prop_assert!(distinct.len() > MAX_SCOPE_TOKENS);
                }
                Err(ScopeError::TokenTooLong { length }) => {
                    prop_assert!(length > MAX_SCOPE_TOKEN_CHARS);
                    prop_assert!(tokens.iter().any(|t| t.len() == length));
                }
                Err(other) => prop_assert!(false, "{:?}: {}", text, other),
            }
        }

        /// Any text: no panic, and what parses keeps the caps and the grammar.
        #[test]
        fn any_text_parses_within_the_caps_or_is_refused(text in "[ -~\\t\u{e9}]{0,300}") {
            if let Ok(scope) = text.parse::<Scope>() {
                prop_assert!(!scope.is_empty() && scope.len() <= MAX_SCOPE_TOKENS);
                let well_formed = |t: &str| {
                    !t.is_empty() && t.len() <= MAX_SCOPE_TOKEN_CHARS && t.chars().all(is_nqchar)
                };
                prop_assert!(scope.tokens().all(well_formed), "{:?}", scope);
                prop_assert_eq!(scope.to_string().parse::<Scope>(), Ok(scope));
            }
        }

        /// Subset, intersection and union agree with membership.
        #[test]
        fn set_operations_agree_with_membership(
            a in prop::collection::vec(token(), 0..20),
            b in prop::collection::vec(token(), 0..20),
        ) {
            let (a, b) = (Scope::stored(&a.join(" ")), Scope::stored(&b.join(" ")));
            let both = a.intersection(&b);
            let either = a.union(&b);
            prop_assert!(both.tokens().all(|t| a.contains(t) && b.contains(t)));
            prop_assert!(a.tokens().filter(|t| b.contains(t)).all(|t| both.contains(t)));
            prop_assert!(both.is_subset_of(&a) && both.is_subset_of(&b));
            prop_assert!(a.is_subset_of(&either) && b.is_subset_of(&either));
            prop_assert!(either.tokens().all(|t| a.contains(t) || b.contains(t)));
            prop_assert_eq!(a.is_subset_of(&b), a.tokens().all(|t| b.contains(t)));
            prop_assert_eq!(a.is_subset_of(&b), both == a);
            prop_assert_eq!(&either, &b.union(&a));
            prop_assert_eq!(either.len(), a.len() + b.len() - both.len());
        }
    }
}
