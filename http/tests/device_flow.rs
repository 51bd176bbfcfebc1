//! The device authorization grant (RFC 8628) over real HTTP, as a device
//! and a signed-in person walk it: the device authorization endpoint,
//! polling (`authorization_pending`, `slow_down`, `access_denied`,
//! `expired_token`), the `/device` page and its consent, throttled
//! guesses, CSRF, and the tokens at `/api/me`. Each case runs on every
//! store the support offers.

mod support;

use credlog_core::rfc8628::{DEVICE_CODE_GRANT, USER_CODE_ALPHABET};
use credlog_core::store::{CredentialKind, Event, Issued, RevocationReason};
use credlog_http::accounts::{register_client, ClientMetadata};
use support::oauth2::*;
use support::{element_text, get_page, hidden_inputs, post_form, post_form_with, Answer};

/// A public device client (no secret), registered for the device grant
/// and refresh tokens.
async fn device_client(w: &World) -> Oauth2Client {
    register(
        w.server.store.as_ref(),
        "Living-room TV <b>",
        AuthMethod::None,
        &[],
        &[DEVICE_CODE_GRANT, "refresh_token"],
        &[],
    )
    .await
}

/// What the device authorization endpoint answered, read (RFC 8628 3.2).
struct Codes {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// `POST /oauth2/device_authorization` for `client`.
async fn ask(w: &World, client: &Oauth2Client, scope: Option<&str>) -> Answer {
    let mut form = Form::new();
    if let Some(scope) = scope {
        form = form.with("scope", scope);
    }
    post_as(w, "/oauth2/device_authorization", client, &form).await
}

/// [`ask`], which must succeed.
async fn codes(w: &World, client: &Oauth2Client, scope: Option<&str>) -> Codes {
    let answer = ask(w, client, scope).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    answer.assert_no_store();
    let json = answer.json();
    // RFC 8628 3.2: these six fields and no others.
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "device_code",
            "expires_in",
            "interval",
            "user_code",
            "verification_uri",
            "verification_uri_complete"
        ]
    );
    let text = |name: &str| {
        json[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {json}"))
            .to_owned()
    };
    let number = |name: &str| json[name].as_u64().unwrap_or_else(|| panic!("{name}"));
    Codes {
        device_code: text("device_code"),
        user_code: text("user_code"),
        verification_uri: text("verification_uri"),
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: number("expires_in"),
        interval: number("interval"),
    }
}

/// The device polls the token endpoint (RFC 8628 3.4).
async fn poll(w: &World, client: &Oauth2Client, device_code: &str) -> Answer {
    let form = Form::new()
        .with("grant_type", DEVICE_CODE_GRANT)
        .with("device_code", device_code);
    token(w, client, &form).await
}

/// The path and query of one of the server's URLs.
fn path_of(w: &World, url: &str) -> String {
    url.strip_prefix(&w.server.base)
        .unwrap_or_else(|| panic!("{url} is not under {}", w.server.base))
        .to_owned()
}

/// alice types `typed` into the `/device` form (as the page gave it).
async fn type_code(w: &World, typed: &str) -> Answer {
    let form = get_page(&w.server, "/device", Some(&w.cookie)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let mut fields = hidden_inputs(&form.body);
    fields.push(("user_code".to_owned(), typed.to_owned()));
    post_form(&w.server, "/device", Some(&w.cookie), &fields).await
}

/// alice types `typed` and answers the consent page with `confirm`.
async fn answer_device(w: &World, typed: &str, confirm: &str) -> Answer {
    let consent = type_code(w, typed).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let mut fields = hidden_inputs(&consent.body);
    fields.push(("confirm".to_owned(), confirm.to_owned()));
    post_form(&w.server, "/device", Some(&w.cookie), &fields).await
}

on_both_stores!(the_device_flow_reaches_the_api);
async fn the_device_flow_reaches_the_api(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    // RFC 8628 3.2 and 6.1: XXXX-XXXX from the 20 consonants.
    let (left, right) = codes.user_code.split_once('-').expect("XXXX-XXXX");
    assert_eq!((left.len(), right.len()), (4, 4), "{}", codes.user_code);
    assert!(
        format!("{left}{right}")
            .chars()
            .all(|c| USER_CODE_ALPHABET.contains(c)),
        "{}",
        codes.user_code
    );
    assert_eq!(codes.verification_uri, w.server.url("/device"));
    assert_eq!(
        codes.verification_uri_complete,
        format!("{}?user_code={}", codes.verification_uri, codes.user_code)
    );
    assert_eq!((codes.expires_in, codes.interval), (600, 5));

    // Nobody has answered yet; polling again at once is too fast.
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "authorization_pending");
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "slow_down");

    // The complete URI signs in first, then comes back with the code filled in.
    let path = path_of(w, &codes.verification_uri_complete);
    let anonymous = get_page(&w.server, &path, None).await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.body);
    let login_at = anonymous.header("location").unwrap();
    assert!(
        login_at.starts_with("/login?next=%2Fdevice%3Fuser_code%3D"),
        "{login_at}"
    );
    let form = get_page(&w.server, &path, Some(&w.cookie)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<title>"), "{}", form.body);
    assert!(
        form.body
            .contains(&format!("value=\"{}\"", codes.user_code)),
        "{}",
        form.body
    );

    // Typed lower case with spaces, as people do: the consent page.
    let typed = codes.user_code.to_lowercase().replace('-', " ");
    let consent = type_code(w, &typed).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert_eq!(
        element_text(&consent.body, "client").as_deref(),
        Some("Living-room TV <b>")
    );
    assert!(
        !consent.body.contains("TV <b>"),
        "escaped: {}",
        consent.body
    );
    assert_eq!(element_text(&consent.body, "scope").as_deref(), Some(SCOPE));
    assert_eq!(
        element_text(&consent.body, "user-code").as_deref(),
        Some(codes.user_code.as_str())
    );
    let mut fields = hidden_inputs(&consent.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let done = post_form(&w.server, "/device", Some(&w.cookie), &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        element_text(&done.body, "approved")
            .unwrap()
            .contains("return to your device"),
        "{}",
        done.body
    );

    // The device, polling at its new interval, gets tokens for alice.
    w.clock.advance(codes.interval + 5);
    let tokens = poll(w, &device, &codes.device_code).await.tokens();
    assert_eq!(tokens.scope, SCOPE);
    assert!(tokens.refresh_token.is_some(), "{:?}", tokens.json);
    let whoami = me(w, &tokens.access_token).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.json()["user"], "alice");
    assert_eq!(whoami.json()["client_id"], device.id);
    let refreshed = refresh(w, &device, tokens.refresh(), None).await.tokens();
    assert_eq!(refreshed.scope, SCOPE);

    // A device code works once; a copy of it ends what it was traded for.
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    me(w, &refreshed.access_token)
        .await
        .assert_bearer_error(401, "invalid_token");
    // And the code cannot be answered again.
    let again = type_code(w, &codes.user_code).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        element_text(&again.body, "error").is_some(),
        "{}",
        again.body
    );
}

on_both_stores!(every_step_is_an_event_in_the_log);
async fn every_step_is_an_event_in_the_log(w: &World) {
    let device = device_client(w).await;
    let before = w.server.store.last_seq().await.unwrap();
    let codes = codes(w, &device, Some("profile")).await;
    assert_eq!(answer_device(w, &codes.user_code, "yes").await.status, 200);
    poll(w, &device, &codes.device_code).await.tokens();
    let records = w.server.store.read_log(before + 1, 100).await.unwrap();
    assert_eq!(records.len(), 3, "{records:#?}");
    // One record for both codes: the user code's parent is the device code.
    let issued: Vec<_> = records[0]
        .events
        .iter()
        .map(|event| match event {
            Event::Issued(Issued::Token(token)) => token.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0].kind, CredentialKind::DeviceCode);
    assert_eq!(issued[1].kind, CredentialKind::UserCode);
    assert_eq!(issued[1].parent.as_ref(), Some(&issued[0].id));
    assert_eq!(issued[0].expires_at, Some(w.clock.now() + 600));
    assert_eq!(issued[0].scope, "profile");
    assert!(matches!(
        &records[1].events[..],
        [Event::Authorized(authorized)] if authorized.id == issued[0].id && authorized.user == "alice"
    ));
    assert!(matches!(
        &records[2].events[0],
        Event::Exchanged(exchanged) if exchanged.id == issued[0].id
    ));
    // No code's value is stored: only ids.
    let log = format!("{records:?}");
    assert!(!log.contains(&codes.device_code), "{log}");
    assert!(!log.contains(&codes.user_code.replace('-', "")), "{log}");
}

on_both_stores!(a_denied_device_gets_access_denied);
async fn a_denied_device_gets_access_denied(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    let done = answer_device(w, &codes.user_code, "no").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        element_text(&done.body, "denied")
            .unwrap()
            .contains("return to your device"),
        "{}",
        done.body
    );
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "access_denied");
    let last = w.server.store.last_seq().await.unwrap();
    let record = w.server.store.read_log(last, 1).await.unwrap();
    assert!(matches!(
        &record[0].events[..],
        [Event::Revoked(revoked)] if revoked.reason == RevocationReason::Denied
    ));
    // A denied code cannot be approved after.
    assert_eq!(type_code(w, &codes.user_code).await.status, 400);
}

on_both_stores!(an_unanswered_code_expires);
async fn an_unanswered_code_expires(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    w.clock.advance(599);
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "authorization_pending");
    w.clock.advance(1);
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "expired_token");
    let late = type_code(w, &codes.user_code).await;
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(
        element_text(&late.body, "error")
            .unwrap()
            .contains("expired"),
        "{}",
        late.body
    );
}

on_both_stores!(an_approved_code_expires_unexchanged);
async fn an_approved_code_expires_unexchanged(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    assert_eq!(answer_device(w, &codes.user_code, "yes").await.status, 200);
    w.clock.advance(600);
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "expired_token");
}

on_both_stores!(wrong_user_codes_are_throttled_like_passwords);
async fn wrong_user_codes_are_throttled_like_passwords(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    // Five wrong codes (well-formed or not) are each a 400 with a message...
    for wrong in ["BCDF-GHJK", "BCDF-GHJL", "AAAA-AAAA", "BCD", "<script>"] {
        let answer = type_code(w, wrong).await;
        assert_eq!(answer.status, 400, "{wrong}: {}", answer.body);
        assert!(
            element_text(&answer.body, "error").is_some(),
            "{}",
            answer.body
        );
        assert!(!answer.body.contains("<script>"), "{}", answer.body);
    }
    // ...then every guess waits, the right one too.
    for typed in ["BCDF-GHJM", codes.user_code.as_str()] {
        let answer = type_code(w, typed).await;
        assert_eq!(answer.status, 429, "{typed}: {}", answer.body);
        let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // Until the lock passes.
    w.clock.advance(61);
    assert_eq!(type_code(w, &codes.user_code).await.status, 200);
}

on_both_stores!(device_forms_need_the_sessions_csrf_token);
async fn device_forms_need_the_sessions_csrf_token(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    let code = ("user_code".to_owned(), codes.user_code.clone());
    let missing = post_form(
        &w.server,
        "/device",
        Some(&w.cookie),
        std::slice::from_ref(&code),
    )
    .await;
    assert_eq!(missing.status, 403, "{}", missing.body);
    let wrong = [
        code.clone(),
        ("csrf_token".to_owned(), "not-the-token".to_owned()),
    ];
    let refused = post_form(&w.server, "/device", Some(&w.cookie), &wrong).await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // The consent form without its token, or from another site, changes nothing.
    let consent = type_code(w, &codes.user_code).await;
    let mut fields = hidden_inputs(&consent.body);
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    let tokenless: Vec<_> = fields
        .iter()
        .filter(|(name, _)| name != "csrf_token")
        .cloned()
        .collect();
    let answer = post_form(&w.server, "/device", Some(&w.cookie), &tokenless).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    let foreign = [("Origin", "https://evil.example")];
    let answer = post_form_with(&w.server, "/device", Some(&w.cookie), &foreign, &fields).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "authorization_pending");

    // Without a session, posting the form signs in first.
    let anonymous = post_form(&w.server, "/device", None, &fields).await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.body);
    assert!(anonymous
        .header("location")
        .unwrap()
        .starts_with("/login?next="));
}

on_both_stores!(only_registered_clients_may_ask);
async fn only_registered_clients_may_ask(w: &World) {
    // Registered for every RFC 6749 grant, but not this one.
    ask(w, &w.basic, None)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
    // Authenticated as at the token endpoint.
    let confidential = register(
        w.server.store.as_ref(),
        "Confidential TV",
        AuthMethod::Basic,
        &[],
        &[DEVICE_CODE_GRANT],
        &[],
    )
    .await;
    codes(w, &confidential, None).await;
    let wrong = ask(w, &confidential.with_secret("wrong"), None).await;
    wrong.assert_oauth2_error(401, "invalid_client");
    wrong.assert_basic_challenge();
    ask(w, &confidential.using(AuthMethod::None), None)
        .await
        .assert_oauth2_error(401, "invalid_client");
    let unknown = Oauth2Client {
        id: "nobody".to_owned(),
        secret: None,
        method: AuthMethod::None,
    };
    ask(w, &unknown, None)
        .await
        .assert_oauth2_error(401, "invalid_client");
    // The scope stays within the client's.
    let device = device_client(w).await;
    ask(w, &device, Some("profile admin"))
        .await
        .assert_oauth2_error(400, "invalid_scope");
    // Another client cannot poll with this one's code.
    let codes = codes(w, &device, Some("email")).await;
    let other = device_client(w).await;
    poll(w, &other, &codes.device_code)
        .await
        .assert_oauth2_error(400, "invalid_grant");
    poll(w, &device, "not a device code!")
        .await
        .assert_oauth2_error(400, "invalid_grant");
    poll(w, &device, "abc")
        .await
        .assert_oauth2_error(400, "invalid_grant");
    // And the client that did not register the grant cannot poll at all.
    let form = Form::new()
        .with("grant_type", DEVICE_CODE_GRANT)
        .with("device_code", &codes.device_code);
    token(w, &w.basic, &form)
        .await
        .assert_oauth2_error(400, "unauthorized_client");
}

on_both_stores!(the_metadata_lists_the_device_endpoint);
async fn the_metadata_lists_the_device_endpoint(w: &World) {
    let metadata = get_page(&w.server, "/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(
        metadata["device_authorization_endpoint"],
        w.server.url("/oauth2/device_authorization")
    );
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&DEVICE_CODE_GRANT.into()), "{metadata}");
}

on_both_stores!(an_openid_device_gets_an_id_token_for_the_approving_user);
async fn an_openid_device_gets_an_id_token_for_the_approving_user(w: &World) {
    let mut metadata = ClientMetadata::named("OpenID TV");
    metadata.scope = "openid profile".to_owned();
    metadata.grant_types = vec![DEVICE_CODE_GRANT.to_owned()];
    metadata.response_types = Vec::new();
    metadata.token_endpoint_auth_method = "none".to_owned();
    let registered = register_client(w.server.store.as_ref(), "alice", metadata, None, 0)
        .await
        .unwrap();
    let device = Oauth2Client {
        id: registered.record.client_id,
        secret: None,
        method: AuthMethod::None,
    };
    let codes = codes(w, &device, None).await;
    assert_eq!(answer_device(w, &codes.user_code, "yes").await.status, 200);
    let tokens = poll(w, &device, &codes.device_code).await.tokens();
    assert_eq!(tokens.scope, "openid profile");
    assert!(tokens.refresh_token.is_none(), "not registered for refresh");
    let jwks = get_page(&w.server, "/oauth2/jwks", None).await.json();
    let keys = credlog_core::jose::JwkSet::parse(&jwks).unwrap();
    let id_token = tokens.json["id_token"].as_str().expect("an id_token");
    let claims = credlog_core::jose::verify(id_token, &keys).unwrap().claims;
    assert_eq!(claims["iss"], w.server.base.as_str());
    assert_eq!(claims["aud"], device.id.as_str());
    assert!(claims["sub"].is_string(), "{claims:?}");
    assert!(claims["auth_time"].as_u64().is_some(), "{claims:?}");
    assert!(claims.get("nonce").is_none(), "{claims:?}");
    let userinfo = support::Answer::from(
        support::http()
            .get(w.server.url("/oauth2/userinfo"))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.body);
    assert_eq!(userinfo.json()["sub"], claims["sub"]);
}

on_both_stores!(an_approved_device_shows_among_authorizations_and_can_be_revoked);
async fn an_approved_device_shows_among_authorizations_and_can_be_revoked(w: &World) {
    let device = device_client(w).await;
    let codes = codes(w, &device, None).await;
    assert_eq!(answer_device(w, &codes.user_code, "yes").await.status, 200);
    let page = get_page(&w.server, "/authorizations", Some(&w.cookie)).await;
    assert_eq!(
        element_text(&page.body, &format!("holds-{}", device.id)).as_deref(),
        Some("1 device approved, not yet connected"),
        "{}",
        page.body
    );
    // alice changes her mind before the device polls.
    let fields = hidden_inputs(&page.body);
    let revoked = post_form(
        &w.server,
        "/authorizations/revoke",
        Some(&w.cookie),
        &fields,
    )
    .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    poll(w, &device, &codes.device_code)
        .await
        .assert_oauth2_error(400, "access_denied");
}
