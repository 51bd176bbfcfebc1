//! The OAuth 1.0 provider (RFC 5849 2, 3): every decision of the three
//! endpoints and the protected resource, and every event they append. An
//! adapter turns HTTP into a [`Request`], calls one of these with the
//! store and the time, and writes the [`Response`] back; the host
//! application's part of resource owner authorization (who is signed in,
//! how consent is asked) comes through a [`Consent`].

use super::encoding::percent_encode;
use super::errors::Oauth1Error;
use super::server::{Endpoint, Oauth1Config, Oauth1Server, VerifiedRequest};
use super::store_source::{RsaKeyCache, StoreSource};
use crate::consent::{path_and_query, path_of, Consent, Page, Prompt, ReturnsTo};
use crate::form::{add_to_query, Fields};
use crate::random::random_token;
use crate::store::{
    AppendError, Authorized, CredentialKind, CredentialState, CredentialStore, Event, Exchanged,
    Failure, Issued, Precondition, RevocationReason, Revoked, Secret, Status, StoreError,
    TokenRecord,
};
use crate::{Request, Response};

/// The OAuth 1 provider: the validator, the lifetimes of temporary and
/// token credentials, and a cache of clients' parsed RSA keys.
#[derive(Debug, Default)]
pub struct Oauth1Provider {
    validator: Oauth1Server,
    temporary_lifetime: u64,
    token_lifetime: Option<u64>,
    rsa_keys: RsaKeyCache,
}

/// A signed request the validator accepted at `now`, with the temporary or
/// token credential it read to check the signature (so no one reads it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// What the request carried.
    pub request: VerifiedRequest,
    /// The live credential named by `oauth_token`, at endpoints that take one.
    pub token: Option<CredentialState>,
    /// When it was judged.
    pub now: u64,
}

/// The token credential a protected resource request was signed with (RFC 5849 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCredentialUse {
    /// The client (`oauth_consumer_key`).
    pub client_id: String,
    /// The resource owner who granted it.
    pub user: Option<String>,
    /// Its scope (the client's registered scope when it was granted).
    pub scope: String,
    /// `oauth_token`.
    pub token: String,
}

/// A temporary credential waiting for its owner's decision (RFC 5849 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// The temporary credential.
    pub credential: CredentialState,
    /// Its client's registered name.
    pub client_name: String,
}

impl PendingAuthorization {
    /// Where the owner goes after deciding.
    pub fn returns_to(&self) -> ReturnsTo<'_> {
        match self.credential.record.redirect_uri.as_deref() {
            None | Some("oob") => ReturnsTo::OutOfBand,
            Some(callback) => ReturnsTo::Uri(callback),
        }
    }
}

/// The owner's decision, recorded: what the owner is shown next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Granted, out of band: the verifier for the owner to give the client.
    Verifier {
        /// The client's name.
        client_name: String,
        /// The verification code.
        verifier: String,
    },
    /// Denied, out of band.
    Denied {
        /// The client's name.
        client_name: String,
    },
    /// Back to the client's callback, with the verifier or the denial.
    Redirect(String),
}

/// Why a resource owner authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// No `oauth_token` in the request.
    #[error("the oauth_token parameter is missing")]
    MissingToken,
    /// The temporary credential is unknown, expired, answered, or its client gone.
    #[error("the authorization request is unknown, expired or already answered")]
    Unknown,
    /// Another decision was recorded first, or the credential expired meanwhile.
    #[error("the authorization request was already answered")]
    AlreadyAnswered,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthorizeError {
    /// The page that tells the owner.
    pub fn page(&self) -> Page<'static> {
        match self {
            AuthorizeError::MissingToken => Page::Refused {
                status: 400,
                title: "Bad request",
                message: "The oauth_token parameter is missing.",
            },
            AuthorizeError::Unknown => Page::Refused {
                status: 400,
                title: "Unknown request",
                message: "This authorization request is unknown, has expired, or was already \
                          answered. Start again from the application.",
            },
            AuthorizeError::AlreadyAnswered => Page::Refused {
                status: 400,
                title: "Already answered",
                message: "This authorization request was already answered or has expired.",
            },
            AuthorizeError::Store(error) => {
                tracing::error!(%error, "the credential store failed");
                Page::store_failed(error)
            }
        }
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers
        .push(("Cache-Control".to_owned(), "no-store".to_owned()));
    response
}

impl Oauth1Provider {
    /// A provider with this validation and temporary credentials that wait
    /// `temporary_lifetime` seconds for their grant and exchange. Its token
    /// credentials never expire (RFC 5849 sets them no lifetime) unless
    /// [`Oauth1Provider::with_token_lifetime`] gives them one.
    pub fn new(config: Oauth1Config, temporary_lifetime: u64) -> Self {
        Oauth1Provider {
            validator: Oauth1Server::new(config),
            temporary_lifetime,
            token_lifetime: None,
            rsa_keys: RsaKeyCache::default(),
        }
    }

    /// Token credentials issued from now on stop working `lifetime` seconds
    /// after their exchange (`None`: only when revoked). A deployment sets
    /// one so that a leaked token credential, which a client may keep for
    /// years, does not work for ever; the client then asks its user again.
    pub fn with_token_lifetime(mut self, lifetime: Option<u64>) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The request validator.
    pub fn validator(&self) -> &Oauth1Server {
        &self.validator
    }

    /// The validation settings.
    pub fn config(&self) -> &Oauth1Config {
        self.validator.config()
    }

    /// A refused request: form-encoded `error` and `error_description`, the
    /// realm's challenge on a 401. A store failure is logged, not sent.
    pub fn error_response(&self, error: &Oauth1Error) -> Response {
        if let Oauth1Error::Store(error) = error {
            tracing::error!(%error, "the credential store failed");
        }
        error.to_response(&self.config().realm)
    }

    /// RFC 5849 3.2: validates a request for `endpoint` against `store` at
    /// `now`; on success its nonce is used and its `Verified` event appended.
    pub async fn accept(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        endpoint: Endpoint,
        now: u64,
    ) -> Result<Accepted, Oauth1Error> {
        let source = StoreSource::new(store, now).with_key_cache(&self.rsa_keys);
        let verified = self
            .validator
            .verify(request, endpoint, now, &source)
            .await?;
        Ok(Accepted {
            request: verified,
            token: source.into_token(),
            now,
        })
    }

    /// RFC 5849 3: a protected resource request; the token credential it
    /// was signed with.
    pub async fn resource(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<TokenCredentialUse, Oauth1Error> {
        let accepted = self.accept(store, request, Endpoint::Resource, now).await?;
        // The validator read the token to check the signature; it is still live.
        let state = accepted.token.ok_or(Oauth1Error::UnknownToken)?;
        Ok(TokenCredentialUse {
            client_id: accepted.request.client_key,
            user: state.record.user,
            scope: state.record.scope,
            token: state.record.id,
        })
    }

    /// RFC 5849 2.1: a signed request with `oauth_callback` gets a temporary
    /// credential.
    pub async fn initiate(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.issue_temporary(store, request, now).await {
            Ok(response) => response,
            Err(error) => self.error_response(&error),
        }
    }

    async fn issue_temporary(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<Response, Oauth1Error> {
        let verified = self
            .accept(store, request, Endpoint::Initiate, now)
            .await?
            .request;
        let client = store
            .client(&verified.client_key)
            .await?
            .ok_or(Oauth1Error::UnknownClient)?;
        let (token, secret) = (random_token(), random_token());
        let record = TokenRecord {
            kind: CredentialKind::Temporary,
            id: token.clone(),
            secret: Secret::Plain(secret.clone()),
            client_id: verified.client_key.clone(),
            user: None,
            scope: client.record.scope.to_string(),
            expires_at: Some(now.saturating_add(self.temporary_lifetime)),
            parent: None,
            redirect_uri: verified.callback,
            code_challenge: None,
        };
        let preconditions = [
            Precondition::ClientLive {
                client_id: verified.client_key,
            },
            Precondition::Absent {
                kind: CredentialKind::Temporary,
                id: token.clone(),
            },
        ];
        let events = vec![Event::Issued(Issued::Token(record))];
        store
            .append(&preconditions, events, now)
            .await
            .map_err(|error| match error {
                AppendError::Refused(_) => Oauth1Error::UnknownClient,
                AppendError::Store(error) => Oauth1Error::Store(error),
            })?;
        Ok(no_store(Response::form(
            200,
            [
                ("oauth_token", token.as_str()),
                ("oauth_token_secret", secret.as_str()),
                ("oauth_callback_confirmed", "true"),
            ],
        )))
    }

    /// RFC 5849 2.3: a temporary credential, granted, and its verifier get
    /// a token credential, once. A wrong verifier ends the temporary
    /// credential, so that verifiers cannot be guessed.
    pub async fn token(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self.issue_token(store, request, now).await {
            Ok(response) => response,
            Err(error) => self.error_response(&error),
        }
    }

    async fn issue_token(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<Response, Oauth1Error> {
        let Accepted {
            request: verified,
            token: state,
            ..
        } = self.accept(store, request, Endpoint::Token, now).await?;
        // The validator read the temporary credential to check the signature.
        let (Some(state), Some(verifier)) = (state, verified.verifier) else {
            return Err(Oauth1Error::UnknownToken);
        };
        let temporary = state.record.id.clone();
        let granted = Precondition::Credential {
            id: temporary.clone(),
            kind: CredentialKind::Temporary,
            client_id: verified.client_key.clone(),
            status: Status::Authorized,
            now,
        };
        let matches = Precondition::VerifierMatches {
            id: temporary.clone(),
            verifier,
        };
        let (token, secret) = (random_token(), random_token());
        let record = TokenRecord {
            kind: CredentialKind::TokenCredential,
            id: token.clone(),
            secret: Secret::Plain(secret.clone()),
            client_id: verified.client_key.clone(),
            user: state.record.user.clone(),
            scope: state.record.scope.clone(),
            expires_at: self
                .token_lifetime
                .map(|lifetime| now.saturating_add(lifetime)),
            parent: Some(temporary.clone()),
            redirect_uri: None,
            code_challenge: None,
        };
        let events = vec![
            Event::Exchanged(Exchanged {
                id: temporary.clone(),
            }),
            Event::Issued(Issued::Token(record)),
        ];
        let refused = match store.append(&[granted.clone(), matches], events, now).await {
            Ok(_) => {
                return Ok(no_store(Response::form(
                    200,
                    [
                        ("oauth_token", token.as_str()),
                        ("oauth_token_secret", secret.as_str()),
                    ],
                )))
            }
            Err(AppendError::Refused(refused)) => refused,
            Err(AppendError::Store(error)) => return Err(error.into()),
        };
        match refused.failure {
            Failure::VerifierMismatch => {
                // No guessing: the temporary credential ends with the first wrong verifier.
                let revoke = Event::Revoked(Revoked {
                    id: temporary,
                    kind: CredentialKind::Temporary,
                    reason: RevocationReason::WrongVerifier,
                    whole_family: false,
                });
                match store.append(&[granted], vec![revoke], now).await {
                    Ok(_) | Err(AppendError::Refused(_)) => Err(Oauth1Error::InvalidVerifier),
                    Err(AppendError::Store(error)) => Err(error.into()),
                }
            }
            // Not granted yet: there is no verifier to match.
            Failure::WrongStatus {
                actual: Status::Issued,
            } => Err(Oauth1Error::InvalidVerifier),
            // The credential changed between the check and the write
            // (another request won): to this client it is no longer usable.
            _ => Err(Oauth1Error::UnknownToken),
        }
    }

    /// RFC 5849 2.2: the temporary credential `token` names, if it still
    /// waits for its owner's decision, and its client's name.
    pub async fn pending(
        &self,
        store: &dyn CredentialStore,
        token: Option<&str>,
        now: u64,
    ) -> Result<PendingAuthorization, AuthorizeError> {
        let token = token.ok_or(AuthorizeError::MissingToken)?;
        let state = store
            .credential(token)
            .await?
            .ok_or(AuthorizeError::Unknown)?;
        if state.record.kind != CredentialKind::Temporary
            || state.status != Status::Issued
            || state.is_expired(now)
        {
            return Err(AuthorizeError::Unknown);
        }
        match store.client(&state.record.client_id).await? {
            Some(client) if !client.revoked => Ok(PendingAuthorization {
                credential: state,
                client_name: client.record.name,
            }),
            _ => Err(AuthorizeError::Unknown),
        }
    }

    /// RFC 5849 2.2: records the resource owner `user`'s decision on the
    /// temporary credential `token`. Granting records the verifier (hashed)
    /// and sends the owner back with it; denying ends the credential.
    pub async fn decide(
        &self,
        store: &dyn CredentialStore,
        token: Option<&str>,
        user: &str,
        grant: bool,
        now: u64,
    ) -> Result<Decided, AuthorizeError> {
        let pending = self.pending(store, token, now).await?;
        let state = &pending.credential;
        let token = state.record.id.clone();
        let waiting = Precondition::Credential {
            id: token.clone(),
            kind: CredentialKind::Temporary,
            client_id: state.record.client_id.clone(),
            status: Status::Issued,
            now,
        };
        let verifier = random_token();
        let event = if grant {
            Event::Authorized(Authorized {
                id: token.clone(),
                user: user.to_owned(),
                verifier: Some(Secret::sha256(&verifier)),
            })
        } else {
            Event::Revoked(Revoked {
                id: token.clone(),
                kind: CredentialKind::Temporary,
                reason: RevocationReason::Denied,
                whole_family: false,
            })
        };
        store
            .append(&[waiting], vec![event], now)
            .await
            .map_err(|error| match error {
                AppendError::Refused(_) => AuthorizeError::AlreadyAnswered,
                AppendError::Store(error) => AuthorizeError::Store(error),
            })?;
        let client_name = pending.client_name.clone();
        // RFC 5849 2.2: back to the callback, or (`oob`) a page.
        Ok(match (grant, pending.returns_to()) {
            (true, ReturnsTo::Uri(callback)) => Decided::Redirect(callback_with(
                callback,
                &[("oauth_token", &token), ("oauth_verifier", &verifier)],
            )),
            (false, ReturnsTo::Uri(callback)) => {
                Decided::Redirect(callback_with(callback, &[("denied", &token)]))
            }
            (true, _) => Decided::Verifier {
                client_name,
                verifier,
            },
            (false, _) => Decided::Denied { client_name },
        })
    }

    /// `GET` at the resource owner authorization endpoint (RFC 5849 2.2):
    /// the signed-in owner is asked; anyone else is sent to sign in first.
    pub async fn authorize_page<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        request: &Request,
        now: u64,
    ) -> Response {
        let Some(owner) = consent.owner(request).await else {
            return consent.sign_in(path_and_query(&request.uri));
        };
        let Some(query) = Fields::query(request) else {
            return consent.show(&Page::Refused {
                status: 400,
                title: "Bad request",
                message: "The query could not be read.",
            });
        };
        let pending = match self.pending(store, query.get("oauth_token"), now).await {
            Ok(pending) => pending,
            Err(error) => return consent.show(&error.page()),
        };
        let prompt = Prompt {
            client_name: &pending.client_name,
            scope: &pending.credential.record.scope,
            returns_to: pending.returns_to(),
            action: path_of(&request.uri),
            fields: vec![("oauth_token", &pending.credential.record.id)],
        };
        consent.ask(&owner, &prompt)
    }

    /// `POST` at the resource owner authorization endpoint (RFC 5849 2.2):
    /// the owner's decision, recorded, and where the owner goes next.
    pub async fn authorize_decision<C: Consent>(
        &self,
        store: &dyn CredentialStore,
        consent: &C,
        request: &Request,
        now: u64,
    ) -> Response {
        let Some(form) = Fields::parse(&request.body) else {
            return consent.show(&Page::UNREADABLE_FORM);
        };
        let Some(owner) = consent.owner(request).await else {
            let token = form.get("oauth_token").unwrap_or_default();
            return consent.sign_in(&format!(
                "{}?oauth_token={}",
                path_of(&request.uri),
                percent_encode(token)
            ));
        };
        let grant = match consent.answer(&owner, &form) {
            Ok(grant) => grant,
            Err(response) => return response,
        };
        let user = consent.user(&owner);
        match self
            .decide(store, form.get("oauth_token"), user, grant, now)
            .await
        {
            Ok(Decided::Verifier {
                client_name,
                verifier,
            }) => consent.show(&Page::Verifier {
                client_name: &client_name,
                verifier: &verifier,
            }),
            Ok(Decided::Denied { client_name }) => consent.show(&Page::Denied {
                client_name: &client_name,
            }),
            Ok(Decided::Redirect(location)) => Response::redirect(302, &location),
            Err(error) => consent.show(&error.page()),
        }
    }
}

/// Where the owner's decision goes: the callback with these parameters
/// added to its query (RFC 5849 2.2).
fn callback_with(callback: &str, pairs: &[(&str, &str)]) -> String {
    add_to_query(callback, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_are_appended_to_any_query() {
        assert_eq!(
            callback_with(
                "https://app.example/cb",
                &[("oauth_token", "a b"), ("oauth_verifier", "v")]
            ),
            "https://app.example/cb?oauth_token=a%20b&oauth_verifier=v"
        );
        assert_eq!(
            callback_with("https://app.example/cb?state=1", &[("denied", "t")]),
            "https://app.example/cb?state=1&denied=t"
        );
    }
}
