#!/usr/bin/env bash
# Side-by-side extraction benchmark: uncork vs GNU tar, bsdtar (libarchive), Python's tarfile
# (data filter) and unzip, on the same deterministic inputs, into a fresh directory per run,
# alternating commands (hyperfine), on tmpfs and on disk. Prints medians, ratios to bsdtar and
# peak RSS; writes bench/results/*.md.
#
#   bench/run.sh [--quick] [--scaling]
#
# --quick: fewer runs; --scaling: also the many-files input at 4x and 16x (time should grow
# linearly, peak memory stay flat). Needs: hyperfine, bsdtar (libarchive-tools), unzip, python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs=10
scaling=0
for arg in "$@"; do
    case "$arg" in
        --quick) runs=3 ;;
        --scaling) scaling=1 ;;
        *) echo "usage: bench/run.sh [--quick] [--scaling]" >&2; exit 2 ;;
    esac
done
for tool in hyperfine bsdtar unzip python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine libarchive-tools unzip)" >&2; exit 2; }
done

cargo build --release -p uncork-native --quiet
uncork="$root/target/release/uncork"
inputs="$root/bench/inputs"
results="$root/bench/results"
mkdir -p "$inputs" "$results"
[ -f "$inputs/many-files.tar.gz" ] || python3 bench/make-inputs.py "$inputs"
if [ $scaling -eq 1 ]; then
    for n in 4 16; do
        [ -f "$inputs/many-files-x$n.tar.gz" ] || python3 bench/make-inputs.py "$inputs" --scale "$n"
    done
fi

pytar='import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")'

# bench NAME ARCHIVE DESTROOT: every extractor that reads ARCHIVE, into DESTROOT/out.
bench() {
    local name="$1" archive="$2" destroot="$3" out="$3/out"
    local cmds=() names=()
    add() { names+=("$1"); cmds+=("$2"); }
    add uncork "$uncork -q $archive -C $out"
    add bsdtar "mkdir -p $out && bsdtar -xf $archive -C $out"
    case "$archive" in
        *.zip)
            add unzip "unzip -q $archive -d $out" ;;
        *)
            add "gnu-tar" "mkdir -p $out && tar -xf $archive -C $out"
            add "python-tarfile" "python3 -c '$pytar' $archive $out" ;;
    esac
    local args=() i
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    echo
    echo "## $name ($(du -h "$archive" | cut -f1) compressed) into $destroot"
    hyperfine --style basic --warmup 1 --runs "$runs" --prepare "rm -rf $out" \
        --export-markdown "$results/$name.md" "${args[@]}" 2>&1 | grep -vE '^\s*$'
    echo "peak RSS (KiB), one run each:"
    for i in "${!cmds[@]}"; do
        rm -rf "$out"
        printf '  %-16s %s\n' "${names[$i]}" "$(/usr/bin/time -f %M sh -c "${cmds[$i]}" 2>&1 >/dev/null | tail -n 1)"
    done
    rm -rf "$out"
}

tmpfs=/dev/shm/uncork-bench
disk="$root/target/bench-disk"
mkdir -p "$tmpfs" "$disk"
for where in "$tmpfs" "$disk"; do
    tag=$([ "$where" = "$tmpfs" ] && echo tmpfs || echo disk)
    bench "many-files-tar-gz-$tag" "$inputs/many-files.tar.gz" "$where"
    bench "large-files-tar-gz-$tag" "$inputs/large-files.tar.gz" "$where"
    bench "many-files-zip-$tag" "$inputs/many-files.zip" "$where"
    bench "large-files-zip-$tag" "$inputs/large-files.zip" "$where"
done
if [ $scaling -eq 1 ]; then
    for n in 4 16; do
        bench "many-files-x$n-tar-gz-tmpfs" "$inputs/many-files-x$n.tar.gz" "$tmpfs"
    done
fi
rm -rf "$tmpfs" "$disk"
