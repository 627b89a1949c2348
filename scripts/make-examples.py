#!/usr/bin/env python3
"""Generate the example archives under examples/, deterministically.

They reproduce uncork's founding case (see DESIGN.md): the Python sdist
pgpdump-1.5.tar.gz stores `pgpdump-1.5/README`, a symlink to `README.md`,
*before* `README.md` itself. An extractor that sets a mode on each entry as it
goes follows the dangling link and fails; one that skips links on Windows
silently loses README.

Both archives hold the same entries in the same order:

    pgpdump-1.5/              directory, 0755
    pgpdump-1.5/README        symlink -> README.md (stored first)
    pgpdump-1.5/README.md     regular file, 0644
    pgpdump-1.5/setup.py      regular file, 0644
    pgpdump-1.5/bin/pgpdump   regular file, 0755 (its parent has no entry of its own)

Usage: scripts/make-examples.py [OUTPUT_DIR]   (default: <repo>/examples)

Python stdlib only. Fixed mtimes, uid/gid 0, empty uname/gname, gzip mtime 0
and no gzip file name: running it again produces byte-identical files.
"""

from __future__ import annotations

import gzip
import io
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = "pgpdump-1.5"
# 2014-01-01T00:00:00Z, for every entry in both archives.
MTIME = 1388534400
ZIP_DATE_TIME = (2014, 1, 1, 0, 0, 0)

README_MD = b"""\
# pgpdump (example)

A stand-in for the Python package pgpdump 1.5, whose sdist stores
`README` as a symlink to this file *before* this file.

uncork extracts it the same way everywhere: the link is made after
every regular file, or replaced by a copy of this file where links
cannot be made (and the report says so).
"""

SETUP_PY = b"""\
from setuptools import setup

setup(
    name="pgpdump",
    version="1.5",
    description="Example package for uncork's founding case",
    packages=[],
    scripts=["bin/pgpdump"],
)
"""

BIN_PGPDUMP = b"""\
#!/bin/sh
# Example executable: extracted with mode 0755.
echo "pgpdump 1.5 (uncork example)"
"""

# (name, kind, mode, payload); payload is the link target for symlinks.
ENTRIES: list[tuple[str, str, int, bytes]] = [
    (f"{ROOT}/", "dir", 0o755, b""),
    (f"{ROOT}/README", "symlink", 0o777, b"README.md"),
    (f"{ROOT}/README.md", "file", 0o644, README_MD),
    (f"{ROOT}/setup.py", "file", 0o644, SETUP_PY),
    (f"{ROOT}/bin/pgpdump", "file", 0o755, BIN_PGPDUMP),
]


def make_tar() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, mode, payload in ENTRIES:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = MTIME
            info.mode = mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload.decode()
                tar.addfile(info)
            else:
                info.type = tarfile.REGTYPE
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    out = io.BytesIO()
    # filename="" leaves the optional FNAME field out; mtime=0 fixes the header.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def make_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, mode="w") as zf:
        for name, kind, mode, payload in ENTRIES:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = 3  # made by Unix: external_attr holds st_mode
            if kind == "dir":
                info.external_attr = ((stat.S_IFDIR | mode) << 16) | 0x10  # MS-DOS dir bit
                info.compress_type = zipfile.ZIP_STORED
            elif kind == "symlink":
                info.external_attr = (stat.S_IFLNK | mode) << 16
                info.compress_type = zipfile.ZIP_STORED  # data is the target, as Info-ZIP does
            else:
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, payload, compress_type=info.compress_type, compresslevel=9)
    return out.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo = Path(__file__).resolve().parent.parent
    out_dir = Path(argv[1]) if len(argv) == 2 else repo / "examples"
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, data in (
        ("pgpdump-like.tar.gz", make_tar()),
        ("pgpdump-like.zip", make_zip()),
    ):
        path = out_dir / file_name
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
