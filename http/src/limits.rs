//! How far the server lets one client go (CONTRACT.md, "Deployment"): the
//! time a request head and a request body may take, the largest head, how
//! many connections are served at once, how long a shutdown waits for
//! requests in flight, and which proxies are believed about the client's
//! address. The numbers live here, in one value, so that a
//! deployment's configuration can set them.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::client_addr::TrustedProxies;

/// The connection limits [`crate::server::serve_with`] enforces. The
/// default holds the contract's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A connection must send a whole request head within this (10 s),
    /// counted from when it is accepted or, on a keep-alive connection,
    /// from when its previous response was written: an idle keep-alive
    /// connection is closed after the same time. The connection is closed
    /// without an answer.
    pub head_timeout: Duration,
    /// A request body must have arrived whole within this of its head
    /// (30 s); a body still incomplete then is answered 408 and the
    /// connection is closed.
    pub body_timeout: Duration,
    /// The largest request head, request line and header lines with their
    /// line ends and the empty line (16 KiB); a larger one is answered 431
    /// and the connection is closed.
    pub max_head_bytes: usize,
    /// The most connections served at once (1024). Past it the server
    /// accepts no more until one closes: new connections wait in the
    /// listener's backlog (and the kernel refuses them when that is full).
    /// At least 1.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take to
    /// finish before the connections still open are dropped (10 s): short
    /// enough that the process exits within the 15 s the contract allows,
    /// with the store closed.
    pub shutdown_grace: Duration,
    /// The proxies whose `X-Forwarded-For` names the client (none): see
    /// [`crate::client_addr`].
    pub trusted_proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_head_bytes: 16 * 1024,
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// A request body that must arrive whole by a deadline fixed when its head
/// arrived. Past the deadline, while it still waits for bytes, it yields
/// [`BodyTimedOut`]. (tower-http's `TimeoutBody` limits the wait between
/// two frames instead, which a client sending a byte now and then never
/// reaches.)
#[derive(Debug)]
pub struct DeadlineBody<B> {
    body: B,
    timeout: Duration,
    deadline: Instant,
    /// Armed the first time the body has nothing ready: a body that
    /// arrived with its head never touches the timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    /// `body`, which must end within `timeout` from now.
    pub fn new(body: B, timeout: Duration) -> Self {
        DeadlineBody {
            body,
            timeout,
            deadline: Instant::now() + timeout,
            timer: None,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut {
            timeout: this.timeout,
        }))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body did not arrive whole within [`Limits::body_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimedOut {
    /// The time it had.
    pub timeout: Duration,
}

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.timeout.as_secs_f64()
        )
    }
}

impl Error for BodyTimedOut {}

/// Whether `error` (a body error as warp hands it on) is, or was caused
/// by, [`BodyTimedOut`].
pub fn is_body_timeout(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        cause = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Bytes;

    /// A body whose bytes never come.
    struct Stalled;

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    async fn next_frame<B: Body + Unpin>(body: &mut B) -> Option<Result<Frame<B::Data>, B::Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out_at_its_deadline() {
        let start = Instant::now();
        let mut body = DeadlineBody::new(Stalled, Duration::from_secs(30));
        let error = next_frame(&mut body).await.unwrap().unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(30));
        assert!(is_body_timeout(error.as_ref()));
        assert_eq!(
            error.to_string(),
            "the request body did not arrive within 30 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_is_there_is_read_even_late() {
        let full = http_body_util::Full::new(Bytes::from_static(b"a=1"));
        let mut body = DeadlineBody::new(full, Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(5)).await;
        let frame = next_frame(&mut body).await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "a=1");
        assert!(next_frame(&mut body).await.is_none());
    }
}
