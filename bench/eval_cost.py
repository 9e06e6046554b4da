"""Rule evaluation cost: Sloth, Pyrra and slodrift rules for the same SLO in one real Prometheus.

Per R (raw series): synthetic counters with HISTORY of 15 s samples are written as OpenMetrics and turned into
TSDB blocks with promtool; the counters then continue live (a tiny exporter, scraped every 15 s), so every raw
read has data. The recordings that longer windows are built from (slodrift's two raw reads, the events of each
evaluation interval; Sloth's 5m ratio read by its 30d rule) are backfilled for the whole history with
`promtool tsdb create-blocks-from rules` against the same Prometheus, then Prometheus' own per-group metrics are
sampled over several evaluations.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import common as c

HISTORY = 3 * 86400 + 6 * 3600  # enough for every 3d window, plus its 5m reads
WARMUP = 310  # s: 5m of live raw samples before measuring
TOOLS = ("sloth", "pyrra", "slodrift")


def tool_of(group: str) -> str:
    path = group.split(";", 1)[0]
    return Path(path).stem


def sample(
    prom: c.Prom, evals: int, timeout: float
) -> tuple[dict[str, list[tuple[float, float]]], dict[str, list[float]]]:
    """Per group: (duration s, samples) of `evals` evaluations; per rule: evaluation times (s)."""
    names = {
        "prometheus_rule_group_last_duration_seconds",
        "prometheus_rule_group_last_evaluation_samples",
        "prometheus_rule_group_last_evaluation_timestamp_seconds",
    }
    seen: dict[str, set[float]] = {}
    first: dict[str, float] = {}
    groups: dict[str, list[tuple[float, float]]] = {}
    rules: dict[str, dict[str, float]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cur: dict[str, dict[str, float]] = {}
        for name, lab, v in c.parse_metrics(prom.metrics(), names):
            cur.setdefault(lab["rule_group"], {})[name] = v
        for g, m in cur.items():
            ts = m.get("prometheus_rule_group_last_evaluation_timestamp_seconds", 0)
            first.setdefault(g, ts)  # an evaluation that may have started before sampling: skipped
            if ts <= first[g] or ts in seen.setdefault(g, set()):
                continue
            seen[g].add(ts)
            if len(groups.setdefault(g, [])) < evals:
                groups[g].append(
                    (
                        m["prometheus_rule_group_last_duration_seconds"],
                        m.get("prometheus_rule_group_last_evaluation_samples", float("nan")),
                    )
                )
        api = json.loads(prom.get("/api/v1/rules"))
        for g in api["data"]["groups"]:
            for r in g["rules"]:
                key = f"{tool_of(g['file'] + ';')};{g['name']};{r['name']}"
                rules.setdefault(key, {})[r.get("lastEvaluation", "")] = float(r.get("evaluationTime", 0))
        if groups and all(len(v) >= evals for v in groups.values()):
            break
        time.sleep(1)
    return groups, {k: list(v.values())[1:] for k, v in rules.items()}


def run_one(r: int, interval: str, evals: int, warmup: float = WARMUP) -> dict[str, object]:
    with c.tempdir(f"slodrift-bench-cost-{r}-") as work:
        t_end = int(time.time()) // c.SCRAPE * c.SCRAPE
        t = time.monotonic()
        tr = c.make_traffic(r, t_end, HISTORY, seed=r)
        gen_s = time.monotonic() - t
        rules_dir = work / "rules"
        rules_dir.mkdir()
        docs = {
            "sloth": c.sloth_rules(interval),
            "pyrra": c.pyrra_rules(interval),
            "slodrift": c.slodrift_rules(interval, work),
        }
        files = [c.dump(docs[k], rules_dir / f"{k}.yml") for k in TOOLS]
        backfill = c.dump(
            {
                "groups": [
                    *c.only_rules(
                        docs["slodrift"], c.slodrift_raw_reads(docs["slodrift"]), "backfill-slodrift"
                    )["groups"],  # type: ignore[misc]
                    *c.only_rules(docs["sloth"], {"slo:sli_error:ratio_rate5m"}, "backfill-sloth")["groups"],  # type: ignore[misc]
                ]
            },
            work / "backfill.yml",
        )
        data = work / "data"
        data.mkdir()
        info = c.write_blocks(tr, data, work)
        # recorded 5m history: backfilled against a Prometheus that holds the raw blocks only
        cfg0 = work / "prometheus-backfill.yml"
        c.write_config(cfg0, [], interval)
        stage = work / "stage"
        with c.prometheus(cfg0, data, limit_s=1200) as prom:
            bf_s = c.backfill_rules(prom, backfill, tr.t0 + 300, int(time.time()), interval, stage)
        nblocks = c.move_blocks(stage, data)
        cfg = work / "prometheus.yml"
        with c.LiveCounters(tr) as live:
            c.write_config(cfg, files, interval, scrape_port=live.port)
            with c.prometheus(cfg, data, limit_s=1800) as prom:
                started = time.monotonic()
                # the raw counters have a gap between the end of the blocks and now: wait until every 5m
                # window holds live samples only (the first scrape is at start), then measure
                time.sleep(max(0.0, warmup - (time.monotonic() - started)))
                check = {
                    "gap_s": time.time() - tr.t_end - warmup,
                    "raw_samples_3d": prom.scalar(f'sum(count_over_time({c.METRIC}{{job="{c.JOB}"}}[3d]))'),
                    "raw_samples_5m": prom.scalar(f'sum(count_over_time({c.METRIC}{{job="{c.JOB}"}}[5m]))'),
                    "slodrift_slices_30d": prom.scalar(
                        f"count_over_time(slodrift:sli_errors:increase{interval}[30d])"
                    ),
                    "sloth_ratio5m_samples_30d": prom.scalar(
                        "count_over_time(slo:sli_error:ratio_rate5m[30d])"
                    ),
                }
                ivl = float(interval.rstrip("s"))
                groups, rules = sample(prom, evals, timeout=ivl * (evals + 3) + 60)
        return {
            "r": r,
            "interval": interval,
            "history_s": HISTORY,
            "generate_s": gen_s,
            **info,
            "backfill_rules_s": bf_s,
            "rule_blocks": nblocks,
            "check": check,
            "groups": {g: v for g, v in groups.items()},
            "rules": rules,
        }


def summarize(res: dict[str, object]) -> dict[str, dict[str, float]]:
    """Per tool: sum over its groups of the median duration, min/max of per-evaluation totals, samples."""
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, list[tuple[float, float]]] = res["groups"]  # type: ignore[assignment]
    for tool in TOOLS:
        gs = [v for g, v in groups.items() if tool_of(g) == tool]
        if not gs:
            continue
        n = min(len(v) for v in gs)
        totals = [sum(v[i][0] for v in gs) for i in range(n)]
        lo, med, hi = c.mmm(totals)
        samples = sum(c.mmm([s for _, s in v])[1] for v in gs)
        out[tool] = {
            "groups": len(gs),
            "evals": n,
            "min_ms": lo * 1e3,
            "median_ms": med * 1e3,
            "max_ms": hi * 1e3,
            "samples": samples,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--interval", default="20s")
    ap.add_argument("--evals", type=int, default=7)
    ap.add_argument("--warmup", type=float, default=WARMUP)
    ap.add_argument("--out", type=Path, default=c.BENCH / "results" / "eval_cost.json")
    a = ap.parse_args()
    results = []
    for r in a.series:
        t = time.monotonic()
        res = run_one(r, a.interval, a.evals, a.warmup)
        res["summary"] = summarize(res)
        res["wall_s"] = time.monotonic() - t
        results.append(res)
        print(f"R={r}: {json.dumps(res['summary'])} ({res['wall_s']:.0f}s)", flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
