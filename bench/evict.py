#!/usr/bin/env python3
"""Drops the page cache of every regular file below a directory (after `sync`, the pages are
clean and the kernel can let them go).

  bench/evict.py DIR

bench/run.sh's disk runs move each run's tree aside instead of deleting it (see there). Kept
in the page cache, those trees fill memory within one input's runs on the large-files inputs
(~36 runs x 320 MB), and then every write must first reclaim cache: a cost that lands on
single-threaded writers and not on uncork's writer thread, so the comparison would measure
the benchmark's leftovers.
"""
import os
import stat
import sys


def main():
    for directory, _, names in os.walk(sys.argv[1]):
        for name in names:
            path = os.path.join(directory, name)
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


if __name__ == "__main__":
    main()
