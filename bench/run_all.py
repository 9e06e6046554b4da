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

import common as c

RESULTS = c.BENCH / "results"
TOOLS = ("slodrift", "sloth", "pyrra")
PARTS = ("steady_cost", "accuracy", "gen_scale", "report_scale")


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def mmm(xs: list[float], digits: int = 3, scale: float = 1.0) -> str:
    lo, med, hi = c.mmm([x * scale for x in xs])
    return f"{med:.{digits}g} ({lo:.{digits}g}..{hi:.{digits}g})"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _ms(v: list[float]) -> str:
    lo, med, hi = v
    return f"{med:.1f} ({lo:.1f}..{hi:.1f})"


def steady_cost_tables(res: list[dict[str, object]]) -> str:
    """Part 1: samples per evaluation (= per minute at 1m) and wall per evaluation at steady state."""
    import steady_cost

    for r in res:
        r["summary"] = steady_cost.summarize(r)  # the check's bounds as the current code has them
    slo = [r for r in res if "r" in r]
    grouped = [r for r in res if "r" not in r]
    out = [
        "### Rule cost per SLO at steady state (99.9 %/30d, 1m evaluation, 30 s scrape; every window full)",
        "",
        "Samples: Prometheus' `totalQueryableSamples` of every rule's query at its group's last measured "
        "evaluation, summed per tool (= samples per minute). ms: the tool's groups' `evaluationTime`, summed "
        "per evaluation, median (min..max). computed: the same from the rules' selectors (series x range / "
        "interval); every rule within its bounds: yes/no.",
        "",
    ]
    rows = []
    for r in slo:
        s: dict[str, dict[str, object]] = r["summary"]  # type: ignore[assignment]
        sd, sl, py = s["slodrift"], s["sloth"], s["pyrra"]
        py_samples = int(py["samples"])  # type: ignore[call-overload]
        py_ms: list[float] = py["wall_ms"]  # type: ignore[assignment]
        sd_n, sl_n = int(sd["samples"]), int(sl["samples"])  # type: ignore[call-overload]
        within = all(bool(v.get("within", True)) for v in s.values())
        rows.append(
            [
                r["r"],
                _n(sd_n),
                _n(sl_n),
                _n(py_samples),
                f"{sd_n / sl_n:.4f}",
                f"{sd_n / py_samples:.4f}",
                _ms(sd["wall_ms"]),  # type: ignore[arg-type]
                _ms(sl["wall_ms"]),  # type: ignore[arg-type]
                _ms(py_ms),
                "yes" if within else "NO",
            ]
        )
    out.append(
        c.table(
            [
                "R",
                "slodrift samples/min",
                "Sloth",
                "Pyrra",
                "slodrift/Sloth",
                "slodrift/Pyrra",
                "slodrift ms",
                "Sloth ms",
                "Pyrra ms",
                "within computed",
            ],
            rows,
        )
    )
    out += [
        "",
        "Prometheus' count against the computation from the selectors (sum over the tool's rules; "
        "absolute differences summed per rule; ranges over the seam between the written history and the live scrapes "
        "may hold one raw sample per series more or fewer):",
        "",
    ]
    out.append(
        c.table(
            ["R", "tool", "Prometheus", "computed", "sum of abs. differences", "every rule within bounds"],
            [
                [
                    r["r"],
                    tool,
                    _n(int(v["samples"])),  # type: ignore[call-overload]
                    _n(float(v["computed"])),  # type: ignore[arg-type]
                    _n(float(v["off"])),  # type: ignore[arg-type]
                    "yes" if v["within"] else "NO",
                ]
                for r in slo
                for tool, v in r["summary"].items()  # type: ignore[attr-defined]
                if tool in TOOLS
            ],
        )
    )
    out += [
        "",
        "Raw reads against the rest (samples per evaluation computed from the selectors: those of the raw "
        "counters `http_requests_total`, and all others, such as recorded series):",
        "",
    ]
    rows = []
    for r in slo:
        split = {t: [0.0, 0.0] for t in TOOLS}
        for x in r["rules"]:  # type: ignore[attr-defined]
            for sel in x["selectors"]:
                split[x["tool"]][0 if sel["name"] == c.METRIC else 1] += float(sel["expected"])
        rows.append([r["r"], *(f"{_n(split[t][0])} / {_n(split[t][1])}" for t in TOOLS)])
    out.append(c.table(["R", *(f"{t} raw / rest" for t in TOOLS)], rows))
    if slo:
        last = slo[-1]
        rules: list[dict[str, object]] = last["rules"]  # type: ignore[assignment]
        sd_rules = sorted(
            (x for x in rules if x["tool"] == "slodrift"),
            key=lambda x: -int(x["samples"]),  # type: ignore[call-overload]
        )
        total = sum(int(x["samples"]) for x in sd_rules)  # type: ignore[call-overload]
        out += [
            "",
            f"### slodrift's costliest rules at R = {last['r']} (samples per evaluation; median rule ms)",
            "",
        ]
        out.append(
            c.table(
                ["samples", "share", "computed", "ms", "rule"],
                [
                    [
                        _n(int(x["samples"])),  # type: ignore[call-overload]
                        f"{100 * int(x['samples']) / total:.1f} %",  # type: ignore[call-overload]
                        _n(float(x["computed"])),  # type: ignore[arg-type]
                        f"{statistics.median(x['wall_s']) * 1e3:.2f}",  # type: ignore[arg-type]
                        f"{x['rule']} ({x['group']})",
                    ]
                    for x in sd_rules[:10]
                ],
            )
        )
        for tool in ("sloth", "pyrra"):
            top = sorted(
                (x for x in rules if x["tool"] == tool),
                key=lambda x: -int(x["samples"]),  # type: ignore[call-overload]
            )[:3]
            out += [
                "",
                f"{tool}'s costliest at R = {last['r']}: "
                + "; ".join(f"`{x['rule']}` {_n(int(x['samples']))}" for x in top),  # type: ignore[call-overload]
            ]
    for r in grouped:
        s = r["summary"]  # type: ignore[assignment]
        groups: dict[str, int] = r["group_counts"]  # type: ignore[assignment]
        out += [
            "",
            "### Grouped SLO (`group_by: [route]`, 2 raw series per route): cost per group at steady state",
            "",
        ]
        rows = []
        for svc, n in groups.items():
            v = s[svc]
            rows.append(
                [
                    n,
                    2 * n,
                    _n(int(v["samples"])),  # type: ignore[call-overload]
                    _n(int(v["samples"]) / n),  # type: ignore[call-overload]
                    _ms(v["wall_ms"]),  # type: ignore[arg-type]
                    f"{float(v['wall_ms'][1]) / n:.2f}",  # type: ignore[index]
                    "yes" if v.get("within") else "NO",
                ]
            )
        out.append(
            c.table(
                [
                    "groups",
                    "raw series",
                    "samples/min",
                    "samples/min per group",
                    "ms per evaluation",
                    "ms per group",
                    "within computed",
                ],
                rows,
            )
        )
    out += ["", "### Data written and checks", ""]
    out.append(
        c.table(
            [
                "case",
                "raw series",
                "samples written",
                "OpenMetrics MB",
                "write s",
                "promtool import s",
                "history wall s",
                "no seam",
                "30d intervals",
                "windows = sum of slices",
            ],
            [
                [
                    r["case"],
                    r["raw_series"],
                    _n(float(r["samples_written"])),  # type: ignore[arg-type]
                    f"{float(r['openmetrics_mb']):.0f}",  # type: ignore[arg-type]
                    f"{float(r['write_s']):.0f}",  # type: ignore[arg-type]
                    f"{float(r['import_s']):.0f}",  # type: ignore[arg-type]
                    f"{float(r['history_wall_s']):.0f}",  # type: ignore[arg-type]
                    "yes" if r.get("seamless") else "no",
                    _intervals(r),
                    _windows(r),
                ]
                for r in res
            ],
        )
    )
    return "\n".join(out)


def _intervals(r: dict[str, object]) -> str:
    ch = r.get("checks", {}).get("sum30d_intervals")  # type: ignore[union-attr]
    if not ch:
        return "n/a"
    return f"{ch['min']:.0f}..{ch['max']:.0f} ({ch['series']} series)"


def _windows(r: dict[str, object]) -> str:
    ch = r.get("checks", {}).get("windows_vs_slices")  # type: ignore[union-attr]
    if not ch:
        return "n/a (sparse history)"
    return "yes" if all(a == b for a, b in ch.values()) else "NO"


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
            f"### Generator scale (wall s: median (min..max); one process on a {cpus}-CPU machine; "
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
        ("steady_cost", steady_cost_tables),
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
