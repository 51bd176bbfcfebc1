//! Every endpoint either metadata document lists answers, on the example's
//! axum app as on credlog's own warp app: one list (the fields the axum
//! app's documents name, each requested with every method the core's
//! endpoint table gives it), both apps.

#[path = "../examples/provider/app.rs"]
mod app;
#[path = "../examples/provider/consent.rs"]
mod consent;
mod support;
#[allow(dead_code)]
#[path = "../examples/provider/users.rs"]
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use credlog_core::provider::Endpoint;
use credlog_core::store::CredentialStore;
use credlog_storage_memory::MemoryStore;
use support::{http, Answer, Example};

/// The two documents.
const DOCUMENTS: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

/// Every endpoint URL the app at `base` lists in its documents, by field
/// (`jwks_uri`, `token_endpoint` ...), with the documents themselves.
async fn listed(base: &str) -> BTreeMap<String, String> {
    let mut listed = BTreeMap::new();
    for document in DOCUMENTS {
        let answer = Answer::of(
            http()
                .get(format!("{base}{document}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 200, "{base}{document}: {}", answer.body);
        let json = answer.json();
        assert_eq!(json["issuer"], base, "{document}");
        let pkce = json["code_challenge_methods_supported"].as_array();
        assert!(
            pkce.is_some_and(|methods| methods.contains(&"S256".into())),
            "{json}"
        );
        listed.insert(document.to_owned(), format!("{base}{document}"));
        for (field, value) in json.as_object().unwrap() {
            let endpoint = field.ends_with("_endpoint") || field == "jwks_uri";
            if let (true, Some(url)) = (endpoint, value.as_str()) {
                listed.insert(field.clone(), url.to_owned());
            }
        }
    }
    listed
}

/// Requests every one of `fields` as the app at `base` lists it, with each
/// method the endpoint answers: none is 404 or 405, nor a server error.
async fn every_listed_endpoint_answers(app: &str, base: &str, fields: &[String]) {
    let urls = listed(base).await;
    for field in fields {
        let url = urls
            .get(field)
            .unwrap_or_else(|| panic!("{app} lists {field}"));
        let path = url
            .strip_prefix(base)
            .unwrap_or_else(|| panic!("{app}: {field} {url} is under {base}"));
        let endpoint = Endpoint::at(path).unwrap_or_else(|| panic!("{path} is a core endpoint"));
        for method in endpoint.methods() {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let sent = http()
                .request(method.clone(), url)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap();
            let status = sent.status().as_u16();
            assert!(
                !matches!(status, 404 | 405) && status < 500,
                "{app}: {method} {url} ({field}) answered {status}"
            );
        }
    }
}

/// credlog's warp app on a free port, over a memory store.
async fn warp_app() -> String {
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new());
    credlog_core::oidc::keys::create_first(store.as_ref(), support::now())
        .await
        .unwrap();
    let app = credlog_http::App::new(store, credlog_http::Settings::default());
    let (listener, address) = credlog_http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    tokio::spawn(credlog_http::serve(app, listener, std::future::pending()));
    format!("http://{address}")
}

#[tokio::test]
async fn every_endpoint_in_both_documents_answers_on_both_apps() {
    let example = Example::start().await;
    let fields: Vec<String> = listed(&example.base).await.into_keys().collect();
    for wanted in [
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "device_authorization_endpoint",
    ] {
        assert!(
            fields.iter().any(|field| field == wanted),
            "{wanted} in {fields:?}"
        );
    }
    every_listed_endpoint_answers("axum", &example.base, &fields).await;
    let warp = warp_app().await;
    every_listed_endpoint_answers("warp", &warp, &fields).await;
}
