#!/usr/bin/env python3
"""Deterministic benchmark inputs (same bytes on every run and machine).

  many-files.tar.gz  ~64 MB uncompressed, ~7,700 files in ~400 directories, source-like text,
                     shaped like a large Python sdist (numpy); plus many-files.zip
  large-files.tar.gz ~320 MB uncompressed in 5 files of mixed compressibility; plus .zip

Usage: bench/make-inputs.py OUTDIR [--scale N]   (N multiplies the many-files input)
"""
import argparse, gzip, io, os, random, tarfile, zipfile

def words(rng, n):
    vocab = ["def", "return", "self", "import", "numpy", "array", "if", "else", "for", "in",
             "dtype", "shape", "axis", "None", "True", "False", "0", "1", "x", "y", "value",
             "# comment", "class", "raise", "ValueError", "np.", "float64", "int32", "(", ")"]
    out = []
    size = 0
    while size < n:
        line = " ".join(rng.choice(vocab) for _ in range(rng.randint(3, 14))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()[:n]

def many_files(rng, scale):
    entries = []
    for d in range(400 * scale):
        top = f"pkg-1.0/src/mod{d // 40:03d}/sub{d % 40:02d}"
        entries.append((top, None))
        for f in range(19):
            size = int(rng.lognormvariate(8.4, 1.1))
            entries.append((f"{top}/file{f:02d}.py", words(rng, min(size, 600_000))))
    return entries

def large_files(rng):
    entries = [("big", None)]
    for i in range(5):
        n = 64 * 1024 * 1024
        if i % 2 == 0:
            data = words(rng, n)
        else:
            data = bytes(rng.getrandbits(8) for _ in range(n // 64)) * 64
        entries.append((f"big/blob{i}.bin", data))
    return entries

def write_tar_gz(path, entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            info.uname = info.gname = ""
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as out:
        out.write(gzip.compress(raw.getvalue(), compresslevel=6, mtime=0))
    return raw.tell()

def write_zip(path, entries):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name + ("/" if data is None else ""), date_time=(2023, 11, 14, 22, 13, 20))
            info.create_system = 3
            info.external_attr = ((0o40755 if data is None else 0o100644) << 16)
            info.compress_type = zipfile.ZIP_STORED if data is None else zipfile.ZIP_DEFLATED
            z.writestr(info, b"" if data is None else data)

def main():
    parser = argparse.ArgumentParser(description="Writes uncork's benchmark inputs, the same "
                                     "bytes on every run and machine.")
    parser.add_argument("outdir", help="where the inputs go (created if missing)")
    parser.add_argument("--scale", type=int, default=1, metavar="N",
                        help="multiply the many-files input by N (only it is written)")
    args = parser.parse_args()
    out, scale = args.outdir, args.scale
    if scale < 1:
        parser.error("--scale must be 1 or more")
    os.makedirs(out, exist_ok=True)
    suffix = "" if scale == 1 else f"-x{scale}"
    entries = many_files(random.Random(1), scale)
    size = write_tar_gz(f"{out}/many-files{suffix}.tar.gz", entries)
    print(f"many-files{suffix}.tar.gz: {len(entries)} entries, {size / 1e6:.1f} MB uncompressed")
    if scale == 1:
        write_zip(f"{out}/many-files.zip", entries)
        entries = large_files(random.Random(2))
        size = write_tar_gz(f"{out}/large-files.tar.gz", entries)
        print(f"large-files.tar.gz: {len(entries)} entries, {size / 1e6:.1f} MB uncompressed")
        write_zip(f"{out}/large-files.zip", entries)

if __name__ == "__main__":
    main()
