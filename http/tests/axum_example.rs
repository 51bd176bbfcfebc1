//! The axum example (`http/examples/axum_embed`) over real HTTP, as a
//! client and a person using the app's own sign-in walk it: the OAuth 1
//! three-legged flow with HMAC-SHA1, the OAuth 2 code flow with PKCE, the
//! password grant against the app's users, and the metadata document.

#[path = "../examples/axum_embed/adapter.rs"]
mod adapter;
#[path = "../examples/axum_embed/app.rs"]
mod app;
#[path = "../examples/axum_embed/users.rs"]
mod users;

use std::sync::Arc;

use app::{App, Clients, CALLBACK};
use credlog_core::form::Fields;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::{ClientCredentials, Signer, TokenCredentials};
use credlog_core::Request;
use serde_json::json;

/// The example, serving on a free port.
struct Example {
    base: String,
    clients: Clients,
}

impl Example {
    async fn start() -> Example {
        let app = App::new();
        let clients = app.register_clients().await.expect("the clients register");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app::router(Arc::new(app))).await });
        Example { base, clients }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A signer for the confidential client, with a token credential if given.
    fn signer(&self, token: Option<(&str, &str)>) -> Signer {
        let client = &self.clients.confidential;
        let secret = client.secret.as_deref().expect("a confidential client");
        let signer = Signer::new(ClientCredentials::new(&client.id, secret));
        match token {
            Some((token, secret)) => signer.with_token(TokenCredentials::new(token, secret)),
            None => signer,
        }
    }

    /// Signs a request to `path` with `extra` protocol parameters.
    fn signed(&self, signer: &Signer, method: &str, path: &str, extra: &[(&str, &str)]) -> Request {
        signer
            .sign(Request::new(method, self.url(path)), extra)
            .expect("the request signs")
    }
}

/// An answer as a client reads it.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// A field of a form-encoded body.
    fn form(&self, name: &str) -> Option<String> {
        Fields::parse(self.body.as_bytes())?
            .get(name)
            .map(str::to_owned)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }

    /// A query parameter of the redirect's `Location`, which must start with `base`.
    fn redirect_query(&self, base: &str, name: &str) -> Option<String> {
        let location = self.header("location").expect("a redirect");
        let query = location
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('?'))
            .unwrap_or_else(|| panic!("{location} is not at {base}"));
        Fields::parse(query.as_bytes())?
            .get(name)
            .map(str::to_owned)
    }
}

/// A client that does not follow redirects, so each one can be checked.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends a core request as it is (signed or not).
async fn send(request: &Request) -> Answer {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http().request(method, &request.uri);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    Answer::of(builder.body(request.body.clone()).send().await.unwrap()).await
}

async fn get(example: &Example, path: &str, cookie: Option<&str>) -> Answer {
    let mut builder = http().get(example.url(path));
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    Answer::of(builder.send().await.unwrap()).await
}

async fn post_form(
    example: &Example,
    path: &str,
    cookie: Option<&str>,
    fields: &[(String, String)],
) -> Answer {
    let mut builder = http()
        .post(example.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_encode(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ));
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    Answer::of(builder.send().await.unwrap()).await
}

/// The hidden inputs of one of the example's pages, as a browser posts them.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"")?;
            let (value, _) = rest.split_once('"')?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element with this `id`.
fn element_text(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    let end = start + html[start..].find('<')?;
    Some(unescape(&html[start..end]))
}

/// Opens `path` as someone not signed in: the app sends them to its own
/// login, they sign in as `user` and come back to `path`. The cookie.
async fn sign_in_for(example: &Example, path: &str, user: &str, password: &str) -> String {
    let anonymous = get(example, path, None).await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.body);
    let login_at = anonymous
        .header("location")
        .expect("to the login")
        .to_owned();
    assert!(login_at.starts_with("/login?next="), "{login_at}");
    let login_page = get(example, &login_at, None).await;
    assert_eq!(login_page.status, 200);
    let mut fields = hidden_inputs(&login_page.body);
    assert_eq!(fields, [("next".to_owned(), path.to_owned())]);
    fields.push(("username".to_owned(), user.to_owned()));

    let mut wrong = fields.clone();
    wrong.push(("password".to_owned(), "not-it".to_owned()));
    let refused = post_form(example, "/login", None, &wrong).await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("set-cookie").is_none());

    fields.push(("password".to_owned(), password.to_owned()));
    let signed_in = post_form(example, "/login", None, &fields).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), Some(path));
    let cookie = signed_in.header("set-cookie").expect("a cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// The consent page at `path`, answered `decision` ("allow" or "deny").
async fn decide(example: &Example, path: &str, cookie: &str, decision: &str) -> Answer {
    let page = get(example, path, Some(cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = hidden_inputs(&page.body);
    fields.push(("decision".to_owned(), decision.to_owned()));
    let action = path.split('?').next().unwrap();
    post_form(example, action, Some(cookie), &fields).await
}

/// A temporary credential with the callback: token and secret.
async fn initiate(example: &Example) -> (String, String) {
    let request = example.signed(
        &example.signer(None),
        "POST",
        "/oauth1/initiate",
        &[("oauth_callback", CALLBACK)],
    );
    let answer = send(&request).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.form("oauth_callback_confirmed").as_deref(),
        Some("true")
    );
    (
        answer.form("oauth_token").expect("oauth_token"),
        answer
            .form("oauth_token_secret")
            .expect("oauth_token_secret"),
    )
}

/// Trades a temporary credential and a verifier at the token endpoint.
async fn exchange(example: &Example, temporary: (&str, &str), verifier: &str) -> Answer {
    let signer = example.signer(Some(temporary));
    let request = example.signed(
        &signer,
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", verifier)],
    );
    send(&request).await
}

/// The OAuth 1 error code of a refused request.
fn oauth1_error(answer: &Answer) -> String {
    answer
        .form("error")
        .unwrap_or_else(|| panic!("an error: {}", answer.body))
}

#[tokio::test]
async fn the_oauth1_three_legged_flow_reaches_the_api() {
    let example = Example::start().await;
    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let cookie = sign_in_for(&example, &path, "alice", "wonderland").await;

    let page = get(&example, &path, Some(&cookie)).await;
    assert_eq!(
        element_text(&page.body, "client").as_deref(),
        Some("Photo printer")
    );
    assert_eq!(
        element_text(&page.body, "scope").as_deref(),
        Some("profile email")
    );
    // A form without the page's CSRF token is not an answer.
    let forged = post_form(
        &example,
        "/oauth1/authorize",
        Some(&cookie),
        &[
            ("oauth_token".to_owned(), token.clone()),
            ("decision".to_owned(), "allow".to_owned()),
        ],
    )
    .await;
    assert_eq!(forged.status, 403);

    let granted = decide(&example, &path, &cookie, "allow").await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(
        granted.redirect_query(CALLBACK, "oauth_token"),
        Some(token.clone())
    );
    let verifier = granted
        .redirect_query(CALLBACK, "oauth_verifier")
        .expect("a verifier");

    let answer = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let access = answer.form("oauth_token").expect("a token credential");
    let access_secret = answer.form("oauth_token_secret").expect("its secret");
    // The temporary credential is spent.
    let again = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(again.status, 401);
    assert_eq!(oauth1_error(&again), "invalid_token");

    let signer = example.signer(Some((&access, &access_secret)));
    let me = example.signed(&signer, "GET", "/api/me", &[]);
    let answer = send(&me).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"user": "alice", "client_id": example.clients.confidential.id, "scope": "profile email"})
    );
    // The same signed request, nonce and all, works once.
    let replay = send(&me).await;
    assert_eq!(replay.status, 401);
    assert_eq!(oauth1_error(&replay), "invalid_nonce");
}

#[tokio::test]
async fn a_wrong_oauth1_verifier_ends_the_temporary_credential() {
    let example = Example::start().await;
    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let cookie = sign_in_for(&example, &path, "bob", "builder").await;
    let granted = decide(&example, &path, &cookie, "allow").await;
    let verifier = granted
        .redirect_query(CALLBACK, "oauth_verifier")
        .expect("a verifier");

    let wrong = exchange(&example, (&token, &secret), "not-the-verifier").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(oauth1_error(&wrong), "invalid_verifier");
    // No second guess: the right verifier no longer works either.
    let right = exchange(&example, (&token, &secret), &verifier).await;
    assert_eq!(right.status, 401, "{}", right.body);
    assert_eq!(oauth1_error(&right), "invalid_token");
}

#[tokio::test]
async fn denying_sends_the_owner_back_with_denied() {
    let example = Example::start().await;
    let (token, secret) = initiate(&example).await;
    let path = format!("/oauth1/authorize?oauth_token={token}");
    let cookie = sign_in_for(&example, &path, "alice", "wonderland").await;
    let denied = decide(&example, &path, &cookie, "deny").await;
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.redirect_query(CALLBACK, "denied"),
        Some(token.clone())
    );
    let answer = exchange(&example, (&token, &secret), "any").await;
    assert_eq!(answer.status, 401);
}

/// A PKCE code verifier: 64 letters and digits (RFC 7636 4.1 asks 43 to 128).
fn code_verifier() -> String {
    let token = credlog_core::random::random_token;
    token() + &token()
}

/// The authorization request of the public client, with PKCE S256.
fn code_request(example: &Example, verifier: &str) -> String {
    let challenge = credlog_core::rfc7636::s256(verifier);
    let query = form_encode([
        ("response_type", "code"),
        ("client_id", example.clients.public.id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "profile"),
        ("state", "s-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    format!("/oauth2/authorize?{query}")
}

/// A code for `path`, granted by the signed-in owner of `cookie`.
async fn code_for(example: &Example, path: &str, cookie: &str) -> String {
    let granted = decide(example, path, cookie, "allow").await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(
        granted.redirect_query(CALLBACK, "state").as_deref(),
        Some("s-1")
    );
    granted.redirect_query(CALLBACK, "code").expect("a code")
}

async fn post_pairs(example: &Example, path: &str, pairs: &[(&str, &str)]) -> Answer {
    let fields: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    post_form(example, path, None, &fields).await
}

async fn me_with(example: &Example, access_token: &str) -> Answer {
    let response = http()
        .get(example.url("/api/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

#[tokio::test]
async fn the_oauth2_code_flow_with_pkce_reaches_the_api_until_revoked() {
    let example = Example::start().await;
    let public = example.clients.public.id.clone();
    let verifier = code_verifier();
    let path = code_request(&example, &verifier);
    let cookie = sign_in_for(&example, &path, "bob", "builder").await;
    let page = get(&example, &path, Some(&cookie)).await;
    assert_eq!(
        element_text(&page.body, "client").as_deref(),
        Some("Photo viewer")
    );
    assert_eq!(
        element_text(&page.body, "scope").as_deref(),
        Some("profile")
    );
    let code = code_for(&example, &path, &cookie).await;

    let tokens = post_pairs(
        &example,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &public),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "profile");
    let access = tokens["access_token"].as_str().expect("an access token");
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");

    let me = me_with(&example, access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"user": "bob", "client_id": public, "scope": "profile"})
    );

    let refreshed = post_pairs(
        &example,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &public),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let refreshed = refreshed.json();
    let access = refreshed["access_token"]
        .as_str()
        .expect("a new access token");
    let refresh = refreshed["refresh_token"].as_str().unwrap_or(refresh);
    assert_eq!(me_with(&example, access).await.status, 200);

    // Revoking the refresh token ends its whole grant (RFC 7009 2.1).
    let revoked = post_pairs(
        &example,
        "/oauth2/revoke",
        &[("token", refresh), ("client_id", &public)],
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let me = me_with(&example, access).await;
    assert_eq!(me.status, 401);
    let challenge = me.header("www-authenticate").expect("a challenge");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn a_wrong_code_verifier_is_invalid_grant() {
    let example = Example::start().await;
    let path = code_request(&example, &code_verifier());
    let cookie = sign_in_for(&example, &path, "alice", "wonderland").await;
    let code = code_for(&example, &path, &cookie).await;
    let answer = post_pairs(
        &example,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &example.clients.public.id),
            ("code_verifier", &code_verifier()),
        ],
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn the_password_grant_checks_the_apps_own_users() {
    let example = Example::start().await;
    let client = &example.clients.confidential;
    let secret = client.secret.as_deref().expect("a secret");
    let password_grant = |password: &'static str| {
        http()
            .post(example.url("/oauth2/token"))
            .basic_auth(&client.id, Some(secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", password),
                ("scope", "profile"),
            ])
            .send()
    };
    let wrong = Answer::of(password_grant("not-it").await.unwrap()).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(wrong.json()["error"], "invalid_grant");
    let tokens = Answer::of(password_grant("wonderland").await.unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();

    let introspected = http()
        .post(example.url("/oauth2/introspect"))
        .basic_auth(&client.id, Some(secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    let introspected = Answer::of(introspected).await.json();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["username"], "alice");
    assert_eq!(introspected["client_id"], client.id.as_str());
}

#[tokio::test]
async fn the_metadata_lists_the_endpoints_the_example_serves() {
    let example = Example::start().await;
    let metadata = get(&example, "/.well-known/oauth-authorization-server", None).await;
    assert_eq!(metadata.status, 200);
    let metadata = metadata.json();
    assert_eq!(metadata["issuer"], example.base.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
    ] {
        assert_eq!(metadata[field], example.url(path), "{field}");
    }
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    let methods = metadata["code_challenge_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("S256")));

    // Each endpoint listed answers there (an empty request is refused, not 404).
    for field in [
        "token_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        let url = metadata[field].as_str().unwrap();
        let path = url.strip_prefix(&example.base).unwrap();
        let answer = post_form(&example, path, None, &[]).await;
        assert!(
            matches!(answer.status, 400 | 401),
            "{field}: {}",
            answer.status
        );
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let example = Example::start().await;
    let answer = http()
        .post(example.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 65 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
}

#[tokio::test]
async fn the_api_without_a_credential_names_both_schemes() {
    let example = Example::start().await;
    let answer = get(&example, "/api/me", None).await;
    assert_eq!(answer.status, 401);
    let challenges: Vec<&str> = answer
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("OAuth realm=")),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer realm=")),
        "{challenges:?}"
    );
}
