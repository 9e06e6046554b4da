"""Long-window accuracy: each tool's recorded SLI against the exact error ratio of the raw counters.

Bursty synthetic traffic (quiet night, busy day, a 20-minute burst of 25 % errors at 03:00, a quiet hour),
31 days of 15 s samples (so every window, 30d included, is full at both evaluation times), is backfilled
as TSDB blocks. slodrift's recordings that its windows are built from (the per-interval
events, the 2..64-slice blocks and the open block) are backfilled with `slodrift backfill`, which
evaluates the generated rules level by level with Prometheus itself, every minute on multiples of the
interval; the scrapes are shifted against that grid by a few seconds per seed (never on it), as in
production. Sloth's 5m ratio and, for comparison, the 5m rates slodrift summed two designs ago are
backfilled with `promtool tsdb create-blocks-from rules`.

Each tool's long-window rule expression, taken verbatim from its rule file, is evaluated as an instant
query at a timestamp of slodrift's recording grid: that is the value the rule records then (for
slodrift, the window's recorded events `slodrift:sli_events:sum<W>`, whose error / total is what
`slodrift:sli_error:ratio_rate<W>` records). The exact value is errors / requests over (t - W, t] summed
from the raw counters. (With `--days` under 31 the 30d window is not full; its exact value is then
what slodrift has recorded: from one interval before its first backfilled evaluation.)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import common as c

HISTORY = 31 * 86400  # a full 30d window at every evaluation time, plus a day
INTERVAL = "1m"  # rule evaluation interval of the backfilled recordings (Sloth's and slodrift's default)
R = 12  # 3 instances x 4 codes
# slodrift before per-interval events: 5m rates recorded every interval, summed over the window.
PREVIOUS = {
    "bench:previous_errors:rate5m": f'sum(rate({c.METRIC}{{job="{c.JOB}",code=~"5.."}}[5m]))',
    "bench:previous_requests:rate5m": f'sum(rate({c.METRIC}{{job="{c.JOB}"}}[5m]))',
}


def exprs(docs: dict[str, dict[str, object]]) -> dict[str, dict[str, str]]:
    """window -> tool -> PromQL giving that tool's recorded error ratio."""
    sd, sl, py = docs["slodrift"], docs["sloth"], docs["pyrra"]

    def previous(w: str) -> str:
        return f"sum_over_time(bench:previous_errors:rate5m[{w}]) / sum_over_time(bench:previous_requests:rate5m[{w}])"

    return {
        "1d": {
            "slodrift": c.rule_expr(sd, "slodrift:sli_events:sum1d"),
            "slodrift 5m rates (before)": previous("1d"),
            "sloth": c.rule_expr(sl, "slo:sli_error:ratio_rate1d"),
            "pyrra": c.rule_expr(py, "http_requests:burnrate1d"),
        },
        "3d": {
            "slodrift": c.rule_expr(sd, "slodrift:sli_events:sum3d"),
            "slodrift 5m rates (before)": previous("3d"),
            "sloth": c.rule_expr(sl, "slo:sli_error:ratio_rate3d"),
        },
        "30d": {
            "slodrift": c.rule_expr(sd, "slodrift:sli_events:sum30d"),
            "slodrift 5m rates (before)": previous("30d"),
            "sloth": c.rule_expr(sl, "slo:sli_error:ratio_rate30d"),
            # sum by (code) (increase(...[30d])); pyrra_availability = 1 - errors / total of it
            "pyrra": c.rule_expr(py, "http_requests:increase4w"),
        },
    }


def exact_ratio(tr: c.Traffic, t: float, window: float) -> float:
    """Errors / requests of the increments with a sample time in (t - window, t]; t anywhere."""
    k = int((t - tr.t0) // tr.scrape)
    k0 = max(0, math.floor((t - window - tr.t0) / tr.scrape))
    inc = tr.counts[:, k] - tr.counts[:, k0]
    return float(inc[tr.is_error()].sum() / inc.sum())


def slodrift_events(prom: c.Prom, expr: str, t: float) -> dict[str, float]:
    """The events of a `slodrift:sli_events:sum<W>` expression: error, total and interval (the number of
    intervals with data in the window; 43,200 for a full 30d at 1m).

    `ratio_rate<W>` records error / total while the window holds an interval with data; the ratio is
    taken from the window's events here, since the backfill writes the slices and blocks, not the
    windows."""
    return {str(x["metric"].get("event")): float(x["value"][1]) for x in prom.query(expr, t)}  # type: ignore[index, attr-defined]


def run(seed: int = 7, history: int = HISTORY) -> dict[str, object]:
    windows = {"1d": 86400, "3d": 259200, "30d": 2592000}
    with c.tempdir("slodrift-bench-acc-") as work:
        # scrapes a few seconds off the minute grid slodrift backfills on (1..14 s, per seed)
        shift = 1 + (seed * 7) % 14
        t_end = (int(time.time()) - 3600) // 3600 * 3600 - shift
        tr = c.make_traffic(R, t_end, history, seed=seed)
        docs = {
            "sloth": c.sloth_rules(INTERVAL),
            "pyrra": c.pyrra_rules(INTERVAL),
            "slodrift": c.slodrift_rules(INTERVAL, work),
        }
        previous = {
            "groups": [
                {
                    "name": "backfill-previous",
                    "rules": [{"record": k, "expr": v} for k, v in PREVIOUS.items()],
                }
            ]
        }
        backfill = c.dump(
            {
                "groups": [
                    *c.only_rules(docs["sloth"], {"slo:sli_error:ratio_rate5m"}, "backfill-sloth")["groups"],  # type: ignore[misc]
                    *previous["groups"],
                ]
            },
            work / "backfill.yml",
        )
        data = work / "data"
        data.mkdir()
        c.write_blocks(tr, data, work)
        cfg = work / "prometheus.yml"
        c.write_config(cfg, [], INTERVAL)
        stage = work / "stage"
        # slodrift's first evaluation: one interval after the first minute with a sample one interval before
        first_eval = (tr.t0 + 60) // 60 * 60 + 60
        with c.prometheus(cfg, data, limit_s=1800) as prom:
            c.backfill_rules(prom, backfill, tr.t0 - 600, tr.t_end, INTERVAL, stage)
            t = time.monotonic()
            c.run(
                [
                    str(c.SLODRIFT),
                    "backfill",
                    str(work / "spec.yml"),
                    "--prometheus-url",
                    prom.url,
                    "--from",
                    str(first_eval),
                    "--to",
                    str(tr.t_end),
                    "--out",
                    str(work / "slodrift-blocks"),
                ],
                timeout=1800,
            )
            backfill_s = time.monotonic() - t
        c.move_blocks(stage, data)
        c.move_blocks(work / "slodrift-blocks", data)
        b0, b1 = tr.burst
        slice_name = 'slodrift:sli_events:increase1m{event="total"}'  # present at every evaluation
        rows = []
        with c.prometheus(cfg, data, limit_s=900) as prom:

            def on_grid(t: float) -> float:
                """The timestamp of slodrift's last recorded evaluation at or before `t`."""
                stamp = prom.scalar(f"timestamp({slice_name})", t)
                assert stamp is not None, f"no {slice_name} at {t}"
                return stamp

            times = {"end of data": on_grid(tr.t_end), "2h after the burst": on_grid(b1 + 7200)}
            phase = (times["end of data"] - tr.t0) % tr.scrape
            for label, t in times.items():
                for wname, q in exprs(docs).items():
                    exact = exact_ratio(tr, t, min(windows[wname], t - (first_eval - 60)))
                    exact_all = exact_ratio(tr, t, windows[wname])
                    for tool, expr in q.items():
                        intervals = None
                        if tool == "slodrift":
                            ev = slodrift_events(prom, expr, t)
                            val: float | None = ev["error"] / ev["total"] if ev.get("total") else None
                            intervals = ev.get("interval")
                        elif tool == "pyrra" and wname == "30d":
                            res = prom.query(expr, t)
                            err = sum(
                                float(x["value"][1])
                                for x in res  # type: ignore[index]
                                if str(x["metric"].get("code", "")).startswith("5")
                            )  # type: ignore[attr-defined]
                            tot = sum(float(x["value"][1]) for x in res)  # type: ignore[index]
                            val = err / tot
                        else:
                            val = prom.scalar(expr, t)
                        # slodrift's 30d holds what it recorded; the other tools' read the raw counters
                        ref = exact if tool == "slodrift" else exact_all
                        rel = abs(val - ref) / ref if val is not None else None
                        rows.append(
                            {
                                "at": label,
                                "t": t,
                                "window": wname,
                                "tool": tool,
                                "value": val,
                                "exact": ref,
                                "rel_error": rel,
                                # against every event of the data (differs for slodrift's 30d only)
                                "rel_error_all": abs(val - exact_all) / exact_all
                                if val is not None
                                else None,
                                "intervals": intervals,
                            }
                        )
        return {
            "series": R,
            "history_s": history,
            "interval": INTERVAL,
            "t0": tr.t0,
            "t_end": tr.t_end,
            "burst": [b0, b1],
            "rows": rows,
            "phase_s": phase,
            "slodrift_backfill_s": backfill_s,
            "slodrift_recorded_from": first_eval - 60,
            "traffic": {
                "requests": int(tr.counts[:, -1].sum()),
                "errors": int(tr.counts[tr.is_error(), -1].sum()),
            },
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=c.BENCH / "results" / "accuracy.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    ap.add_argument("--days", type=float, default=HISTORY / 86400, help="history length (default 31)")
    a = ap.parse_args()
    c.unwind_on_sigterm()
    out = []
    for seed in a.seeds:
        res = run(seed, int(a.days * 86400))
        res["seed"] = seed
        print(
            f"seed {seed}: evaluations {res['phase_s']:.2f} s after a scrape; "
            f"{res['traffic']['errors']} errors in {res['traffic']['requests']} requests",
            flush=True,
        )  # type: ignore[index]
        for row in res["rows"]:  # type: ignore[attr-defined]
            print(seed, row["at"], row["window"], row["tool"], row["rel_error"], flush=True)
        out.append(res)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
