//! The embedding seam: what the host application decides at the
//! authorization endpoints (RFC 5849 2.2, RFC 6749 3.1). The engines decide
//! every protocol rule and every event; the host says who the signed-in
//! resource owner is and how their consent is asked and read. credlog's
//! own accounts, sessions and pages are one implementation
//! (`credlog-http`); an application with its own users and sign-in is
//! another.
//!
//! The engines' authorization endpoints,
//! [`Oauth1Provider::authorize_page`](crate::rfc5849::Oauth1Provider::authorize_page),
//! [`Oauth1Provider::authorize_decision`](crate::rfc5849::Oauth1Provider::authorize_decision),
//! [`Oauth2Server::authorize_page`](crate::rfc6749::Oauth2Server::authorize_page) and
//! [`Oauth2Server::authorize_decision`](crate::rfc6749::Oauth2Server::authorize_decision),
//! take a [`Consent`].

use async_trait::async_trait;

use crate::form::Fields;
use crate::{Request, Response};

/// The host application's side of an authorization endpoint.
#[async_trait]
pub trait Consent: Send + Sync {
    /// A signed-in resource owner, as the host knows them (a session, say).
    type Owner: Send + Sync;

    /// The resource owner signed in on `request`, if any.
    async fn owner(&self, request: &Request) -> Option<Self::Owner>;

    /// The owner's user name: what the credentials granted are issued to.
    fn user<'a>(&self, owner: &'a Self::Owner) -> &'a str;

    /// When the owner signed in (seconds since the epoch), if the host
    /// knows: OpenID Connect's `auth_time`, and what `max_age` is judged
    /// by. A host that does not know makes every `max_age` ask for a
    /// sign-in.
    fn auth_time(&self, _owner: &Self::Owner) -> Option<u64> {
        None
    }

    /// No one is signed in: the answer that has them sign in and come back
    /// to `return_to` (a path and query on this server).
    fn sign_in(&self, return_to: &str) -> Response;

    /// The page that asks `owner` to allow or deny `prompt`. Its form posts
    /// back to `prompt.action` with every one of `prompt.fields`, plus the
    /// host's own fields, which [`Consent::answer`] reads.
    fn ask(&self, owner: &Self::Owner, prompt: &Prompt<'_>) -> Response;

    /// The owner's answer in a posted consent form: `Ok(true)` to allow,
    /// `Ok(false)` to deny, or the refusal of a form that is not genuine
    /// (a forged request) or not an answer.
    fn answer(&self, owner: &Self::Owner, form: &Fields) -> Result<bool, Response>;

    /// The names of the fields the host's consent form adds for itself;
    /// the engine takes them out before it reads the request again.
    fn own_fields(&self) -> &[&str];

    /// Whether a posted form that is not yet an answer (the device page's
    /// typed user code) is genuine: `Ok` when it carries the host's proof
    /// that it came from `owner`'s own page (a CSRF token), else the
    /// refusal to show. Nothing is looked up before this passes.
    fn genuine(&self, owner: &Self::Owner, form: &Fields) -> Result<(), Response>;

    /// The page where `owner` types the user code their device shows (RFC
    /// 8628 3.3). Its form posts `user_code` back to `form.action`, with
    /// the host's own fields that [`Consent::genuine`] reads.
    fn enter_code(&self, owner: &Self::Owner, form: &CodeForm<'_>) -> Response;

    /// A page for the owner: an outcome with no redirect, or why the
    /// request cannot go on.
    fn show(&self, page: &Page<'_>) -> Response;
}

/// What the resource owner is asked to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt<'a> {
    /// The client's registered name.
    pub client_name: &'a str,
    /// The scope it asks for, space-separated.
    pub scope: &'a str,
    /// Where the owner goes after deciding.
    pub returns_to: ReturnsTo<'a>,
    /// Where the form posts (the endpoint's path).
    pub action: &'a str,
    /// The fields the form must post back, as they are.
    pub fields: Vec<(&'a str, &'a str)>,
}

/// Where the owner is sent after the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReturnsTo<'a> {
    /// Nowhere: an OAuth 1 out-of-band client gets a verifier to type in.
    OutOfBand,
    /// Back to the client at this URI.
    Uri(&'a str),
    /// Back to their device, which shows this user code (RFC 8628 3.3).
    Device {
        /// The user code, as the device shows it.
        user_code: &'a str,
    },
}

/// The form where a signed-in person types their device's user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeForm<'a> {
    /// The HTTP status: 200, or 400 after a code that led nowhere.
    pub status: u16,
    /// Where the form posts (the verification URI's path).
    pub action: &'a str,
    /// What the person typed, or what `verification_uri_complete` carried.
    pub typed: &'a str,
    /// Why the code typed last led nowhere, for the person.
    pub error: Option<&'a str>,
}

/// A page the engine has the host show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Page<'a> {
    /// OAuth 1, out of band, granted: the verifier to give the client (RFC 5849 2.2).
    Verifier {
        /// The client's name.
        client_name: &'a str,
        /// The verification code.
        verifier: &'a str,
    },
    /// OAuth 1, out of band, denied.
    Denied {
        /// The client's name.
        client_name: &'a str,
    },
    /// RFC 8628 3.3: the person answered their device's request; they go
    /// back to the device.
    DeviceAnswered {
        /// The client's name.
        client_name: &'a str,
        /// Whether they allowed it.
        approved: bool,
    },
    /// The request cannot go on.
    Refused {
        /// The HTTP status.
        status: u16,
        /// A short title.
        title: &'a str,
        /// What happened and what to do, for a person.
        message: &'a str,
    },
}

impl Page<'static> {
    /// The page for a failure that is not the owner's fault (the store's):
    /// the detail is logged by the engine, never shown.
    pub const SERVER_ERROR: Page<'static> = Page::Refused {
        status: 500,
        title: "Server error",
        message: "The server could not complete the request. Try again later.",
    };

    /// The page for a failure of `error`, the store's: [`Page::SERVER_ERROR`],
    /// or a 503 while the store cannot be reached.
    pub fn store_failed(error: &crate::store::StoreError) -> Page<'static> {
        match error.status() {
            503 => Page::Refused {
                status: 503,
                title: "Service unavailable",
                message:
                    "The server cannot reach its credential store just now. Try again in a moment.",
            },
            _ => Page::SERVER_ERROR,
        }
    }

    /// The page for a posted form that is not form-encoded text.
    pub const UNREADABLE_FORM: Page<'static> = Page::Refused {
        status: 400,
        title: "Bad request",
        message: "The form could not be read.",
    };
}

/// The path of a request URI, without scheme, host or query.
pub(crate) fn path_of(uri: &str) -> &str {
    let path = path_and_query(uri);
    &path[..path.find(['?', '#']).unwrap_or(path.len())]
}

/// The path and query of a request URI (what sign-in carries back).
pub fn path_and_query(uri: &str) -> &str {
    let after_scheme = uri.split_once("://").map_or("", |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("/", |start| &after_scheme[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_absolute_uris() {
        assert_eq!(
            path_of("http://h:1/oauth1/authorize?x=1"),
            "/oauth1/authorize"
        );
        assert_eq!(path_of("http://h"), "/");
        assert_eq!(path_of("https://h/a#f"), "/a");
        assert_eq!(path_and_query("http://h:1/a?b=c"), "/a?b=c");
        assert_eq!(path_and_query("http://h"), "/");
    }
}
