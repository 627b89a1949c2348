#!/usr/bin/env python3
"""Writes the committed seed corpus (deterministic): small archives exercising each feature."""
import gzip, io, os, tarfile, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

def tar_bytes(entries, fmt):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for name, kind, arg in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, arg
                tar.addfile(info)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, arg
                tar.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
            else:
                info.size, info.mode = len(arg), 0o644 if kind == "file" else 0o4755
                tar.addfile(info, io.BytesIO(arg))
    return raw.getvalue()

CASES = {
    "founding": [("pkg/", "dir", None), ("pkg/README", "sym", "README.md"), ("pkg/README.md", "file", b"# pkg\n")],
    "chain": [("a", "sym", "b"), ("b", "sym", "d/c"), ("d/", "dir", None), ("d/c", "file", b"x"), ("h", "hard", "d/c")],
    "long": [("x" * 150 + "/y" * 20, "file", b"data"), ("l", "sym", "z" * 120)],
    "modes": [("s", "suid", b"#!/bin/sh\n"), ("p", "fifo", None), ("d/", "dir", None)],
    "dup": [("f", "file", b"1"), ("f", "sym", "g"), ("g", "file", b"2"), ("f", "file", b"3")],
}

def write(target, name, data):
    os.makedirs(os.path.join(HERE, "seeds", target), exist_ok=True)
    with open(os.path.join(HERE, "seeds", target, name), "wb") as f:
        f.write(data)

def zip_bytes(entries):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as z:
        for name, kind, arg in entries:
            info = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
            info.create_system = 3
            if kind == "dir":
                info.external_attr = 0o40755 << 16
                z.writestr(info, b"")
            elif kind == "sym":
                info.external_attr = 0o120777 << 16
                z.writestr(info, arg.encode())
            elif isinstance(arg, bytes):
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, arg * 20)
    return raw.getvalue()

for case, entries in CASES.items():
    for fmt, tag in [(tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")]:
        try:
            data = tar_bytes(entries, fmt)
        except ValueError:
            continue  # ustar cannot hold long names
        write("extract_tar_gz", f"{case}-{tag}.tar", data)
        write("extract_any", f"{case}-{tag}.tar", data)
    write("extract_any", f"{case}.tar.gz", gzip.compress(tar_bytes(entries, tarfile.PAX_FORMAT), mtime=0))
    z = zip_bytes(entries)
    write("extract_zip", f"{case}.zip", z)
    write("extract_any", f"{case}.zip", z)

for i, name in enumerate(["a/b/c", "/etc/passwd", "../x", "C:\\x", "a/./b//c/", "CON.txt", "x" * 300, "é/e\u0301"]):
    write("paths", f"path{i}", name.encode())
