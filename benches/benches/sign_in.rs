//! Sign-in timing (CONTRACT.md "Users and sessions"): a wrong password for
//! an unknown user name must take as long as for a known one, or the
//! answer's time tells which names exist. Both go through
//! `credlog_http::accounts::sign_in`, what `POST /login` and the password
//! grant call, with throttling lifted so every attempt is checked.
//!
//! `cargo bench -p credlog-benches --bench sign_in`: compare
//! `sign_in/wrong password, known user` with `.../unknown user`.

use std::sync::Arc;

use credlog_core::throttle::Attempt;
use credlog_http::accounts::{add_user, sign_in};
use credlog_http::{App, Settings};
use credlog_storage_memory::MemoryStore;
use criterion::{criterion_group, criterion_main, Criterion};

fn sign_ins(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut settings = Settings::default();
    settings.throttle.user_failures = u32::MAX;
    settings.throttle.address_failures = u32::MAX;
    let store = Arc::new(MemoryStore::new());
    runtime
        .block_on(add_user(store.as_ref(), "alice", "correct horse", 1))
        .unwrap();
    let app = App::new(store, settings);
    let mut group = c.benchmark_group("sign_in");
    group.sample_size(30);
    for (label, user, password) in [
        ("wrong password, known user", "alice", "wrong"),
        ("wrong password, unknown user", "mallory", "wrong"),
        ("right password", "alice", "correct horse"),
    ] {
        let attempt = Attempt::password(user, Some("192.0.2.1".parse().unwrap()));
        let expected = password == "correct horse";
        group.bench_function(label, |b| {
            b.to_async(&runtime).iter(|| async {
                let user = sign_in(&app, &attempt, password).await.unwrap();
                assert_eq!(user.is_some(), expected);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sign_ins);
criterion_main!(benches);
