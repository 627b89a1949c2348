#!/usr/bin/env bash
# uncork's test command: `scripts/test.sh` (README.md; .ci/run calls exactly this).
#
# On a fresh Debian 12 machine (as root, with rustup's stable toolchain, gcc,
# python3) it first installs what is missing, then runs every check in order,
# stopping at the first failure:
#
#   prerequisites   Debian packages, rust targets and components, Node (only when missing)
#   wine prefix     scripts/wine-setup.sh: project-local prefix + bcryptprimitives stub
#   examples        scripts/make-examples.py reproduces examples/ byte for byte
#   fmt             cargo fmt --check, the workspace and wasm/runner
#   clippy          cargo clippy --workspace --all-targets -- -D warnings
#   test            cargo test --workspace --exclude uncork-tests
#   wasm core       cargo build -p uncork-core --target wasm32-unknown-unknown --release
#   clippy windows  cargo clippy -p uncork-native --target x86_64-pc-windows-gnu --all-targets -- -D warnings
#   test windows    cargo test -p uncork-native --target x86_64-pc-windows-gnu, run under Wine
#   wasm build      scripts/build-wasm.sh: planner component (import list checked), uncork-wasi,
#                   jco transpile (npm ci from wasm/js/package-lock.json)
#   clippy wasm     clippy -D warnings on uncork-wasi for wasm32-wasip2 and on wasm/runner
#   test wasm       wasm/runner's tests (wasmtime 48 embedded, release): the planner's imports
#                   and action stream, the WASI command, the planner under Node
#   golden          cargo test -p uncork-tests: every corpus case under native-unix,
#                   native-unix-copy, windows (Wine), wasi and jco, against its goldens and
#                   against each other; and the differential check with Python's tarfile
#   fuzz smoke      fuzz/run.sh smoke: every fuzz target over its committed seeds, a few
#                   thousand runs each (cargo-fuzz and nightly are installed when missing)
#   readme example  the README's first "Try it" command, verbatim, and the tree it extracts;
#                   then the zip example through the same binary
#
# It ends with the line `N passed, M failed` (N, M = steps) and exits non-zero on failure.
# Nothing is cleaned: one target dir is shared by every step and every run.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

passed=0
failed=0
timings=()

banner() {
    printf '\n==================== %s ====================\n' "$*"
}

summary() {
    printf '\n-------------------- timings --------------------\n'
    local t
    for t in "${timings[@]}"; do printf '%s\n' "$t"; done
    printf '\n%d passed, %d failed\n' "$passed" "$failed"
}

# step NAME FUNCTION-OR-COMMAND [ARGS...]: run it, time it, stop everything on failure.
step() {
    local name="$1"
    shift
    banner "$name"
    printf '$ %s\n' "$*"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        timings+=("$(printf '%-16s ok     %4ds' "$name" $((SECONDS - start)))")
    else
        local rc=$?
        failed=$((failed + 1))
        timings+=("$(printf '%-16s FAILED %4ds (exit %d)' "$name" $((SECONDS - start)) "$rc")")
        printf '\ntest.sh: step "%s" failed (exit %d)\n' "$name" "$rc" >&2
        summary
        exit 1
    fi
}

# ---------------------------------------------------------------- prerequisites

debian_packages=(gcc-mingw-w64-x86-64 wine wine64 libarchive-tools hyperfine fusefat dosfstools fuse3 python3-fusepy libfuse2)
rust_targets=(wasm32-unknown-unknown wasm32-wasip2 x86_64-pc-windows-gnu)
rust_components=(rustfmt clippy)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "test.sh: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

install_prerequisites() {
    local missing=() pkg
    for pkg in "${debian_packages[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" != "ii " ]; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 || {
            echo "test.sh: missing packages ${missing[*]} and no apt-get to install them" >&2
            return 1
        }
        echo "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" </dev/null ||
            return 1
    else
        echo "Debian packages present: ${debian_packages[*]}"
    fi

    command -v rustup >/dev/null 2>&1 || {
        echo "test.sh: rustup not found; it is needed to add ${rust_targets[*]}" >&2
        return 1
    }
    local installed t c
    installed="$(rustup target list --installed)" || return 1
    for t in "${rust_targets[@]}"; do
        if ! grep -qx "$t" <<<"$installed"; then
            echo "adding rust target $t"
            rustup target add "$t" || return 1
        fi
    done
    installed="$(rustup component list --installed)" || return 1
    for c in "${rust_components[@]}"; do
        if ! grep -q "^$c" <<<"$installed"; then
            echo "adding rust component $c"
            rustup component add "$c" || return 1
        fi
    done
    echo "rust: $(rustc --version); targets: ${rust_targets[*]}; components: ${rust_components[*]}"

    # Node runs the planner component through jco (wasm/js); its packages come from the
    # committed lockfile in the wasm build step.
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "installing Node.js and npm"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm </dev/null ||
            return 1
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')" || return 1
    if [ "$major" -lt 18 ]; then
        echo "test.sh: Node $major is too old for jco; Node 18 or later is needed" >&2
        return 1
    fi
    echo "node: $(node --version), npm: $(npm --version)"
}

wine_setup() {
    local prefix
    prefix="$(scripts/wine-setup.sh | tail -n 1)" || return 1
    [ -n "$prefix" ] || return 1
    export WINEPREFIX="$prefix"
    export WINEDEBUG=-all
    export DISPLAY=
    echo "WINEPREFIX=$WINEPREFIX"
    # One wineserver for the whole run. Left to itself it exits a few seconds after its last
    # client, and a wine process starting just then connects to a server on its way out:
    # "wine client error:0: recvmsg: Connection reset by peer" (one golden case in 750 failed
    # so in a clean-clone run, 2026-12-07). Killed when this script exits.
    # A server left running for this prefix (an earlier run killed before its trap) refuses
    # to start a second one: stop it first.
    wineserver -p 2>/dev/null || { wineserver -k 2>/dev/null; sleep 1; wineserver -p; } || return 1
    trap 'wineserver -k 2>/dev/null || true' EXIT
}

# ---------------------------------------------------------------- checks

examples_reproducible() {
    local tmp rc=0 f
    tmp="$(mktemp -d)" || return 1
    python3 scripts/make-examples.py "$tmp" >/dev/null || rc=1
    for f in pgpdump-like.tar.gz pgpdump-like.zip; do
        if [ $rc -eq 0 ] && ! cmp "$tmp/$f" "examples/$f"; then
            echo "examples/$f differs from what scripts/make-examples.py makes now" >&2
            rc=1
        fi
    done
    rm -rf "$tmp"
    [ $rc -eq 0 ] && echo "examples/ reproduced byte for byte"
    return $rc
}

runner=(--manifest-path wasm/runner/Cargo.toml --locked --release --target-dir target)

fmt_check() {
    cargo fmt --all -- --check && cargo fmt --manifest-path wasm/runner/Cargo.toml -- --check
}

clippy_wasm() {
    cargo clippy --locked --release -p uncork-wasi --target wasm32-wasip2 -- -D warnings &&
        cargo clippy "${runner[@]}" --all-targets -- -D warnings
}

test_wasm() {
    cargo test "${runner[@]}"
}

# The corpus needs every profile's program: the native binary (built by the test step),
# uncork.exe (test windows), uncork-wasm-run and the jco bindings (wasm build, test wasm).
golden_tests() {
    cargo build -q -p uncork-native &&
        cargo build -q "${runner[@]}" --bin uncork-wasm-run &&
        cargo test -p uncork-tests
}

windows_tests() {
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
        cargo test -p uncork-native --target x86_64-pc-windows-gnu
}

# The README's first "Try it" command, taken from README.md itself so the two
# cannot drift apart, run verbatim, then the extracted tree checked.
readme_example() {
    local cmd dest=/tmp/uncork-demo
    cmd="$(sed -n '/^## Try it/,/^## /{/^cargo run /p}' README.md | head -n 1)"
    [ -n "$cmd" ] || {
        echo "README.md: no 'cargo run ...' line under '## Try it'" >&2
        return 1
    }
    case "$cmd" in
    *" -C $dest") ;;
    *)
        echo "README.md's example no longer extracts into $dest: update test.sh" >&2
        return 1
        ;;
    esac
    # uncork never overwrites: start from an empty demo directory.
    rm -rf "$dest"
    echo "\$ $cmd"
    bash -c "set -e; $cmd" || return 1

    check_example_tree "$dest" examples/pgpdump-like.tar.gz || return 1

    # The same entries from the zip example, through the binary just built.
    local zdest rc=0
    zdest="$(mktemp -d)/uncork-demo-zip" || return 1
    echo "\$ cargo run --release -q -p uncork-native -- examples/pgpdump-like.zip -C $zdest"
    cargo run --release -q -p uncork-native -- examples/pgpdump-like.zip -C "$zdest" &&
        check_example_tree "$zdest" examples/pgpdump-like.zip || rc=1
    rm -rf "$(dirname "$zdest")"
    return $rc
}

# check_example_tree DEST ARCHIVE: DEST holds exactly what the pgpdump-like
# example archive holds, extracted with the default policy on Unix.
check_example_tree() {
    local dest="$1" archive="$2" d="$1/pgpdump-1.5" bad=0
    # archived NAME: the entry's bytes as stored in the archive.
    archived() { bsdtar -xOf "$archive" "pgpdump-1.5/$1"; }
    verdict() { # verdict DESCRIPTION STATUS
        if [ "$2" -eq 0 ]; then printf '  ok    %s\n' "$1"; else printf '  FAIL  %s\n' "$1"; bad=1; fi
    }
    echo "checking $dest:"
    [ -d "$d" ] && [ ! -L "$d" ]
    verdict "pgpdump-1.5/ is a directory" $?
    [ -L "$d/README" ] && [ "$(readlink "$d/README")" = README.md ]
    verdict "README is a symlink whose target is README.md" $?
    [ -f "$d/README.md" ] && [ ! -L "$d/README.md" ] && cmp -s "$d/README.md" <(archived README.md)
    verdict "README.md is a regular file with the archived content" $?
    [ "$(stat -c %a "$d/README.md" 2>/dev/null)" = 644 ]
    verdict "README.md has mode 644" $?
    cmp -s "$d/README" "$d/README.md"
    verdict "README reads as README.md through the link" $?
    [ -f "$d/setup.py" ] && [ ! -L "$d/setup.py" ] && cmp -s "$d/setup.py" <(archived setup.py)
    verdict "setup.py is a regular file with the archived content" $?
    [ -f "$d/bin/pgpdump" ] && cmp -s "$d/bin/pgpdump" <(archived bin/pgpdump) &&
        [ "$(stat -c %a "$d/bin/pgpdump")" = 755 ]
    verdict "bin/pgpdump has the archived content and mode 755" $?
    [ "$(cd "$dest" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" = \
        "./pgpdump-1.5 ./pgpdump-1.5/README ./pgpdump-1.5/README.md ./pgpdump-1.5/bin ./pgpdump-1.5/bin/pgpdump ./pgpdump-1.5/setup.py " ]
    verdict "nothing else was extracted" $?
    return $bad
}

# ---------------------------------------------------------------- run

step "prerequisites" install_prerequisites
step "wine prefix" wine_setup
step "examples" examples_reproducible
step "fmt" fmt_check
step "clippy" cargo clippy --workspace --all-targets -- -D warnings
step "test" cargo test --workspace --exclude uncork-tests
step "wasm core" cargo build -p uncork-core --target wasm32-unknown-unknown --release
step "clippy windows" cargo clippy -p uncork-native --target x86_64-pc-windows-gnu --all-targets -- -D warnings
step "test windows" windows_tests
step "wasm build" scripts/build-wasm.sh
step "clippy wasm" clippy_wasm
step "test wasm" test_wasm
step "golden" golden_tests
step "fuzz smoke" fuzz/run.sh smoke
step "readme example" readme_example

summary
