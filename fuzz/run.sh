#!/usr/bin/env bash
# Runs the fuzz targets: `fuzz/run.sh smoke` (a few thousand runs each, from the committed
# seeds; part of scripts/test.sh) or `fuzz/run.sh long RUNS` (RUNS executions per target).
# Sanitizers are off (`-s none`): the core forbids unsafe code, so they would only slow the
# search; panics, hangs and memory limits are what the targets catch.
# New inputs go to fuzz/work/<target> (not committed); crashes to fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
mode="${1:-smoke}"
runs="${2:-10000000}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
targets=(paths extract_any extract_tar_gz extract_zip)
for t in "${targets[@]}"; do
    mkdir -p "work/$t"
    if [ "$mode" = smoke ]; then
        cargo +nightly fuzz run -s none "$t" "work/$t" "seeds/$t" -- -runs=3000 -max_len=65536 -rss_limit_mb=1024
    else
        cargo +nightly fuzz run -s none "$t" "work/$t" "seeds/$t" -- -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -print_final_stats=1
    fi
done
