//! The warp side of the sans-IO shape: an incoming request becomes the
//! core's [`Request`], the core's [`Response`] becomes a warp reply, and
//! every rejection becomes a clear answer (never a bare 500 for a client's
//! mistake).

use std::convert::Infallible;
use std::future::Future;

use credlog_core::{Request, Response};
use futures::{Stream, StreamExt};
use warp::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reject::{Reject, Rejection};
use warp::Buf;
use warp::Filter;

use crate::app::App;
use crate::pages;
use crate::sessions::Session;

/// A refusal decided by a filter (the resource protector, the body limit):
/// its response is written out as it is by [`recover`].
#[derive(Debug)]
pub struct Refusal(pub Response);

impl Reject for Refusal {}

/// Rejects with this response.
pub fn refuse(response: Response) -> Rejection {
    warp::reject::custom(Refusal(response))
}

/// The request as the engines see it: method, absolute URI (from the
/// `Host` header: what the client signed), headers and a body of at most
/// `limit` bytes (larger: 413).
pub fn incoming(limit: u64) -> impl Filter<Extract = (Request,), Error = Rejection> + Clone {
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
                  body| async move {
                let body = read_body(&headers, body, limit).await?;
                to_request(&method, path.as_str(), query.as_deref(), &headers, body).map_err(refuse)
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

fn to_request(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<Request, Response> {
    let host = headers
        .get(warp::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']))
        .ok_or_else(|| {
            pages::error_page(400, "Bad request", "The request has no usable Host header.")
        })?;
    let mut uri = format!("http://{host}{path}");
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
    Ok(request)
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
    incoming(app.settings().body_limit).then(move |request: Request| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { reply(handler(app, request).await) }
    })
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
    crate::login::session(app.clone())
        .and(incoming(app.settings().body_limit))
        .then(move |session: Option<Session>, request: Request| {
            let (app, handler) = (app.clone(), handler.clone());
            async move { reply(handler(app, session, request).await) }
        })
}
