//! Protected routes: [`Authorized`] hands a handler the credential its
//! request carried (an OAuth 1 signature, or an OAuth 2 access token: a
//! bearer token, or a DPoP-bound one in the `DPoP` scheme with a proof of
//! its key, RFC 9449 7), or refuses the request with the challenge the
//! client needs.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use credlog_core::resource::{protect_either, ResourceCredential};
use credlog_core::rfc6749::Scope;
use credlog_core::Request;

use crate::convert::Reply;
use crate::Credlog;

/// The scope a bearer token must hold on the routes it is layered on
/// (`.layer(Extension(RequireScope::new("profile")))`); without one, any
/// scope will do. A token without it is refused with 403
/// `insufficient_scope` (RFC 6750 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequireScope(Scope);

impl RequireScope {
    /// The scope `scope` (space-separated tokens).
    pub fn new(scope: &str) -> Self {
        RequireScope(Scope::stored(scope))
    }

    /// The scope required.
    pub fn scope(&self) -> &Scope {
        &self.0
    }
}

/// The credential of a request to a protected route: an extractor, for
/// any state [`Credlog`] can be taken from (`FromRef`). A request without
/// a good one is refused with the core's answer ([`Reply`]): 401 with a
/// `WWW-Authenticate` challenge for each scheme when it carried none, 401
/// `invalid_token` for a revoked or expired token (with a `DPoP`
/// challenge for a DPoP-bound token sent as `Bearer` or with another
/// key's proof), 401 `invalid_dpop_proof` for a bad proof, 403 for too
/// narrow a scope ([`RequireScope`]). The proof's `htu` is checked against
/// the public origin ([`Credlog::with_public_origin`]) and the path.
///
/// It reads the request's head (the `Authorization` header and the query):
/// a request signed over a form body (OAuth 1 with body parameters) is
/// checked whole with [`Credlog::request`] and [`Credlog::protect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized(pub ResourceCredential);

impl<S: Send + Sync> FromRequestParts<S> for Authorized
where
    Credlog: FromRef<S>,
{
    type Rejection = Reply;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Reply> {
        let credlog = Credlog::from_ref(state);
        let request = credlog.request_head(parts)?;
        let required = parts
            .extensions
            .get::<RequireScope>()
            .map(|required| required.0.clone())
            .unwrap_or_default();
        credlog.protect(&request, &required).await.map(Authorized)
    }
}

impl Credlog {
    /// Checks the credential `request` carries, which must hold `required`
    /// if it is a bearer token: the credential, or the answer refusing it.
    pub async fn protect(
        &self,
        request: &Request,
        required: &Scope,
    ) -> Result<ResourceCredential, Reply> {
        protect_either(
            self.provider.oauth1(),
            self.provider.oauth2(),
            self.store.as_ref(),
            request,
            required,
            self.now(),
        )
        .await
        .map_err(Reply)
    }
}
