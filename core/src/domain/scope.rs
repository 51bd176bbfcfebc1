//! Scopes (RFC 6749 3.3): sets of scope tokens, within the caps of
//! CONTRACT.md "Users and sessions", parsed in time linear in their
//! length. A request's scope is parsed with [`Scope::parse`] (RFC 6749's
//! module, which answers a refusal as `invalid_scope`) or `str::parse`
//! (which says why, a [`ScopeError`]); a stored one reads as
//! [`Scope::stored`].

use std::fmt;
use std::str::FromStr;

use indexmap::IndexSet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
