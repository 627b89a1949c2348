#!/usr/bin/env python3
"""Deterministic benchmark inputs (same bytes on every run and machine, but for --codecs: see
there).

  many-files.tar.gz  ~64 MB uncompressed, 7,600 files in 400 directories, source-like text,
                     shaped like a large Python sdist (numpy); plus many-files.zip
  large-files.tar.gz ~320 MB uncompressed in 5 files of mixed compressibility; plus .zip

  --codecs           many-files.tar.{xz,bz2,zst}: the same tar, compressed otherwise (xz and
                     bzip2 by Python's modules, zstd -3 by the zstd command: the same bytes for
                     the same liblzma, libbz2 and zstd versions)

Usage: bench/make-inputs.py OUTDIR [--scale N | --codecs]   (N multiplies the many-files input)
"""
import argparse, bz2, gzip, io, lzma, os, random, subprocess, tarfile, zipfile

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

def write_codecs(out):
    """The many-files tar compressed with xz, bzip2 and zstd: for comparing decoders."""
    with gzip.open(f"{out}/many-files.tar.gz", "rb") as f:
        tar = f.read()
    with open(f"{out}/many-files.tar.xz", "wb") as f:
        f.write(lzma.compress(tar, preset=6))
    with open(f"{out}/many-files.tar.bz2", "wb") as f:
        f.write(bz2.compress(tar, 9))
    subprocess.run(["zstd", "-q", "-f", "-3", "-o", f"{out}/many-files.tar.zst"], input=tar,
                   check=True)
    print(f"many-files.tar.{{xz,bz2,zst}}: {len(tar) / 1e6:.1f} MB of tar each")

def main():
    parser = argparse.ArgumentParser(description="Writes uncork's benchmark inputs, the same "
                                     "bytes on every run and machine.")
    parser.add_argument("outdir", help="where the inputs go (created if missing)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--scale", type=int, default=1, metavar="N",
                       help="multiply the many-files input by N (only it is written)")
    which.add_argument("--codecs", action="store_true",
                       help="write many-files.tar.{xz,bz2,zst} from OUTDIR/many-files.tar.gz")
    args = parser.parse_args()
    out, scale = args.outdir, args.scale
    if scale < 1:
        parser.error("--scale must be 1 or more")
    if args.codecs:
        if not os.path.isfile(f"{out}/many-files.tar.gz"):
            parser.error(f"--codecs reads {out}/many-files.tar.gz: write it first (without --codecs)")
        write_codecs(out)
        return
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
