//! Resource indicators (RFC 8707): the `resource` parameters a client
//! sends at the authorization and token endpoints, naming the protected
//! resources an access token is for. They become the token's audience
//! ([`crate::store::Constrained`]`::audience`, `aud` in introspection and
//! in JWT access tokens).
//!
//! A grant keeps the resources it was given: a code those of its
//! authorization request, a refresh token those of the grant it rests on.
//! A token request may ask for fewer of them (narrowing the access
//! token), never for one outside them; a grant given no resource covers
//! any. A resource that is not an absolute URI without a fragment, or is
//! outside the grant, is `invalid_target` (RFC 8707 2).

use crate::rfc6749::{Oauth2Error, Params};
use crate::store::{CredentialStore, StoreError};

/// The most `resource` parameters one request may send: a token is for a
/// handful of resources, and the cap bounds what one request makes the
/// server keep and sign.
pub const MAX_RESOURCES: usize = 8;

/// The longest `resource` accepted, in bytes.
pub const MAX_RESOURCE_LEN: usize = 512;

/// The parameter's name.
pub const RESOURCE: &str = "resource";

/// The resources `params` name, each checked (RFC 8707 2), in the order
/// sent, each once; empty when none was sent.
pub fn requested(params: &Params) -> Result<Vec<String>, Oauth2Error> {
    let mut resources: Vec<String> = Vec::new();
    for value in params.get_all(RESOURCE) {
        check(value)?;
        if !resources.iter().any(|known| known == value) {
            if resources.len() == MAX_RESOURCES {
                return Err(Oauth2Error::InvalidTarget(format!(
                    "at most {MAX_RESOURCES} resources may be asked for at once"
                )));
            }
            resources.push(value.to_owned());
        }
    }
    Ok(resources)
}

/// Checks one `resource` value: an absolute URI (RFC 3986 4.3: a scheme,
/// `:`, and a non-empty rest of URI characters, `%` escapes well-formed)
/// without a fragment, of at most [`MAX_RESOURCE_LEN`] bytes.
pub fn check(value: &str) -> Result<(), Oauth2Error> {
    let refuse = |why: &str| {
        Err(Oauth2Error::InvalidTarget(format!(
            "resource {:?} {why} (RFC 8707 2)",
            shortened(value)
        )))
    };
    if value.len() > MAX_RESOURCE_LEN {
        return refuse("is too long");
    }
    if value.contains('#') {
        return refuse("must not have a fragment");
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return refuse("is not an absolute URI");
    };
    let mut scheme_chars = scheme.bytes();
    let scheme_ok = scheme_chars.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() {
        return refuse("is not an absolute URI");
    }
    if !uri_characters(rest) {
        return refuse("has characters a URI may not");
    }
    Ok(())
}

/// Whether `text` is made of RFC 3986 URI characters (unreserved,
/// reserved but `#`, and well-formed `%` escapes).
fn uri_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b == b'%' {
            let escaped = bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
            if !escaped {
                return false;
            }
            at += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'['
                    | b']'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        if !allowed {
            return false;
        }
        at += 1;
    }
    true
}

/// At most 100 characters of what a client sent, for a message.
fn shortened(value: &str) -> String {
    let mut short: String = value.chars().take(100).collect();
    if short.len() < value.len() {
        short.push_str("...");
    }
    short
}

/// The audience of a token asking for `requested` from a grant that
/// covers `granted` (empty: any resource): what was asked, each within
/// the grant, or the grant's own when nothing was asked (RFC 8707 2.2).
pub fn within(requested: Vec<String>, granted: &[String]) -> Result<Vec<String>, Oauth2Error> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    if granted.is_empty() {
        return Ok(requested);
    }
    match requested
        .iter()
        .find(|resource| !granted.contains(resource))
    {
        Some(outside) => Err(Oauth2Error::InvalidTarget(format!(
            "resource {:?} was not granted (RFC 8707 2.2)",
            shortened(outside)
        ))),
        None => Ok(requested),
    }
}

/// The resources credential `id` (a code, a refresh token) was given:
/// empty when it was given none.
pub async fn granted(store: &dyn CredentialStore, id: &str) -> Result<Vec<String>, StoreError> {
    Ok(store
        .constraints(id)
        .await?
        .map(|constrained| constrained.audience)
        .unwrap_or_default())
}

/// What a grant trading a credential that covers `granted` issues: the
/// access token's audience (`requested` narrowed within `granted`) and,
/// when that differs from the grant's, the grant's for the refresh token
/// (RFC 8707 2.2: narrowing an access token does not narrow the grant).
pub fn narrowed(
    params: &Params,
    granted: Vec<String>,
) -> Result<(Vec<String>, Option<Vec<String>>), Oauth2Error> {
    let audience = within(requested(params)?, &granted)?;
    let refresh_audience = (audience != granted).then_some(granted);
    Ok((audience, refresh_audience))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Params {
        Params::parse(text.as_bytes()).unwrap()
    }

    fn target(result: Result<impl std::fmt::Debug, Oauth2Error>) -> String {
        match result {
            Err(error @ Oauth2Error::InvalidTarget(_)) => {
                assert_eq!((error.code(), error.status()), ("invalid_target", 400));
                error.description()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn resources_are_absolute_uris_without_fragments() {
        for good in [
            "https://api.example.com/",
            "https://api.example.com/v1?tenant=a",
            "urn:example:calendar",
            "https://[::1]:8443/a%20b",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "relative",
            "/api/me",
            "https://api.example.com/#frag",
            "https://api.example.com/a b",
            "1https://x",
            "https:",
            ":x",
            "https://a/%zz",
            "https://a/%2",
            "https://a/caf\u{e9}",
            "https://a/\"",
        ] {
            let why = target(check(bad));
            assert!(why.contains("RFC 8707"), "{why}");
        }
        target(check(&format!(
            "https://a/{}",
            "x".repeat(MAX_RESOURCE_LEN)
        )));
    }

    #[test]
    fn requested_keeps_order_once_each_within_the_cap() {
        let asked = params(
            "resource=https%3A%2F%2Fb%2F&resource=https%3A%2F%2Fa%2F&resource=https%3A%2F%2Fb%2F",
        );
        assert_eq!(requested(&asked).unwrap(), ["https://b/", "https://a/"]);
        assert!(requested(&params("scope=x")).unwrap().is_empty());
        target(requested(&params("resource=relative")));
        let many: Vec<String> = (0..=MAX_RESOURCES)
            .map(|n| format!("resource=urn%3Ar{n}"))
            .collect();
        target(requested(&params(&many.join("&"))));
        // The same one many times is one.
        let same = vec!["resource=urn%3Ar"; MAX_RESOURCES + 5].join("&");
        assert_eq!(requested(&params(&same)).unwrap(), ["urn:r"]);
    }

    #[test]
    fn a_token_request_narrows_never_widens() {
        let granted = vec!["https://a/".to_owned(), "https://b/".to_owned()];
        assert_eq!(within(vec![], &granted).unwrap(), granted);
        assert_eq!(
            within(vec!["https://b/".into()], &granted).unwrap(),
            ["https://b/"]
        );
        let why = target(within(vec!["https://c/".into()], &granted));
        assert!(why.contains("https://c/"), "{why}");
        target(within(
            vec!["https://a/".into(), "https://c/".into()],
            &granted,
        ));
        // A grant given no resource covers any.
        assert_eq!(
            within(vec!["https://c/".into()], &[]).unwrap(),
            ["https://c/"]
        );
        assert!(within(vec![], &[]).unwrap().is_empty());
    }

    #[test]
    fn narrowing_keeps_the_grants_resources_for_the_refresh_token() {
        let granted = vec!["https://a/".to_owned(), "https://b/".to_owned()];
        let (audience, refresh) =
            narrowed(&params("resource=https%3A%2F%2Fa%2F"), granted.clone()).unwrap();
        assert_eq!(audience, ["https://a/"]);
        assert_eq!(refresh, Some(granted.clone()));
        let (audience, refresh) = narrowed(&params(""), granted.clone()).unwrap();
        assert_eq!((audience, refresh), (granted, None));
    }
}
