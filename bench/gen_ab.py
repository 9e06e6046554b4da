"""Two versions of `slodrift generate` on the same spec, alternately, in the same minutes.

The machines this runs on drift in speed by tens of percent from minute to minute, so comparing a change
means running both versions interleaved: `--old` is another checkout of slodrift (a `git worktree`), run
with this checkout's virtual environment and PYTHONPATH pointing at its packages laid out as installed.

    git worktree add /tmp/slodrift-old <commit>
    .venv/bin/python bench/gen_ab.py --old /tmp/slodrift-old --slos 1000 --runs 9
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common as c
import gen_scale


def installed_layout(tree: Path, dest: Path) -> Path:
    """`tree`'s packages laid out as installed (`slodrift/`, with `generator/`, `report/` and `exporter/`
    inside it), as symlinks under `dest`; a directory to put first on PYTHONPATH."""
    pkg = dest / "slodrift"
    pkg.mkdir(parents=True)
    for entry in (tree / "slodrift").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name in ("generator", "report", "exporter"):
        (pkg / name).symlink_to(tree / name)
    return dest


def run_once(path: Path, spec: Path, out: Path) -> float:
    """Wall seconds of one `python -m slodrift generate` with the packages under `path` first."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(path)}
    t = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "slodrift", "generate", str(spec), "--out", str(out)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=out.parent,
    )
    return time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", type=Path, required=True, help="checkout of the version to compare with")
    ap.add_argument("--new", type=Path, default=c.BENCH.parent, help="checkout of the new version (this one)")
    ap.add_argument("--slos", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    with c.tempdir("slodrift-bench-ab-") as work:
        spec = work / "spec.yml"
        spec.write_text(gen_scale.spec(a.slos))
        paths = {
            side: installed_layout(tree.resolve(), work / side)
            for side, tree in (("old", a.old), ("new", a.new))
        }
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(a.runs):
            for side in ("old", "new"):
                times[side].append(run_once(paths[side], spec, work / "out"))
    for side, xs in times.items():
        lo, med, hi = c.mmm(xs)
        print(f"{side}: median {med:.2f} s ({lo:.2f}..{hi:.2f}), {len(xs)} runs")
    print(json.dumps(times))


if __name__ == "__main__":
    main()
