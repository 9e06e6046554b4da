"""Cost of the generated promtool tests: promtool CPU seconds per SLO at 10, 100 and 1,000 SLOs.

The specs are `gen_scale.py`'s (services of 10 SLOs, alternately availability and latency). Every service
of a size has the same shape, so its test files cost promtool the same; the bench runs
`promtool test rules` on every test file of `--services` services of each size (default 2, spread over
the spec), one promtool at a time, and reports the CPU (user + system, from wait4) per SLO of those
services. `--services 0` runs every service (1,000 SLOs: about an hour of promtool).

    .venv/bin/python bench/test_cost.py [--sizes 10 100 1000] [--services 2] [--json out.json]
        [--before PATH/TO/OTHER/slodrift]

With `--before`, the same specs are generated and tested with another build of slodrift too (for
example a worktree of an earlier commit with its own .venv), interleaved, so both figures come from
one run on the same machine.

CPU seconds on a shared machine move by about 2x from one run to the next, so the bench also counts
rule evaluations per SLO, which do not: promtool evaluates every rule of every file a test file loads
at every step of each test group, from time 0 to the group's last check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import common as c
import yaml
from gen_scale import spec


def promtool_cpu(files: list[Path], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `promtool test rules` over `files`."""
    t = time.monotonic()
    p = subprocess.Popen(
        ["promtool", "test", "rules", *[str(f) for f in files]],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert p.stdout is not None
    output = p.stdout.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"promtool test rules failed:\n{output[-3000:]}")
    return time.monotonic() - t, ru.ru_utime + ru.ru_stime


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text))


def rule_evaluations(test_file: Path) -> int:
    """Rule evaluations promtool makes for one test file: the rules of its rule files times the steps
    of each test group (from 0 to its last `eval_time`, every `evaluation_interval`)."""
    doc = yaml.safe_load(test_file.read_text())
    rules = 0
    for rel in doc["rule_files"]:
        rule_doc = yaml.safe_load((test_file.parent / rel).read_text())
        rules += sum(len(g["rules"]) for g in rule_doc["groups"])
    step = _seconds(doc.get("evaluation_interval", "1m"))
    total = 0
    for group in doc["tests"]:
        times = [
            _seconds(t["eval_time"])
            for t in group.get("alert_rule_test", []) + group.get("promql_expr_test", [])
        ]
        total += rules * (int(max(times, default=0) // step) + 1)
    return total


def measure(n_slos: int, services: int, work: Path, slodrift: Path, build: str) -> dict[str, object]:
    path = work / f"spec-{n_slos}.yml"
    path.write_text(spec(n_slos))
    out = work / f"out-{n_slos}-{build}"
    c.run([str(slodrift), "generate", str(path), "--out", str(out)], timeout=1200)
    names = sorted({p.name.split(".")[0] for p in (out / "promtool-tests").glob("svc*.slo*.test.yml")})
    if services and services < len(names):
        names = [names[int(k * len(names) / services)] for k in range(services)]
    wall = cpu = 0.0
    evaluations = 0
    for name in names:
        files = sorted((out / "promtool-tests").glob(f"{name}.slo*.test.yml"))
        w, u = promtool_cpu(files, out / "promtool-tests")
        wall, cpu = wall + w, cpu + u
        evaluations += sum(rule_evaluations(f) for f in files)
    slos = 10 * len(names)
    return {
        "build": build,
        "slos": n_slos,
        "services_tested": len(names),
        "slos_tested": slos,
        "promtool_cpu_s": round(cpu, 2),
        "promtool_wall_s": round(wall, 2),
        "cpu_s_per_slo": round(cpu / slos, 3),
        "rule_evaluations_per_slo": round(evaluations / slos),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--services", type=int, default=2, help="services tested per size (0: all)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--before", type=Path, help="another build's slodrift executable, measured too")
    args = ap.parse_args()
    builds = [("this", c.SLODRIFT)] + ([("before", args.before)] if args.before else [])
    rows = []
    with c.tempdir("slodrift-bench-testcost-") as work:
        for n in args.sizes:
            for build, exe in builds:
                row = measure(n, args.services, work, exe, build)
                rows.append(row)
                print(
                    f"{build:>6} {n:5d} SLOs: {row['slos_tested']} tested, promtool {row['promtool_cpu_s']} s "
                    f"CPU, {row['cpu_s_per_slo']} s CPU per SLO, {row['rule_evaluations_per_slo']} rule "
                    "evaluations per SLO",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
