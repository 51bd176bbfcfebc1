//! The device authorization endpoint (RFC 8628 3.1, 3.2): a client
//! authenticated as at the token endpoint asks for a device code and a
//! user code; both are written in one record.

use super::{
    new_device_code, user_code_id, DeviceAuthorizationResponse, UserCode, DEVICE_CODE_GRANT,
};
use crate::rfc6749::{Oauth2Error, Oauth2Server, Params, Scope};
use crate::store::{
    token_id, AppendError, ClientState, CredentialKind, CredentialStore, Event, Failure, Issued,
    Precondition, Secret, TokenRecord,
};
use crate::{Request, Response};

/// How many fresh user codes are tried when one is taken (20^8 codes:
/// two live ones meeting is rare, three in a row is a broken random source).
const USER_CODE_TRIES: usize = 3;

impl Oauth2Server {
    /// The device authorization endpoint (RFC 8628 3.1): `client_id` with
    /// the client's authentication as the device grant accepts it at the
    /// token endpoint, and an optional `scope` within the client's
    /// (without it, the client's whole scope). The client must have
    /// registered [`DEVICE_CODE_GRANT`]. Answers RFC 8628 3.2's JSON,
    /// `no-store`; errors as RFC 6749 5.2.
    pub async fn device_authorization(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Response {
        match self
            .device_authorization_response(store, request, now)
            .await
        {
            Ok(response) => response,
            Err(error) => self.error_response(&error),
        }
    }

    async fn device_authorization_response(
        &self,
        store: &dyn CredentialStore,
        request: &Request,
        now: u64,
    ) -> Result<Response, Oauth2Error> {
        let params = Self::form(request)?;
        let grant = self
            .grants()
            .find(|grant| grant.grant_type() == DEVICE_CODE_GRANT)
            .ok_or_else(|| Oauth2Error::UnsupportedGrantType(DEVICE_CODE_GRANT.to_owned()))?;
        let client = self
            .authenticate_client(store, request, &params, &self.auth_methods(grant), now)
            .await?;
        if !client.record.allows_grant(DEVICE_CODE_GRANT) {
            return Err(Oauth2Error::UnauthorizedClient(format!(
                "grant type {DEVICE_CODE_GRANT}"
            )));
        }
        let scope = requested_scope(&params, &self.client_scope(&client))?;
        let lifetime = self.config().device_code_lifetime;
        let interval = self.config().device_poll_interval;
        let device_code = new_device_code();
        for _ in 0..USER_CODE_TRIES {
            let user_code = UserCode::generate();
            let codes = Codes {
                device_code: &device_code,
                user_code: &user_code,
                expires_at: now.saturating_add(lifetime),
            };
            match issue_codes(store, &client, &scope, &codes, now).await {
                Ok(()) => {
                    let body = DeviceAuthorizationResponse::new(
                        device_code,
                        &user_code,
                        &self.issuer_for(request),
                        lifetime,
                        interval,
                    );
                    let body = serde_json::to_value(&body).unwrap_or_default();
                    return Ok(Response::json(200, &body));
                }
                Err(Taken::UserCode) => continue,
                Err(Taken::Failed(error)) => return Err(error),
            }
        }
        Err(Oauth2Error::Store(crate::store::StoreError::Backend(
            "no free user code after three tries".into(),
        )))
    }
}

/// RFC 6749 3.3: the `scope` parameter, within `within`, or `within`.
fn requested_scope(params: &Params, within: &Scope) -> Result<Scope, Oauth2Error> {
    let Some(text) = params.get("scope") else {
        return Ok(within.clone());
    };
    let scope = Scope::parse(text)?;
    if scope.is_subset_of(within) {
        Ok(scope)
    } else {
        Err(Oauth2Error::InvalidScope(format!(
            "scope {scope} is wider than the {within} allowed here"
        )))
    }
}

/// Why the codes were not written.
enum Taken {
    /// A live user code has these letters already: try others.
    UserCode,
    /// Anything else.
    Failed(Oauth2Error),
}

/// The two codes of one device authorization, and when both expire.
struct Codes<'a> {
    device_code: &'a str,
    user_code: &'a UserCode,
    expires_at: u64,
}

/// Appends the device code and the user code (its child) in one record,
/// while the user code's id is free and the client live. A user code keeps
/// its id while it is in the projections: for ever once its device code is
/// approved, else until the sweep after it expires
/// ([`crate::store::projections::sweep_devices`], CONTRACT.md "Users and
/// sessions"); from then on its letters may be given out again, to a new
/// device code.
async fn issue_codes(
    store: &dyn CredentialStore,
    client: &ClientState,
    scope: &Scope,
    codes: &Codes<'_>,
    now: u64,
) -> Result<(), Taken> {
    let client_id = &client.record.client_id;
    let device_id = token_id(codes.device_code);
    let user_id = user_code_id(codes.user_code);
    let expires_at = Some(codes.expires_at);
    let record = |kind, id: &str, parent: Option<String>| TokenRecord {
        kind,
        id: id.to_owned(),
        secret: Secret::None,
        client_id: client_id.clone(),
        user: None,
        scope: scope.to_string(),
        expires_at,
        parent,
        redirect_uri: None,
        code_challenge: None,
    };
    let events = vec![
        Event::Issued(Issued::Token(record(
            CredentialKind::DeviceCode,
            &device_id,
            None,
        ))),
        Event::Issued(Issued::Token(record(
            CredentialKind::UserCode,
            &user_id,
            Some(device_id.clone()),
        ))),
    ];
    let preconditions = [
        Precondition::Absent {
            kind: CredentialKind::UserCode,
            id: user_id,
        },
        Precondition::ClientLive {
            client_id: client_id.clone(),
        },
    ];
    match store.append(&preconditions, events, now).await {
        Ok(_) => Ok(()),
        Err(AppendError::Refused(refused)) => match refused.failure {
            Failure::AlreadyExists => Err(Taken::UserCode),
            _ => Err(Taken::Failed(Oauth2Error::UnknownClient)),
        },
        Err(AppendError::Store(error)) => Err(Taken::Failed(Oauth2Error::Store(error))),
    }
}
