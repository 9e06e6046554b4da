"""Does overlapping the writer's fsyncs pay its way? `slodrift.atomic.write_files` on the files of a
1,000-SLO `generate` (gen_scale's spec), with the fsyncs in a pool of N threads against one after
another, the two alternating run by run so the machine's load falls on both alike.

Each run writes every file new into an empty directory (the first `generate`, or one after every file
changed: all are staged and fsynced), then the directory is removed. Prints wall seconds, median (min..max).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import common as c
import gen_scale
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text

from slodrift import atomic


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slos", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, nargs="+", default=[8, 1])
    ap.add_argument("--dir", type=Path, default=c.ROOT / "out" / "bench-fsync")
    args = ap.parse_args()
    spec = load_spec_text("scale.yml", gen_scale.spec(args.slos).encode())
    files = render([spec])
    size = sum(len(v.encode()) for v in files.values())
    print(f"{len(files)} files, {size / 1e6:.0f} MB", file=sys.stderr)
    walls: dict[int, list[float]] = {n: [] for n in args.threads}
    for run in range(args.runs):
        for n in args.threads if run % 2 == 0 else reversed(args.threads):
            shutil.rmtree(args.dir, ignore_errors=True)
            atomic._FSYNC_THREADS = n
            t = time.monotonic()
            atomic.write_files(args.dir, files)
            walls[n].append(time.monotonic() - t)
    shutil.rmtree(args.dir, ignore_errors=True)
    for n, xs in walls.items():
        print(
            f"{n} thread(s): {statistics.median(xs):.2f} s ({min(xs):.2f}..{max(xs):.2f}) over {len(xs)} runs"
        )


if __name__ == "__main__":
    main()
