//! The example app on a free port, and a client and a person's browser to
//! walk it with: plain HTTP through reqwest, forms read from the pages.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use credlog_core::form::Fields;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::{ClientCredentials, Signer, TokenCredentials};
use credlog_core::store::CredentialStore;
use credlog_core::Request;
use credlog_storage_memory::MemoryStore;

use crate::app;

/// A client the example printed.
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

/// The example's clients, read from the lines it prints.
pub struct Clients {
    /// `id ID secret SECRET`: every grant.
    pub confidential: Client,
    /// `id ID`.
    pub public: Client,
    /// `id ID private_key_jwt key FILE`.
    pub keyed: Client,
}

impl Clients {
    fn read(lines: &[String], key_file: &str) -> Clients {
        let words: Vec<Vec<&str>> = lines.iter().map(|line| line.split(' ').collect()).collect();
        let [confidential, public, keyed] = &words[..] else {
            panic!("three clients: {lines:?}");
        };
        assert!(
            matches!(confidential[..], ["id", _, "secret", _]),
            "{lines:?}"
        );
        assert!(matches!(public[..], ["id", _]), "{lines:?}");
        assert_eq!(keyed[0], "id");
        assert_eq!(
            keyed[2..],
            ["private_key_jwt", "key", key_file],
            "{lines:?}"
        );
        let client = |words: &[&str]| Client {
            id: words[1].to_owned(),
            secret: words.get(3).map(|secret| secret.to_string()),
        };
        Clients {
            confidential: client(confidential),
            public: client(public),
            keyed: Client {
                id: keyed[1].to_owned(),
                secret: None,
            },
        }
    }
}

/// The example, serving on a free port.
pub struct Example {
    pub base: String,
    pub clients: Clients,
    /// Holds the keyed client's private key file (and a sled store).
    pub dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Example {
    pub async fn start() -> Example {
        Example::on(Arc::new(MemoryStore::new()), tempfile::tempdir().unwrap()).await
    }

    /// The example on `store`, its key file in `dir`.
    pub async fn on(store: Arc<dyn CredentialStore>, dir: tempfile::TempDir) -> Example {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let key_file = dir.path().join("key.pem");
        let (router, lines) = app::start(store, &base, &key_file)
            .await
            .expect("the example starts");
        let clients = Clients::read(&lines, key_file.to_str().unwrap());
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            axum::serve(listener, service)
                .with_graceful_shutdown(stopped)
                .await
        });
        Example {
            base,
            clients,
            dir,
            stop,
            task,
        }
    }

    /// Stops serving (the store is closed) and hands back the directory.
    pub async fn stop(self) -> tempfile::TempDir {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The keyed client's private key, as the example wrote it.
    pub fn private_key_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("key.pem")).expect("the key file")
    }

    /// An OAuth 1 signer (HMAC-SHA1) for the confidential client, with a
    /// token credential if given.
    pub fn signer(&self, token: Option<(&str, &str)>) -> Signer {
        let client = &self.clients.confidential;
        let secret = client.secret.as_deref().expect("a confidential client");
        let signer = Signer::new(ClientCredentials::new(&client.id, secret));
        match token {
            Some((token, secret)) => signer.with_token(TokenCredentials::new(token, secret)),
            None => signer,
        }
    }

    /// A request to `path` signed with `extra` protocol parameters.
    pub fn signed(
        &self,
        signer: &Signer,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
    ) -> Request {
        signer
            .sign(Request::new(method, self.url(path)), extra)
            .expect("the request signs")
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut builder = http().get(self.url(path));
        if let Some(cookie) = cookie {
            builder = builder.header("cookie", cookie);
        }
        Answer::of(builder.send().await.unwrap()).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(String, String)],
    ) -> Answer {
        let mut builder = http()
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(
                fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ));
        if let Some(cookie) = cookie {
            builder = builder.header("cookie", cookie);
        }
        Answer::of(builder.send().await.unwrap()).await
    }

    /// `POST path` with these pairs, no cookie.
    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let fields: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.post_form(path, None, &fields).await
    }

    /// `POST path` with these pairs, as the confidential client (Basic).
    pub async fn post_as_app(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let client = &self.clients.confidential;
        let response = http()
            .post(self.url(path))
            .basic_auth(&client.id, client.secret.as_deref())
            .form(pairs)
            .send()
            .await
            .unwrap();
        Answer::of(response).await
    }

    /// `GET /api/me` with a bearer token.
    pub async fn me(&self, access_token: &str) -> Answer {
        let response = http()
            .get(self.url("/api/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        Answer::of(response).await
    }

    /// Opens `path` as someone not signed in: the app sends them to its
    /// own sign-in, they sign in as `user` and come back to `path`. The
    /// session cookie.
    pub async fn sign_in_for(&self, path: &str, user: &str, password: &str) -> String {
        let anonymous = self.get(path, None).await;
        assert_eq!(anonymous.status, 303, "{}", anonymous.body);
        let login_at = anonymous.header("location").expect("to the sign-in");
        assert!(login_at.starts_with("/login?next="), "{login_at}");
        let login_page = self.get(login_at, None).await;
        assert_eq!(login_page.status, 200);
        let csrf_cookie = login_page.cookie();
        let mut fields = hidden_inputs(&login_page.body);
        assert_eq!(fields[0], ("next".to_owned(), path.to_owned()));
        assert_eq!(fields[1].0, "csrf_token");
        fields.push(("username".to_owned(), user.to_owned()));

        let mut wrong = fields.clone();
        wrong.push(("password".to_owned(), "not-it".to_owned()));
        let refused = self.post_form("/login", Some(&csrf_cookie), &wrong).await;
        assert_eq!(refused.status, 401);
        assert!(refused
            .header("set-cookie")
            .unwrap_or("")
            .starts_with("example_login_csrf"));

        fields.push(("password".to_owned(), password.to_owned()));
        // Without the cookie the form is not proven to come from the page.
        let forged = self.post_form("/login", None, &fields).await;
        assert_eq!(forged.status, 403);
        let signed_in = self.post_form("/login", Some(&csrf_cookie), &fields).await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        assert_eq!(signed_in.header("location"), Some(path));
        signed_in.cookie()
    }

    /// The consent page at `path`, answered `confirm` (`yes` or `no`).
    pub async fn decide(&self, path: &str, cookie: &str, confirm: &str) -> Answer {
        let page = self.get(path, Some(cookie)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        self.answer(&page, path, cookie, confirm).await
    }

    /// Answers the consent form of `page` (shown at `path`) with `confirm`.
    pub async fn answer(&self, page: &Answer, path: &str, cookie: &str, confirm: &str) -> Answer {
        assert_eq!(page.body.matches("<form").count(), 1, "{}", page.body);
        let mut fields = hidden_inputs(&page.body);
        assert!(fields.iter().any(|(name, _)| name == "csrf_token"));
        fields.push(("confirm".to_owned(), confirm.to_owned()));
        let action = path.split('?').next().unwrap();
        self.post_form(action, Some(cookie), &fields).await
    }
}

/// An answer as a client reads it.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub async fn of(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect()
    }

    /// The `name=value` of the cookie this answer sets.
    pub fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a cookie");
        set.split(';').next().unwrap().to_owned()
    }

    /// A field of a form-encoded body.
    pub fn form(&self, name: &str) -> Option<String> {
        Fields::parse(self.body.as_bytes())?
            .get(name)
            .map(str::to_owned)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }

    /// A successful token response's JSON.
    pub fn tokens(&self) -> serde_json::Value {
        assert_eq!(self.status, 200, "{}", self.body);
        let tokens = self.json();
        assert!(tokens["access_token"].is_string(), "{tokens}");
        tokens
    }

    /// An OAuth 2 error with this status and code.
    pub fn assert_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.json()["error"], error, "{}", self.body);
    }

    /// A query parameter of the redirect's `Location`, which must start
    /// with `base`.
    pub fn redirect_query(&self, base: &str, name: &str) -> Option<String> {
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
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends a core request as it is (signed or not).
pub async fn send(request: &Request) -> Answer {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http().request(method, &request.uri);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    Answer::of(builder.body(request.body.clone()).send().await.unwrap()).await
}

/// The hidden inputs of a page, as a browser posts them.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
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
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element with this `id`.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    let end = start + html[start..].find('<')?;
    Some(unescape(&html[start..end]))
}

/// A PKCE code verifier: 64 letters and digits.
pub fn code_verifier() -> String {
    let token = credlog_core::random::random_token;
    token() + &token()
}

/// Now, in seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
