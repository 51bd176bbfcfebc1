//! Signing in and out, the consent page's guards, and client registration,
//! over real HTTP.

mod support;

use support::*;

on_both_stores!(
    backend;
    signing_in_and_out,
    login_follows_next_only_to_local_paths,
    authorizing_needs_a_session_and_comes_back_after_login,
    the_consent_form_needs_its_session_csrf_token,
    the_consent_page_names_the_client_and_escapes_it,
    owners_register_clients_and_list_them,
    a_registered_client_runs_the_oauth1_flow,
);

async fn server(backend: Backend) -> (TestServer, TestClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(server.store.as_ref(), "alice", "App").await;
    (server, client, dir)
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

async fn signing_in_and_out(backend: Backend) {
    let (server, _, _dir) = server(backend).await;
    let home = get_page(&server, "/", None).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<title>"), "{}", home.body);
    assert!(home.body.contains("Not signed in"));

    let wrong = submit_login(&server, "/login", "alice", "nope").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let unknown = submit_login(&server, "/login", "mallory", "x").await;
    assert_eq!(unknown.status, 401);

    let cookie = login(&server, "alice", PASSWORD).await;
    let home = get_page(&server, "/", Some(&cookie)).await;
    assert_eq!(element_text(&home.body, "user").as_deref(), Some("alice"));

    let home = get_page(&server, "/", Some(&cookie)).await;
    let sign_out = hidden_inputs(&home.body);
    assert_eq!(sign_out[0].0, "csrf_token");
    let out = post_form(&server, "/logout", Some(&cookie), &sign_out).await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let home = get_page(&server, "/", Some(&cookie)).await;
    assert!(
        home.body.contains("Not signed in"),
        "the old cookie must be dead"
    );
    server.stop().await;
}

async fn login_follows_next_only_to_local_paths(backend: Backend) {
    let (server, _, _dir) = server(backend).await;
    for (next, expected) in [
        (
            "/oauth1/authorize?oauth_token=abc",
            "/oauth1/authorize?oauth_token=abc",
        ),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
    ] {
        let encoded = credlog_core::rfc5849::encoding::percent_encode(next);
        // From the form's hidden field, as the login page carries it.
        let answer = submit_login(
            &server,
            &format!("/login?next={encoded}"),
            "alice",
            PASSWORD,
        )
        .await;
        assert_eq!(answer.status, 303);
        assert_eq!(answer.header("location"), Some(expected), "{next}");
        // From the query of the POST itself, with no field.
        let (cookie, mut form) = login_form(&server, "/login").await;
        form.retain(|(name, _)| name != "next");
        form.extend(fields(&[("username", "alice"), ("password", PASSWORD)]));
        let path = format!("/login?next={encoded}");
        let answer = post_form(&server, &path, Some(&cookie), &form).await;
        assert_eq!(answer.status, 303);
        assert_eq!(
            answer.header("location"),
            Some(expected),
            "POST ?next={next}"
        );
    }
    server.stop().await;
}

async fn authorizing_needs_a_session_and_comes_back_after_login(backend: Backend) {
    let (server, client, _dir) = server(backend).await;
    let (token, _) = initiate(&server, &client, CALLBACK).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let answer = get_page(&server, &path, None).await;
    assert_eq!(answer.status, 303);
    let location = answer.header("location").unwrap().to_owned();
    assert!(location.starts_with("/login?next="), "{location}");
    // The login form carries next, and signing in returns to the consent page.
    let (_, hidden) = login_form(&server, &location).await;
    assert_eq!(hidden[0], ("next".to_owned(), path.clone()));
    assert_eq!(hidden[1].0, "csrf_token");
    let answer = submit_login(&server, &location, "alice", PASSWORD).await;
    assert_eq!(answer.header("location"), Some(path.as_str()));
    server.stop().await;
}

async fn the_consent_form_needs_its_session_csrf_token(backend: Backend) {
    let (server, client, _dir) = server(backend).await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let other_session = login(&server, "alice", PASSWORD).await;
    let (token, _) = initiate(&server, &client, CALLBACK).await;
    let page = get_page(
        &server,
        &format!("/oauth1/authorize?oauth_token={token}"),
        Some(&cookie),
    )
    .await;
    let mut form = hidden_inputs(&page.body);
    form.push(("confirm".to_owned(), "yes".to_owned()));
    // Another session's cookie with this page's token: refused.
    let answer = post_form(&server, "/oauth1/authorize", Some(&other_session), &form).await;
    assert_eq!(answer.status, 403);
    // No token at all: refused.
    let without: Vec<_> = form
        .iter()
        .filter(|(n, _)| n != "csrf_token")
        .cloned()
        .collect();
    assert_eq!(
        post_form(&server, "/oauth1/authorize", Some(&cookie), &without)
            .await
            .status,
        403
    );
    // Neither attempt used the request up.
    let answer = post_form(&server, "/oauth1/authorize", Some(&cookie), &form).await;
    assert_eq!(answer.status, 302);
    // Answered once: a second answer is refused.
    assert_eq!(
        post_form(&server, "/oauth1/authorize", Some(&cookie), &form)
            .await
            .status,
        400
    );
    server.stop().await;
}

async fn the_consent_page_names_the_client_and_escapes_it(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(backend, &dir).await;
    let client = seed(
        server.store.as_ref(),
        "alice",
        "<script>alert(1)</script> & Co",
    )
    .await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let (token, _) = initiate(&server, &client, CALLBACK).await;
    let page = get_page(
        &server,
        &format!("/oauth1/authorize?oauth_token={token}"),
        Some(&cookie),
    )
    .await;
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert_eq!(
        element_text(&page.body, "client").as_deref(),
        Some("<script>alert(1)</script> & Co")
    );
    assert_eq!(
        element_text(&page.body, "scope").as_deref(),
        Some("profile email")
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let unknown = get_page(&server, "/oauth1/authorize?oauth_token=nope", Some(&cookie)).await;
    assert_eq!(unknown.status, 400);
    server.stop().await;
}

async fn register(server: &TestServer, cookie: Option<&str>, body: &str) -> Answer {
    let mut request = http()
        .post(server.url("/clients"))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    Answer::from(request.send().await.unwrap()).await
}

async fn owners_register_clients_and_list_them(backend: Backend) {
    let (server, _, _dir) = server(backend).await;
    assert_eq!(register(&server, None, "{}").await.status, 401);
    let cookie = login(&server, "alice", PASSWORD).await;

    let answer = register(
        &server,
        Some(&cookie),
        r#"{"client_name": "Printer", "redirect_uris": ["https://printer.example/ready"],
            "scope": "profile", "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "client_secret_post"}"#,
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let registration = answer.json();
    let client_id = registration["client_id"].as_str().unwrap().to_owned();
    assert!(registration["client_secret"].as_str().unwrap().len() >= 22);
    assert!(registration["client_id_issued_at"].as_u64().unwrap() >= now() - 5);
    assert_eq!(
        registration["redirect_uris"][0],
        "https://printer.example/ready"
    );
    assert_eq!(
        registration["token_endpoint_auth_method"],
        "client_secret_post"
    );

    let public = register(
        &server,
        Some(&cookie),
        r#"{"client_name": "SPA", "redirect_uris": ["https://spa.example/cb"], "token_endpoint_auth_method": "none"}"#,
    )
    .await;
    assert_eq!(public.status, 201);
    assert!(public.json().get("client_secret").is_none());

    for (body, error) in [
        (
            r#"{"client_name": "x", "redirect_uris": ["/relative"]}"#,
            "invalid_redirect_uri",
        ),
        (
            r#"{"client_name": "x", "redirect_uris": ["https://a.example/#frag"]}"#,
            "invalid_redirect_uri",
        ),
        (
            r#"{"client_name": "x", "grant_types": ["magic"]}"#,
            "invalid_client_metadata",
        ),
        (
            r#"{"client_name": "x", "rsa_public_key": "not a key"}"#,
            "invalid_client_metadata",
        ),
        ("not json", "invalid_client_metadata"),
    ] {
        let answer = register(&server, Some(&cookie), body).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.json()["error"], error, "{body}");
    }

    // JSON listing: the owner's clients, no secrets.
    let list = Answer::from(
        http()
            .get(server.url("/clients"))
            .header("Accept", "application/json")
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.status, 200);
    let listed = list.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{listed}");
    assert!(ids.contains(&client_id.as_str()));
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("client_secret").is_none()));
    // The page lists them too; without a session both answer 401.
    let page = get_page(&server, "/clients", Some(&cookie)).await;
    assert!(page.body.contains("Printer") && page.body.contains(&client_id));
    assert_eq!(get_page(&server, "/clients", None).await.status, 401);

    // Another owner sees none of them.
    credlog_http::accounts::add_user(server.store.as_ref(), "bob", "bob's password", now())
        .await
        .unwrap();
    let bob = login(&server, "bob", "bob's password").await;
    let page = get_page(&server, "/clients", Some(&bob)).await;
    assert!(!page.body.contains(&client_id));

    // CONTRACT.md's redirect URI rules, both ways, each refusal naming its rule.
    for (uri, rule) in [
        ("javascript:alert(document.cookie)", "scheme"),
        ("data:text/html,<script>alert(1)</script>", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://evil.example/cb", "loopback"),
        ("https://good.example@evil.example/cb", "user information"),
    ] {
        let body = serde_json::json!({"client_name": "x", "redirect_uris": [uri]}).to_string();
        let answer = register(&server, Some(&cookie), &body).await;
        assert_eq!(answer.status, 400, "{uri}");
        assert_eq!(answer.json()["error"], "invalid_redirect_uri", "{uri}");
        let description = answer.json()["error_description"].to_string();
        assert!(description.contains(rule), "{uri}: {description}");
    }
    for uri in [
        "http://localhost:5173/cb",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
    ] {
        let body = serde_json::json!({"client_name": "ok", "redirect_uris": [uri]}).to_string();
        assert_eq!(
            register(&server, Some(&cookie), &body).await.status,
            201,
            "{uri}"
        );
    }
    server.stop().await;
}

async fn a_registered_client_runs_the_oauth1_flow(backend: Backend) {
    let (server, _, _dir) = server(backend).await;
    let cookie = login(&server, "alice", PASSWORD).await;
    let answer = register(
        &server,
        Some(&cookie),
        &format!(r#"{{"client_name": "New", "redirect_uris": ["{CALLBACK}"]}}"#),
    )
    .await;
    let registration = answer.json();
    let client = TestClient {
        id: registration["client_id"].as_str().unwrap().to_owned(),
        secret: registration["client_secret"].as_str().unwrap().to_owned(),
        method: "HMAC-SHA1",
        transmission: credlog_core::rfc5849::Transmission::Header,
    };
    let token = three_legged(&server, &client, &cookie).await;
    let me = me(&server, &client, (&token.0, &token.1)).await;
    assert_eq!(me.json()["scope"], "profile");
    server.stop().await;
}
