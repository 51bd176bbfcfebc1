//! Connection handling against slow and hostile clients (CONTRACT.md,
//! "Deployment"), over real TCP against the real binary: a head not sent
//! whole within 10 s, a body not sent within 30 s of its head and an idle
//! keep-alive connection are closed; a head over 16 KiB gets 431; SIGTERM
//! lets a request in flight finish and exits within 15 s, however stalled
//! the other clients are. The deadline tests take their real 10 to 30
//! seconds; the test binary runs them side by side.

mod support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use credlog_http::{App, Limits, Settings};
use credlog_storage_memory::MemoryStore;
use support::process::{Running, STARTUP};

const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
const SHUTDOWN: Duration = Duration::from_secs(15);
/// How late past a deadline a close may come: a loaded machine's slack,
/// nothing the contract promises.
const SLACK: Duration = Duration::from_secs(3);
const MAX_HEAD: usize = 16 * 1024;

/// A route every server answers 200 without credentials (RFC 8414 3).
const METADATA: &str = "/.well-known/oauth-authorization-server";

/// `credlog serve --memory` on a free port; its stderr, with `info` logs,
/// line by line.
struct Server {
    process: Running,
    addr: SocketAddr,
    stderr: Receiver<String>,
}

impl Server {
    fn start() -> Server {
        let mut process = Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_credlog"))
                .args(["serve", "--memory", "--addr", "127.0.0.1:0"])
                .env("CREDLOG_LOG", "info")
                .stderr(Stdio::piped()),
        );
        let stderr = process.stderr_lines();
        let base = process.base();
        let addr = base
            .strip_prefix("http://")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("not an address: {base}"));
        Server {
            process,
            addr,
            stderr,
        }
    }

    fn connect(&self) -> Connection {
        Connection::to(self.addr)
    }

    /// Waits for the line the server logs when the shutdown signal came.
    fn wait_for_shutdown_to_start(&self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains("shutting down") => return,
                Ok(_) => {}
                Err(error) => panic!("no `shutting down` log line: {error}"),
            }
        }
    }
}

/// One client connection, written raw and read through a buffer.
struct Connection {
    reader: BufReader<TcpStream>,
}

/// A response as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Connection {
    fn to(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).unwrap();
        // Only a guard against a hung test: every wait here ends sooner.
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        Connection {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    /// The next response: its head, and its body by `content-length`.
    fn answer(&mut self) -> Answer {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).unwrap();
            assert!(read > 0, "closed mid-response, after {head:?}");
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head:?}"));
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        Answer { status, head, body }
    }

    /// Reads until the server closes the connection; what came before,
    /// and how long after `since` the close came.
    fn until_closed(&mut self, since: Instant) -> (Vec<u8>, Duration) {
        let mut rest = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            match self.reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => rest.extend_from_slice(&buffer[..read]),
                Err(error) if error.kind() == ErrorKind::ConnectionReset => break,
                Err(error) => panic!("the connection was not closed: {error}"),
            }
        }
        (rest, since.elapsed())
    }
}

/// A `GET` of the metadata whose head is exactly `size` bytes long.
fn get_with_head_of(size: usize) -> Vec<u8> {
    let start = format!("GET {METADATA} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ");
    let end = "\r\n\r\n";
    let pad = size - start.len() - end.len();
    format!("{start}{}{end}", "a".repeat(pad)).into_bytes()
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}

/// A token request head announcing a 100-byte body, asking to be told
/// (`100 Continue`) when the server waits for it: then the request is in
/// flight.
const TOKEN_HEAD: &[u8] = b"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\
    Expect: 100-continue\r\n\r\n";

/// A token request, in flight: its head sent, the server waiting for its body.
fn token_request_in_flight(server: &Server) -> Connection {
    let mut connection = server.connect();
    connection.send(TOKEN_HEAD);
    assert_eq!(connection.answer().status, 100);
    connection
}

/// The 100 bytes [`TOKEN_HEAD`] announces.
fn token_body() -> Vec<u8> {
    let body = "grant_type=client_credentials&client_id=nobody&pad=";
    format!("{body}{}", "a".repeat(100 - body.len())).into_bytes()
}

fn assert_closed_at(at: Duration, deadline: Duration, what: &str) {
    eprintln!("{what}: closed after {:.2} s", at.as_secs_f64());
    assert!(
        at >= deadline && at < deadline + SLACK,
        "{what}: closed after {at:?}, not at {deadline:?}"
    );
}

#[test]
fn a_head_not_sent_whole_within_ten_seconds_is_closed() {
    let server = Server::start();
    let since = Instant::now();
    let mut connection = server.connect();
    connection.send(format!("GET {METADATA} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes());
    let (answer, at) = connection.until_closed(since);
    assert!(
        answer.is_empty(),
        "answered {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_closed_at(at, HEAD_TIMEOUT, "a half-sent head");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_ten_seconds() {
    let server = Server::start();
    let mut connection = server.connect();
    let since = Instant::now();
    connection.send(&get(METADATA));
    assert_eq!(connection.answer().status, 200);
    let (rest, at) = connection.until_closed(since);
    assert!(rest.is_empty());
    assert_closed_at(at, HEAD_TIMEOUT, "an idle keep-alive connection");
}

#[test]
fn a_body_not_sent_whole_within_thirty_seconds_gets_408_and_is_closed() {
    let server = Server::start();
    let since = Instant::now();
    let mut connection = token_request_in_flight(&server);
    connection.send(&token_body()[..10]);
    let answer = connection.answer();
    assert_eq!(answer.status, 408, "{answer:?}");
    let (rest, at) = connection.until_closed(since);
    assert!(rest.is_empty());
    assert_closed_at(at, BODY_TIMEOUT, "a half-sent body");
}

#[test]
fn heads_up_to_16_kib_are_served_and_larger_ones_get_431() {
    let server = Server::start();
    for size in [15 * 1024, MAX_HEAD] {
        let mut connection = server.connect();
        connection.send(&get_with_head_of(size));
        let answer = connection.answer();
        assert_eq!(
            answer.status, 200,
            "a head of {size} bytes: {}",
            answer.head
        );
    }
    for size in [MAX_HEAD + 1, 17 * 1024, 64 * 1024] {
        let mut connection = server.connect();
        connection.send(&get_with_head_of(size));
        let answer = connection.answer();
        assert_eq!(
            answer.status, 431,
            "a head of {size} bytes: {}",
            answer.head
        );
        let (rest, _) = connection.until_closed(Instant::now());
        assert!(rest.is_empty());
    }
}

#[test]
fn a_keep_alive_connection_serves_request_after_request() {
    let server = Server::start();
    let mut connection = server.connect();
    for _ in 0..5 {
        connection.send(&get(METADATA));
        let answer = connection.answer();
        assert_eq!(answer.status, 200);
        assert!(!answer
            .head
            .to_ascii_lowercase()
            .contains("connection: close"));
        assert!(String::from_utf8_lossy(&answer.body).contains("token_endpoint"));
    }
    // Two at once (pipelined), answered in order.
    connection.send(&[get(METADATA), get("/nowhere")].concat());
    assert_eq!(connection.answer().status, 200);
    assert_eq!(connection.answer().status, 404);
}

#[test]
fn sigterm_exits_within_fifteen_seconds_whatever_the_clients_do() {
    let mut server = Server::start();
    let mut idle = server.connect();
    idle.send(&get(METADATA));
    assert_eq!(idle.answer().status, 200);
    let mut half_head = server.connect();
    half_head.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let mut half_body = token_request_in_flight(&server);
    half_body.send(&token_body()[..10]);

    let since = Instant::now();
    server.process.send_sigterm();
    let status = server
        .process
        .exit_within(SHUTDOWN)
        .expect("still running 15 s after SIGTERM");
    eprintln!(
        "SIGTERM with stalled clients: exited after {:.2} s",
        since.elapsed().as_secs_f64()
    );
    assert!(status.success(), "{status}");
    for mut connection in [idle, half_head, half_body] {
        connection.until_closed(since);
    }
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let mut server = Server::start();
    let mut in_flight = token_request_in_flight(&server);
    let since = Instant::now();
    server.process.send_sigterm();
    server.wait_for_shutdown_to_start();
    in_flight.send(&token_body());
    let answer = in_flight.answer();
    // No such client: the token endpoint's own refusal (RFC 6749 5.2),
    // not a dropped connection.
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(String::from_utf8_lossy(&answer.body).contains("invalid_client"));
    let (rest, _) = in_flight.until_closed(since);
    assert!(rest.is_empty());
    let status = server
        .process
        .exit_within(SHUTDOWN)
        .expect("still running 15 s after SIGTERM");
    assert!(status.success(), "{status}");
}

/// Past `max_connections`, a new connection waits (in the listener's
/// backlog) until an open one closes. In process, with a cap of 2.
#[tokio::test]
async fn connections_past_the_cap_wait_for_one_to_close() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = App::new(Arc::new(MemoryStore::new()), Settings::default());
    let (listener, addr) = credlog_http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(credlog_http::serve_with(
        app,
        listener,
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    let served = |mut stream: tokio::net::TcpStream| async move {
        stream.write_all(&get(METADATA)).await.unwrap();
        let mut answer = [0; 12];
        stream.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200");
        stream
    };
    let first = served(tokio::net::TcpStream::connect(addr).await.unwrap()).await;
    let _second = served(tokio::net::TcpStream::connect(addr).await.unwrap()).await;

    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    third.write_all(&get(METADATA)).await.unwrap();
    let mut byte = [0; 1];
    // Not served while two are open: a second is long for a request that
    // would be answered in milliseconds.
    assert!(
        tokio::time::timeout(Duration::from_secs(1), third.read(&mut byte))
            .await
            .is_err(),
        "a third connection was served"
    );
    drop(first);
    let mut answer = [0; 12];
    third.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    let _ = stop.send(());
    server.await.unwrap();
}
