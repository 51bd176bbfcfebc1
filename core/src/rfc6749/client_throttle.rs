//! Client authentication, throttled (CONTRACT.md "Users and sessions";
//! RFC 6819 5.2.3.7, RFC 6749 2.3 and 10.10): after 10 failed client
//! authentications in a row for one `client_id`, or 60 from one address
//! in a minute, the token, revocation, introspection, device
//! authorization and pushed authorization request endpoints answer 429 `temporarily_unavailable` with
//! `Retry-After` for that client or address, even for the right secret.
//! The device authorization endpoint also serves at most 60 requests a
//! minute per client and per address (RFC 8628 5.2).
//!
//! The host supplies what only it knows, the [`Throttle`] and the
//! client's address ([`Caller`]), and hands the endpoint's answer to
//! [`Oauth2Server::guarded`], which decides before and counts after.

use std::future::Future;
use std::net::IpAddr;

use super::client_auth;
use super::errors::Oauth2Error;
use super::server::Oauth2Server;
use crate::throttle::{Attempt, Throttle, Verdict};
use crate::{Request, Response};

/// An endpoint where clients authenticate, as the throttle tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Guarded {
    /// The token endpoint (RFC 6749 3.2).
    Token,
    /// The revocation endpoint (RFC 7009 2.1).
    Revocation,
    /// The introspection endpoint (RFC 7662 2.1).
    Introspection,
    /// The device authorization endpoint (RFC 8628 3.1): its request rate
    /// is limited too.
    DeviceAuthorization,
    /// The pushed authorization request endpoint (RFC 9126 2).
    PushedAuthorization,
}

impl Guarded {
    /// Whether every request here counts against a rate per client and
    /// per address (RFC 8628 5.2).
    pub fn rate_limited(self) -> bool {
        matches!(self, Guarded::DeviceAuthorization)
    }
}

/// Who is asking, as the host knows it: the throttle its counts are in
/// and the client's address (CONTRACT.md "Deployment": behind a trusted
/// proxy, the forwarded one).
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// Where attempts are counted.
    pub throttle: &'a dyn Throttle,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
}

impl std::fmt::Debug for Caller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Oauth2Server {
    /// `answer`, the answer of `endpoint` to `request`, behind the client
    /// authentication throttle: refused with 429 before it runs while the
    /// `client_id` the request presents, or the caller's address, is
    /// locked (or, where requests are rate-limited, has asked too often);
    /// counted after it ran. A 401 from these endpoints is `invalid_client`
    /// (RFC 6749 5.2: the client failed to authenticate) and counts as a
    /// failure; a 2xx needs an authenticated client and ends the client's
    /// run; any other answer counts nothing (it may come before the client
    /// authenticated: an unsupported grant type, a malformed form).
    pub async fn guarded(
        &self,
        caller: &Caller<'_>,
        endpoint: Guarded,
        request: &Request,
        now: u64,
        answer: impl Future<Output = Response>,
    ) -> Response {
        // A body that is not a form still names its client in `Basic`.
        let params = Self::form(request).unwrap_or_default();
        let presented = client_auth::presented(request, &params).ok();
        let client_id = presented
            .as_ref()
            .map(|presented| presented.client_id.as_str());
        let client = Attempt::client(client_id, caller.address);
        if let Err(refused) = self.admit(caller, endpoint, &client, now).await {
            return self.error_response(&refused);
        }
        let response = answer.await;
        let counted = match response.status {
            401 => caller.throttle.failed(&client, now).await,
            200..=299 => caller.throttle.succeeded(&client, now).await,
            _ => Ok(()),
        };
        if let Err(error) = counted {
            // The answer stands; a count lost is logged, never a failure
            // the client is told of after the fact.
            tracing::error!(%error, "a client authentication could not be counted");
        }
        response
    }

    /// Whether `client`'s request to `endpoint` may run: its client and
    /// address are not locked and, where requests are rate-limited, have
    /// asked less than the limit (this request is then counted).
    async fn admit(
        &self,
        caller: &Caller<'_>,
        endpoint: Guarded,
        client: &Attempt<'_>,
        now: u64,
    ) -> Result<(), Oauth2Error> {
        if let Verdict::Wait(retry_after) = caller.throttle.verdict(client, now).await? {
            return Err(Oauth2Error::ClientThrottled { retry_after });
        }
        if endpoint.rate_limited() {
            let asked = Attempt::device_request(client.name, client.address);
            if let Verdict::Wait(retry_after) = caller.throttle.verdict(&asked, now).await? {
                return Err(Oauth2Error::TooManyRequests { retry_after });
            }
            caller.throttle.failed(&asked, now).await?;
        }
        Ok(())
    }
}
