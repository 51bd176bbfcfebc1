//! Scope and form parsing grow linearly (CONTRACT.md "Users and
//! sessions": "Parsing a scope, a form or a header takes time linear in
//! its length"). Each group runs one parser on an input of N and of 10N,
//! so the two times compare directly: 10x the input must take at most
//! 15x the time. Before `Scope` was a set, a scope of 10N distinct tokens
//! took about 100x the time of N.
//!
//! `cargo bench -p credlog-benches --bench scope`:
//! - `scope_parse`: a request's scope within the caps, 6 and 60 tokens;
//! - `scope_parse_refused`: 6 KB and 60 KB of distinct tokens, refused at
//!   the 65th token (the 60 KB device authorization request of issue 26);
//! - `scope_stored`: a stored scope of 1,500 and 15,000 tokens (a client
//!   registered before the caps, read back on every request naming it);
//! - `params_parse`: a form body of 6 KB and 60 KB holding one `scope`.

use credlog_core::rfc6749::{Params, Scope};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// `n` distinct scope tokens, space-separated.
fn tokens(n: usize) -> String {
    (0..n)
        .map(|i| format!("scope-{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Distinct tokens filling at least `bytes` bytes.
fn tokens_of_size(bytes: usize) -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&format!("scope-{i}"));
        i += 1;
    }
    text
}

fn scope_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("scope_parse");
    for n in [6, 60] {
        let text = tokens(n);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("tokens", n), &text, |b, text| {
            b.iter(|| Scope::parse(black_box(text)).expect("within the caps"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("scope_parse_refused");
    for bytes in [6_000, 60_000] {
        let text = tokens_of_size(bytes);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("bytes", bytes), &text, |b, text| {
            b.iter(|| Scope::parse(black_box(text)).expect_err("over the cap"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("scope_stored");
    for n in [1_500, 15_000] {
        let text = tokens(n);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("tokens", n), &text, |b, text| {
            b.iter(|| Scope::stored(black_box(text)))
        });
    }
    group.finish();
}

fn params_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("params_parse");
    for bytes in [6_000, 60_000] {
        let body = format!(
            "grant_type=client_credentials&scope={}",
            tokens_of_size(bytes).replace(' ', "+")
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("bytes", bytes), &body, |b, body| {
            b.iter(|| Params::parse(black_box(body.as_bytes())).expect("a form"))
        });
    }
    group.finish();
}

criterion_group!(benches, scope_parse, params_parse);
criterion_main!(benches);
