#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), seeded from the RFC
# vectors. CI runs it as a smoke; maintainers run it long:
#   fuzz/run.sh 300
set -euo pipefail
seconds="${1:-20}"
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo run -q -p credlog-conformance --example fuzz_seeds -- fuzz/seeds
export RUSTC_BOOTSTRAP=1   # cargo-fuzz needs nightly flags; the stable toolchain allows them this way
cd fuzz
for target in $(cargo fuzz list); do
    mkdir -p "corpus/$target"
    log="$(mktemp)"
    if ! cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target FAILED (see above; a crashing input is kept under fuzz/artifacts/$target)"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    echo "fuzz: $target ran ${runs} inputs in ${seconds}s without a crash (peak RSS ${rss} MB)"
    rm -f "$log"
done
