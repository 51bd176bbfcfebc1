//! The OAuth 1 provider engine with no HTTP at all: a test-harness host
//! implements the `Consent` seam, the clock is a number, and the store is
//! the in-memory one. The three-legged flow, the events it appends, the
//! owner's sign-in and denial, expiry and replays are decided by core alone.

use async_trait::async_trait;
use credlog_core::consent::{CodeForm, Consent, Page, Prompt, ReturnsTo};
use credlog_core::form::{form_decode, Fields};
use credlog_core::rfc5849::{
    ClientCredentials, Decided, Oauth1Config, Oauth1Error, Oauth1Provider, Signer, TokenCredentials,
};
use credlog_core::rfc6749::{ClientAuthMethod, GrantType, ResponseType, Scope};
use credlog_core::store::{ClientRecord, CredentialKind, CredentialStore, Event, Issued, Secret};
use credlog_core::{Request, Response};
use credlog_storage_memory::MemoryStore;

const NOW: u64 = 1_700_000_000;
const BASE: &str = "https://provider.example";
const CALLBACK: &str = "https://client.example/cb";
const CLIENT: (&str, &str) = ("printer", "printer-secret");

/// The host of this test: the signed-in user is the `x-user` header, the
/// consent page is a plain-text list of what it was asked, and the answer
/// is the form field `allow`.
struct Harness;

#[async_trait]
impl Consent for Harness {
    type Owner = String;

    async fn owner(&self, request: &Request) -> Option<String> {
        request.header_values("x-user").next().map(str::to_owned)
    }

    fn user<'a>(&self, owner: &'a String) -> &'a str {
        owner
    }

    fn sign_in(&self, return_to: &str) -> Response {
        Response::redirect(303, &format!("/sign-in?next={return_to}"))
    }

    fn ask(&self, owner: &String, prompt: &Prompt<'_>) -> Response {
        let returns_to = match prompt.returns_to {
            ReturnsTo::OutOfBand => "oob".to_owned(),
            ReturnsTo::Uri(uri) => uri.to_owned(),
            other => format!("{other:?}"),
        };
        let mut lines = vec![
            format!("owner={owner}"),
            format!("client={}", prompt.client_name),
            format!("scope={}", prompt.scope),
            format!("returns_to={returns_to}"),
            format!("action={}", prompt.action),
        ];
        lines.extend(prompt.fields.iter().map(|(n, v)| format!("field {n}={v}")));
        text(200, lines.join("\n"))
    }

    fn answer(&self, _: &String, form: &Fields) -> Result<bool, Response> {
        match form.get("allow") {
            Some("yes") => Ok(true),
            Some("no") => Ok(false),
            _ => Err(text(400, "no answer".to_owned())),
        }
    }

    fn own_fields(&self) -> &[&str] {
        &["allow"]
    }

    fn genuine(&self, _: &String, _: &Fields) -> Result<(), Response> {
        Ok(())
    }

    fn enter_code(&self, _: &String, form: &CodeForm<'_>) -> Response {
        text(form.status, format!("user_code={}", form.typed))
    }

    fn show(&self, page: &Page<'_>) -> Response {
        match page {
            Page::Verifier { verifier, .. } => text(200, format!("verifier={verifier}")),
            Page::Denied { client_name } => text(200, format!("denied {client_name}")),
            Page::Refused { status, title, .. } => text(*status, format!("refused: {title}")),
            other => text(200, format!("{other:?}")),
        }
    }
}

fn text(status: u16, body: String) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.into_bytes(),
    }
}

fn body(response: &Response) -> String {
    String::from_utf8(response.body.clone()).unwrap()
}

fn form_field(response: &Response, name: &str) -> String {
    let text = body(response);
    form_decode(&text)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

async fn provider_and_store() -> (Oauth1Provider, MemoryStore) {
    let store = MemoryStore::new();
    let client = ClientRecord {
        client_id: CLIENT.0.to_owned(),
        secret: Secret::Plain(CLIENT.1.to_owned()),
        owner: "alice".to_owned(),
        name: "Printer".to_owned(),
        redirect_uris: vec![CALLBACK.to_owned()],
        scope: Scope::stored("photos"),
        grant_types: vec![GrantType::AuthorizationCode],
        response_types: vec![ResponseType::Code],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        rsa_public_key: None,
    };
    store
        .append(&[], vec![Event::Issued(Issued::Client(client))], NOW)
        .await
        .unwrap();
    (Oauth1Provider::new(Oauth1Config::default(), 600), store)
}

fn signer(token: Option<(&str, &str)>) -> Signer {
    let signer = Signer::new(ClientCredentials::new(CLIENT.0, CLIENT.1));
    match token {
        Some((token, secret)) => signer.with_token(TokenCredentials::new(token, secret)),
        None => signer,
    }
}

fn signed(
    token: Option<(&str, &str)>,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    at: u64,
    nonce: &str,
) -> Request {
    signer(token)
        .sign_at(
            Request::new(method, format!("{BASE}{path}")),
            extra,
            at,
            nonce,
        )
        .unwrap()
}

async fn initiate(provider: &Oauth1Provider, store: &MemoryStore, at: u64) -> (String, String) {
    let request = signed(
        None,
        "POST",
        "/oauth1/initiate",
        &[("oauth_callback", CALLBACK)],
        at,
        "n-initiate",
    );
    let answer = provider.initiate(store, &request, at).await;
    assert_eq!(answer.status, 200, "{}", body(&answer));
    assert_eq!(answer.header("Cache-Control"), Some("no-store"));
    (
        form_field(&answer, "oauth_token"),
        form_field(&answer, "oauth_token_secret"),
    )
}

fn authorize_get(token: &str, user: Option<&str>) -> Request {
    let request = Request::new(
        "GET",
        format!("{BASE}/oauth1/authorize?oauth_token={token}"),
    );
    match user {
        Some(user) => request.with_header("x-user", user),
        None => request,
    }
}

fn authorize_post(token: &str, user: &str, allow: &str) -> Request {
    Request::new("POST", format!("{BASE}/oauth1/authorize"))
        .with_header("x-user", user)
        .with_form(&[("oauth_token", token), ("allow", allow)])
}

fn kinds(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Issued(Issued::Token(record)) => format!("Issued({:?})", record.kind),
            Event::Issued(Issued::Client(_)) => "Issued(Client)".to_owned(),
            Event::Issued(Issued::User(_)) => "Issued(User)".to_owned(),
            Event::Verified(_) => "Verified".to_owned(),
            Event::Authorized(_) => "Authorized".to_owned(),
            Event::Exchanged(_) => "Exchanged".to_owned(),
            Event::Revoked(revoked) => format!("Revoked({:?})", revoked.reason),
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn the_three_legged_flow_is_decided_by_the_engine_and_logged() {
    let (provider, store) = provider_and_store().await;
    let (temporary, temporary_secret) = initiate(&provider, &store, NOW).await;

    // No one signed in: the host's sign-in, returning to the same request.
    let page = provider
        .authorize_page(&store, &Harness, &authorize_get(&temporary, None), NOW)
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.header("Location"),
        Some(format!("/sign-in?next=/oauth1/authorize?oauth_token={temporary}").as_str())
    );

    // Signed in: the host is asked, with what the form must post back.
    let page = provider
        .authorize_page(
            &store,
            &Harness,
            &authorize_get(&temporary, Some("alice")),
            NOW + 1,
        )
        .await;
    assert_eq!(page.status, 200);
    let asked = body(&page);
    for line in [
        "owner=alice".to_owned(),
        "client=Printer".to_owned(),
        "scope=photos".to_owned(),
        format!("returns_to={CALLBACK}"),
        "action=/oauth1/authorize".to_owned(),
        format!("field oauth_token={temporary}"),
    ] {
        assert!(asked.lines().any(|l| l == line), "{line:?} not in {asked}");
    }

    let decided = provider
        .authorize_decision(
            &store,
            &Harness,
            &authorize_post(&temporary, "alice", "yes"),
            NOW + 2,
        )
        .await;
    assert_eq!(decided.status, 302);
    let location = decided.header("Location").unwrap().to_owned();
    let query = location
        .strip_prefix(&format!("{CALLBACK}?"))
        .expect("back to the callback");
    let fields = Fields::parse(query.as_bytes()).unwrap();
    assert_eq!(fields.get("oauth_token"), Some(temporary.as_str()));
    let verifier = fields.get("oauth_verifier").unwrap().to_owned();

    let exchange = signed(
        Some((&temporary, &temporary_secret)),
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", &verifier)],
        NOW + 3,
        "n-token",
    );
    let answer = provider.token(&store, &exchange, NOW + 3).await;
    assert_eq!(answer.status, 200, "{}", body(&answer));
    let token = (
        form_field(&answer, "oauth_token"),
        form_field(&answer, "oauth_token_secret"),
    );

    let call = signed(
        Some((&token.0, &token.1)),
        "GET",
        "/api/photos",
        &[],
        NOW + 4,
        "n-call",
    );
    let used = provider.resource(&store, &call, NOW + 4).await.unwrap();
    assert_eq!(used.user.as_deref(), Some("alice"));
    assert_eq!(used.client_id, CLIENT.0);
    assert_eq!(used.scope, "photos");
    assert_eq!(used.token, token.0);
    // The same signed request again is a replay.
    assert_eq!(
        provider.resource(&store, &call, NOW + 5).await,
        Err(Oauth1Error::NonceReused)
    );
    // The temporary credential was traded once; a second exchange is refused.
    let again = signed(
        Some((&temporary, &temporary_secret)),
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", &verifier)],
        NOW + 6,
        "n-token-2",
    );
    assert_eq!(provider.token(&store, &again, NOW + 6).await.status, 401);

    let log = store.read_log(0, 100).await.unwrap();
    let events: Vec<Event> = log.into_iter().flat_map(|record| record.events).collect();
    assert_eq!(
        kinds(&events),
        [
            "Issued(Client)",
            "Verified",
            "Issued(Temporary)",
            "Authorized",
            "Verified",
            "Exchanged",
            "Issued(TokenCredential)",
            "Verified",
        ]
    );
    // Only the verifier's hash is kept.
    let Some(Event::Authorized(authorized)) = events.get(3) else {
        panic!("{events:?}")
    };
    assert_eq!(authorized.user, "alice");
    assert_eq!(authorized.verifier, Some(Secret::sha256(&verifier)));
    assert_eq!(
        store
            .credential(&temporary)
            .await
            .unwrap()
            .unwrap()
            .record
            .kind,
        CredentialKind::Temporary
    );
}

#[tokio::test]
async fn a_denial_goes_back_to_the_client_and_ends_the_request() {
    let (provider, store) = provider_and_store().await;
    let (temporary, _) = initiate(&provider, &store, NOW).await;
    let denied = provider
        .authorize_decision(
            &store,
            &Harness,
            &authorize_post(&temporary, "alice", "no"),
            NOW + 1,
        )
        .await;
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.header("Location"),
        Some(format!("{CALLBACK}?denied={temporary}").as_str())
    );
    // Answered: asking again shows the host's refusal page.
    let page = provider
        .authorize_page(
            &store,
            &Harness,
            &authorize_get(&temporary, Some("alice")),
            NOW + 2,
        )
        .await;
    assert_eq!(
        (page.status, body(&page).as_str()),
        (400, "refused: Unknown request")
    );
    // The host's own refusal of a form that is not an answer changes nothing.
    let (fresh, _) = initiate(&provider, &store, NOW + 3).await;
    let refused = provider
        .authorize_decision(
            &store,
            &Harness,
            &authorize_post(&fresh, "alice", "maybe"),
            NOW + 3,
        )
        .await;
    assert_eq!(
        (refused.status, body(&refused).as_str()),
        (400, "no answer")
    );
    let still = provider
        .pending(&store, Some(&fresh), NOW + 3)
        .await
        .unwrap();
    assert_eq!(still.client_name, "Printer");
}

#[tokio::test]
async fn a_temporary_credential_waits_its_lifetime_by_the_injected_clock() {
    let (provider, store) = provider_and_store().await;
    let (temporary, _) = initiate(&provider, &store, NOW).await;
    assert!(provider
        .pending(&store, Some(&temporary), NOW + 599)
        .await
        .is_ok());
    let late = provider
        .authorize_decision(
            &store,
            &Harness,
            &authorize_post(&temporary, "alice", "yes"),
            NOW + 601,
        )
        .await;
    assert_eq!(
        (late.status, body(&late).as_str()),
        (400, "refused: Unknown request")
    );
    let missing = provider
        .authorize_page(
            &store,
            &Harness,
            &Request::new("GET", format!("{BASE}/oauth1/authorize")).with_header("x-user", "alice"),
            NOW,
        )
        .await;
    assert_eq!(
        (missing.status, body(&missing).as_str()),
        (400, "refused: Bad request")
    );
}

/// The three legs at `at`, with alice granting: a token credential.
async fn token_credential(
    provider: &Oauth1Provider,
    store: &MemoryStore,
    at: u64,
) -> (String, String) {
    let (temporary, temporary_secret) = initiate(provider, store, at).await;
    let decided = provider
        .decide(store, Some(&temporary), "alice", true, at)
        .await
        .unwrap();
    let Decided::Redirect(location) = decided else {
        panic!("{decided:?}")
    };
    let query = location.split_once('?').unwrap().1;
    let verifier = Fields::parse(query.as_bytes())
        .unwrap()
        .get("oauth_verifier")
        .unwrap()
        .to_owned();
    let exchange = signed(
        Some((&temporary, &temporary_secret)),
        "POST",
        "/oauth1/token",
        &[("oauth_verifier", &verifier)],
        at,
        &format!("n-token-{at}"),
    );
    let answer = provider.token(store, &exchange, at).await;
    assert_eq!(answer.status, 200, "{}", body(&answer));
    (
        form_field(&answer, "oauth_token"),
        form_field(&answer, "oauth_token_secret"),
    )
}

/// A protected resource request signed with `token` at `at`.
async fn call(
    provider: &Oauth1Provider,
    store: &MemoryStore,
    token: &(String, String),
    at: u64,
) -> Result<String, Oauth1Error> {
    let request = signed(
        Some((&token.0, &token.1)),
        "GET",
        "/api/photos",
        &[],
        at,
        &format!("n-call-{at}"),
    );
    provider
        .resource(store, &request, at)
        .await
        .map(|used| used.token)
}

#[tokio::test]
async fn a_token_credential_lives_its_lifetime_when_one_is_set() {
    // By default (RFC 5849 sets none) it works until revoked.
    let (provider, store) = provider_and_store().await;
    let token = token_credential(&provider, &store, NOW).await;
    let record = store.credential(&token.0).await.unwrap().unwrap().record;
    assert_eq!(record.expires_at, None);
    let years = 10 * 365 * 24 * 3600;
    assert_eq!(
        call(&provider, &store, &token, NOW + years).await,
        Ok(token.0)
    );

    let (provider, store) = provider_and_store().await;
    let provider = provider.with_token_lifetime(Some(3600));
    let token = token_credential(&provider, &store, NOW).await;
    let record = store.credential(&token.0).await.unwrap().unwrap().record;
    assert_eq!(record.expires_at, Some(NOW + 3600));
    assert_eq!(
        call(&provider, &store, &token, NOW + 3599).await,
        Ok(token.0.clone())
    );
    assert_eq!(
        call(&provider, &store, &token, NOW + 3600).await,
        Err(Oauth1Error::UnknownToken)
    );
}
