//! The host's side of the one dispatch: what only the embedding
//! application knows. [`Consent`] says who is signed in and shows the
//! pages; [`ResourceOwners`] checks a password for the password grant;
//! [`Host`] adds where attempts are counted and who is asking.
//!
//! A host is a cheap value made for each request (it knows the client's
//! address), borrowing the application's users and throttle:
//!
//! ```
//! use std::net::IpAddr;
//! use async_trait::async_trait;
//! use credlog_core::consent::{CodeForm, Consent, Page, Prompt};
//! use credlog_core::form::Fields;
//! use credlog_core::provider::Host;
//! use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
//! use credlog_core::throttle::{MemoryThrottle, Throttle};
//! use credlog_core::{Request, Response};
//!
//! /// One user, "alice", always signed in; every page is plain text.
//! struct Kiosk<'a> {
//!     throttle: &'a MemoryThrottle,
//!     address: Option<IpAddr>,
//! }
//!
//! fn text(status: u16, body: String) -> Response {
//!     Response { status, headers: vec![("Content-Type".into(), "text/plain".into())], body: body.into_bytes() }
//! }
//!
//! #[async_trait]
//! impl Consent for Kiosk<'_> {
//!     type Owner = String;
//!     async fn owner(&self, _request: &Request) -> Option<String> { Some("alice".into()) }
//!     fn user<'o>(&self, owner: &'o String) -> &'o str { owner }
//!     fn sign_in(&self, return_to: &str) -> Response { Response::redirect(303, &format!("/login?next={return_to}")) }
//!     fn ask(&self, _owner: &String, prompt: &Prompt<'_>) -> Response {
//!         text(200, format!("{} asks for {}", prompt.client_name, prompt.scope))
//!     }
//!     fn answer(&self, _owner: &String, form: &Fields) -> Result<bool, Response> {
//!         Ok(form.get("confirm") == Some("yes"))
//!     }
//!     fn own_fields(&self) -> &[&str] { &["confirm"] }
//!     fn genuine(&self, _owner: &String, _form: &Fields) -> Result<(), Response> { Ok(()) }
//!     fn enter_code(&self, _owner: &String, form: &CodeForm<'_>) -> Response {
//!         text(form.status, format!("type your code: {}", form.typed))
//!     }
//!     fn show(&self, page: &Page<'_>) -> Response { text(200, format!("{page:?}")) }
//! }
//!
//! #[async_trait]
//! impl ResourceOwners for Kiosk<'_> {
//!     async fn authenticate(&self, username: &str, password: &str) -> Result<bool, OwnerCheckError> {
//!         Ok(username == "alice" && password == "correct horse")
//!     }
//! }
//!
//! impl Host for Kiosk<'_> {
//!     fn throttle(&self) -> &dyn Throttle { self.throttle }
//!     fn address(&self) -> Option<IpAddr> { self.address }
//! }
//! ```
//!
//! A real host reads a session cookie in [`Consent::owner`], proves its
//! forms with a CSRF token in [`Consent::answer`] and [`Consent::genuine`],
//! and throttles password guesses in [`ResourceOwners::authenticate`].

use std::net::IpAddr;

pub use crate::consent::Consent;
pub use crate::rfc6749::ResourceOwners;
use crate::throttle::Throttle;

/// Everything the one dispatch asks of the host application, for one
/// request.
pub trait Host: Consent + ResourceOwners {
    /// Where failed client authentications, user-code guesses and device
    /// requests are counted (CONTRACT.md "Users and sessions"). Hosts that
    /// run several servers share one.
    fn throttle(&self) -> &dyn Throttle;

    /// The client's address as the host knows it (behind a trusted proxy,
    /// the forwarded one), when it does.
    fn address(&self) -> Option<IpAddr>;
}
