//! Arbitrary bytes as an HTTP/1 request stream, served by the real server's
//! connection code (`credlog_http::server::{http1, service}`: the same
//! hyper settings and routes `credlog serve` runs) over an in-memory pipe,
//! and the form decoder on the request's query and body.
//!
//! The input's first two bytes are a pad length (big-endian, at most
//! 32 KiB): when not zero, an `X-Pad` header of that many bytes goes after
//! the first line, so that heads on both sides of the 16 KiB limit are
//! common. The rest is the stream, sent whole, after which the client
//! stops writing and reads every answer.
//!
//! Asserted: nothing panics; a request whose head is over 16 KiB never
//! gets a 2xx (CONTRACT.md, "Deployment"); the form decoder keeps its 256
//! pair limit (`DecodeError::TooManyPairs`), and what it accepts has one
//! pair for each non-empty `&`-separated piece.
#![no_main]

use std::sync::{Arc, OnceLock};

use credlog_core::form::{form_decode, percent_decode, DecodeError, MAX_FORM_PAIRS};
use credlog_http::{App, Limits, Settings};
use credlog_storage_memory::MemoryStore;
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_PAD: usize = 32 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((pad, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let stream = compose(usize::from(u16::from_be_bytes(*pad)) % (MAX_PAD + 1), rest);
    let head = head_len(&stream);
    let answers = serve(&stream);

    let limits = Limits::default();
    if head > limits.max_head_bytes {
        if let Some(status) = first_final_status(&answers) {
            assert!(
                !(200..300).contains(&status),
                "a head of at least {head} bytes was answered {status}"
            );
        }
    }

    let line_end = stream
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(stream.len());
    let query = stream[..line_end]
        .split(|&b| b == b' ')
        .nth(1)
        .and_then(|target| target.splitn(2, |&b| b == b'?').nth(1));
    for form in [query, stream.get(head..)].into_iter().flatten() {
        if let Ok(text) = std::str::from_utf8(form) {
            check_form(text);
        }
    }
});

/// The first line of `rest`, the pad header, then the rest of `rest`.
fn compose(pad: usize, rest: &[u8]) -> Vec<u8> {
    if pad == 0 {
        return rest.to_vec();
    }
    let split = rest
        .iter()
        .position(|&b| b == b'\n')
        .map_or(rest.len(), |i| i + 1);
    let mut stream = Vec::with_capacity(rest.len() + pad + 10);
    stream.extend_from_slice(&rest[..split]);
    stream.extend_from_slice(b"X-Pad: ");
    stream.resize(stream.len() + pad, b'a');
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(&rest[split..]);
    stream
}

/// The first request head's length, or less: up to the first empty line
/// that ends a line (`\n\n` or `\n\r\n`), the whole stream without one. A
/// parser can only end the head there or later, so a head this long is at
/// least this long to hyper too.
fn head_len(stream: &[u8]) -> usize {
    (0..stream.len())
        .find_map(|i| {
            if stream[i..].starts_with(b"\n\n") {
                Some(i + 2)
            } else if stream[i..].starts_with(b"\n\r\n") {
                Some(i + 3)
            } else {
                None
            }
        })
        .unwrap_or(stream.len())
}

/// Serves `stream` as one connection and returns every byte answered.
/// Time is paused: a stalled read waits for hyper's timers in virtual
/// time, so no input can hang the target.
fn serve(stream: &[u8]) -> Vec<u8> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime")
    });
    runtime.block_on(async {
        let limits = Limits::default();
        let app = App::new(Arc::new(MemoryStore::new()), Settings::default());
        let (client, server) = tokio::io::duplex(64 * 1024);
        let connection = credlog_http::server::http1(&limits).serve_connection(
            TokioIo::new(server),
            credlog_http::server::service(app, &limits),
        );
        let (mut from_server, mut to_server) = tokio::io::split(client);
        let send = async {
            // The server may close before it has read everything: fine.
            let _ = to_server.write_all(stream).await;
            let _ = to_server.shutdown().await;
        };
        let receive = async {
            let mut answers = Vec::new();
            let _ = from_server.read_to_end(&mut answers).await;
            answers
        };
        let (_, _, answers) = tokio::join!(connection, send, receive);
        answers
    })
}

/// The status of the first answer that is not `1xx` (`HTTP/1.x NNN`).
fn first_final_status(answers: &[u8]) -> Option<u16> {
    let mut at = 0;
    while let Some(start) = answers
        .get(at..)?
        .windows(9)
        .position(|w| w.starts_with(b"HTTP/1.") && w[8] == b' ')
    {
        let code = answers.get(at + start + 9..at + start + 12)?;
        let status: u16 = std::str::from_utf8(code).ok()?.parse().ok()?;
        if status >= 200 {
            return Some(status);
        }
        at += start + 12;
    }
    None
}

/// The decoder's pair limit, against a count of the form's pieces.
fn check_form(text: &str) {
    let pieces: Vec<&str> = text.split('&').filter(|piece| !piece.is_empty()).collect();
    match form_decode(text) {
        Ok(pairs) => {
            assert!(pairs.len() <= MAX_FORM_PAIRS);
            assert_eq!(pairs.len(), pieces.len());
        }
        Err(DecodeError::TooManyPairs { limit }) => {
            assert_eq!(limit, MAX_FORM_PAIRS);
            assert!(pieces.len() > MAX_FORM_PAIRS);
        }
        Err(_) => {}
    }
    let first_decode = pieces[..pieces.len().min(MAX_FORM_PAIRS)]
        .iter()
        .flat_map(|piece| piece.splitn(2, '='))
        .all(|part| percent_decode(part, true).is_ok());
    if pieces.len() > MAX_FORM_PAIRS && first_decode {
        assert_eq!(
            form_decode(text),
            Err(DecodeError::TooManyPairs {
                limit: MAX_FORM_PAIRS
            })
        );
    }
}
