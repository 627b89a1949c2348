#!/usr/bin/env bash
# Builds every wasm artifact of uncork into target/wasm/, reproducibly:
#
#   uncork-planner.wasm   the core as a component, world uncork:extract/planner (wit/uncork.wit):
#                         wasm32-unknown-unknown build of wasm/planner, wrapped as a component by
#                         wasm/componentize, which fails if it imports anything but
#                         uncork:extract/* (its world is written to uncork-planner.wit)
#   uncork-wasi.wasm      the WASI command (host-wasi), a wasm32-wasip2 component
#   js/                   `jco transpile` of uncork-planner.wasm (ES module + core wasm) that
#                         wasm/js/uncork.mjs runs under Node; jco comes from wasm/js's
#                         package-lock.json (`npm ci`, redone only when the lockfile changed)
#
# Release profile without debug info, stripped, source paths remapped (the same bytes from any
# checkout with the same toolchain and Cargo.lock; sha256 sums are printed). Needs the rust
# targets wasm32-unknown-unknown and wasm32-wasip2 (added here when missing), and Node + npm.
#
# Usage: scripts/build-wasm.sh [OUT_DIR]   (default: target/wasm)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-$root/target/wasm}"
mkdir -p "$out"

installed="$(rustup target list --installed)"
for t in wasm32-unknown-unknown wasm32-wasip2; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

# The build tool (native, the ordinary release profile).
cargo build --locked --release -p uncork-componentize

# The wasm builds: no debug info, stripped, paths remapped. Their own profile settings give them
# their own artifacts in target/, so they never invalidate the other builds' (nor the reverse).
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
remap="--remap-path-prefix=$root=/uncork --remap-path-prefix=$registry=/cargo-registry -C target-feature=+simd128"
export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$remap"
export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$remap"
cargo build --locked --release --target wasm32-unknown-unknown -p uncork-planner
cargo build --locked --release --target wasm32-wasip2 -p uncork-wasi

target/release/uncork-componentize new \
    target/wasm32-unknown-unknown/release/uncork_planner.wasm \
    -o "$out/uncork-planner.wasm" \
    --only-imports uncork:extract/ \
    --wit "$out/uncork-planner.wit"
cp target/wasm32-wasip2/release/uncork-wasi.wasm "$out/uncork-wasi.wasm"

# jco, pinned by wasm/js/package-lock.json to 1.16.1: from 1.17 on, jco's bindings run every
# import call through component-model async task bookkeeping (and read process.env on each),
# about 8 us a call; with ~3 sink calls a file that doubled the planner's time under Node
# (64 MB, 7.6k-file tar.gz into a null sink: 1.16.1 220 ms, 1.17.9 422 ms, 1.35.0 390 ms).
# simd128 (RUSTFLAGS above) lets zlib-rs use wasm SIMD; wasmtime and Node 16+ run it.
js="$root/wasm/js"
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.uncork-lock-stamp"; then
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$js/package-lock.json" "$js/node_modules/.uncork-lock-stamp"
fi
rm -rf "$out/js"
"$js/node_modules/.bin/jco" transpile "$out/uncork-planner.wasm" --name uncork-planner \
    --instantiation async --quiet -o "$out/js"

echo "wasm artifacts in $out:"
for f in "$out/uncork-planner.wasm" "$out/uncork-wasi.wasm" "$out"/js/*.wasm "$out/js/uncork-planner.js"; do
    f="${f#"$out/"}"
    printf '  %-28s %9d bytes  sha256 %s\n' "$f" "$(stat -c %s "$out/$f")" \
        "$(sha256sum "$out/$f" | cut -d' ' -f1)"
done
