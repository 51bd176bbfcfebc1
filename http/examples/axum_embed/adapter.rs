//! The whole of the axum side of the sans-IO shape: an axum request
//! becomes credlog's [`Request`] ([`Core`], an extractor), and credlog's
//! [`Response`] becomes an axum response ([`Reply`]).

use axum::body::{Body, Bytes};
use axum::extract::FromRequest;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use credlog_core::{Request, Response};

/// The request as credlog's engines see it: the absolute URI the client
/// signed (OAuth 1 signs scheme, host and path, so the host comes from the
/// `Host` header), the headers, and the body, at most the router's
/// `DefaultBodyLimit` (larger: 413).
pub struct Core(pub Request);

impl<S: Send + Sync> FromRequest<S> for Core {
    type Rejection = axum::response::Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .filter(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']))
            .ok_or_else(|| (StatusCode::BAD_REQUEST, "no usable Host header").into_response())?;
        // Plain HTTP here; behind TLS the app would put its own scheme.
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str());
        let mut core = Request::new(request.method().as_str(), format!("http://{host}{path}"));
        for (name, value) in request.headers() {
            // A header that is not text is nothing OAuth reads.
            if let Ok(value) = value.to_str() {
                core = core.with_header(name.as_str(), value);
            }
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        core.body = body.to_vec();
        Ok(Core(core))
    }
}

/// An engine's answer, written out as it is.
pub struct Reply(pub Response);

impl IntoResponse for Reply {
    fn into_response(self) -> axum::response::Response {
        let Response {
            status,
            headers,
            body,
        } = self.0;
        let mut response = axum::response::Response::new(Body::from(body));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::try_from(value))
            {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}
