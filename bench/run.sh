#!/usr/bin/env bash
# Side-by-side extraction benchmark: uncork vs bsdtar (libarchive), GNU tar, Python's tarfile
# (data filter) and unzip, on the same deterministic inputs, into a fresh directory per run,
# alternating commands (hyperfine), on tmpfs and on disk. Prints, per input, the median wall
# time, CPU time, ratio to bsdtar and peak RSS of every command, beside the machine's floor for
# the same work; writes bench/results/*.md (and the hyperfine JSON exports).
#
#   bench/run.sh [--quick | --runs N] [--scaling] [--wasm] [--codecs] [--no-wheel] [--no-disk]
#                [--only PATTERN]
#
# --quick     3 runs a command instead of 10 (--runs N: N)
# --scaling   also the many-files input at 4x and 16x (tmpfs): time should grow linearly,
#             peak memory stay flat
# --wasm      also the WASI command under wasmtime and the planner under Node (needs
#             scripts/build-wasm.sh and the uncork-wasm-run runner built)
# --codecs    also the many-files tar compressed with xz, bzip2 and zstd (tmpfs): uncork's
#             pure-Rust decoders against the peers' C ones (needs zstd, xz, bzip2)
# --no-wheel  skip the real wheel (paddlepaddle 2.6.2, 126 MB, 2,478 files), which is fetched
#             from PyPI once and checked against its sha256
# --no-disk   tmpfs only
# --only P    only the inputs whose table name contains P (many-files-zip-disk, -tmpfs, x16)
#
# Floors (rows named floor-*): floor-inflate decompresses the tar.gz into nothing with the
# inflate uncork uses; floor-plan is uncork's core alone (decompress, parse, plan) into a host
# that discards everything; floor-copy is `cp -r` of the extracted tree, the kernel's cost of
# creating the same files from data already in memory. With --wasm, floor-wasm-plan and
# floor-node-plan are the planner component alone (no file written) under wasmtime and under
# Node: the floor of the WASI command and of the Node extraction. The disk runs need root,
# mkfs.ext4 and losetup (a new filesystem per input). Needs: hyperfine, bsdtar
# (libarchive-tools), unzip, python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs=10 scaling=0 wasm=0 wheel=1 disk=1 codecs=0 only=""
while [ $# -gt 0 ]; do
    arg="$1"
    shift
    case "$arg" in
        --quick) runs=3 ;;
        --runs) runs="${1:?--runs needs a number}"; shift ;;
        --scaling) scaling=1 ;;
        --wasm) wasm=1 ;;
        --no-wheel) wheel=0 ;;
        --no-disk) disk=0 ;;
        --codecs) codecs=1 ;;
        --only) only="${1:?--only needs a pattern}"; shift ;;
        *) echo "usage: bench/run.sh [--quick | --runs N] [--scaling] [--wasm] [--codecs] [--no-wheel] [--no-disk] [--only PATTERN]" >&2; exit 2 ;;
    esac
done
tools=(hyperfine bsdtar unzip python3)
[ $codecs -eq 1 ] && tools+=(zstd xz bzip2)  # GNU tar runs them; make-inputs.py runs zstd
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine libarchive-tools unzip zstd xz-utils bzip2)" >&2; exit 2; }
done

# The disk runs (if any input of theirs is selected) need a fresh filesystem per input: root,
# mkfs.ext4 and losetup, and room on the disk for every tree one input leaves behind: up to 8
# commands x (runs + 2) trees of up to 460 MB (the wheel) and 8,000 files (many-files).
fs_gib=$(( (runs + 2) * 8 * 460 / 1024 + 4 ))
fs_inodes=$(( (runs + 2) * 8 * 9000 + 65536 ))
if [ $disk -eq 1 ]; then
    disk=0
    for n in many-files-tar-gz large-files-tar-gz many-files-zip large-files-zip wheel; do
        [[ "$n-disk" == *"$only"* ]] && disk=1
    done
fi
if [ $disk -eq 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null || ! command -v losetup >/dev/null; then
        echo "bench: the disk runs need root, mkfs.ext4 and losetup (a fresh filesystem per input); --no-disk skips them" >&2
        exit 2
    fi
    free_gib=$(( $(df --output=avail -k "$root" 2>/dev/null | tail -n 1 || echo 0) / 1048576 ))
    if [ "$free_gib" -lt "$fs_gib" ]; then
        echo "bench: the disk runs need ${fs_gib} GiB free under target/ at --runs $runs (${free_gib} GiB free)" >&2
        exit 2
    fi
fi

cargo build --release --quiet -p uncork-native
cargo build --release --quiet -p uncork-core --example plan_null --example inflate_null
uncork="$root/target/release/uncork"
examples="$root/target/release/examples"
runner="$root/target/release/uncork-wasm-run"
if [ $wasm -eq 1 ] && [ ! -x "$runner" ]; then
    echo "bench: --wasm needs scripts/build-wasm.sh and cargo build --release --manifest-path wasm/runner/Cargo.toml --target-dir target" >&2
    exit 2
fi
inputs="$root/bench/inputs"
results="$root/bench/results"
mkdir -p "$inputs" "$results"
[ -f "$inputs/many-files.tar.gz" ] || python3 bench/make-inputs.py "$inputs"
if [ $codecs -eq 1 ] && [ ! -f "$inputs/many-files.tar.zst" ]; then
    python3 bench/make-inputs.py "$inputs" --codecs
fi
if [ $scaling -eq 1 ]; then
    for n in 4 16; do
        [ -f "$inputs/many-files-x$n.tar.gz" ] || python3 bench/make-inputs.py "$inputs" --scale "$n"
    done
fi
wheel_name=paddlepaddle-2.6.2-cp311-cp311-manylinux1_x86_64.whl
wheel_sha256=b090db204af19c0b1c187a72a2694faa008c22a4405942e8ea3946eae222be33
if [ $wheel -eq 1 ] && [ ! -f "$inputs/$wheel_name" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
        --platform manylinux1_x86_64 paddlepaddle==2.6.2 -d "$inputs" \
        || { echo "bench: could not fetch the wheel from PyPI; skipping it"; wheel=0; }
fi
if [ $wheel -eq 1 ]; then
    echo "$wheel_sha256  $inputs/$wheel_name" | sha256sum --check --quiet \
        || { echo "bench: $wheel_name does not match its sha256" >&2; exit 1; }
fi

pytar='import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")'

# fresh_fs DIR: a new, empty ext4 (without a journal, like this VM's disk) mounted at DIR,
# backed by target/bench-fs.img on the disk through a loop device doing direct I/O (so the
# image's own pages are not cached twice). Needs root.
fresh_fs() {
    drop_fs "$1"
    # Sparse, sized for every tree an input leaves (fs_gib, fs_inodes); inode tables are
    # written now rather than by a background thread during the runs.
    truncate -s "${fs_gib}G" "$fs_image"
    mkfs.ext4 -q -F -O ^has_journal -N "$fs_inodes" -E lazy_itable_init=0,lazy_journal_init=0 "$fs_image"
    sync
    mkdir -p "$1"
    local dev
    dev="$(losetup --direct-io=on -f --show "$fs_image")"
    mount "$dev" "$1" || { losetup -d "$dev"; return 1; }
}

# drop_fs DIR: unmounts what fresh_fs mounted at DIR and detaches its loop device (nothing if
# it is not mounted); never fails, so it can run from the EXIT trap.
drop_fs() {
    local dev
    while mountpoint -q "$1"; do
        dev="$(findmnt -n -o SOURCE --target "$1" | tail -n 1)"
        umount "$1" || break
        case "$dev" in /dev/loop*) losetup -d "$dev" 2>/dev/null || true ;; esac
    done
    rm -f "$fs_image"
}

# bench NAME ARCHIVE DESTROOT [disk]: every extractor that reads ARCHIVE, into DESTROOT/out.
bench() {
    local name="$1" archive="$2" destroot="$3" where="${4:-tmpfs}" out="$3/out" ref="$3/ref"
    [[ "$name" == *"$only"* ]] || return 0
    local prepare="rm -rf $out" trash="$3/trash"
    if [ "$where" = disk ]; then
        # On disk, each input gets a new, empty filesystem (fresh_fs), and within an input a
        # run's tree is moved aside, never deleted. ext4 without a journal (as on these VMs)
        # will not reuse an inode freed in the last minute, five more while its inode table is
        # dirty, and scans past every such inode on each create: deleting trees during a
        # benchmark made file creation slower run after run for every tool (uncork's
        # many-files extraction went 0.08 s -> 1.7 s over six rm -rf cycles, all of it in
        # ext4's recently_deleted()), and trees deleted minutes earlier still made one whole
        # input 3-5x slower for the tools that ran first. That is the benchmark's history,
        # not extraction. Each run starts with nothing dirty (`sync`); the moved tree's pages
        # are dropped from the cache (bench/evict.py says why).
        fresh_fs "$destroot"
        mkdir -p "$trash"
        prepare="mkdir -p $trash && if [ -e $out ]; then t=$trash/\$(date +%s%N) && mv $out \$t && sync && python3 $root/bench/evict.py \$t; fi; sync"
    fi
    local cmds=() names=()
    add() { names+=("$1"); cmds+=("$2"); }
    add uncork "$uncork -q $archive -C $out"
    add bsdtar "mkdir -p $out && bsdtar -xf $archive -C $out"
    case "$archive" in
        *.zip | *.whl)
            add unzip "unzip -q $archive -d $out" ;;
        *)
            add gnu-tar "mkdir -p $out && tar -xf $archive -C $out"
            # Python's tarfile reads no zstd before 3.14.
            if [[ "$archive" != *.tar.zst ]] || python3 -c 'import compression.zstd' 2>/dev/null; then
                add python-tarfile "python3 -c '$pytar' $archive $out"
            fi ;;
    esac
    if [ $wasm -eq 1 ]; then
        add uncork-wasi "$runner wasi --dir $destroot::/d --dir $(dirname "$archive")::/in -- -q /in/$(basename "$archive") -C /d/out"
        add uncork-node "node $root/wasm/js/uncork.mjs $archive -C $out"
        if [ "$where" = tmpfs ]; then  # they write nothing: the disk would not change them
            add floor-wasm-plan "$runner plan $archive --null"
            add floor-node-plan "node $root/bench/node-plan.mjs $archive"
        fi
    fi
    case "$archive" in
        *.tar.gz) add floor-inflate "$examples/inflate_null $archive" ;;
    esac
    add floor-plan "$examples/plan_null $archive"
    rm -rf "$ref" && "$uncork" -q "$archive" -C "$ref"
    add floor-copy "cp -r $ref $out"
    local args=() i
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    echo
    echo "## $name ($(du -h "$archive" | cut -f1) compressed) into $destroot"
    hyperfine --style basic --warmup 1 --runs "$runs" --prepare "$prepare" \
        --export-json "$results/$name.json" "${args[@]}" 2>&1 | grep -E 'Benchmark|Time|Range' || true
    : > "$results/$name.rss"
    for i in "${!cmds[@]}"; do
        rm -rf "$out"
        echo "${names[$i]} $(/usr/bin/time -f %M sh -c "${cmds[$i]}" 2>&1 >/dev/null | tail -n 1)" >> "$results/$name.rss"
    done
    if [ "$where" = disk ]; then
        drop_fs "$destroot"
    else
        rm -rf "$out" "$ref" "$trash"
    fi
    python3 bench/table.py "$name into $destroot" "$results/$name.json" "$results/$name.rss" \
        | tee "$results/$name.md"
}

# run_all DESTROOT tmpfs|disk
run_all() {
    bench "many-files-tar-gz-$2" "$inputs/many-files.tar.gz" "$1" "$2"
    bench "large-files-tar-gz-$2" "$inputs/large-files.tar.gz" "$1" "$2"
    bench "many-files-zip-$2" "$inputs/many-files.zip" "$1" "$2"
    bench "large-files-zip-$2" "$inputs/large-files.zip" "$1" "$2"
    if [ $wheel -eq 1 ]; then bench "wheel-$2" "$inputs/$wheel_name" "$1" "$2"; fi
}

tmpfs=/dev/shm/uncork-bench
disk_dir="$root/target/bench-disk"
fs_image="$root/target/bench-fs.img"
mkdir -p "$tmpfs"
run_all "$tmpfs" tmpfs
if [ $scaling -eq 1 ]; then
    for n in 4 16; do
        bench "many-files-x$n-tar-gz-tmpfs" "$inputs/many-files-x$n.tar.gz" "$tmpfs"
    done
fi
if [ $codecs -eq 1 ]; then
    for c in xz bz2 zst; do
        bench "many-files-tar-$c-tmpfs" "$inputs/many-files.tar.$c" "$tmpfs"
    done
fi
if [ $disk -eq 1 ]; then
    # Each run starts with nothing dirty (sync in the preparation), so one run's writeback
    # does not land in the next one's time; the run's own writeback happens after it exits,
    # as it does for a user.
    trap 'drop_fs "$disk_dir"' EXIT
    run_all "$disk_dir" disk
    drop_fs "$disk_dir"
    rmdir "$disk_dir" 2>/dev/null || true
fi
rm -rf "$tmpfs"
echo
echo "tables: $results/*.md"
