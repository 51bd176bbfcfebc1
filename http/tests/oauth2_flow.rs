//! The OAuth 2 flows over real HTTP, as a client and a signed-in user walk
//! them: every grant, every client authentication method, PKCE, `state`,
//! refresh rotation, revocation, introspection, metadata, a deployment's
//! own grant, and what the audit log keeps. Each case runs against both
//! stores.

mod support;

use async_trait::async_trait;
use credlog_core::rfc6749::{
    Grant, Issue, IssueError, Oauth2Config, Oauth2Error, Oauth2Server, TokenContext,
};
use credlog_core::store::{token_id, CredentialKind, Event, Issued};
use credlog_core::Response;
use serde_json::json;
use support::oauth2::*;
use support::{
    element_text, get_page, hidden_inputs, http, login_form, post_form, submit_login, Answer,
    Backend, PASSWORD,
};

on_both_stores!(the_code_flow_reaches_the_api);
async fn the_code_flow_reaches_the_api(w: &World) {
    let request = code_request(&w.basic);
    // Without a session, the user signs in first and comes back.
    let path = format!("/oauth2/authorize?{}", request.encoded());
    let anonymous = get_page(&w.server, &path, None).await;
    assert_eq!(anonymous.status, 303);
    let login_at = anonymous.header("location").unwrap().to_owned();
    assert!(login_at.starts_with("/login?next="), "{login_at}");
    let (_, fields) = login_form(&w.server, &login_at).await;
    assert_eq!(fields[0], ("next".to_owned(), path.clone()));
    let signed_in = submit_login(&w.server, &login_at, "alice", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), Some(path.as_str()));
    let cookie = signed_in.header("set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let page = get_page(&w.server, &path, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        element_text(&page.body, "client").as_deref(),
        Some("Photo printer")
    );
    assert_eq!(element_text(&page.body, "scope").as_deref(), Some(SCOPE));
    let mut fields = hidden_inputs(&page.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let answer = post_form(&w.server, "/oauth2/authorize", Some(&cookie), &fields).await;
    let location = Location::of(&answer);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.query("state"), Some(STATE));
    let code = location.query("code").expect("a code");

    let tokens = exchange(w, &w.basic, code).await.tokens();
    assert_eq!(tokens.scope, SCOPE);
    assert_eq!(tokens.expires_in, 3600);
    assert_ne!(tokens.refresh(), tokens.access_token);

    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(
        whoami.json(),
        json!({"user": "alice", "client_id": w.basic.id, "scope": SCOPE})
    );
    // The scheme is case-insensitive (RFC 7235 2.1).
    let lowercase = http()
        .get(w.server.url("/api/me"))
        .header("Authorization", format!("bearer {}", tokens.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 200);
}

on_both_stores!(a_request_without_scope_gets_the_registered_scope);
async fn a_request_without_scope_gets_the_registered_scope(w: &World) {
    let code = code_for(w, &code_request(&w.basic).without("scope")).await;
    let tokens = exchange(w, &w.basic, &code).await.tokens();
    assert_eq!(tokens.scope, SCOPE);
    let password = Form::new()
        .with("grant_type", "password")
        .with("username", "alice")
        .with("password", PASSWORD);
    assert_eq!(token(w, &w.basic, &password).await.tokens().scope, SCOPE);
}

on_both_stores!(the_implicit_flow_answers_in_the_fragment);
async fn the_implicit_flow_answers_in_the_fragment(w: &World) {
    let answer = authorize(w, &token_request(&w.basic), "yes").await;
    let location = Location::of(&answer);
    assert_eq!(location.base, REDIRECT);
    assert!(location.query.is_empty(), "{location:?}");
    assert_eq!(location.fragment("token_type"), Some("Bearer"));
    assert_eq!(location.fragment("expires_in"), Some("3600"));
    assert_eq!(location.fragment("scope"), Some(SCOPE));
    assert_eq!(location.fragment("state"), Some(STATE));
    // RFC 6749 4.2.2: never a refresh token.
    assert_eq!(location.fragment("refresh_token"), None);
    let access = location.fragment("access_token").expect("an access token");

    let whoami = me(w, access).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(
        whoami.json(),
        json!({"user": "alice", "client_id": w.basic.id, "scope": SCOPE})
    );
}

on_both_stores!(the_password_grant_speaks_for_the_owner);
async fn the_password_grant_speaks_for_the_owner(w: &World) {
    for client in [&w.basic, &w.post] {
        let tokens = password_grant(w, client, PASSWORD).await.tokens();
        assert_eq!(tokens.scope, SCOPE);
        assert!(tokens.refresh_token.is_some(), "{}", tokens.json);
        let whoami = me(w, &tokens.access_token).await;
        assert_eq!(
            whoami.json(),
            json!({"user": "alice", "client_id": client.id, "scope": SCOPE})
        );
    }
}

on_both_stores!(client_credentials_speak_for_the_client_itself);
async fn client_credentials_speak_for_the_client_itself(w: &World) {
    let form = Form::new().with("grant_type", "client_credentials");
    let tokens = token(w, &w.basic, &form).await.tokens();
    assert_eq!(tokens.scope, SCOPE);
    // RFC 6749 4.4.3: no refresh token.
    assert_eq!(tokens.refresh_token, None);
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(
        whoami.json(),
        json!({"user": null, "client_id": w.basic.id, "scope": SCOPE})
    );

    let narrow = token(w, &w.basic, &form.with("scope", "profile"))
        .await
        .tokens();
    assert_eq!(narrow.scope, "profile");
}

on_both_stores!(a_refresh_token_buys_a_new_pair);
async fn a_refresh_token_buys_a_new_pair(w: &World) {
    let first = code_flow(w, &w.basic).await;
    let second = refresh(w, &w.basic, first.refresh(), None).await.tokens();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh(), first.refresh());
    assert_eq!(second.scope, SCOPE);
    assert_eq!(second.expires_in, 3600);
    let whoami = me(w, &second.access_token).await;
    assert_eq!(
        whoami.json(),
        json!({"user": "alice", "client_id": w.basic.id, "scope": SCOPE})
    );
    // And the new refresh token refreshes in turn.
    refresh(w, &w.basic, second.refresh(), None).await.tokens();
}

on_both_stores!(a_client_without_the_refresh_grant_gets_no_refresh_token);
async fn a_client_without_the_refresh_grant_gets_no_refresh_token(w: &World) {
    let tokens = code_flow(w, &w.code_only).await;
    assert_eq!(tokens.refresh_token, None, "{}", tokens.json);
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
}

on_both_stores!(client_secret_post_authenticates_in_the_body);
async fn client_secret_post_authenticates_in_the_body(w: &World) {
    let tokens = code_flow(w, &w.post).await;
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.json()["client_id"], w.post.id.as_str());
    refresh(w, &w.post, tokens.refresh(), None).await.tokens();
}

on_both_stores!(client_secret_basic_authenticates_in_the_header);
async fn client_secret_basic_authenticates_in_the_header(w: &World) {
    let tokens = code_flow(w, &w.basic).await;
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.json()["client_id"], w.basic.id.as_str());
    // A client_id in the body beside Basic is fine when it agrees.
    let form = exchange_form(&w.basic, &code_for(w, &code_request(&w.basic)).await)
        .with("client_id", &w.basic.id);
    token(w, &w.basic, &form).await.tokens();
}

on_both_stores!(a_public_client_uses_pkce_s256_and_no_secret);
async fn a_public_client_uses_pkce_s256_and_no_secret(w: &World) {
    let request = code_request(&w.public);
    assert_eq!(request.get("code_challenge_method"), Some("S256"));
    assert_eq!(credlog_core::rfc7636::s256(VERIFIER), CHALLENGE);
    let code = code_for(w, &request).await;
    let tokens = exchange(w, &w.public, &code).await.tokens();
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(
        whoami.json(),
        json!({"user": "alice", "client_id": w.public.id, "scope": SCOPE})
    );
    // It refreshes and revokes with its client_id alone.
    let second = refresh(w, &w.public, tokens.refresh(), None).await.tokens();
    let revoked = revoke(w, &w.public, &second.access_token).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    me(w, &second.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
}

on_both_stores!(pkce_plain_is_accepted);
async fn pkce_plain_is_accepted(w: &World) {
    let request = code_request(&w.public)
        .with("code_challenge", VERIFIER)
        .with("code_challenge_method", "plain");
    let code = code_for(w, &request).await;
    let tokens = exchange(w, &w.public, &code).await.tokens();
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
}

on_both_stores!(a_confidential_client_may_use_pkce_too);
async fn a_confidential_client_may_use_pkce_too(w: &World) {
    let request = code_request(&w.basic)
        .with("code_challenge", CHALLENGE)
        .with("code_challenge_method", "S256");
    let code = code_for(w, &request).await;
    let form = exchange_form(&w.basic, &code).with("code_verifier", VERIFIER);
    token(w, &w.basic, &form).await.tokens();
}

on_both_stores!(a_single_redirect_uri_may_go_unnamed);
async fn a_single_redirect_uri_may_go_unnamed(w: &World) {
    // RFC 6749 4.1.3: redirect_uri is needed at the token endpoint only
    // when the authorization request had it.
    let code = code_for(w, &code_request(&w.post).without("redirect_uri")).await;
    let form = exchange_form(&w.post, &code).without("redirect_uri");
    token(w, &w.post, &form).await.tokens();
}

on_both_stores!(state_comes_back_on_grant_and_on_denial);
async fn state_comes_back_on_grant_and_on_denial(w: &World) {
    let granted = Location::of(&authorize(w, &code_request(&w.basic), "yes").await);
    assert_eq!(granted.query("state"), Some(STATE));

    let denied = Location::of(&authorize(w, &code_request(&w.basic), "no").await);
    assert_eq!(denied.base, REDIRECT);
    assert_eq!(denied.query("error"), Some("access_denied"));
    assert_eq!(denied.query("state"), Some(STATE));
    assert_eq!(denied.query("code"), None);

    // The implicit flow answers in the fragment, refusals too (RFC 6749 4.2.2.1).
    let denied = Location::of(&authorize(w, &token_request(&w.basic), "no").await);
    assert_eq!(denied.fragment("error"), Some("access_denied"));
    assert_eq!(denied.fragment("state"), Some(STATE));
    assert_eq!(denied.fragment("access_token"), None);

    // Without state, none comes back.
    let plain = Location::of(&authorize(w, &code_request(&w.basic).without("state"), "yes").await);
    assert_eq!(plain.query("state"), None);
    assert!(plain.query("code").is_some());
}

on_both_stores!(a_refresh_may_narrow_the_scope_but_keeps_the_grant);
async fn a_refresh_may_narrow_the_scope_but_keeps_the_grant(w: &World) {
    let first = code_flow(w, &w.basic).await;
    let narrow = refresh(w, &w.basic, first.refresh(), Some("profile"))
        .await
        .tokens();
    assert_eq!(narrow.scope, "profile");
    let whoami = me(w, &narrow.access_token).await;
    assert_eq!(whoami.json()["scope"], "profile");
    // RFC 6749 6: the new refresh token has the scope of the one it replaces.
    let seen = introspect(w, &w.basic, narrow.refresh()).await.json();
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["scope"], SCOPE, "{seen}");
    let whole = refresh(w, &w.basic, narrow.refresh(), None).await.tokens();
    assert_eq!(whole.scope, SCOPE);
}

on_both_stores!(a_client_revokes_its_access_token);
async fn a_client_revokes_its_access_token(w: &World) {
    let tokens = code_flow(w, &w.basic).await;
    // Another client cannot revoke it (RFC 7009 2.1).
    revoke(w, &w.other, &tokens.access_token)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_eq!(me(w, &tokens.access_token).await.status, 200);

    let answer = revoke(w, &w.basic, &tokens.access_token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let refused = me(w, &tokens.access_token).await;
    refused.assert_bearer_error(401, "invalid_token");
    assert!(
        refused.challenges()[0].starts_with("Bearer realm=\"credlog\""),
        "{:?}",
        refused.challenges()
    );

    // Revoking it again, or a token nobody issued, is still 200 (RFC 7009 2.2).
    assert_eq!(revoke(w, &w.basic, &tokens.access_token).await.status, 200);
    assert_eq!(revoke(w, &w.basic, "no-such-token").await.status, 200);
}

on_both_stores!(revoking_a_refresh_token_ends_its_grant);
async fn revoking_a_refresh_token_ends_its_grant(w: &World) {
    let tokens = code_flow(w, &w.basic).await;
    let answer = revoke(w, &w.basic, tokens.refresh()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    refresh(w, &w.basic, tokens.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // RFC 7009 2.1: the access tokens of the same grant end too.
    me(w, &tokens.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
}

on_both_stores!(introspection_tells_a_client_about_its_own_tokens);
async fn introspection_tells_a_client_about_its_own_tokens(w: &World) {
    let tokens = code_flow(w, &w.basic).await;
    let answer = introspect(w, &w.basic, &tokens.access_token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let seen = answer.json();
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["scope"], SCOPE);
    assert_eq!(seen["client_id"], w.basic.id.as_str());
    assert_eq!(seen["username"], "alice");
    assert_eq!(seen["token_type"], "Bearer");
    assert_eq!(seen["exp"], w.clock.now() + tokens.expires_in);

    let inactive = json!({"active": false});
    // Another client's view of it.
    assert_eq!(
        introspect(w, &w.other, &tokens.access_token).await.json(),
        inactive
    );
    // A token nobody issued.
    let unknown = introspect(w, &w.basic, "no-such-token").await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.json(), inactive);
    // A revoked one.
    assert_eq!(revoke(w, &w.basic, &tokens.access_token).await.status, 200);
    assert_eq!(
        introspect(w, &w.basic, &tokens.access_token).await.json(),
        inactive
    );
    // Without client authentication: no answer at all.
    post_anonymous(
        w,
        "/oauth2/introspect",
        &Form::new().with("token", tokens.refresh()),
    )
    .await
    .assert_oauth2_error(401, "invalid_client");
    let wrong = w.basic.with_secret("wrong");
    let refused = introspect(w, &wrong, tokens.refresh()).await;
    refused.assert_oauth2_error(401, "invalid_client");
    refused.assert_basic_challenge();
}

on_both_stores!(metadata_lists_endpoints_that_answer);
async fn metadata_lists_endpoints_that_answer(w: &World) {
    let answer = get_page(&w.server, "/.well-known/oauth-authorization-server", None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let metadata = answer.json();
    let base = &w.server.base;
    assert_eq!(metadata["issuer"], base.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
        (
            "device_authorization_endpoint",
            "/oauth2/device_authorization",
        ),
    ] {
        assert_eq!(metadata[field], format!("{base}{path}"), "{field}");
    }
    let listed = |field: &str| -> Vec<String> {
        metadata[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field} in {metadata}"))
            .iter()
            .map(|value| value.as_str().unwrap().to_owned())
            .collect()
    };
    let mut grants = listed("grant_types_supported");
    grants.sort();
    let mut expected = ALL_GRANTS.map(str::to_owned).to_vec();
    expected.push(credlog_core::rfc8628::DEVICE_CODE_GRANT.to_owned());
    expected.push(credlog_core::rfc7523::JWT_BEARER_GRANT.to_owned());
    expected.sort();
    assert_eq!(grants, expected);
    let mut responses = listed("response_types_supported");
    responses.sort();
    // An OpenID Provider with the implicit grant answers it with sign-in too.
    assert_eq!(responses, ["code", "id_token token", "token"]);
    let mut pkce = listed("code_challenge_methods_supported");
    pkce.sort();
    assert_eq!(pkce, ["S256", "plain"]);
    let mut methods = listed("token_endpoint_auth_methods_supported");
    methods.sort();
    assert_eq!(
        methods,
        [
            "client_secret_basic",
            "client_secret_post",
            "none",
            "private_key_jwt"
        ]
    );

    // Each endpoint listed answers at the address given.
    let url = |field: &str| metadata[field].as_str().unwrap().to_owned();
    let authorize_url = format!(
        "{}?{}",
        url("authorization_endpoint"),
        code_request(&w.basic).encoded()
    );
    let page = Answer::from(
        http()
            .get(&authorize_url)
            .header("Cookie", &w.cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let post = |field: &str, body: &str| {
        http()
            .post(url(field))
            .basic_auth(&w.basic.id, w.basic.secret.as_deref())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
    };
    let tokens = Answer::from(
        post("token_endpoint", "grant_type=client_credentials")
            .await
            .unwrap(),
    )
    .await
    .tokens();
    let seen = Answer::from(
        post(
            "introspection_endpoint",
            &format!("token={}", tokens.access_token),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(seen.json()["active"], true, "{}", seen.body);
    let revoked = Answer::from(
        post(
            "revocation_endpoint",
            &format!("token={}", tokens.access_token),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
}

/// A deployment's own grant (RFC 6749 4.5): a trusted device vouches for
/// the user named in `subject`.
struct DeviceTrust;

const DEVICE_TRUST: &str = "urn:example:device-trust";

#[async_trait]
impl Grant for DeviceTrust {
    fn grant_type(&self) -> &str {
        DEVICE_TRUST
    }

    fn issues_refresh_token(&self) -> bool {
        true
    }

    async fn token(&self, ctx: &TokenContext<'_>) -> Result<Response, Oauth2Error> {
        let subject = ctx.params.require("subject")?;
        match ctx.store.user(subject).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(Oauth2Error::InvalidGrant("unknown subject")),
            Err(error) => return Err(Oauth2Error::Store(error)),
        }
        let scope = ctx.requested_scope(&ctx.client_scope())?;
        ctx.issue(Issue::new(Some(subject.to_owned()), scope))
            .await
            .map_err(|error| match error {
                IssueError::Refused(_) => Oauth2Error::UnknownClient,
                IssueError::Failed(error) => error,
            })
    }
}

fn device_trust_server() -> Oauth2Server {
    let mut server = Oauth2Server::new(Oauth2Config::default());
    server.register(DeviceTrust);
    server
}

on_both_stores!(
    a_deployments_own_grant_issues_working_tokens,
    oauth2 = device_trust_server
);
async fn a_deployments_own_grant_issues_working_tokens(w: &World) {
    // alice registers a client for it, as for any grant (RFC 7591 2:
    // extension grant types are absolute URIs).
    let registration = json!({
        "client_name": "Device app",
        "redirect_uris": [REDIRECT],
        "scope": SCOPE,
        "grant_types": [DEVICE_TRUST, "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let answer = Answer::from(
        http()
            .post(w.server.url("/clients"))
            .header("Cookie", &w.cookie)
            .header("Content-Type", "application/json")
            .body(registration.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let registered = answer.json();
    assert_eq!(
        registered["grant_types"],
        json!([DEVICE_TRUST, "refresh_token"])
    );
    let client = Oauth2Client {
        id: registered["client_id"].as_str().unwrap().to_owned(),
        secret: Some(registered["client_secret"].as_str().unwrap().to_owned()),
        method: AuthMethod::Basic,
    };

    let form = Form::new()
        .with("grant_type", DEVICE_TRUST)
        .with("subject", "alice");
    let tokens = token(w, &client, &form).await.tokens();
    assert_eq!(tokens.scope, SCOPE);
    // The grant asks for refresh tokens, and the client may use them.
    assert!(tokens.refresh_token.is_some(), "{}", tokens.json);
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(
        whoami.json(),
        json!({"user": "alice", "client_id": client.id, "scope": SCOPE})
    );

    // The grant's own rule, and the server's: only registered clients.
    token(w, &client, &form.clone().with("subject", "mallory"))
        .await
        .assert_oauth2_error(400, "invalid_grant");
    token(w, &w.basic, &form)
        .await
        .assert_oauth2_error(400, "unauthorized_client");

    let metadata = get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!(DEVICE_TRUST)), "{metadata}");
    assert!(grants.contains(&json!("authorization_code")), "{metadata}");
}

on_both_stores!(the_log_records_the_code_flow_without_token_values);
async fn the_log_records_the_code_flow_without_token_values(w: &World) {
    let store = w.server.store.as_ref();
    let before = store.last_seq().await.unwrap();
    let code = code_for(w, &code_request(&w.basic)).await;
    let tokens = exchange(w, &w.basic, &code).await.tokens();
    assert_eq!(me(w, &tokens.access_token).await.status, 200);

    let log = store.read_log(1, 1000).await.unwrap();
    let records: Vec<_> = log.iter().filter(|r| r.seq > before).collect();
    assert_eq!(records.len(), 2, "{records:#?}");
    let code_id = token_id(&code);
    match records[0].events.as_slice() {
        [Event::Issued(Issued::Token(issued)), Event::Authorized(authorized)] => {
            assert_eq!(issued.kind, CredentialKind::AuthorizationCode);
            assert_eq!(issued.id, code_id);
            assert_eq!(issued.client_id, w.basic.id);
            assert_eq!(issued.scope, SCOPE);
            assert_eq!(issued.redirect_uri.as_deref(), Some(REDIRECT));
            assert_eq!(issued.expires_at, Some(w.clock.now() + 600));
            assert_eq!(authorized.id, code_id);
            assert_eq!(authorized.user, "alice");
        }
        other => panic!("not a code and its grant: {other:#?}"),
    }
    match records[1].events.as_slice() {
        [Event::Exchanged(exchanged), Event::Issued(Issued::Token(refresh)), Event::Issued(Issued::Token(access))] =>
        {
            assert_eq!(exchanged.id, code_id);
            assert_eq!(refresh.kind, CredentialKind::RefreshToken);
            assert_eq!(refresh.id, token_id(tokens.refresh()));
            assert_eq!(refresh.parent.as_deref(), Some(code_id.as_str()));
            assert_eq!(access.kind, CredentialKind::AccessToken);
            assert_eq!(access.id, token_id(&tokens.access_token));
            assert_eq!(access.user.as_deref(), Some("alice"));
            assert_eq!(access.expires_at, Some(w.clock.now() + tokens.expires_in));
        }
        other => panic!("not an exchange: {other:#?}"),
    }

    // Only hashes: no record, and no file of the store, holds a value.
    let secrets = [code.as_str(), &tokens.access_token, tokens.refresh()];
    let text = serde_json::to_string(&log).unwrap();
    let debug = format!("{log:?}");
    for secret in secrets {
        assert!(!text.contains(secret) && !debug.contains(secret));
    }
    let files = files_under(w.dir());
    assert_eq!(w.backend == Backend::Sled, !files.is_empty(), "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for secret in secrets {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "{} holds a token value",
                file.display()
            );
        }
    }
    assert!(store.check().await.unwrap().is_consistent());
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
