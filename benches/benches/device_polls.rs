//! The memory of device polls (RFC 8628 3.5, `credlog_core::rfc8628::
//! DevicePolls`): a poll of a new device code must cost the same whether
//! 1,000 codes are remembered or 100,000 (the most it keeps, where each
//! new code makes room by dropping the one polled longest ago).
//!
//! `cargo bench -p credlog-benches --bench device_polls`: compare
//! `device_polls/poll of a new code/1000` with `.../100000`.

use credlog_core::rfc8628::grant::{DevicePolls, MEMORY_POLLS};
use credlog_core::rfc8628::PollVerdict;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const NOW: u64 = 1_700_000_000;

fn polls(c: &mut Criterion) {
    let mut group = c.benchmark_group("device_polls");
    for remembered in [1_000, MEMORY_POLLS] {
        let polls = DevicePolls::new();
        for n in 0..remembered {
            polls.pace(&format!("old-{n}"), NOW, 5, u64::MAX);
        }
        let mut next = 0u64;
        group.bench_with_input(
            BenchmarkId::new("poll of a new code", remembered),
            &remembered,
            |b, &remembered| {
                b.iter(|| {
                    next += 1;
                    let id = format!("new-{next}");
                    assert_eq!(polls.pace(&id, NOW + next, 5, u64::MAX), PollVerdict::Go);
                    // Below the most it keeps, the count stays as it is;
                    // at it, each new code pushes the oldest out.
                    if remembered < MEMORY_POLLS {
                        polls.forget(&id);
                    }
                })
            },
        );
        assert!(polls.remembered() <= MEMORY_POLLS);
    }
    group.finish();
}

criterion_group!(benches, polls);
criterion_main!(benches);
