//! Every OAuth 2 refusal CONTRACT.md and RFC 6749, 6750, 7636 list, over
//! real HTTP: the status, the `error`, the challenge, what still works
//! afterwards and what no longer does. Each case runs against both stores.

mod support;

use credlog_core::rfc6749::{Oauth2Config, Oauth2Server};
use support::oauth2::*;
use support::{get_page, hidden_inputs, http, post_form, Answer, PASSWORD};

/// The 400 page of an authorization request that cannot be trusted with
/// a redirect (RFC 6749 4.1.2.1): shown to the user, never redirected.
fn assert_shown_not_redirected(page: &Answer) {
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(page.header("location"), None);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{page:?}"
    );
    assert!(page.body.contains("<title>"), "{}", page.body);
}

on_both_stores!(a_client_authenticating_another_way_is_refused);
async fn a_client_authenticating_another_way_is_refused(w: &World) {
    // Registered for Basic, presenting its secret in the body, or nothing.
    for wrong_way in [AuthMethod::Post, AuthMethod::None] {
        password_grant(w, &w.basic.using(wrong_way), PASSWORD)
            .await
            .assert_oauth2_error(401, "invalid_client");
    }
    // Registered for the body, presenting Basic.
    let refused = password_grant(w, &w.post.using(AuthMethod::Basic), PASSWORD).await;
    refused.assert_oauth2_error(401, "invalid_client");
    refused.assert_basic_challenge();
    // A public client presenting a made-up secret, either way.
    let code = code_for(w, &code_request(&w.public)).await;
    for wrong_way in [AuthMethod::Basic, AuthMethod::Post] {
        let impostor = w.public.with_secret("made-up").using(wrong_way);
        token(w, &impostor, &exchange_form(&w.public, &code))
            .await
            .assert_oauth2_error(401, "invalid_client");
    }
    // The public client can still redeem its code its own way.
    exchange(w, &w.public, &code).await.tokens();
}

on_both_stores!(bad_client_credentials_are_invalid_client);
async fn bad_client_credentials_are_invalid_client(w: &World) {
    let form = Form::new().with("grant_type", "client_credentials");
    let wrong = token(w, &w.basic.with_secret("wrong"), &form).await;
    wrong.assert_oauth2_error(401, "invalid_client");
    wrong.assert_basic_challenge();
    let unknown = Oauth2Client {
        id: "nobody".to_owned(),
        ..w.basic.clone()
    };
    let refused = token(w, &unknown, &form).await;
    refused.assert_oauth2_error(401, "invalid_client");
    refused.assert_basic_challenge();
    password_grant(w, &w.post.with_secret("wrong"), PASSWORD)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // No client at all.
    post_anonymous(w, "/oauth2/token", &form)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // RFC 6749 2.3: one way at a time.
    let both = form
        .clone()
        .with("client_id", &w.basic.id)
        .with("client_secret", w.basic.secret.as_deref().unwrap());
    token(w, &w.basic, &both)
        .await
        .assert_oauth2_error(400, "invalid_request");
}

on_both_stores!(missing_or_repeated_parameters_are_invalid_request);
async fn missing_or_repeated_parameters_are_invalid_request(w: &World) {
    token(w, &w.basic, &Form::new())
        .await
        .assert_oauth2_error(400, "invalid_request");
    let repeated = Form::new()
        .with("grant_type", "password")
        .also("grant_type", "password")
        .with("username", "alice")
        .with("password", PASSWORD);
    token(w, &w.basic, &repeated)
        .await
        .assert_oauth2_error(400, "invalid_request");
    let no_password = Form::new()
        .with("grant_type", "password")
        .with("username", "alice");
    token(w, &w.basic, &no_password)
        .await
        .assert_oauth2_error(400, "invalid_request");
    let no_code = Form::new()
        .with("grant_type", "authorization_code")
        .with("redirect_uri", REDIRECT);
    token(w, &w.basic, &no_code)
        .await
        .assert_oauth2_error(400, "invalid_request");
}

on_both_stores!(bad_codes_passwords_and_refresh_tokens_are_invalid_grant);
async fn bad_codes_passwords_and_refresh_tokens_are_invalid_grant(w: &World) {
    exchange(w, &w.basic, "no-such-code")
        .await
        .assert_oauth2_error(400, "invalid_grant");
    password_grant(w, &w.basic, "not alice's password")
        .await
        .assert_oauth2_error(400, "invalid_grant");
    refresh(w, &w.basic, "no-such-refresh-token", None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // An access token is no refresh token.
    let tokens = code_flow(w, &w.basic).await;
    refresh(w, &w.basic, &tokens.access_token, None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(codes_and_refresh_tokens_work_only_for_their_client);
async fn codes_and_refresh_tokens_work_only_for_their_client(w: &World) {
    let code = code_for(w, &code_request(&w.basic)).await;
    exchange(w, &w.other, &code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let tokens = code_flow(w, &w.basic).await;
    refresh(w, &w.other, tokens.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(a_grant_the_client_did_not_register_is_unauthorized_client);
async fn a_grant_the_client_did_not_register_is_unauthorized_client(w: &World) {
    password_grant(w, &w.code_only, PASSWORD)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
    let form = Form::new().with("grant_type", "client_credentials");
    token(w, &w.post, &form)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
    // At the authorization endpoint, refused back at the redirect URI, in
    // the fragment for `response_type=token` (RFC 6749 4.2.2.1).
    let answer = consent_page(w, &token_request(&w.post)).await;
    let location = Location::of(&answer);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.fragment("error"), Some("unauthorized_client"));
    assert_eq!(location.fragment("state"), Some(STATE));
    // Implicit needs `token` among the response types, not only the grant.
    let no_token = register(
        w.server.store.as_ref(),
        "No token",
        AuthMethod::Basic,
        &[REDIRECT],
        &["authorization_code", "implicit"],
        &["code"],
    )
    .await;
    let location = Location::of(&consent_page(w, &token_request(&no_token)).await);
    assert_eq!(location.fragment("error"), Some("unauthorized_client"));
    assert_eq!(location.fragment("access_token"), None);
}

on_both_stores!(an_unknown_grant_type_is_unsupported_grant_type);
async fn an_unknown_grant_type_is_unsupported_grant_type(w: &World) {
    for grant_type in ["urn:example:unknown", "implicit"] {
        token(w, &w.basic, &Form::new().with("grant_type", grant_type))
            .await
            .assert_oauth2_error(400, "unsupported_grant_type");
    }
    let answer = consent_page(w, &code_request(&w.basic).with("response_type", "magic")).await;
    let location = Location::of(&answer);
    assert_eq!(location.query("error"), Some("unsupported_response_type"));
    assert_eq!(location.query("state"), Some(STATE));
}

on_both_stores!(a_scope_beyond_the_registration_is_invalid_scope);
async fn a_scope_beyond_the_registration_is_invalid_scope(w: &World) {
    let form = Form::new().with("grant_type", "client_credentials");
    for scope in ["profile admin", "admin", "bad\"scope"] {
        token(w, &w.basic, &form.clone().with("scope", scope))
            .await
            .assert_oauth2_error(400, "invalid_scope");
    }
    let password = Form::new()
        .with("grant_type", "password")
        .with("username", "alice")
        .with("password", PASSWORD)
        .with("scope", "email admin");
    token(w, &w.basic, &password)
        .await
        .assert_oauth2_error(400, "invalid_scope");
    let answer = consent_page(w, &code_request(&w.basic).with("scope", "profile admin")).await;
    let location = Location::of(&answer);
    assert_eq!(location.query("error"), Some("invalid_scope"));
    assert_eq!(location.query("state"), Some(STATE));
}

on_both_stores!(a_refresh_cannot_widen_the_scope);
async fn a_refresh_cannot_widen_the_scope(w: &World) {
    let code = code_for(w, &code_request(&w.basic).with("scope", "profile")).await;
    let tokens = exchange(w, &w.basic, &code).await.tokens();
    assert_eq!(tokens.scope, "profile");
    for wider in ["profile email", "email", "profile admin"] {
        refresh(w, &w.basic, tokens.refresh(), Some(wider))
            .await
            .assert_oauth2_error(400, "invalid_scope");
    }
}

on_both_stores!(every_token_response_is_no_store);
async fn every_token_response_is_no_store(w: &World) {
    let mut answers = vec![
        password_grant(w, &w.basic, PASSWORD).await,
        token(
            w,
            &w.basic,
            &Form::new().with("grant_type", "client_credentials"),
        )
        .await,
        exchange(w, &w.public, &code_for(w, &code_request(&w.public)).await).await,
        token(w, &w.basic, &Form::new()).await,
        password_grant(w, &w.basic, "wrong").await,
        password_grant(w, &w.basic.with_secret("wrong"), PASSWORD).await,
        token(w, &w.basic, &Form::new().with("grant_type", "magic")).await,
        exchange(w, &w.basic, "no-such-code").await,
    ];
    let tokens = answers[0].tokens();
    answers.push(refresh(w, &w.basic, tokens.refresh(), None).await);
    answers.push(refresh(w, &w.basic, tokens.refresh(), None).await);
    assert_eq!(
        answers.iter().filter(|a| a.status == 200).count(),
        4,
        "{answers:#?}"
    );
    for answer in &answers {
        answer.assert_no_store();
    }
}

on_both_stores!(pkce_refuses_a_wrong_verifier);
async fn pkce_refuses_a_wrong_verifier(w: &World) {
    for wrong in [
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
        CHALLENGE,
        "short",
    ] {
        let code = code_for(w, &code_request(&w.public)).await;
        let form = exchange_form(&w.public, &code).with("code_verifier", wrong);
        token(w, &w.public, &form)
            .await
            .assert_oauth2_error(400, "invalid_grant");
    }
    // plain too.
    let request = code_request(&w.public)
        .with("code_challenge", VERIFIER)
        .with("code_challenge_method", "plain");
    let code = code_for(w, &request).await;
    let form = exchange_form(&w.public, &code).with("code_verifier", CHALLENGE);
    token(w, &w.public, &form)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(pkce_needs_the_verifier);
async fn pkce_needs_the_verifier(w: &World) {
    let code = code_for(w, &code_request(&w.public)).await;
    let form = exchange_form(&w.public, &code).without("code_verifier");
    token(w, &w.public, &form)
        .await
        .assert_oauth2_error(400, "invalid_request");
}

on_both_stores!(a_verifier_for_a_code_without_a_challenge_is_refused);
async fn a_verifier_for_a_code_without_a_challenge_is_refused(w: &World) {
    // A PKCE downgrade (RFC 9700 2.1.1): the code was issued without one.
    let code = code_for(w, &code_request(&w.basic)).await;
    let form = exchange_form(&w.basic, &code).with("code_verifier", VERIFIER);
    token(w, &w.basic, &form)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(a_public_client_without_a_challenge_is_sent_back);
async fn a_public_client_without_a_challenge_is_sent_back(w: &World) {
    let request = code_request(&w.public)
        .without("code_challenge")
        .without("code_challenge_method");
    let location = Location::of(&consent_page(w, &request).await);
    assert_eq!(location.base, REDIRECT);
    assert_eq!(location.query("error"), Some("invalid_request"));
    assert_eq!(location.query("state"), Some(STATE));
    assert_eq!(location.query("code"), None);
    // An unknown challenge method likewise.
    let request = code_request(&w.public).with("code_challenge_method", "S512");
    let location = Location::of(&consent_page(w, &request).await);
    assert_eq!(location.query("error"), Some("invalid_request"));
}

on_both_stores!(a_second_use_of_a_code_revokes_what_it_issued);
async fn a_second_use_of_a_code_revokes_what_it_issued(w: &World) {
    let code = code_for(w, &code_request(&w.basic)).await;
    let first = exchange(w, &w.basic, &code).await.tokens();
    assert_eq!(me(w, &first.access_token).await.status, 200);

    exchange(w, &w.basic, &code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    me(w, &first.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    refresh(w, &w.basic, first.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_eq!(
        introspect(w, &w.basic, &first.access_token).await.json(),
        serde_json::json!({"active": false})
    );
    // And the code stays spent.
    exchange(w, &w.basic, &code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(a_code_replay_reaches_tokens_refreshed_since);
async fn a_code_replay_reaches_tokens_refreshed_since(w: &World) {
    let code = code_for(w, &code_request(&w.basic)).await;
    let first = exchange(w, &w.basic, &code).await.tokens();
    let second = refresh(w, &w.basic, first.refresh(), None).await.tokens();
    assert_eq!(me(w, &second.access_token).await.status, 200);

    exchange(w, &w.basic, &code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    for access in [&first.access_token, &second.access_token] {
        me(w, access)
            .await
            .assert_bearer_error(401, "invalid_token");
    }
    refresh(w, &w.basic, second.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(a_retired_refresh_token_revokes_its_family);
async fn a_retired_refresh_token_revokes_its_family(w: &World) {
    // A family rooted in a code, and one rooted in its first refresh token.
    let from_code = code_flow(w, &w.basic).await;
    let from_password = password_grant(w, &w.basic, PASSWORD).await.tokens();
    for first in [from_code, from_password] {
        let second = refresh(w, &w.basic, first.refresh(), None).await.tokens();
        assert_eq!(me(w, &second.access_token).await.status, 200);

        refresh(w, &w.basic, first.refresh(), None)
            .await
            .assert_oauth2_error(400, "invalid_grant");
        me(w, &second.access_token)
            .await
            .assert_bearer_error(401, "invalid_token");
        me(w, &first.access_token)
            .await
            .assert_bearer_error(401, "invalid_token");
        refresh(w, &w.basic, second.refresh(), None)
            .await
            .assert_oauth2_error(400, "invalid_grant");
    }
}

on_both_stores!(an_unregistered_redirect_uri_is_shown_not_redirected);
async fn an_unregistered_redirect_uri_is_shown_not_redirected(w: &World) {
    for uri in [
        "https://evil.example/callback",
        "http://127.0.0.1:8000/callback/",
        "http://127.0.0.1:8000/callback?x=1",
        "not a uri",
    ] {
        let page = consent_page(w, &code_request(&w.basic).with("redirect_uri", uri)).await;
        assert_shown_not_redirected(&page);
        assert!(page.body.contains("redirect_uri"), "{}", page.body);
    }
    // A client with two URIs must name one.
    let page = consent_page(w, &code_request(&w.basic).without("redirect_uri")).await;
    assert_shown_not_redirected(&page);
    // A submitted form whose redirect URI was changed is refused the same way.
    let page = consent_page(w, &code_request(&w.basic)).await;
    let mut fields = hidden_inputs(&page.body);
    for field in &mut fields {
        if field.0 == "redirect_uri" {
            field.1 = "https://evil.example/callback".to_owned();
        }
    }
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let answer = post_form(&w.server, "/oauth2/authorize", Some(&w.cookie), &fields).await;
    assert_shown_not_redirected(&answer);
}

on_both_stores!(an_unknown_client_is_shown_not_redirected);
async fn an_unknown_client_is_shown_not_redirected(w: &World) {
    let request = code_request(&w.basic).with("client_id", "nobody");
    assert_shown_not_redirected(&consent_page(w, &request).await);
    let request = code_request(&w.basic).without("client_id");
    assert_shown_not_redirected(&consent_page(w, &request).await);
}

on_both_stores!(the_token_request_must_name_the_codes_redirect_uri);
async fn the_token_request_must_name_the_codes_redirect_uri(w: &World) {
    let code = code_for(w, &code_request(&w.basic)).await;
    let elsewhere = exchange_form(&w.basic, &code).with("redirect_uri", OTHER_REDIRECT);
    token(w, &w.basic, &elsewhere)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    let code = code_for(w, &code_request(&w.basic)).await;
    let unnamed = exchange_form(&w.basic, &code).without("redirect_uri");
    token(w, &w.basic, &unnamed)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(the_consent_form_needs_its_csrf_token);
async fn the_consent_form_needs_its_csrf_token(w: &World) {
    let page = consent_page(w, &code_request(&w.basic)).await;
    let mut fields: Vec<_> = hidden_inputs(&page.body)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let answer = post_form(&w.server, "/oauth2/authorize", Some(&w.cookie), &fields).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.header("location"), None);
}

on_both_stores!(a_token_without_profile_is_insufficient_scope);
async fn a_token_without_profile_is_insufficient_scope(w: &World) {
    let code = code_for(w, &code_request(&w.basic).with("scope", "email")).await;
    let tokens = exchange(w, &w.basic, &code).await.tokens();
    assert_eq!(tokens.scope, "email");
    let refused = me(w, &tokens.access_token).await;
    refused.assert_bearer_error(403, "insufficient_scope");
    assert!(
        refused.challenges()[0].contains("scope=\"profile\""),
        "{:?}",
        refused.challenges()
    );
}

on_both_stores!(api_me_refuses_missing_and_unknown_tokens);
async fn api_me_refuses_missing_and_unknown_tokens(w: &World) {
    let bare = get_page(&w.server, "/api/me", None).await;
    assert_eq!(bare.status, 401);
    assert!(
        bare.challenges().iter().any(|c| c.starts_with("Bearer ")),
        "{:?}",
        bare.challenges()
    );
    me(w, "no-such-token")
        .await
        .assert_bearer_error(401, "invalid_token");
    // Neither a code nor a refresh token opens the API.
    let code = code_for(w, &code_request(&w.basic)).await;
    me(w, &code).await.assert_bearer_error(401, "invalid_token");
    let tokens = exchange(w, &w.basic, &code).await.tokens();
    me(w, tokens.refresh())
        .await
        .assert_bearer_error(401, "invalid_token");
    // A malformed Bearer credential is a bad request (RFC 6750 3.1).
    let answer = Answer::from(
        http()
            .get(w.server.url("/api/me"))
            .header("Authorization", "Bearer two words")
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_bearer_error(400, "invalid_request");
}

on_both_stores!(a_code_expires_after_ten_minutes);
async fn a_code_expires_after_ten_minutes(w: &World) {
    let early = code_for(w, &code_request(&w.basic)).await;
    let late = code_for(w, &code_request(&w.basic)).await;
    w.clock.advance(599);
    exchange(w, &w.basic, &early).await.tokens();
    w.clock.advance(2);
    exchange(w, &w.basic, &late)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

on_both_stores!(an_access_token_expires_after_expires_in);
async fn an_access_token_expires_after_expires_in(w: &World) {
    let tokens = code_flow(w, &w.basic).await;
    w.clock.advance(tokens.expires_in - 1);
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
    w.clock.advance(2);
    me(w, &tokens.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    assert_eq!(
        introspect(w, &w.basic, &tokens.access_token).await.json(),
        serde_json::json!({"active": false})
    );
    // The refresh token outlives it and buys a working one.
    let fresh = refresh(w, &w.basic, tokens.refresh(), None).await.tokens();
    assert_eq!(me(w, &fresh.access_token).await.status, 200);
}

on_both_stores!(a_code_redeemed_twice_at_once_is_one_use_and_one_replay);
async fn a_code_redeemed_twice_at_once_is_one_use_and_one_replay(w: &World) {
    let code = code_for(w, &code_request(&w.basic)).await;
    let (a, b) = tokio::join!(exchange(w, &w.basic, &code), exchange(w, &w.basic, &code));
    let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
    let tokens = won.tokens();
    lost.assert_oauth2_error(400, "invalid_grant");
    me(w, &tokens.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
}

on_both_stores!(a_refresh_token_used_twice_at_once_is_one_use_and_one_reuse);
async fn a_refresh_token_used_twice_at_once_is_one_use_and_one_reuse(w: &World) {
    let first = code_flow(w, &w.basic).await;
    let (a, b) = tokio::join!(
        refresh(w, &w.basic, first.refresh(), None),
        refresh(w, &w.basic, first.refresh(), None)
    );
    let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
    let second = won.tokens();
    lost.assert_oauth2_error(400, "invalid_grant");
    me(w, &second.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    refresh(w, &w.basic, second.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
}

fn without_plain_pkce() -> Oauth2Server {
    Oauth2Server::new(Oauth2Config {
        allow_plain_pkce: false,
        ..Oauth2Config::default()
    })
}

on_both_stores!(plain_pkce_can_be_switched_off, oauth2 = without_plain_pkce);
async fn plain_pkce_can_be_switched_off(w: &World) {
    let request = code_request(&w.public)
        .with("code_challenge", VERIFIER)
        .with("code_challenge_method", "plain");
    let location = Location::of(&consent_page(w, &request).await);
    assert_eq!(location.query("error"), Some("invalid_request"));
    assert_eq!(location.query("state"), Some(STATE));
    // A challenge without a method is plain (RFC 7636 4.3): refused too.
    let request = code_request(&w.public)
        .with("code_challenge", VERIFIER)
        .without("code_challenge_method");
    let location = Location::of(&consent_page(w, &request).await);
    assert_eq!(location.query("error"), Some("invalid_request"));
    let metadata = get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    // S256 still works.
    let tokens = code_flow(w, &w.public).await;
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
}

fn without_implicit() -> Oauth2Server {
    let mut server = Oauth2Server::new(Oauth2Config::default());
    server.unregister("implicit");
    server
}

on_both_stores!(
    registration_refuses_a_grant_the_server_does_not_have,
    oauth2 = without_implicit
);
async fn registration_refuses_a_grant_the_server_does_not_have(w: &World) {
    let register = |metadata: serde_json::Value| async move {
        Answer::from(
            http()
                .post(w.server.url("/clients"))
                .header("Cookie", &w.cookie)
                .header("Content-Type", "application/json")
                .body(metadata.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    for (metadata, description) in [
        (
            serde_json::json!({
                "client_name": "SPA",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "implicit"],
            }),
            "grant type \"implicit\" is not supported",
        ),
        (
            serde_json::json!({
                "client_name": "SPA",
                "redirect_uris": [REDIRECT],
                "response_types": ["code", "token"],
            }),
            "response type \"token\" is not supported",
        ),
    ] {
        let refused = register(metadata.clone()).await;
        assert_eq!(refused.status, 400, "{metadata}: {}", refused.body);
        assert_eq!(
            refused.json()["error"],
            "invalid_client_metadata",
            "{metadata}"
        );
        assert_eq!(
            refused.json()["error_description"],
            description,
            "{metadata}"
        );
    }
    // What the server has still registers, and works.
    let registered = register(serde_json::json!({
        "client_name": "App",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "client_credentials"],
        "response_types": ["code"],
    }))
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(
        registered.json()["grant_types"],
        serde_json::json!(["authorization_code", "client_credentials"])
    );
    let client = Oauth2Client {
        id: registered.json()["client_id"].as_str().unwrap().to_owned(),
        secret: registered.json()["client_secret"]
            .as_str()
            .map(str::to_owned),
        method: AuthMethod::Basic,
    };
    let tokens = token(
        w,
        &client,
        &Form::new().with("grant_type", "client_credentials"),
    )
    .await
    .tokens();
    assert_eq!(me(w, &tokens.access_token).await.status, 200);
}

on_both_stores!(thousands_of_parameters_are_invalid_request);
async fn thousands_of_parameters_are_invalid_request(w: &World) {
    let mut form = Form::new()
        .with("grant_type", "client_credentials")
        .with("scope", "profile");
    for i in 0..6000 {
        form = form.also(&format!("p{i}"), "v");
    }
    token(w, &w.basic, &form)
        .await
        .assert_oauth2_error(400, "invalid_request");
}
