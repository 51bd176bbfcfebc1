//! Forms from other sites: a state-changing `POST` from a page is refused
//! when a header says another site sent it (the first defence against
//! cross-site request forgery; the host's CSRF token is the second).

use crate::Request;

/// The origin (`scheme://host[:port]`) of an absolute URI.
pub fn origin_of(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&uri[..uri.len() - rest.len() + end])
}

/// Whether `request` says it came from a site other than the one it
/// reached (the origin of its URI): [`foreign`] on its headers.
pub fn cross_site(request: &Request) -> bool {
    foreign(
        request.header_values("origin"),
        request.header_values("sec-fetch-site"),
        origin_of(&request.uri),
    )
}

/// Whether a request with these `Origin` and `Sec-Fetch-Site` header
/// values came from a site other than `ours` (`scheme://host[:port]`): an
/// `Origin` that is not ours (`null` included, and any at all when ours
/// is unknown), or `Sec-Fetch-Site: cross-site`. A request with neither
/// header (curl, an old browser) is not cross-site.
pub fn foreign<'a>(
    mut origins: impl Iterator<Item = &'a str>,
    mut fetch_sites: impl Iterator<Item = &'a str>,
    ours: Option<&str>,
) -> bool {
    fetch_sites.any(|site| site.trim().eq_ignore_ascii_case("cross-site"))
        || origins.any(|origin| ours.is_none_or(|ours| !origin.trim().eq_ignore_ascii_case(ours)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(headers: &[(&str, &str)]) -> Request {
        headers.iter().fold(
            Request::new("POST", "https://auth.example:8443/oauth2/authorize"),
            |request, (name, value)| request.with_header(*name, *value),
        )
    }

    #[test]
    fn the_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://auth.example:8443/a?b#c"),
            Some("https://auth.example:8443")
        );
        assert_eq!(origin_of("http://h"), Some("http://h"));
        assert_eq!(origin_of("/relative"), None);
    }

    #[test]
    fn only_another_site_is_cross_site() {
        assert!(!cross_site(&posted(&[])));
        assert!(!cross_site(&posted(&[(
            "Origin",
            "https://AUTH.example:8443"
        )])));
        assert!(!cross_site(&posted(&[("Sec-Fetch-Site", "same-origin")])));
        assert!(cross_site(&posted(&[("Origin", "https://evil.example")])));
        assert!(cross_site(&posted(&[("Origin", "null")])));
        assert!(cross_site(&posted(&[("Origin", "https://auth.example")])));
        assert!(cross_site(&posted(&[("sec-fetch-site", "cross-site")])));
    }
}
