//! The `warp` feature's helpers as a browser sees them: the session
//! cookie a login is bound to, the callback's query, the redirect, and
//! the failure page's status and text.
#![cfg(feature = "warp")]

mod support;

use credlog_client::warp::{
    browser_session, callback_query, failure, login_session, redirect, BrowserSession,
};
use credlog_client::ClientError;
use support::*;
use warp::Filter;

/// A browser that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_new_browser_gets_a_session_cookie_and_a_known_one_keeps_it() {
    let app = stub(
        browser_session()
            .and(callback_query())
            .map(|session: BrowserSession, query: String| {
                session.attach(redirect(&format!("/callback?{query}")))
            })
            .boxed(),
    )
    .await;
    let fresh = browser()
        .get(format!("{app}/?a=1&b=x%20y"))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 302);
    assert_eq!(fresh.headers()["location"], "/callback?a=1&b=x%20y");
    let cookie = fresh.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("credlog_client_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap();
    assert_eq!(session.len(), "credlog_client_session=".len() + 32);

    // The same browser again: no new cookie; no query, an empty one.
    let again = browser()
        .get(format!("{app}/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["location"], "/callback?");
    assert!(again.headers().get("set-cookie").is_none());

    // A cookie that is not one of ours starts a new session.
    let forged = browser()
        .get(format!("{app}/"))
        .header("cookie", "credlog_client_session=../../etc")
        .send()
        .await
        .unwrap();
    let renewed = forged.headers()["set-cookie"].to_str().unwrap();
    assert_ne!(renewed.split(';').next().unwrap(), session);
}

/// Session fixation: an attacker who plants a session id of their choosing
/// (32 letters and digits, the shape of ours) in a victim's browser must
/// not share the session the victim then signs in to. A login starts under
/// an id the app issues there and then.
#[tokio::test]
async fn a_login_starts_under_a_new_id_whatever_cookie_the_browser_sent() {
    let app = stub(
        warp::path!("login")
            .and(login_session())
            .map(|session: BrowserSession| session.attach(redirect("/provider")))
            .or(warp::path!("callback")
                .and(browser_session())
                .map(|session: BrowserSession| session.attach(redirect("/"))))
            .unify()
            .boxed(),
    )
    .await;
    let planted = "credlog_client_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let mut issued = Vec::new();
    for cookie in [Some(planted), None, Some(planted)] {
        let mut request = browser().get(format!("{app}/login"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.headers()["location"], "/provider");
        let set = answer.headers()["set-cookie"].to_str().unwrap();
        let session = set.split(';').next().unwrap().to_owned();
        assert_eq!(session.len(), planted.len(), "{set}");
        assert_ne!(session, planted);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        issued.push(session);
    }
    // A new id each time, even for the same planted cookie.
    assert_ne!(issued[0], issued[2]);

    // The callback reads back the id issued, without setting another.
    let back = browser()
        .get(format!("{app}/callback"))
        .header("cookie", &issued[0])
        .send()
        .await
        .unwrap();
    assert!(back.headers().get("set-cookie").is_none());
}

#[test]
fn a_sessions_debug_hides_its_id() {
    let session = BrowserSession::new_random();
    assert_eq!(session.id.len(), 32);
    assert_ne!(session.id, BrowserSession::new_random().id);
    let shown = format!("{session:?}");
    assert!(!shown.contains(&session.id), "{shown}");
    assert_eq!(shown, "BrowserSession { id: <redacted>, is_new: true }");
}

#[tokio::test]
async fn a_failure_page_has_the_status_the_error_deserves_and_says_it_escaped() {
    let network = ClientError::Network {
        url: "http://provider.test/initiate".into(),
        why: "connection refused".into(),
    };
    for (error, status) in [
        (ClientError::Denied, 403),
        (ClientError::NoTemporaryCredential, 400),
        (ClientError::TokenMismatch, 400),
        (ClientError::MissingCallbackParameter("oauth_verifier"), 400),
        (ClientError::MalformedCallback, 400),
        (network, 502),
        (
            ClientError::ResponseTooLarge {
                url: "http://provider.test/initiate".into(),
                limit: 1 << 20,
            },
            502,
        ),
        (ClientError::UnknownProvider("<photos>".into()), 500),
    ] {
        let shown = error.clone();
        let app = stub(warp::any().map(move || failure(&shown)).boxed()).await;
        let page = browser().get(&app).send().await.unwrap();
        assert_eq!(page.status(), status, "{error:?}");
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let body = page.text().await.unwrap();
        assert!(
            body.contains("<title>Sign-in failed · credlog</title>"),
            "{body}"
        );
        let message = html_escape::encode_safe(&error.to_string()).into_owned();
        assert!(
            body.contains(&format!("<p id=\"error\">{message}</p>")),
            "{body}"
        );
        assert!(!body.contains("<photos>"), "{body}");
    }
}
