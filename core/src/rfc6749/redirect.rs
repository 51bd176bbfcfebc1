//! Redirection URIs (RFC 6749 3.1.2): which one a request may use, and how
//! the answer is added to it (query for codes, fragment for implicit).

use super::errors::Oauth2Error;
use crate::form;

/// The redirect URI an authorization request will use (RFC 6749 3.1.2.3):
/// the one it names, if registered, compared as exact strings; or, when it
/// names none, the client's only registered one.
pub fn resolve<'a>(
    requested: Option<&'a str>,
    registered: &'a [String],
) -> Result<&'a str, Oauth2Error> {
    match requested {
        Some(uri) if registered.iter().any(|r| r == uri) => Ok(uri),
        Some(_) => Err(Oauth2Error::UnregisteredRedirectUri),
        None => match registered {
            [only] => Ok(only),
            _ => Err(Oauth2Error::RedirectUriRequired),
        },
    }
}

/// Where the answer goes in the redirect URI (OAuth 2.0 Multiple Response
/// Type Encoding Practices, 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Added to the query (the code flow, RFC 6749 4.1.2).
    Query,
    /// Put in the fragment (the implicit flow, RFC 6749 4.2.2).
    Fragment,
}

impl ResponseMode {
    /// Its name in metadata.
    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
        }
    }
}

/// `uri` with `pairs` added: to its query (keeping what is there), or as
/// its fragment (the registered URI has none: RFC 6749 3.1.2).
pub fn with_parameters(uri: &str, mode: ResponseMode, pairs: &[(&str, &str)]) -> String {
    match mode {
        ResponseMode::Query => form::add_to_query(uri, pairs),
        ResponseMode::Fragment => form::with_fragment(uri, pairs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_registered_uris_are_used() {
        let registered = vec![
            "https://app.example/cb".to_owned(),
            "https://app.example/other".to_owned(),
        ];
        assert_eq!(
            resolve(Some("https://app.example/cb"), &registered),
            Ok("https://app.example/cb")
        );
        for near in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://APP.example/cb",
            "http://app.example/cb",
        ] {
            assert_eq!(
                resolve(Some(near), &registered),
                Err(Oauth2Error::UnregisteredRedirectUri)
            );
        }
        assert_eq!(
            resolve(None, &registered),
            Err(Oauth2Error::RedirectUriRequired)
        );
        assert_eq!(
            resolve(None, &registered[..1]),
            Ok("https://app.example/cb")
        );
    }

    #[test]
    fn answers_go_to_the_query_or_the_fragment() {
        assert_eq!(
            with_parameters(
                "https://app.example/cb?keep=1",
                ResponseMode::Query,
                &[("code", "abc"), ("state", "x y")]
            ),
            "https://app.example/cb?keep=1&code=abc&state=x%20y"
        );
        assert_eq!(
            with_parameters(
                "https://app.example/cb",
                ResponseMode::Fragment,
                &[("access_token", "t")]
            ),
            "https://app.example/cb#access_token=t"
        );
    }
}
