//! One dispatch (DESIGN.md "The core decides; one dispatch"): a
//! [`Provider`] answers every protocol endpoint through one call,
//! [`Provider::handle`], and `None` for any other path, so an adapter
//! (credlog's warp app, `credlog-axum`, a test) serves the whole provider
//! by translating requests and answers. The host supplies what only it
//! knows through [`Host`].
//!
//! ```
//! # use std::net::IpAddr;
//! # use async_trait::async_trait;
//! # use credlog_core::consent::{CodeForm, Consent, Page, Prompt};
//! # use credlog_core::form::Fields;
//! # use credlog_core::rfc6749::{OwnerCheckError, ResourceOwners};
//! # use credlog_core::throttle::{Limits, MemoryThrottle, Throttle};
//! # use credlog_core::{Request, Response};
//! use credlog_core::provider::{Host, Provider};
//! use credlog_core::rfc6749::Oauth2Server;
//! use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider};
//! # struct Nobody(MemoryThrottle);
//! # #[async_trait]
//! # impl Consent for Nobody {
//! #     type Owner = ();
//! #     async fn owner(&self, _: &Request) -> Option<()> { None }
//! #     fn user<'o>(&self, _: &'o ()) -> &'o str { "" }
//! #     fn sign_in(&self, to: &str) -> Response { Response::redirect(303, to) }
//! #     fn ask(&self, _: &(), _: &Prompt<'_>) -> Response { Response::redirect(303, "/") }
//! #     fn answer(&self, _: &(), _: &Fields) -> Result<bool, Response> { Ok(false) }
//! #     fn own_fields(&self) -> &[&str] { &[] }
//! #     fn genuine(&self, _: &(), _: &Fields) -> Result<(), Response> { Ok(()) }
//! #     fn enter_code(&self, _: &(), _: &CodeForm<'_>) -> Response { Response::redirect(303, "/") }
//! #     fn show(&self, _: &Page<'_>) -> Response { Response::redirect(303, "/") }
//! # }
//! # #[async_trait]
//! # impl ResourceOwners for Nobody {
//! #     async fn authenticate(&self, _: &str, _: &str) -> Result<bool, OwnerCheckError> { Ok(false) }
//! # }
//! # impl Host for Nobody {
//! #     fn throttle(&self) -> &dyn Throttle { &self.0 }
//! #     fn address(&self) -> Option<IpAddr> { None }
//! # }
//! # let store = credlog_storage_memory::MemoryStore::new();
//! let provider = Provider::new(
//!     Oauth1Provider::new(Oauth1Config::default(), 600),
//!     Oauth2Server::default(),
//! );
//! let host = Nobody(MemoryThrottle::new(Limits::default()));
//! # futures::executor::block_on(async {
//! let metadata = Request::new("GET", "https://auth.example/.well-known/oauth-authorization-server");
//! let answer = provider.handle(&store, &host, &metadata, 1_700_000_000).await.unwrap();
//! assert_eq!(answer.status, 200);
//!
//! let elsewhere = Request::new("GET", "https://auth.example/api/photos");
//! assert!(provider.handle(&store, &host, &elsewhere, 1_700_000_000).await.is_none());
//! # });
//! ```

mod device;
mod endpoint;
mod host;
pub mod origin;

use crate::consent::{path_of, Page};
use crate::jose::jwk_set;
use crate::rfc5849::Oauth1Provider;
use crate::rfc6749::{Caller, Guarded, Oauth2Error, Oauth2Server};
use crate::rfc8628::DEVICE_CODE_GRANT;
use crate::store::CredentialStore;
use crate::{Request, Response};

pub use endpoint::Endpoint;
pub use host::{Consent, Host, ResourceOwners};

/// The OAuth 1 provider and the OAuth 2 / OpenID Connect server behind one
/// call.
#[derive(Debug)]
pub struct Provider {
    oauth1: Oauth1Provider,
    oauth2: Oauth2Server,
}

impl Provider {
    /// A provider serving `oauth1`'s endpoints and `oauth2`'s: OpenID
    /// Connect's when `oauth2` has it on, the device flow's when it has
    /// the device code grant.
    pub fn new(oauth1: Oauth1Provider, oauth2: Oauth2Server) -> Self {
        Provider { oauth1, oauth2 }
    }

    /// The OAuth 1 provider.
    pub fn oauth1(&self) -> &Oauth1Provider {
        &self.oauth1
    }

    /// The OAuth 2 / OpenID Connect server.
    pub fn oauth2(&self) -> &Oauth2Server {
        &self.oauth2
    }

    /// The OAuth 2 / OpenID Connect server, to change (its issuer, say)
    /// before serving.
    pub fn oauth2_mut(&mut self) -> &mut Oauth2Server {
        &mut self.oauth2
    }

    /// Whether this provider serves `endpoint`: OpenID Connect's only with
    /// OpenID Connect on, the device flow's only with its grant.
    pub fn serves(&self, endpoint: Endpoint) -> bool {
        match endpoint {
            Endpoint::Discovery | Endpoint::Jwks | Endpoint::UserInfo => {
                self.oauth2.openid().is_some()
            }
            Endpoint::DeviceAuthorization | Endpoint::DeviceVerification => {
                self.oauth2.has_grant(DEVICE_CODE_GRANT)
            }
            _ => true,
        }
    }

    /// The endpoints this provider serves, in the table's order.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + '_ {
        Endpoint::ALL
            .into_iter()
            .filter(|endpoint| self.serves(*endpoint))
    }

    /// The endpoint this provider serves at `path` (a path alone, no
    /// query), if any: what an adapter asks before it reads a body.
    pub fn endpoint_at(&self, path: &str) -> Option<Endpoint> {
        Endpoint::at(path).filter(|endpoint| self.serves(*endpoint))
    }

    /// The answer to `request` when its path is a protocol endpoint this
    /// provider serves; `None` for any other path (the host's own routes
    /// go on). A method the endpoint does not answer is refused with 405
    /// and `Allow`; a page's form posted from another site with 403.
    /// `request.uri` is absolute: the origin clients reach the server at
    /// (what OAuth 1 signatures cover and the issuer is built from).
    pub async fn handle<H: Host>(
        &self,
        store: &dyn CredentialStore,
        host: &H,
        request: &Request,
        now: u64,
    ) -> Option<Response> {
        let endpoint = self.endpoint_at(path_of(&request.uri))?;
        if !endpoint.methods().contains(&request.method.as_str()) {
            let mut refused = host.show(&Page::Refused {
                status: 405,
                title: "Method not allowed",
                message: "This address does not answer that method.",
            });
            refused
                .headers
                .push(("Allow".to_owned(), endpoint.methods().join(", ")));
            return Some(refused);
        }
        if endpoint.is_page() && request.method == "POST" && origin::cross_site(request) {
            return Some(host.show(&Page::Refused {
                status: 403,
                title: "Forbidden",
                message: "This form was sent from another site. Nothing was changed.",
            }));
        }
        Some(self.answer(endpoint, store, host, request, now).await)
    }

    async fn answer<H: Host>(
        &self,
        endpoint: Endpoint,
        store: &dyn CredentialStore,
        host: &H,
        request: &Request,
        now: u64,
    ) -> Response {
        let (oauth1, oauth2) = (&self.oauth1, &self.oauth2);
        let get = request.method == "GET";
        match endpoint {
            Endpoint::Oauth1Initiate => oauth1.initiate(store, request, now).await,
            Endpoint::Oauth1Token => oauth1.token(store, request, now).await,
            Endpoint::Oauth1Authorize if get => {
                oauth1.authorize_page(store, host, request, now).await
            }
            Endpoint::Oauth1Authorize => oauth1.authorize_decision(store, host, request, now).await,
            Endpoint::Authorize if get => oauth2.authorize_page(store, host, request, now).await,
            Endpoint::Authorize => oauth2.authorize_decision(store, host, request, now).await,
            Endpoint::Token => {
                let answer = oauth2.token(store, host, request, now);
                self.guarded(host, Guarded::Token, request, now, answer)
                    .await
            }
            Endpoint::Revocation => {
                let answer = oauth2.revoke(store, request, now);
                self.guarded(host, Guarded::Revocation, request, now, answer)
                    .await
            }
            Endpoint::Introspection => {
                let answer = oauth2.introspect(store, request, now);
                self.guarded(host, Guarded::Introspection, request, now, answer)
                    .await
            }
            Endpoint::DeviceAuthorization => {
                let answer = oauth2.device_authorization(store, request, now);
                self.guarded(host, Guarded::DeviceAuthorization, request, now, answer)
                    .await
            }
            Endpoint::PushedAuthorization => {
                let answer = oauth2.pushed_authorization(store, request, now);
                self.guarded(host, Guarded::PushedAuthorization, request, now, answer)
                    .await
            }
            Endpoint::Metadata => {
                Response::json(200, &oauth2.metadata(&oauth2.issuer_for(request)))
            }
            Endpoint::Discovery => Response::json(
                200,
                &oauth2.openid_configuration(&oauth2.issuer_for(request)),
            ),
            Endpoint::Jwks => self.jwks(store, now).await,
            Endpoint::UserInfo => oauth2.userinfo(store, request, now).await,
            Endpoint::DeviceVerification if get => device::page(host, request).await,
            Endpoint::DeviceVerification => device::submit(store, host, request, now).await,
        }
    }

    /// `answer` behind the client-authentication throttle, counted in the
    /// host's throttle for its client's address.
    async fn guarded<H: Host>(
        &self,
        host: &H,
        endpoint: Guarded,
        request: &Request,
        now: u64,
        answer: impl std::future::Future<Output = Response>,
    ) -> Response {
        let caller = Caller {
            throttle: host.throttle(),
            address: host.address(),
        };
        self.oauth2
            .guarded(&caller, endpoint, request, now, answer)
            .await
    }

    /// The JWK Set (RFC 7517 5): the keys ID tokens are signed with, the
    /// current one first, and each retired one until what it signed has
    /// expired.
    async fn jwks(&self, store: &dyn CredentialStore, now: u64) -> Response {
        let Some(openid) = self.oauth2.openid() else {
            return Response::json(404, &serde_json::json!({"error": "not_found"}));
        };
        // A retired key stays while a token it signed may still be good.
        let lifetime = crate::rfc9068::signed_token_lifetime(self.oauth2.config());
        match openid.keys.published(store, now, lifetime).await {
            Ok(keys) => Response::json(200, &jwk_set(&keys)),
            Err(error) => self.oauth2.error_response(&Oauth2Error::from(error)),
        }
    }
}
