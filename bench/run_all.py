"""Run every benchmark of slodrift in sequence and print the tables (`make bench`).

    .venv/bin/python bench/run_all.py                 # all four, then the tables
    .venv/bin/python bench/run_all.py --report-only   # tables from bench/results/*.json
    .venv/bin/python bench/run_all.py --only accuracy gen_scale

Heavy parts run one after the other, never together: other people share the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import common as c

RESULTS = c.BENCH / "results"
PARTS = ("eval_cost", "accuracy", "gen_scale", "report_scale")


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def mmm(xs: list[float], digits: int = 3, scale: float = 1.0) -> str:
    lo, med, hi = c.mmm([x * scale for x in xs])
    return f"{med:.{digits}g} ({lo:.{digits}g}..{hi:.{digits}g})"


def reads_raw(tool: str, rule: str) -> bool:
    """Whether a rule of the benchmark reads the raw counters (by its name in the three rule files)."""
    if tool == "slodrift":
        return rule.startswith(c.SLODRIFT_RAW_PREFIXES)
    if tool == "sloth":
        return rule.startswith("slo:sli_error:ratio_rate") and not rule.endswith("30d")
    return rule.startswith("http_requests:") or rule in (
        "SLOMetricAbsent",
        "pyrra_requests:rate5m",
        "pyrra_errors:rate5m",
    )


def eval_cost_tables(res: list[dict[str, object]]) -> str:
    out = [
        "### Rule evaluation cost per SLO (sum of the tool's groups, ms per evaluation: median (min..max))",
        "",
    ]
    rows = []
    for r in res:
        s: dict[str, dict[str, float]] = r["summary"]  # type: ignore[assignment]
        sd, sl, py = s.get("slodrift"), s.get("sloth"), s.get("pyrra")
        rows.append(
            [
                r["r"],
                r["interval"],
                s["slodrift"]["evals"],
                *(f"{t['median_ms']:.1f} ({t['min_ms']:.1f}..{t['max_ms']:.1f})" for t in (sl, py, sd) if t),
                *(f"{int(t['samples'])}" for t in (sl, py, sd) if t),
                f"{sd['median_ms'] / sl['median_ms']:.3f}x" if sd and sl else "n/a",
                f"{sd['median_ms'] / py['median_ms']:.3f}x" if sd and py else "n/a",
            ]
        )
    out.append(
        c.table(
            [
                "R",
                "interval",
                "evals",
                "Sloth ms",
                "Pyrra ms",
                "slodrift ms",
                "Sloth samples",
                "Pyrra samples",
                "slodrift samples",
                "slodrift/Sloth",
                "slodrift/Pyrra",
            ],
            rows,
        )
    )
    out += ["", "### Per group (median ms; samples per evaluation)", ""]
    rows = []
    for r in res:
        groups: dict[str, list[list[float]]] = r["groups"]  # type: ignore[assignment]
        for g, v in sorted(groups.items(), key=lambda kv: (kv[0].split(";")[0], kv[0])):
            tool = Path(g.split(";")[0]).stem
            rows.append(
                [
                    r["r"],
                    tool,
                    g.split(";", 1)[1],
                    mmm([x[0] for x in v], 3, 1e3),
                    fmt(statistics.median([x[1] for x in v])),
                ]
            )
    out.append(c.table(["R", "tool", "group", "ms median (min..max)", "samples"], rows))
    out += [
        "",
        "### Raw reads against the rest (sum over rules of the median per-rule evaluationTime, ms)",
        "",
        "Rules that read the raw counters: slodrift's two per-interval reads; Sloth's 5m..3d ratios; Pyrra's burn rates, "
        "4w increase, absent alert and 5m rates. Everything else reads recorded series.",
        "",
    ]
    rows = []
    for r in res:
        per: dict[str, list[float]] = r["rules"]  # type: ignore[assignment]
        split: dict[str, list[float]] = {}
        for k, v in per.items():
            if not v:
                continue
            tool, _, rule = k.split(";", 2)
            cell = split.setdefault(tool, [0.0, 0.0])
            cell[0 if reads_raw(tool, rule) else 1] += statistics.median(v) * 1e3
        rows.append(
            [
                r["r"],
                *(
                    f"{split[t][0]:.2f} / {split[t][1]:.2f}" if t in split else "n/a"
                    for t in ("sloth", "pyrra", "slodrift")
                ),
            ]
        )
    out.append(c.table(["R", "Sloth raw / rest", "Pyrra raw / rest", "slodrift raw / rest"], rows))
    out += [
        "",
        "### Costliest rules at the largest R (median of Prometheus' per-rule evaluationTime, ms)",
        "",
    ]
    last = res[-1]
    per_rule: dict[str, list[float]] = last["rules"]  # type: ignore[assignment]
    top = sorted(((statistics.median(v) * 1e3, k) for k, v in per_rule.items() if v), reverse=True)[:12]
    out.append(c.table(["ms", "tool", "group", "rule"], [[f"{ms:.2f}", *k.split(";", 2)] for ms, k in top]))
    out += ["", "### Data", ""]
    out.append(
        c.table(
            [
                "R",
                "raw samples",
                "OpenMetrics MB",
                "write s",
                "promtool import s",
                "rules backfill s",
                "raw samples in 3d",
                "slodrift slices in 30d",
            ],
            [
                [
                    r["r"],
                    int(r["samples"]),
                    f"{r['openmetrics_mb']:.0f}",
                    f"{r['write_s']:.1f}",  # type: ignore[index]
                    f"{r['import_s']:.1f}",
                    f"{r['backfill_rules_s']:.1f}",
                    fmt(r["check"]["raw_samples_3d"], 6),  # type: ignore[index]
                    fmt(
                        r["check"].get(
                            "slodrift_slices_30d", r["check"].get("slodrift_errors5m_samples_30d")
                        ),
                        6,
                    ),
                ]
                for r in res
            ],
        )
    )  # type: ignore[index]
    return "\n".join(out)


def accuracy_tables(res: list[dict[str, object]]) -> str:
    out = ["### Long-window SLI: relative error against the exact ratio (median (min..max) over seeds)", ""]
    keyed: dict[tuple[str, str, str], list[dict[str, object]]] = {}
    for run in res:
        for row in run["rows"]:  # type: ignore[attr-defined]
            keyed.setdefault((row["at"], row["window"], row["tool"]), []).append(row)
    rows = []
    for at in dict.fromkeys(k[0] for k in keyed):
        for w in dict.fromkeys(k[1] for k in keyed if k[0] == at):
            cells = [at, w, mmm([float(x["exact"]) for x in keyed[(at, w, "slodrift")]], 4)]  # type: ignore[arg-type]
            for tool in ("slodrift", "slodrift 5m rates (before)", "sloth", "pyrra"):
                xs = keyed.get((at, w, tool))
                cells.append(mmm([100 * float(x["rel_error"]) for x in xs], 3) + " %" if xs else "n/a")  # type: ignore[arg-type]
            rows.append(cells)
    out.append(
        c.table(
            [
                "evaluated at",
                "window",
                "exact error ratio",
                "slodrift",
                "slodrift before (5m rates)",
                "Sloth",
                "Pyrra",
            ],
            rows,
        )
    )
    phases = ", ".join(f"{float(r.get('phase_s', 0)):.2f} s" for r in res)  # type: ignore[arg-type]
    out += [
        "",
        f"seeds: {[r['seed'] for r in res]}; {res[0]['series']} raw series, "
        f"{int(res[0]['history_s']) // 86400} days of 15 s samples, recordings every {res[0]['interval']}, "
        f"evaluations this long after a scrape: {phases}; "
        "errors / requests per seed: "
        + ", ".join(
            f"{r['traffic']['errors']} / {r['traffic']['requests']}"  # type: ignore[index]
            for r in res
        ),
    ]
    return "\n".join(out)


def gen_tables(res: list[dict[str, object]]) -> str:
    rows = [
        [
            r["slos"],
            r["rules"],
            f"{r['rules_mb']:.1f}",
            f"{float(r.get('tests_mb', 0)):.1f}",  # type: ignore[arg-type]
            mmm(r["generate_s"]),
            mmm(r["generate_cpu_s"]) if "generate_cpu_s" in r else "n/a",  # type: ignore[arg-type]
            mmm(r["generate_serial_s"]) if "generate_serial_s" in r else "n/a",  # type: ignore[arg-type]
            f"{max(r['generate_rss_mib']):.0f}",
            mmm(r["check_s"]),
            f"{max(r['check_rss_mib']):.0f}",  # type: ignore[arg-type]
            len(r["generate_s"]),
        ]
        for r in res
    ]  # type: ignore[arg-type]
    cpus = res[0].get("cpus", "?") if res else "?"
    return "\n".join(
        [
            f"### Generator scale (wall s: median (min..max); generate uses {cpus} CPUs, `--jobs 1` one; "
            "peak RSS MiB: max)",
            "",
            c.table(
                [
                    "SLOs",
                    "rules",
                    "rule files MB",
                    "test files MB",
                    "generate s",
                    "generate CPU s",
                    "generate --jobs 1 s",
                    "generate RSS",
                    "promtool check rules s",
                    "check RSS",
                    "runs",
                ],
                rows,
            ),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    if not a.report_only:
        for part in a.only:
            print(f"== {part}", flush=True)
            subprocess.run([sys.executable, str(c.BENCH / f"{part}.py")], check=True, cwd=c.BENCH)
    text = []
    import report_scale

    for part, render in (
        ("eval_cost", eval_cost_tables),
        ("accuracy", accuracy_tables),
        ("gen_scale", gen_tables),
        ("report_scale", report_scale.tables),
    ):
        f = RESULTS / f"{part}.json"
        if f.exists():
            text.append(render(json.loads(f.read_text())))
    report = "\n\n".join(text) + "\n"
    (RESULTS / "tables.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
