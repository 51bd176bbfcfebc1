//! The signed-in user's grants (CONTRACT.md "Client registration"):
//! `GET /authorizations` lists, one row a client, what each application
//! the user allowed still holds, and `POST /authorizations/revoke` ends
//! all of it at once ([`credlog_core::manage::revoke_grant`], one event):
//! RFC 7009's revocation, asked for by the resource owner rather than by
//! the client.

use credlog_core::manage::{self, ManageError};
use credlog_core::store::{CredentialKind, Grant};
use credlog_core::{Request, Response};
use warp::filters::BoxedFilter;
use warp::Filter;

use crate::adapter::{answer_with_session, same_origin};
use crate::app::App;
use crate::login::login_then;
use crate::pages::{self, escape, hidden};
use crate::sessions::Session;

/// Where the page is, and where signing in returns to.
const PAGE: &str = "/authorizations";

/// `GET /authorizations` and `POST /authorizations/revoke`.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let list = warp::path!("authorizations")
        .and(warp::get())
        .and(answer_with_session(app.clone(), list));
    let revoke = warp::path!("authorizations" / "revoke")
        .and(warp::post())
        .and(same_origin(&app))
        .and(answer_with_session(app, revoke));
    list.or(revoke).unify().boxed()
}

/// What a grant holds, in the words the page uses, in the order shown:
/// the kinds that work for the client, then the ones still pending (an
/// authorized OAuth 1 temporary credential, an OAuth 2 code or an
/// approved device code not yet exchanged).
const SHOWN: [(CredentialKind, &str, &str); 6] = [
    (
        CredentialKind::TokenCredential,
        "OAuth 1 token credential",
        "OAuth 1 token credentials",
    ),
    (CredentialKind::AccessToken, "access token", "access tokens"),
    (
        CredentialKind::RefreshToken,
        "refresh token",
        "refresh tokens",
    ),
    (
        CredentialKind::AuthorizationCode,
        "authorization code not yet exchanged",
        "authorization codes not yet exchanged",
    ),
    (
        CredentialKind::Temporary,
        "OAuth 1 request not yet exchanged",
        "OAuth 1 requests not yet exchanged",
    ),
    (
        CredentialKind::DeviceCode,
        "device approved, not yet connected",
        "devices approved, not yet connected",
    ),
];

/// What `grant` holds that still works at `now`, e.g. "1 access token, 1
/// refresh token"; `None` when nothing does (the row is not shown).
fn holdings(grant: &Grant, now: u64) -> Option<String> {
    let live: Vec<CredentialKind> = grant.live(now).map(|state| state.record.kind).collect();
    let parts: Vec<String> = SHOWN
        .iter()
        .filter_map(
            |(kind, one, many)| match live.iter().filter(|held| *held == kind).count() {
                0 => None,
                1 => Some(format!("1 {one}")),
                count => Some(format!("{count} {many}")),
            },
        )
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

async fn list(app: App, session: Option<Session>, _: Request) -> Response {
    let Some(session) = session else {
        return login_then(PAGE);
    };
    let grants = match app.store().grants_of(&session.user).await {
        Ok(grants) => grants,
        Err(error) => return app.store_failure(&error),
    };
    let now = app.now();
    let mut rows = String::new();
    for grant in &grants {
        let Some(holds) = holdings(grant, now) else {
            continue;
        };
        let name = match app.store().client(&grant.client_id).await {
            Ok(client) => client.map(|client| client.record.name).unwrap_or_default(),
            Err(error) => return app.store_failure(&error),
        };
        let id = escape(&grant.client_id);
        rows.push_str(&format!(
            "<tr id=\"grant-{id}\"><td><strong>{name}</strong><br><code>{id}</code></td>\
             <td id=\"holds-{id}\">{holds}</td>\
             <td id=\"granted-{id}\">{granted}</td><td id=\"last-granted-{id}\">{last}</td>\
             <td><form method=\"post\" action=\"{PAGE}/revoke\">{client}{csrf}\
             <button type=\"submit\">Revoke</button></form></td></tr>\n",
            name = escape(&name),
            holds = escape(&holds),
            granted = pages::utc(grant.granted_at),
            last = pages::utc(grant.last_granted_at),
            client = hidden("client_id", &grant.client_id),
            csrf = hidden("csrf_token", &session.csrf_token),
        ));
    }
    let body = if rows.is_empty() {
        "<p id=\"none\">No application holds access you granted.</p>".to_owned()
    } else {
        format!(
            "<p>Applications you allowed to act on your behalf, and what each still holds. \
             Revoking ends all of it at once; the application must ask you again.</p>\n\
             <table>\n<tr><th>Application</th><th>Holds</th><th>First granted (UTC)</th>\
             <th>Last granted (UTC)</th><th></th></tr>\n{rows}</table>"
        )
    };
    pages::page(
        200,
        "Your authorizations",
        &format!("{body}\n<p><a href=\"/\">Home</a></p>"),
    )
}

async fn revoke(app: App, session: Option<Session>, request: Request) -> Response {
    let Some(session) = session else {
        return login_then(PAGE);
    };
    let fields = match pages::form_of(&session, &request.body, PAGE) {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let Some(client_id) = fields.get("client_id").filter(|id| !id.is_empty()) else {
        return pages::error_page(400, "Bad request", "The form names no client_id.");
    };
    match manage::revoke_grant(app.store(), &session.user, client_id, app.now()).await {
        Ok(()) => pages::redirect(303, PAGE),
        Err(ManageError::NotFound { .. }) => pages::error_page(
            404,
            "Not found",
            "You have granted that application nothing.",
        ),
        Err(ManageError::Store(error)) => app.store_failure(&error),
        Err(error) => {
            tracing::error!(%error, "a grant could not be revoked");
            pages::server_error()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credlog_core::store::{CredentialState, Secret, Status, TokenRecord};

    fn held(kind: CredentialKind, status: Status, expires_at: Option<u64>) -> CredentialState {
        CredentialState {
            record: TokenRecord {
                kind,
                id: "t".to_owned(),
                secret: Secret::None,
                client_id: "c".to_owned(),
                user: Some("alice".to_owned()),
                scope: "profile".to_owned(),
                expires_at,
                parent: None,
                redirect_uri: None,
                code_challenge: None,
            },
            status,
            verifier: None,
            family: String::new(),
            issued_seq: 0,
        }
    }

    #[test]
    fn a_grant_shows_what_still_works_and_nothing_when_nothing_does() {
        use CredentialKind::*;
        let grant = |credentials| Grant {
            client_id: "c".to_owned(),
            granted_at: 1,
            last_granted_at: 2,
            credentials,
        };
        let holding = grant(vec![
            held(AccessToken, Status::Issued, Some(100)),
            held(AccessToken, Status::Issued, Some(10)),
            held(AccessToken, Status::Issued, None),
            held(RefreshToken, Status::Issued, None),
            held(TokenCredential, Status::Revoked, None),
            held(AuthorizationCode, Status::Exchanged, Some(100)),
            held(Temporary, Status::Authorized, Some(100)),
        ]);
        assert_eq!(
            holdings(&holding, 50).as_deref(),
            Some("2 access tokens, 1 refresh token, 1 OAuth 1 request not yet exchanged")
        );
        let ended = grant(vec![
            held(AccessToken, Status::Issued, Some(10)),
            held(RefreshToken, Status::Revoked, None),
        ]);
        assert_eq!(holdings(&ended, 50), None);
    }
}
