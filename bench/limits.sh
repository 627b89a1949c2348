#!/usr/bin/env bash
# bench/limits.sh: memory and amplification at the limits, side by side with GNU tar and bsdtar.
#
#   1. Undo journal (issue 18 item 4): a tar.gz of 100,000 files under ~3.75 KB paths,
#      extracted into an existing empty directory (the journal's case) and into a new one,
#      on tmpfs. Peak RSS from /usr/bin/time.
#   2. Copy fallback (item 5): a tar of 4 levels of 8 links to directories (39 entries, no file
#      data) with --symlinks copy: entries on disk, exit status, time.
#
# Usage: bench/limits.sh [UNCORK]   (default target/release/uncork, built if missing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
uncork="${1:-$root/target/release/uncork}"
[ -x "$uncork" ] || cargo build --release --quiet -p uncork-native
work="$(mktemp -d /dev/shm/uncork-limits.XXXXXX)"
trap 'rm -rf "$work"' EXIT
inputs="$root/bench/inputs"
mkdir -p "$inputs"

long="$inputs/long-paths.tar.gz"
[ -f "$long" ] || python3 - "$long" <<'PY'
import io, sys, tarfile
prefix = "/".join("d%02d_" % i + "x" * 120 for i in range(30))  # 3,749 bytes
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT, compresslevel=1) as t:
    for i in range(100_000):
        info = tarfile.TarInfo(f"{prefix}/f{i:06d}")
        info.size = 4
        info.mtime = 1_700_000_000
        t.addfile(info, io.BytesIO(b"abcd"))
PY

fanout="$inputs/link-fanout.tar"
[ -f "$fanout" ] || python3 - "$fanout" <<'PY'
import io, sys, tarfile
levels, fan = 4, 8
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    def add(name, kind, target=""):
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mtime = kind, target, 1_700_000_000
        info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        t.addfile(info, io.BytesIO(b""))
    add("l0/", tarfile.DIRTYPE)
    add("l0/e/", tarfile.DIRTYPE)
    add("l0/empty", tarfile.REGTYPE)
    for level in range(1, levels + 1):
        add(f"l{level}/", tarfile.DIRTYPE)
        for i in range(fan):
            add(f"l{level}/s{i}", tarfile.SYMTYPE, f"../l{level - 1}")
PY

peak() { # peak LABEL DEST-KIND COMMAND...
    local label="$1" kind="$2"
    shift 2
    rm -rf "$work/out"
    [ "$kind" = existing ] && mkdir "$work/out"
    /usr/bin/time -f "%e %M %x" -o "$work/time" "$@" >/dev/null 2>&1 || true
    read -r secs kib code < <(tail -n 1 "$work/time")
    printf '| %s | %s | %s s | %.1f MiB | %s |\n' "$label" "$kind" "$secs" "$(echo "$kib/1024" | bc -l)" "$code"
}

echo "### Undo journal: $(basename "$long") (100,000 files, ~3.75 KB paths), tmpfs"
echo
echo "| command | destination | wall | peak RSS | exit |"
echo "|---|---|---|---|---|"
for kind in existing new; do
    peak uncork "$kind" "$uncork" "$long" -C "$work/out" -q
    peak "GNU tar" "$kind" sh -c "mkdir -p '$work/out' && exec tar -xzf '$long' -C '$work/out'"
    peak bsdtar "$kind" sh -c "mkdir -p '$work/out' && exec bsdtar -xzf '$long' -C '$work/out'"
done

echo
echo "### Copy fallback: $(basename "$fanout") (39 entries, 4 levels of 8 links to directories)"
echo
echo "| command | entries on disk | wall | exit |"
echo "|---|---|---|---|"
for budget in default 10000; do
    rm -rf "$work/out"
    args=(--symlinks copy)
    [ "$budget" = default ] || args+=(--max-entries "$budget")
    /usr/bin/time -f "%e %x" -o "$work/time" "$uncork" "$fanout" -C "$work/out" -q "${args[@]}" >/dev/null 2>&1 || true
    read -r secs code < <(tail -n 1 "$work/time")
    entries=$( [ -d "$work/out" ] && find "$work/out" -mindepth 1 | wc -l || echo 0)
    label="uncork --symlinks copy"
    [ "$budget" = default ] || label="$label --max-entries $budget"
    echo "| $label | $entries | $secs s | $code |"
done
rm -rf "$work/out" && mkdir "$work/out"
/usr/bin/time -f "%e %x" -o "$work/time" bsdtar -xf "$fanout" -C "$work/out" >/dev/null 2>&1 || true
read -r secs code < <(tail -n 1 "$work/time")
echo "| bsdtar (real links) | $(find "$work/out" -mindepth 1 | wc -l) | $secs s | $code |"
