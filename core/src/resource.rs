//! A protected resource that takes either credential: an OAuth 1 signed
//! request (RFC 5849 3) or an OAuth 2 access token, as a bearer token (RFC
//! 6750 2) or DPoP-bound with a proof of its key (RFC 9449 7), with the
//! answer a client that sent neither needs: both challenges.

use crate::rfc5849::{Oauth1Error, Oauth1Provider, TokenCredentialUse};
use crate::rfc6749::{Oauth2Server, Scope};
use crate::rfc6750::{self, BearerError, BearerToken, DpopRules};
use crate::store::CredentialStore;
use crate::{Request, Response};

/// The credential a protected request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceCredential {
    /// An OAuth 1 token credential.
    Oauth1(TokenCredentialUse),
    /// An OAuth 2 access token: a bearer token, or a DPoP-bound one whose
    /// proof passed ([`BearerToken::dpop_jkt`] names its key).
    Bearer(BearerToken),
}

impl ResourceCredential {
    /// The resource owner it speaks for (`None` for a client's own token).
    pub fn user(&self) -> Option<&str> {
        match self {
            ResourceCredential::Oauth1(used) => used.user.as_deref(),
            ResourceCredential::Bearer(token) => token.user.as_deref(),
        }
    }

    /// The client it was issued to.
    pub fn client_id(&self) -> &str {
        match self {
            ResourceCredential::Oauth1(used) => &used.client_id,
            ResourceCredential::Bearer(token) => &token.client_id,
        }
    }

    /// The thumbprint of the key the request proved, when it carried a
    /// DPoP-bound access token (RFC 9449 7).
    pub fn dpop_jkt(&self) -> Option<&str> {
        match self {
            ResourceCredential::Oauth1(_) => None,
            ResourceCredential::Bearer(token) => token.dpop_jkt.as_deref(),
        }
    }

    /// Its scope, space-separated.
    pub fn scope(&self) -> String {
        match self {
            ResourceCredential::Oauth1(used) => used.scope.clone(),
            ResourceCredential::Bearer(token) => token.scope.to_string(),
        }
    }
}

/// The answer to a refused bearer request (RFC 6750 3.1); a store failure
/// is logged, not shown.
pub fn bearer_refusal(oauth2: &Oauth2Server, error: &BearerError) -> Response {
    if let BearerError::Store(detail) = error {
        tracing::error!(%detail, "the credential store failed");
    }
    error.to_response(&oauth2.config().realm)
}

/// Checks a request carrying either an OAuth 1 signature or an access
/// token (`Bearer`, or `DPoP` with a proof under the deployment's rules),
/// which must hold `required`. A request with neither is told of both
/// schemes: 401 with an `OAuth` and a `Bearer` challenge.
pub async fn protect_either(
    oauth1: &Oauth1Provider,
    oauth2: &Oauth2Server,
    store: &dyn CredentialStore,
    request: &Request,
    required: &Scope,
    now: u64,
) -> Result<ResourceCredential, Response> {
    if rfc6750::is_bearer(request) || rfc6750::is_dpop(request) {
        let rules = DpopRules::of(oauth2.config());
        return rfc6750::protect_with(store, request, required, &rules, now)
            .await
            .map(ResourceCredential::Bearer)
            .map_err(|error| bearer_refusal(oauth2, &error));
    }
    match oauth1.resource(store, request, now).await {
        Ok(used) => Ok(ResourceCredential::Oauth1(used)),
        Err(Oauth1Error::MissingCredentials) => {
            let mut response = oauth1.error_response(&Oauth1Error::MissingCredentials);
            response.headers.push((
                "WWW-Authenticate".to_owned(),
                BearerError::Missing.challenge(&oauth2.config().realm),
            ));
            response.headers.push((
                "WWW-Authenticate".to_owned(),
                BearerError::dpop_challenge(&oauth2.config().realm),
            ));
            Err(response)
        }
        Err(error) => Err(oauth1.error_response(&error)),
    }
}
