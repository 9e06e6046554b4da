"""Generator scale: `slodrift generate` and `promtool check rules` on specs of N SLOs.

Each spec has N/10 services of 10 SLOs (alternately an events SLO and a latency SLO, with alerts). Every
command runs as its own child; wall time is measured around it, CPU time and peak memory come from
os.wait4 (that child and the worker processes it waited for: from 40 SLOs on, `generate` renders the
services on one process per core). `generate` writes rules and promtool tests, so the sizes of both are
given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import common as c


def spec(n_slos: int) -> str:
    lines = [
        "version: 1",
        'release: {name: scale, version: v1, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}',
        "defaults: {slo_window: 30d, evaluation_interval: 1m, alerting: {page: {receiver: pager},"
        " ticket: {receiver: chat}}}",
        "services:",
    ]
    per = 10
    for s in range((n_slos + per - 1) // per):
        lines += [
            f"  - name: svc{s:04d}",
            f"    labels: {{team: team{s % 17}}}",
            f"    selector: {{job: svc{s:04d}}}",
            "    slos:",
        ]
        for k in range(min(per, n_slos - s * per)):
            if k % 2 == 0:
                lines += [
                    f"      - name: availability{k}",
                    "        objective: 99.9",
                    f'        sli: {{errors: \'http_requests_total{{code=~"5..",route="/r{k}"}}\','
                    f" total: 'http_requests_total{{route=\"/r{k}\"}}'}}",
                ]
            else:
                lines += [
                    f"      - name: latency{k}",
                    "        objective: 99",
                    "        sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.5}}",
                ]
    return "\n".join(lines) + "\n"


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one child process and the children it waited for."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode() if p.stderr else ""
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def run(sizes: list[int], repeat: int) -> list[dict[str, object]]:
    out = []
    with c.tempdir("slodrift-bench-gen-") as work:
        for n in sizes:
            path = work / f"spec-{n}.yml"
            path.write_text(spec(n))
            gen: list[tuple[float, float, float]] = []
            chk: list[tuple[float, float, float]] = []
            for i in range(repeat):
                dest = work / f"out-{n}-{i}"
                gen.append(measure([str(c.SLODRIFT), "generate", str(path), "--out", str(dest)]))
                files = sorted(str(p) for p in (dest / "rules").glob("*.yml"))
                chk.append(measure(["promtool", "check", "rules", *files]))
                if i:
                    shutil.rmtree(dest)
            rules = 0
            nbytes = 0
            for f in (work / f"out-{n}-0" / "rules").glob("*.yml"):
                text = f.read_text()
                rules += text.count("- record:") + text.count("- alert:")
                nbytes += len(text)
            test_bytes = sum(f.stat().st_size for f in (work / f"out-{n}-0" / "promtool-tests").glob("*.yml"))
            out.append(
                {
                    "slos": n,
                    "rules": rules,
                    "rules_mb": nbytes / 1e6,
                    "tests_mb": test_bytes / 1e6,
                    "cpus": os.cpu_count(),
                    "generate_s": [g[0] for g in gen],
                    "generate_cpu_s": [g[1] for g in gen],
                    "generate_rss_mib": [g[2] for g in gen],
                    "check_s": [x[0] for x in chk],
                    "check_rss_mib": [x[2] for x in chk],
                }
            )
            print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=c.BENCH / "results" / "gen_scale.json")
    a = ap.parse_args()
    res = run(a.sizes, a.repeat)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
