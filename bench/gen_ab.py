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


def run_once(path: Path, spec: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `python -m slodrift generate` with the packages under `path` first (CPU
    from the child's rusage: steadier than wall time when other work shares the machine)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(path)}
    t = time.monotonic()
    p = subprocess.Popen(
        [sys.executable, "-m", "slodrift", "generate", str(spec), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        cwd=out.parent,
    )
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"generate with {path} failed")
    return wall, ru.ru_utime + ru.ru_stime


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
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(a.runs):
            for side in ("old", "new"):
                wall, used = run_once(paths[side], spec, work / "out")
                times[side].append(wall)
                cpu[side].append(used)
    for side, xs in times.items():
        lo, med, hi = c.mmm(xs)
        clo, cmed, chi = c.mmm(cpu[side])
        print(
            f"{side}: wall median {med:.2f} s ({lo:.2f}..{hi:.2f}), CPU median {cmed:.2f} s ({clo:.2f}..{chi:.2f}), "
            f"{len(xs)} runs"
        )
    print(json.dumps({"wall": times, "cpu": cpu}))


if __name__ == "__main__":
    main()
