#!/usr/bin/env python3
"""Turns one input's hyperfine JSON export and peak-RSS readings into a markdown table.

  bench/table.py TITLE RESULTS.json RSS.txt > TABLE.md

RSS.txt holds "NAME KIB" lines. The ratio columns are each command's median wall time over
bsdtar's (below 1.0 is faster than bsdtar) and over the native uncork's (how far the WASI
command and the Node extraction are from the native host); rows whose name starts with
"floor" are not extractors but the machine's floor for the same work (decompression alone,
the tree copied, the planner alone).
"""
import json
import statistics
import sys


def main():
    title, results_path, rss_path = sys.argv[1:4]
    results = json.load(open(results_path))["results"]
    rss = {}
    for line in open(rss_path):
        name, _, kib = line.strip().rpartition(" ")
        if kib.isdigit():
            rss[name.strip()] = int(kib)
    medians = {r["command"]: statistics.median(r["times"]) for r in results}
    base = medians.get("bsdtar")
    native = medians.get("uncork")
    print(f"### {title}\n")
    print("| command | median wall | CPU (user+sys) | ratio to bsdtar | to uncork | peak RSS |")
    print("|---|---|---|---|---|---|")
    for r in results:
        name = r["command"]
        wall = medians[name]
        cpu = r["user"] + r["system"]
        ratio = f"{wall / base:.2f}×" if base else "—"
        to_native = f"{wall / native:.2f}×" if native else "—"
        peak = f"{rss[name] / 1024:.1f} MiB" if name in rss else "—"
        spread = f" ({min(r['times']) * 1e3:.0f}–{max(r['times']) * 1e3:.0f})"
        print(f"| {name} | {wall * 1e3:.0f} ms{spread} | {cpu * 1e3:.0f} ms | {ratio} | {to_native} | {peak} |")
    print()


if __name__ == "__main__":
    main()
