//! The warp side of the sans-IO shape: an incoming request becomes the
//! core's [`Request`], the core's [`Response`] becomes a warp reply, and
//! every rejection becomes a clear answer (never a bare 500 for a client's
//! mistake).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;

use credlog_core::provider::origin::foreign;
use credlog_core::{Request, Response};
use futures::{Stream, StreamExt};
use warp::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reject::{Reject, Rejection};
use warp::Buf;
use warp::Filter;

use crate::app::App;
use crate::pages;
use crate::sessions::{self, Session};

/// A refusal decided by a filter (the resource protector, the body limit):
/// its response is written out as it is by [`recover`].
#[derive(Debug)]
pub struct Refusal(pub Response);

impl Reject for Refusal {}

/// Rejects with this response.
pub fn refuse(response: Response) -> Rejection {
    warp::reject::custom(Refusal(response))
}

/// The request as the engines see it: method, absolute URI (what the
/// client signed: on the app's public URL when it has one, else `http://`
/// and the `Host` header), headers and a body of at most the app's body
/// limit (larger: 413).
pub fn incoming(app: &App) -> impl Filter<Extract = (Request,), Error = Rejection> + Clone {
    let limit = app.settings().body_limit;
    let reached = Reached::of(app);
    let query = warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and_then(
            move |method: Method,
                  path: FullPath,
                  query: Option<String>,
                  headers: HeaderMap,
                  body| {
                let reached = reached.clone();
                async move {
                    let body = read_body(&headers, body, limit).await?;
                    let origin = reached.origin(&headers).ok_or_else(|| {
                        refuse(pages::error_page(
                            400,
                            "Bad request",
                            "The request has no usable Host header.",
                        ))
                    })?;
                    Ok::<_, Rejection>(to_request(
                        &method,
                        &origin,
                        path.as_str(),
                        query.as_deref(),
                        &headers,
                        body,
                    ))
                }
            },
        )
}

async fn read_body<S, B>(headers: &HeaderMap, body: S, limit: u64) -> Result<Vec<u8>, Rejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let declared = headers
        .get(warp::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(refuse(too_large(limit)));
    }
    let mut collected = Vec::new();
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|error| refuse(unreadable_body(&error)))?;
        if collected.len() as u64 + chunk.remaining() as u64 > limit {
            return Err(refuse(too_large(limit)));
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let read = piece.len();
            chunk.advance(read);
        }
    }
    Ok(collected)
}

/// 408 for a body that did not arrive in time (RFC 9110 15.5.9; the
/// connection is then closed), 400 for any other failure to read it.
fn unreadable_body(error: &warp::Error) -> Response {
    if crate::limits::is_body_timeout(error) {
        pages::error_page(
            408,
            "Request timeout",
            "The request body did not arrive in time.",
        )
    } else {
        pages::error_page(400, "Bad request", "The request body could not be read.")
    }
}

fn too_large(limit: u64) -> Response {
    pages::error_page(
        413,
        "Request too large",
        &format!("Request bodies are limited to {limit} bytes."),
    )
}

/// How the server is reached: its public URL, or the listener's scheme
/// and each request's `Host`.
#[derive(Debug, Clone)]
struct Reached {
    public: Option<String>,
    scheme: &'static str,
}

impl Reached {
    fn of(app: &App) -> Reached {
        let settings = app.settings();
        Reached {
            public: settings
                .public_url
                .as_ref()
                .map(|url| url.origin().to_owned()),
            scheme: settings.scheme(),
        }
    }

    /// `scheme://host[:port]` of a request with these headers; `None`
    /// without a usable `Host` (and no public URL).
    fn origin(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(public) = &self.public {
            return Some(public.clone());
        }
        headers
            .get(warp::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .filter(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']))
            .map(|host| format!("{}://{host}", self.scheme))
    }
}

fn to_request(
    method: &Method,
    origin: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Request {
    let mut uri = format!("{origin}{path}");
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    let mut request = Request::new(method.as_str(), uri);
    for (name, value) in headers {
        // A header that is not text is nothing OAuth reads; it is dropped
        // rather than guessed at.
        if let Ok(value) = value.to_str() {
            request
                .headers
                .push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    request.body = body;
    request
}

/// Passes a state-changing POST from a page (sign-in, sign-out, consent,
/// client management) only when no header says another site sent it: an
/// `Origin` that is not this server's (`null` included), or
/// `Sec-Fetch-Site: cross-site`. Refused with 403 before the route reads
/// anything, so nothing changes. A request with neither header (curl, an
/// old browser) passes on to the form's CSRF token.
pub fn same_origin(app: &App) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    let reached = Reached::of(app);
    warp::header::headers_cloned()
        .and_then(move |headers: HeaderMap| {
            let foreign = cross_site(&headers, reached.origin(&headers).as_deref());
            async move {
                if foreign {
                    Err(refuse(pages::error_page(
                        403,
                        "Forbidden",
                        "This form was sent from another site. Nothing was changed.",
                    )))
                } else {
                    Ok(())
                }
            }
        })
        .untuple_one()
}

/// Whether `headers` say the request came from a site other than `ours`
/// (`scheme://host[:port]`): the core's rule
/// ([`credlog_core::provider::origin::foreign`]), which the protocol's
/// pages follow too.
pub fn cross_site(headers: &HeaderMap, ours: Option<&str>) -> bool {
    let text = |name| {
        headers
            .get_all(name)
            .into_iter()
            .map(|value| value.to_str().unwrap_or("\u{0}"))
    };
    foreign(text("origin"), text("sec-fetch-site"), ours)
}

/// A JSON answer no cache keeps.
pub fn json(status: u16, value: &serde_json::Value) -> Response {
    Response::json(status, value)
}

/// The core's response as a warp reply, with the headers every answer carries.
pub fn reply(response: Response) -> warp::reply::Response {
    let mut reply = warp::reply::Response::new(response.body.into());
    *reply.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = reply.headers_mut();
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    reply
}

/// Turns every rejection into an answer: a [`Refusal`] as it is, warp's
/// own (no route, wrong method, bad header) as a short page with their status.
pub async fn recover(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
    if let Some(Refusal(response)) = rejection.find::<Refusal>() {
        return Ok(reply(response.clone()));
    }
    let response = if rejection.is_not_found() {
        pages::error_page(404, "Not found", "There is nothing at this address.")
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        pages::error_page(
            405,
            "Method not allowed",
            "This address does not answer that method.",
        )
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        pages::error_page(413, "Request too large", "The request body is too large.")
    } else {
        tracing::debug!(?rejection, "request rejected");
        pages::error_page(400, "Bad request", "The request could not be read.")
    };
    Ok(reply(response))
}

pub use credlog_core::form::Fields;

/// A route's answer: reads the request (body limited by the app's
/// settings) and replies with what `handler` returns.
pub fn answer<F, Fut>(
    app: App,
    handler: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    F: Fn(App, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    incoming(&app).then(move |request: Request| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { reply(handler(app, request).await) }
    })
}

/// [`answer`] for a route that needs to know where the request came from
/// (sign-in throttling).
pub fn answer_from<F, Fut>(
    app: App,
    handler: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    F: Fn(App, Option<IpAddr>, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    answer_given(app, peer(), handler)
}

/// [`answer`] with what `given` extracts (the caller's address, the
/// session, or a tuple of filters' outputs) handed to `handler` beside the
/// request: inputs compose as filters, rather than one function for each
/// combination.
pub fn answer_given<G, T, F, Fut>(
    app: App,
    given: G,
    handler: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    G: Filter<Extract = (T,), Error = Infallible> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    F: Fn(App, T, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    given
        .and(incoming(&app))
        .then(move |given: T, request: Request| {
            let (app, handler) = (app.clone(), handler.clone());
            async move { reply(handler(app, given, request).await) }
        })
}

/// The client's address ([`crate::client_addr`]: the connection's peer,
/// or behind a trusted proxy the address it forwards).
pub fn peer() -> impl Filter<Extract = (Option<IpAddr>,), Error = Infallible> + Clone {
    crate::client_addr::client_address()
}

/// [`answer`] for a page that needs to know who is signed in.
pub fn answer_with_session<F, Fut>(
    app: App,
    handler: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone
where
    F: Fn(App, Option<Session>, Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    answer_given(app.clone(), session(app), handler)
}

/// The signed-in session of a request, if any. A store that fails to
/// answer reads as nobody signed in, logged ([`sessions::Sessions::signed_in`]).
pub fn session(
    app: App,
) -> impl Filter<Extract = (Option<Session>,), Error = std::convert::Infallible> + Clone {
    warp::cookie::optional::<String>(sessions::COOKIE).then(move |id: Option<String>| {
        let app = app.clone();
        async move {
            match id {
                Some(id) => app.sessions().signed_in(&id, app.now()).await,
                None => None,
            }
        }
    })
}
