//! The two conversions between axum and credlog's core: a request's head
//! and body become a [`credlog_core::Request`] with an absolute URI, and a
//! [`credlog_core::Response`] becomes an axum response ([`Reply`]).

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, HOST, X_CONTENT_TYPE_OPTIONS};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use credlog_core::{Request, Response};

use crate::Credlog;

/// A core [`Response`] as axum writes it: its status, its headers (any
/// that is not a valid header is left out) and its body, with
/// `X-Content-Type-Options: nosniff` unless it says otherwise. Also the
/// rejection of [`crate::Authorized`]: the challenge the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        let written = response.headers_mut();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::try_from(value))
            {
                written.append(name, value);
            }
        }
        written
            .entry(X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
        response
    }
}

/// A plain-text answer from the adapter itself (before any engine runs).
pub(crate) fn refusal(status: u16, message: &str) -> Reply {
    Reply(Response {
        status,
        headers: vec![
            (
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            ),
            ("Cache-Control".to_owned(), "no-store".to_owned()),
        ],
        body: message.as_bytes().to_vec(),
    })
}

impl Credlog {
    /// The core request for `parts` and `body`: its method, its absolute
    /// URI (the public origin, or `http://` and the `Host`, then the path
    /// and query), every header that is text, and the body, which may be at
    /// most the body limit (larger: 413). A handler that checks a credential
    /// signed over a form body (OAuth 1) builds its request with this, then
    /// calls [`Credlog::protect`].
    pub async fn request(&self, parts: &Parts, body: Body) -> Result<Request, Reply> {
        let mut request = self.request_head(parts)?;
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.body_limit as u64) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(body, self.body_limit)
            .await
            .map_err(|error| {
                let inner = error.into_inner();
                if inner.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    refusal(400, "The request body could not be read.")
                }
            })?;
        request.body = bytes.to_vec();
        Ok(request)
    }

    /// The core request for `parts` alone, with an empty body: what the
    /// [`crate::Authorized`] extractor checks.
    pub fn request_head(&self, parts: &Parts) -> Result<Request, Reply> {
        let origin = match &self.public_origin {
            Some(origin) => origin.to_string(),
            None => format!("http://{}", authority(parts)?),
        };
        let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
        let mut request = Request::new(parts.method.as_str(), format!("{origin}{path}"));
        request.headers = parts
            .headers
            .iter()
            // A header that is not text is nothing OAuth reads.
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        Ok(request)
    }
}

/// The host and port the client reached: the `Host` header (HTTP/1.1),
/// else the request target's authority (HTTP/2).
fn authority(parts: &Parts) -> Result<&str, Reply> {
    let from_header = parts.headers.get(HOST).and_then(|host| host.to_str().ok());
    let from_uri = parts.uri.authority().map(|authority| authority.as_str());
    from_header
        .or(from_uri)
        .filter(|host| {
            !host.is_empty()
                && !host.contains(['/', '?', '#', '@', ' ', '\\'])
                && !host.chars().any(char::is_control)
        })
        .ok_or_else(|| refusal(400, "The request has no usable Host header."))
}

fn too_large() -> Reply {
    refusal(413, "The request body is too large.")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::Request as HttpRequest;
    use credlog_core::provider::Provider;
    use credlog_core::rfc5849::{Oauth1Config, Oauth1Provider};
    use credlog_core::rfc6749::Oauth2Server;
    use credlog_storage_memory::MemoryStore;

    use super::*;

    fn credlog() -> Credlog {
        let oauth1 = Oauth1Provider::new(Oauth1Config::default(), 600);
        let provider = Provider::new(oauth1, Oauth2Server::default());
        Credlog::new(provider, Arc::new(MemoryStore::new()))
    }

    fn parts(uri: &str, headers: &[(&str, &[u8])]) -> Parts {
        let mut request = HttpRequest::builder().method("POST").uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_uri_is_the_public_origin_or_the_host_then_path_and_query() {
        let head = parts("/oauth2/token?a=b", &[("host", b"127.0.0.1:8080")]);
        let request = credlog().request_head(&head).unwrap();
        assert_eq!(request.uri, "http://127.0.0.1:8080/oauth2/token?a=b");
        assert_eq!(request.method, "POST");
        let public = credlog().with_public_origin("https://auth.example/");
        let request = public.request_head(&head).unwrap();
        assert_eq!(request.uri, "https://auth.example/oauth2/token?a=b");
        // HTTP/2: the authority of the request target.
        let request = credlog()
            .request_head(&parts("http://h2.example/x", &[]))
            .unwrap();
        assert_eq!(request.uri, "http://h2.example/x");
    }

    #[test]
    fn without_a_usable_host_the_request_is_refused() {
        for host in [&b""[..], b"evil.example/path", b"user@host"] {
            let refused = credlog().request_head(&parts("/x", &[("host", host)]));
            assert_eq!(refused.unwrap_err().0.status, 400, "{host:?}");
        }
    }

    #[test]
    fn headers_that_are_not_text_are_left_out() {
        let head = parts(
            "/x",
            &[("host", b"h"), ("x-bin", b"\xff"), ("x-text", b"t")],
        );
        let request = credlog().request_head(&head).unwrap();
        assert_eq!(request.header_values("x-text").collect::<Vec<_>>(), ["t"]);
        assert_eq!(request.header_values("x-bin").count(), 0);
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413() {
        let credlog = credlog().with_body_limit(4);
        let head = parts("/x", &[("host", b"h")]);
        let read = credlog.request(&head, Body::from("abcd")).await.unwrap();
        assert_eq!(read.body, b"abcd");
        let refused = credlog.request(&head, Body::from("abcde")).await;
        assert_eq!(refused.unwrap_err().0.status, 413);
        let declared = parts("/x", &[("host", b"h"), ("content-length", b"5")]);
        let refused = credlog.request(&declared, Body::from("abcde")).await;
        assert_eq!(refused.unwrap_err().0.status, 413);
    }

    #[test]
    fn answers_are_written_as_they_are_and_never_sniffed() {
        let answer = Response::json(401, &serde_json::json!({"error": "invalid_token"}));
        let mut answer = answer;
        answer.headers.push(("Bad Name".to_owned(), "x".to_owned()));
        let written = Reply(answer).into_response();
        assert_eq!(written.status(), 401);
        assert_eq!(written.headers()["content-type"], "application/json");
        assert_eq!(written.headers()["x-content-type-options"], "nosniff");
        assert_eq!(written.headers()["cache-control"], "no-store");
    }
}
