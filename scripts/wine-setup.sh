#!/usr/bin/env bash
# Prepare a project-local Wine prefix in which Rust x86_64-pc-windows-gnu
# executables (tests included) can run.
#
# Wine 8 (Debian 12) lacks bcryptprimitives.dll, from which Rust's std imports
# ProcessPrng; without it every Rust .exe fails to start. We build a tiny stub
# DLL (scripts/wine/bcryptprimitives.c) with mingw and install it into the
# prefix's system32.
#
# Idempotent and quick when everything is already in place. Prints the prefix
# path on its last line of stdout, so callers may do:
#     export WINEPREFIX="$(scripts/wine-setup.sh | tail -n 1)"
#
# Environment:
#   UNCORK_WINEPREFIX   prefix to use (default: <repo>/target/wine-prefix).
#                       A user's own WINEPREFIX is deliberately not reused.
#   CARGO_TARGET_DIR    honoured for the default prefix and the DLL build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac

export WINEPREFIX="${UNCORK_WINEPREFIX:-$target_dir/wine-prefix}"
export WINEDEBUG=-all
export WINEARCH=win64
export DISPLAY=
# No Mono/Gecko install prompts, no desktop menu entries.
export WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe=d"

log() { printf 'wine-setup: %s\n' "$*" >&2; }

for tool in wine wineboot wineserver x86_64-w64-mingw32-gcc; do
    command -v "$tool" >/dev/null 2>&1 || {
        log "missing '$tool' (Debian packages: wine wine64 gcc-mingw-w64-x86-64)"
        exit 1
    }
done

# 1. Build the stub DLL when its sources are newer than the build.
src="$root/scripts/wine/bcryptprimitives.c"
def="$root/scripts/wine/bcryptprimitives.def"
dll_dir="$target_dir/wine-stub"
dll="$dll_dir/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ] || [ "$def" -nt "$dll" ]; then
    log "building $dll"
    mkdir -p "$dll_dir"
    x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s \
        -Wl,--no-insert-timestamp \
        -o "$dll.tmp" "$src" "$def" -ladvapi32
    mv -f "$dll.tmp" "$dll"
fi

# 2. Create the prefix once. wineboot -i initialises it; wineserver -w waits
#    until everything wineboot started has finished writing the registry.
if [ ! -f "$WINEPREFIX/system.reg" ] || [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
    log "initialising Wine prefix $WINEPREFIX (first run takes ~10-30 s)"
    mkdir -p "$WINEPREFIX"
    wineboot -i >/dev/null 2>&1 || true
    wineserver -w
    [ -d "$WINEPREFIX/drive_c/windows/system32" ] || {
        log "wineboot did not create $WINEPREFIX/drive_c/windows/system32"
        exit 1
    }
    # A crashing test must not wait for someone to close a crash dialog.
    wine reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f \
        >/dev/null 2>&1
    wineserver -w
fi

# 3. Install the stub (64-bit system32) when it differs from the installed one.
sys32="$WINEPREFIX/drive_c/windows/system32"
if ! cmp -s "$dll" "$sys32/bcryptprimitives.dll"; then
    log "installing bcryptprimitives.dll into $sys32"
    cp -f "$dll" "$sys32/bcryptprimitives.dll"
fi

printf '%s\n' "$WINEPREFIX"
