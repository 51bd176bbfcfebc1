//! Client authentication at the token, revocation and introspection
//! endpoints (RFC 6749 2.3): HTTP Basic (`client_secret_basic`), the form
//! body (`client_secret_post`), no secret at all (`none`, public clients),
//! or a JWT signed with one of the client's registered keys
//! (`private_key_jwt`, RFC 7523 2.2). A client following the FAPI 2.0
//! profile authenticates with `private_key_jwt` alone, its assertions
//! signed with PS256 or ES256 ([`Oauth2Server::profile_permits`]).

use std::fmt;

use base64::Engine;

use super::errors::Oauth2Error;
use super::params::Params;
use super::server::Oauth2Server;
pub use crate::domain::client_metadata::ClientAuthMethod;
use crate::domain::Profile;
use crate::form::percent_decode;
use crate::rfc7523::{self, AssertionRules, ClientAssertionError, CLIENT_ASSERTION_TYPE};
use crate::store::{AppendError, ClientState, CredentialStore};
use crate::Request;

/// The credentials a request presented, before they are checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented {
    /// How they were sent.
    pub method: ClientAuthMethod,
    /// The client id.
    pub client_id: String,
    /// The secret, for the two secret methods.
    pub secret: Option<String>,
    /// The signed JWT, for `private_key_jwt`.
    pub assertion: Option<String>,
}

impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presented")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Parses an `Authorization: Basic` value into the client id and secret,
/// each form-decoded (RFC 6749 2.3.1). `None` when the scheme is not Basic.
pub fn parse_basic(value: &str) -> Option<Result<(String, String), Oauth2Error>> {
    let value = value.trim_start();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    Some(decode_basic(rest.trim()))
}

fn decode_basic(encoded: &str) -> Result<(String, String), Oauth2Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| Oauth2Error::MalformedBasicAuth)?;
    let text = String::from_utf8(bytes).map_err(|_| Oauth2Error::MalformedBasicAuth)?;
    let (id, secret) = text
        .split_once(':')
        .ok_or(Oauth2Error::MalformedBasicAuth)?;
    let decode = |part: &str| {
        percent_decode(part, true)
            .map(|decoded| decoded.into_owned())
            .map_err(|_| Oauth2Error::MalformedBasicAuth)
    };
    let id = decode(id)?;
    if id.is_empty() {
        return Err(Oauth2Error::MalformedBasicAuth);
    }
    Ok((id, decode(secret)?))
}

/// What the request presents to authenticate its client: exactly one of
/// Basic, a secret in the body, or a bare `client_id` (RFC 6749 2.3).
pub fn presented(request: &Request, params: &Params) -> Result<Presented, Oauth2Error> {
    let mut basic = None;
    for value in request.header_values("authorization") {
        if let Some(parsed) = parse_basic(value) {
            if basic.is_some() {
                return Err(Oauth2Error::MultipleClientAuthentications);
            }
            basic = Some(parsed?);
        }
    }
    if let Some((client_id, secret)) = basic {
        // A client_id in the body beside Basic is tolerated when it agrees.
        if params.get("client_secret").is_some()
            || params.get("client_id").is_some_and(|id| id != client_id)
        {
            return Err(Oauth2Error::MultipleClientAuthentications);
        }
        if params.get("client_assertion").is_some() {
            return Err(Oauth2Error::MultipleClientAuthentications);
        }
        return Ok(Presented {
            method: ClientAuthMethod::ClientSecretBasic,
            client_id,
            secret: Some(secret),
            assertion: None,
        });
    }
    if let Some(assertion) = params.get("client_assertion") {
        if params.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
            return Err(Oauth2Error::MalformedParameter {
                name: "client_assertion_type",
                why: "it must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523 2.2)",
            });
        }
        if params.get("client_secret").is_some() {
            return Err(Oauth2Error::MultipleClientAuthentications);
        }
        // RFC 7523 3: the client is the assertion's issuer; a client_id
        // beside it must agree (checked with the signature).
        let client_id = match params.get("client_id") {
            Some(id) => id.to_owned(),
            None => rfc7523::peek_issuer(assertion).map_err(ClientAssertionError::from)?,
        };
        return Ok(Presented {
            method: ClientAuthMethod::PrivateKeyJwt,
            client_id,
            secret: None,
            assertion: Some(assertion.to_owned()),
        });
    }
    let client_id = params
        .get("client_id")
        .ok_or(Oauth2Error::MissingClient)?
        .to_owned();
    Ok(match params.get("client_secret") {
        Some(secret) => Presented {
            method: ClientAuthMethod::ClientSecretPost,
            client_id,
            secret: Some(secret.to_owned()),
            assertion: None,
        },
        None => Presented {
            method: ClientAuthMethod::None,
            client_id,
            secret: None,
            assertion: None,
        },
    })
}

/// Checks presented credentials: the client exists and is live, the method
/// is one `allowed` here and the one the client registered, and the
/// secret (compared in constant time) is right, or the assertion is signed
/// by one of the client's keys, meets `rules` at `now`, and its `jti` was
/// never used before (RFC 7523 3; the use is appended now).
pub async fn authenticate(
    store: &dyn CredentialStore,
    presented: &Presented,
    allowed: &[ClientAuthMethod],
    rules: &AssertionRules,
    now: u64,
) -> Result<ClientState, Oauth2Error> {
    let client = match store.client(&presented.client_id).await {
        Ok(Some(client)) if !client.revoked => client,
        Ok(_) => return Err(Oauth2Error::UnknownClient),
        Err(error) => return Err(Oauth2Error::Store(error)),
    };
    if !allowed.contains(&presented.method) || client.record.auth_method != presented.method {
        return Err(Oauth2Error::AuthMethodNotAllowed(presented.method.name()));
    }
    if let Some(assertion) = &presented.assertion {
        let keys = rfc7523::client_keys(store, &client.record.client_id)
            .await?
            .ok_or(ClientAssertionError::NoKeys)?;
        let checked =
            rfc7523::check_client_assertion(assertion, &client.record.client_id, &keys, rules, now)
                .map_err(ClientAssertionError::from)?;
        let (unused, used) =
            rfc7523::jti_use(&client.record.client_id, CLIENT_ASSERTION_TYPE, &checked);
        return match store.append(&[unused], vec![used], now).await {
            Ok(_) => Ok(client),
            Err(AppendError::Refused(_)) => Err(ClientAssertionError::JtiReused.into()),
            Err(AppendError::Store(error)) => Err(Oauth2Error::Store(error)),
        };
    }
    match &presented.secret {
        Some(secret) if client.record.secret.matches(secret) => Ok(client),
        Some(_) => Err(Oauth2Error::BadClientSecret),
        None => Ok(client),
    }
}

/// The algorithms a FAPI 2.0 client's assertions may be signed with (FAPI
/// 2.0 Security Profile 5.4.1).
pub const FAPI2_ASSERTION_ALGS: [&str; 2] = ["PS256", "ES256"];

/// The `alg` in a compact JWS's header, **unverified**: only for refusing
/// an algorithm before the signature is checked.
pub fn peek_alg(jwt: &str) -> Option<String> {
    let header = jwt.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    header.get("alg")?.as_str().map(str::to_owned)
}

impl Oauth2Server {
    /// Whether the way `presented` authenticates is one its client's
    /// profile allows: under FAPI 2.0 (Security Profile 5.3.2.1, 5.4.1),
    /// `private_key_jwt` alone, signed with PS256 or ES256 (RS256 is
    /// refused). Checked before the credentials are, so a refused
    /// assertion's `jti` is not spent.
    pub async fn profile_permits(
        &self,
        store: &dyn CredentialStore,
        presented: &Presented,
    ) -> Result<(), Oauth2Error> {
        let options = crate::rfc7591::client_options(store, &presented.client_id).await?;
        if self.config().profile_of(&options) != Some(Profile::Fapi2) {
            return Ok(());
        }
        if presented.method != ClientAuthMethod::PrivateKeyJwt {
            return Err(Oauth2Error::AuthMethodNotAllowed(presented.method.name()));
        }
        let alg = presented
            .assertion
            .as_deref()
            .and_then(peek_alg)
            .unwrap_or_default();
        if !FAPI2_ASSERTION_ALGS.contains(&alg.as_str()) {
            return Err(Oauth2Error::AssertionAlgNotAllowed {
                alg: alg.chars().take(16).collect(),
                allowed: "PS256 or ES256",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(
            parse_basic(&basic("my%20app", "s%3Ac+r")),
            Some(Ok(("my app".into(), "s:c r".into())))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(
            parse_basic("Basic !!!"),
            Some(Err(Oauth2Error::MalformedBasicAuth))
        );
        assert_eq!(
            parse_basic(&format!(
                "basic {}",
                base64::engine::general_purpose::STANDARD.encode("nocolon")
            )),
            Some(Err(Oauth2Error::MalformedBasicAuth))
        );
    }

    #[test]
    fn exactly_one_way_to_authenticate() {
        let request = Request::new("POST", "http://as.example/token")
            .with_header("Authorization", basic("a", "s"));
        let both = Params::from_pairs([("client_id", "a"), ("client_secret", "s")]);
        assert_eq!(
            presented(&request, &both),
            Err(Oauth2Error::MultipleClientAuthentications)
        );
        let agreeing = Params::from_pairs([("client_id", "a")]);
        assert_eq!(
            presented(&request, &agreeing).unwrap().method,
            ClientAuthMethod::ClientSecretBasic
        );
        let bare = Request::new("POST", "http://as.example/token");
        assert_eq!(
            presented(&bare, &Params::default()),
            Err(Oauth2Error::MissingClient)
        );
        assert_eq!(
            presented(&bare, &agreeing).unwrap().method,
            ClientAuthMethod::None
        );
        assert_eq!(
            presented(&bare, &both).unwrap().method,
            ClientAuthMethod::ClientSecretPost
        );
    }

    #[test]
    fn the_alg_is_read_from_the_header() {
        let header = |json: &str| {
            format!(
                "{}.e30.sig",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
            )
        };
        assert_eq!(
            peek_alg(&header(r#"{"alg":"PS256"}"#)).as_deref(),
            Some("PS256")
        );
        assert_eq!(
            peek_alg(&header(r#"{"alg":"RS256","kid":"k"}"#)).as_deref(),
            Some("RS256")
        );
        assert_eq!(peek_alg(&header(r#"{"typ":"JWT"}"#)), None);
        assert_eq!(peek_alg(&header(r#"{"alg":5}"#)), None);
        assert_eq!(peek_alg("not a jwt"), None);
        assert_eq!(peek_alg(""), None);
    }
}
