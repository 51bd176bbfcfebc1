//! The management pages over real HTTP (CONTRACT.md "Client
//! registration", issue 14): an owner registers a client from the form,
//! sees its page, rotates its secret and deletes it; a user sees what each
//! application they allowed holds and revokes it; other users see none of
//! it; forged and cross-site forms change nothing; and the consent pages
//! describe scopes in the deployment's words. Each case ends with the
//! store's `check()`, and the world cases run against both stores.

mod support;

use std::collections::BTreeMap;

use credlog_core::rfc5849::encoding::form_decode;
use credlog_core::rfc5849::Transmission;
use credlog_http::accounts::add_user;
use credlog_http::App;
use support::oauth2::{
    self as o2, code_flow, code_for, code_request, consent_page, refresh, token, AuthMethod, Form,
    Oauth2Answer, Oauth2Client, World,
};
use support::{
    element_text, get_page, hidden_inputs, initiate, login, post_form, post_form_with, seed,
    three_legged, Answer, Backend, TestClient, TestServer, CALLBACK,
};

const BOB_PASSWORD: &str = "bob's password";
const EVIL: &str = "https://evil.example";

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The session's CSRF token, as every form of a page carries it.
fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no token: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

/// bob, another user, signed in; his session cookie and CSRF token.
async fn bob(w: &World) -> (String, String) {
    add_user(w.server.store.as_ref(), "bob", BOB_PASSWORD, support::now())
        .await
        .unwrap();
    let cookie = login(&w.server, "bob", BOB_PASSWORD).await;
    let home = get_page(&w.server, "/", Some(&cookie)).await;
    let token = csrf_token(&home.body);
    (cookie, token)
}

/// The client as an OAuth 1 consumer (HMAC-SHA1 in the header).
fn consumer(client: &Oauth2Client) -> TestClient {
    TestClient {
        id: client.id.clone(),
        secret: client.secret.clone().expect("a confidential client"),
        method: "HMAC-SHA1",
        transmission: Transmission::Header,
    }
}

/// `GET /api/me` signed by `client` with an OAuth 1 token credential: its status.
async fn oauth1_me(w: &World, client: &Oauth2Client, token: &(String, String)) -> u16 {
    support::me(&w.server, &consumer(client), (&token.0, &token.1))
        .await
        .status
}

/// `grant_type=client_credentials`.
async fn client_credentials(w: &World, client: &Oauth2Client) -> Answer {
    token(
        w,
        client,
        &Form::new().with("grant_type", "client_credentials"),
    )
    .await
}

/// `GET /clients/{id}` with `cookie`.
async fn client_page(w: &World, cookie: &str, id: &str) -> Answer {
    get_page(&w.server, &format!("/clients/{id}"), Some(cookie)).await
}

async fn assert_consistent(w: &World) {
    let report = w.server.store.check().await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.mismatches);
}

on_both_stores!(
    an_owner_registers_from_the_form_rotates_the_secret_and_no_one_else_can,
    revoking_a_grant_ends_what_that_client_holds_and_nothing_else,
    deleting_a_client_ends_it_and_every_token_it_holds,
);

async fn an_owner_registers_from_the_form_rotates_the_secret_and_no_one_else_can(w: &World) {
    let cookie = w.cookie.as_str();
    let list = get_page(&w.server, "/clients", Some(cookie)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let mut form = hidden_inputs(&list.body);
    assert_eq!(form[0].0, "csrf_token");
    for checkbox in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
        "implicit",
    ] {
        assert!(
            list.body.contains(&format!("value=\"{checkbox}\"")),
            "{checkbox}"
        );
    }
    assert!(list.body.contains("name=\"token_endpoint_auth_method\""));
    let name = "<b>&\"x\"";
    form.extend(fields(&[
        ("client_name", name),
        ("redirect_uris", &format!("{CALLBACK}\r\n")),
        ("scope", "profile"),
        ("grant_types", "authorization_code"),
        ("grant_types", "client_credentials"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ]));
    let registered = post_form(&w.server, "/clients", Some(cookie), &form).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert!(!registered.body.contains(name), "{}", registered.body);
    assert!(registered.body.contains("&lt;b&gt;&amp;&quot;x&quot;"));
    assert!(registered.body.contains("will not be shown again"));
    let id = element_text(&registered.body, "client_id").unwrap();
    let secret = element_text(&registered.body, "client_secret").unwrap();
    assert!(registered.body.contains(&format!("href=\"/clients/{id}\"")));
    let client = Oauth2Client {
        id: id.clone(),
        secret: Some(secret.clone()),
        method: AuthMethod::Basic,
    };
    assert_eq!(client_credentials(w, &client).await.status, 200);

    // The list links to it, its name escaped.
    let list = get_page(&w.server, "/clients", Some(cookie)).await;
    assert!(list
        .body
        .contains(&format!("<a href=\"/clients/{id}\">&lt;b&gt;")));
    assert!(!list.body.contains(name));

    // Its page, for its owner.
    let page = client_page(w, cookie, &id).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains(name));
    assert_eq!(
        element_text(&page.body, "client_name").as_deref(),
        Some(name)
    );
    assert_eq!(element_text(&page.body, "client_id"), Some(id.clone()));
    assert_eq!(
        element_text(&page.body, "scope").as_deref(),
        Some("profile")
    );
    assert_eq!(
        element_text(&page.body, "auth_method").as_deref(),
        Some("client_secret_basic")
    );
    assert!(page.body.contains("<code>client_credentials</code>"));
    let callback = html_escape::encode_safe(CALLBACK);
    assert!(page.body.contains(&format!("<code>{callback}</code>")));
    let registered_at = element_text(&page.body, "registered").unwrap();
    let at = humantime::parse_rfc3339(&registered_at).unwrap();
    let seconds = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(seconds.abs_diff(support::now()) < 60, "{registered_at}");
    assert!(page
        .body
        .contains(&format!("action=\"/clients/{id}/secret\"")));
    assert!(page
        .body
        .contains(&format!("action=\"/clients/{id}/delete\"")));
    let token = csrf_token(&page.body);

    // Nobody else sees it or changes it; signed out, 401 as for /clients.
    let (bob, bobs_token) = bob(w).await;
    assert_eq!(client_page(w, &bob, &id).await.status, 404);
    for action in ["secret", "delete"] {
        let path = format!("/clients/{id}/{action}");
        let form = fields(&[("csrf_token", &bobs_token)]);
        let tried = post_form(&w.server, &path, Some(&bob), &form).await;
        assert_eq!(tried.status, 404, "{action}");
    }
    assert_eq!(client_page(w, &bob, "unknown").await.status, 404);
    assert_eq!(
        get_page(&w.server, &format!("/clients/{id}"), None)
            .await
            .status,
        401
    );
    assert_eq!(client_page(w, cookie, &id).await.status, 200);
    assert_eq!(client_credentials(w, &client).await.status, 200);

    // A forged or cross-site form: 403, and the secret still works.
    let path = format!("/clients/{id}/secret");
    for (headers, form) in [
        (vec![], vec![]),
        (vec![], fields(&[("csrf_token", &"x".repeat(32))])),
        (vec![], fields(&[("csrf_token", &bobs_token)])),
        (vec![("Origin", EVIL)], fields(&[("csrf_token", &token)])),
        (
            vec![("Sec-Fetch-Site", "cross-site")],
            fields(&[("csrf_token", &token)]),
        ),
    ] {
        let refused = post_form_with(&w.server, &path, Some(cookie), &headers, &form).await;
        assert_eq!(refused.status, 403, "{headers:?} {form:?}");
        let delete = format!("/clients/{id}/delete");
        let refused = post_form_with(&w.server, &delete, Some(cookie), &headers, &form).await;
        assert_eq!(refused.status, 403, "{headers:?} {form:?}");
    }
    assert_eq!(client_credentials(w, &client).await.status, 200);
    assert_eq!(client_page(w, cookie, &id).await.status, 200);

    // Rotated: the new secret shown once works, the old one at once not.
    let own = [("Origin", w.server.base.as_str())];
    let rotated = post_form_with(
        &w.server,
        &path,
        Some(cookie),
        &own,
        &fields(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = element_text(&rotated.body, "client_secret").unwrap();
    assert_ne!(new_secret, secret);
    assert!(rotated.body.contains("will not be shown again"));
    let rotated_client = client.with_secret(&new_secret);
    assert_eq!(client_credentials(w, &rotated_client).await.status, 200);
    client_credentials(w, &client)
        .await
        .assert_oauth2_error(401, "invalid_client");
    let page = client_page(w, cookie, &id).await;
    assert!(
        !page.body.contains(&new_secret),
        "the page never shows it again"
    );

    // A public client has no secret: no form, and a post is refused.
    let public = client_page(w, cookie, &w.public.id).await;
    assert_eq!(public.status, 200);
    assert!(!public.body.contains("/secret\""), "{}", public.body);
    let path = format!("/clients/{}/secret", w.public.id);
    let refused = post_form(
        &w.server,
        &path,
        Some(cookie),
        &fields(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_consistent(w).await;
}

async fn revoking_a_grant_ends_what_that_client_holds_and_nothing_else(w: &World) {
    let cookie = w.cookie.as_str();
    // Signed out: sign in, then come back here.
    let anonymous = get_page(&w.server, "/authorizations", None).await;
    assert_eq!(anonymous.status, 303);
    let location = anonymous.header("location").unwrap();
    let next = location.strip_prefix("/login?").unwrap();
    let next: Vec<_> = form_decode(next).unwrap();
    assert_eq!(next[0].1, "/authorizations");
    let nothing = get_page(&w.server, "/authorizations", Some(cookie)).await;
    assert_eq!(nothing.status, 200);
    assert!(
        element_text(&nothing.body, "none").is_some(),
        "{}",
        nothing.body
    );
    let home = get_page(&w.server, "/", Some(cookie)).await;
    assert!(home.body.contains("href=\"/authorizations\""));
    assert!(home.body.contains("href=\"/clients\""));

    // Two clients, each with an OAuth 2 grant and an OAuth 1 one; a third
    // with a code not yet exchanged.
    let revoked = code_flow(w, &w.basic).await;
    let kept = code_flow(w, &w.other).await;
    let revoked_oauth1 = three_legged(&w.server, &consumer(&w.basic), cookie).await;
    let kept_oauth1 = three_legged(&w.server, &consumer(&w.other), cookie).await;
    code_for(w, &code_request(&w.code_only)).await;
    // The OAuth 2 consent page remembers nothing: it asks again.
    let again = consent_page(w, &code_request(&w.basic)).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        element_text(&again.body, "client").as_deref(),
        Some("Photo printer")
    );

    let page = get_page(&w.server, "/authorizations", Some(cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let holds = |page: &Answer, id: &str| element_text(&page.body, &format!("holds-{id}"));
    let both = "1 OAuth 1 token credential, 1 access token, 1 refresh token";
    assert_eq!(holds(&page, &w.basic.id).as_deref(), Some(both));
    assert_eq!(holds(&page, &w.other.id).as_deref(), Some(both));
    assert_eq!(
        holds(&page, &w.code_only.id).as_deref(),
        Some("1 authorization code not yet exchanged")
    );
    assert!(page.body.contains("<strong>Photo printer</strong>"));
    assert_eq!(holds(&page, &w.post.id), None, "never granted");
    for id in ["granted", "last-granted"] {
        let text = element_text(&page.body, &format!("{id}-{}", w.basic.id)).unwrap();
        assert!(text.ends_with('Z'), "{text}");
        humantime::parse_rfc3339(&text).unwrap();
    }
    let token = csrf_token(&page.body);
    let revoke = |client_id: &str| fields(&[("client_id", client_id), ("csrf_token", &token)]);

    // Forged, cross-site, someone else's and never granted: nothing changes.
    let forged = fields(&[("client_id", &w.basic.id)]);
    let refused = post_form(&w.server, "/authorizations/revoke", Some(cookie), &forged).await;
    assert_eq!(refused.status, 403);
    let evil = [("Origin", EVIL)];
    let refused = post_form_with(
        &w.server,
        "/authorizations/revoke",
        Some(cookie),
        &evil,
        &revoke(&w.basic.id),
    )
    .await;
    assert_eq!(refused.status, 403);
    let (bob, bobs_token) = bob(w).await;
    let bobs = fields(&[("client_id", &w.basic.id), ("csrf_token", &bobs_token)]);
    let refused = post_form(&w.server, "/authorizations/revoke", Some(&bob), &bobs).await;
    assert_eq!(refused.status, 404, "bob granted basic nothing");
    let refused = post_form(
        &w.server,
        "/authorizations/revoke",
        Some(cookie),
        &revoke(&w.post.id),
    )
    .await;
    assert_eq!(refused.status, 404);
    assert_eq!(o2::me(w, &revoked.access_token).await.status, 200);
    assert_eq!(oauth1_me(w, &w.basic, &revoked_oauth1).await, 200);

    let done = post_form(
        &w.server,
        "/authorizations/revoke",
        Some(cookie),
        &revoke(&w.basic.id),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/authorizations"));

    // Everything basic held is dead ...
    o2::me(w, &revoked.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    refresh(w, &w.basic, revoked.refresh(), None)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    assert_eq!(oauth1_me(w, &w.basic, &revoked_oauth1).await, 401);
    // ... and what other holds still works.
    assert_eq!(o2::me(w, &kept.access_token).await.status, 200);
    assert_eq!(oauth1_me(w, &w.other, &kept_oauth1).await, 200);
    refresh(w, &w.other, kept.refresh(), None).await.tokens();

    let page = get_page(&w.server, "/authorizations", Some(cookie)).await;
    assert_eq!(holds(&page, &w.basic.id), None, "{}", page.body);
    // The refresh retired its refresh token; the first access token lives on.
    assert_eq!(
        holds(&page, &w.other.id).as_deref(),
        Some("1 OAuth 1 token credential, 2 access tokens, 1 refresh token")
    );
    // The grant is gone: revoking it again finds nothing.
    let again = post_form(
        &w.server,
        "/authorizations/revoke",
        Some(cookie),
        &revoke(&w.basic.id),
    )
    .await;
    assert_eq!(again.status, 404);
    // Signed out, the form sends the user to sign in.
    let anonymous = post_form(
        &w.server,
        "/authorizations/revoke",
        None,
        &revoke(&w.other.id),
    )
    .await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(o2::me(w, &kept.access_token).await.status, 200);
    assert_consistent(w).await;
}

async fn deleting_a_client_ends_it_and_every_token_it_holds(w: &World) {
    let cookie = w.cookie.as_str();
    let tokens = code_flow(w, &w.basic).await;
    let own = client_credentials(w, &w.basic).await.tokens();
    let oauth1 = three_legged(&w.server, &consumer(&w.basic), cookie).await;
    assert_eq!(o2::me(w, &own.access_token).await.status, 200);

    let page = client_page(w, cookie, &w.basic.id).await;
    let token = csrf_token(&page.body);
    let delete = format!("/clients/{}/delete", w.basic.id);
    let done = post_form(
        &w.server,
        &delete,
        Some(cookie),
        &fields(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/clients"));

    let list = get_page(&w.server, "/clients", Some(cookie)).await;
    assert!(!list.body.contains(&w.basic.id), "{}", list.body);
    assert!(list.body.contains(&w.other.id));
    assert_eq!(client_page(w, cookie, &w.basic.id).await.status, 404);
    for access_token in [&tokens.access_token, &own.access_token] {
        assert_eq!(o2::me(w, access_token).await.status, 401);
    }
    assert_eq!(oauth1_me(w, &w.basic, &oauth1).await, 401);
    client_credentials(w, &w.basic)
        .await
        .assert_oauth2_error(401, "invalid_client");
    refresh(w, &w.basic, tokens.refresh(), None)
        .await
        .assert_oauth2_error(401, "invalid_client");
    let authorizations = get_page(&w.server, "/authorizations", Some(cookie)).await;
    assert!(!authorizations.body.contains(&w.basic.id));
    // Gone: deleting or rotating it again finds nothing.
    let again = post_form(
        &w.server,
        &delete,
        Some(cookie),
        &fields(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(again.status, 404);
    let rotate = format!("/clients/{}/secret", w.basic.id);
    let again = post_form(
        &w.server,
        &rotate,
        Some(cookie),
        &fields(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(client_credentials(w, &w.other).await.status, 200);
    assert_consistent(w).await;
}

#[tokio::test]
async fn consent_pages_describe_scopes_in_the_settings_words() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::loopback_settings();
    settings.scope_descriptions = BTreeMap::from([(
        "profile".to_owned(),
        "See your <user> name & \"more\"".to_owned(),
    )]);
    let server = TestServer::start_with(Backend::Memory, &dir, move |store| {
        App::new(store, settings)
    })
    .await;
    let client = seed(server.store.as_ref(), "alice", "App").await;
    let cookie = login(&server, "alice", support::PASSWORD).await;
    let described = "See your <user> name & \"more\"";

    let (token, _) = initiate(&server, &client, CALLBACK).await;
    let oauth1 = get_page(
        &server,
        &format!("/oauth1/authorize?oauth_token={token}"),
        Some(&cookie),
    )
    .await;
    let oauth2_request = Form::new()
        .with("response_type", "code")
        .with("client_id", &client.id)
        .with("redirect_uri", CALLBACK)
        .with("scope", "profile email")
        .with("state", "s");
    let oauth2 = get_page(
        &server,
        &format!("/oauth2/authorize?{}", oauth2_request.encoded()),
        Some(&cookie),
    )
    .await;
    for page in [oauth1, oauth2] {
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(
            element_text(&page.body, "scope-profile").as_deref(),
            Some(described)
        );
        assert!(!page.body.contains("<user>"), "{}", page.body);
        assert_eq!(
            element_text(&page.body, "scope-email").as_deref(),
            Some("email")
        );
        assert_eq!(
            element_text(&page.body, "scope").as_deref(),
            Some("profile email")
        );
    }
    assert!(server.store.check().await.unwrap().is_consistent());
    server.stop().await;
}
