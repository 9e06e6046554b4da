"""Report scale: `slodrift report` over a 7-day watch for 1, 10 and 100 services, against a real Prometheus.

Why: the report promises one `query_range` per signal for every service at once (report/signals.py), so
its query count must not grow with the number of services, while its wall time and memory do (more series
per answer, more summaries, bigger files, more lines per chart). This measures both on a backfilled week.

Method, per N:
- a spec of N services, each with an events availability SLO, a latency SLO on a histogram and the
  indicators error_ratio, p95/p99_latency, cpu, memory; `evaluation_interval: 5m`, the interval the rules
  are backfilled at (a recorded series is only exact when backfilled at its rule's own interval);
- rules generated at run time by `slodrift generate` (never copied here), so the bench follows the rules;
- synthetic raw history every minute for 7 days (OpenMetrics written one 2h block at a time, see
  common.write_blocks): healthy services, and one in ten (svc0000, svc0010, ...) with a bad day (errors,
  slow requests, more CPU, memory growing); the exporter's `slodrift_baseline` gauges and, on the bad
  day, the `ALERTS` series of the generated burn-rate alerts (their labels read from the rules), as if
  Prometheus had scraped and evaluated them all week;
- the recording rules the report reads (and what they read, transitively; `--all-rules` for every one)
  backfilled level by level (a level reads only raw series and lower levels), one Prometheus per level.
  By default each rule is evaluated with one `query_range` every 5m over the week (the query promtool
  sends) and the results are imported like the raw data, one block per 2h. `--rules-backfill promtool`
  uses `promtool tsdb create-blocks-from rules` as tests/test_stability_week.py does, but Prometheus 2.42's
  promtool writes one block per rule and 2h (84 x 1,800 rules = 151,000 blocks at 100 services, more
  memory maps than vm.max_map_count allows), and its timestamps carry the group's evaluation offset;
- ONE Prometheus on 127.0.0.1 on the final data, waited on until every day of every backfilled series is
  queryable and it has merged the overlapping blocks (its first compaction cycle, a minute after start;
  the backfill Prometheus of each level waits for it too); then `slodrift report` runs as its own child
  `--repeat` times with its own defaults (30 s per request, 3 retries; wall time around it, peak RSS =
  ru_maxrss of exactly that child from os.wait4), then once more with `--no-html`. Queries are read
  from the report (`_metadata.queries`) and from Prometheus' own
  `prometheus_http_requests_total{handler=~"/api/v1/query.*"}` before and after each run (a retried
  query shows up only in the latter); the request-duration sum of the same handlers is the time spent
  inside Prometheus.

The backfill is setup and is reported apart from the measured cost.

    .venv/bin/python bench/report_scale.py                       # 1, 10, 100 services, 3 runs each
    .venv/bin/python bench/report_scale.py --services 10 --repeat 5 --all-rules

Every Prometheus is bounded in time and killed; temp dirs are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import common as c
import numpy as np
import yaml

WATCH_START = 1763769600  # 2025-11-22T00:00:00Z, a multiple of the 2h block
DAYS = 7
DAY = 86400
END = WATCH_START + DAYS * DAY
AT = END + 1800  # half an hour after the watch ended
INTERVAL = "5m"
STEP = 300  # = INTERVAL: evaluations per day are DAY / STEP
RAW_STEP = 60  # seconds between raw samples
BAD_DAY = 4  # 1-based day of the watch
BAD_FROM, BAD_TO = 6 * 3600, 18 * 3600  # seconds into the bad day
GOOD_BUCKETS = {"0.1": 0.5, "0.25": 0.9, "0.5": 0.996, "1": 1.0, "+Inf": 1.0}  # cumulative shares
BAD_BUCKETS = {"0.1": 0.3, "0.25": 0.6, "0.5": 0.9, "1": 0.99, "+Inf": 1.0}
INDICATORS = {
    "error_ratio": ("ratio", "{}"),
    "p95_latency": ("seconds", "{}"),
    "p99_latency": ("seconds", "{}"),
    "cpu": ("cores", "{regression: 20%}"),
    "memory": ("bytes", "{regression: 20%}"),
}
QUERY_HANDLER = re.compile(r"^/api/v1/query")


def bad(i: int) -> bool:
    """Whether service `i` has the bad day: one in ten, and the only one of N=1."""
    return i % 10 == 0


def service_name(i: int) -> str:
    return f"svc{i:04d}"


def spec_text(n: int) -> str:
    lines = [
        "version: 1",
        'release: {name: reportscale, version: v1.0.0, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}',
        f"defaults: {{evaluation_interval: {INTERVAL}}}",
        "services:",
    ]
    for i in range(n):
        lines += [
            f"  - name: {service_name(i)}",
            f"    labels: {{team: team{i % 7}}}",
            f"    selector: {{job: {service_name(i)}}}",
            "    slos:",
            "      - name: availability",
            "        objective: 99.9",
            "        sli: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}",
            "      - name: latency",
            "        objective: 99",
            "        sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.5}}",
            "    indicators:",
        ]
        lines += [f"      {k}: {v}" for k, (_, v) in INDICATORS.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- rules: what to backfill, in which order


def _names(expr: str) -> set[str]:
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))


def report_reads() -> set[str]:
    """Metric names the report's queries read (from the exporter's own query text)."""
    from slodrift.report import signals

    out = _names(signals.ALERTS_PER_DAY)
    for expr, _ in signals.SIGNALS.values():
        out |= _names(expr)
    return out


def rule_levels(rule_files: list[Path], all_rules: bool) -> list[list[dict[str, object]]]:
    """Recording rules by dependency level (level 1 reads only raw series), pruned to what the report
    reads unless `all_rules`. Each level is backfilled after the one it reads."""
    rules = [
        r
        for f in rule_files
        for g in yaml.safe_load(f.read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    ]
    by_name: dict[str, list[dict[str, object]]] = {}
    for r in rules:
        by_name.setdefault(str(r["record"]), []).append(r)
    refs = {
        name: set().union(*(_names(str(r["expr"])) for r in rs)) & (by_name.keys() - {name})
        for name, rs in by_name.items()
    }
    if all_rules:
        keep = set(by_name)
    else:
        keep, todo = set(), report_reads() & by_name.keys()
        while todo:
            name = todo.pop()
            keep.add(name)
            todo |= refs[name] - keep
    level: dict[str, int] = {}

    def level_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in seen:
            raise ValueError(f"recording rules depend on each other in a cycle through {name}")
        if name not in level:
            level[name] = 1 + max((level_of(d, seen | {name}) for d in refs[name]), default=0)
        return level[name]

    out: dict[int, list[dict[str, object]]] = {}
    for r in rules:
        if r["record"] in keep:
            out.setdefault(level_of(str(r["record"])), []).append(r)
    return [out[k] for k in sorted(out)]


def burn_alerts(rule_files: list[Path]) -> dict[str, list[dict[str, str]]]:
    """Per service, the labels of the generated burn-rate alerts (an ALERTS series carries them)."""
    out: dict[str, list[dict[str, str]]] = {}
    for f in rule_files:
        for g in yaml.safe_load(f.read_text())["groups"]:
            for r in g["rules"]:
                labels = {k: str(v) for k, v in (r.get("labels") or {}).items()}
                if "alert" in r and "tier" in labels and "service" in labels:
                    out.setdefault(labels["service"], []).append(
                        {"alertname": str(r["alert"]), "alertstate": "firing", **labels}
                    )
    return out


# ---------------------------------------------------------------- synthetic raw history


def _series(name: str, labels: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    inner = ",".join(f'{k}="{esc(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


def history(
    n: int, alerts: dict[str, list[dict[str, str]]], seed: int = 1
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """(metric family, series text) of every raw series and their values every minute (NaN = no sample).

    Counters integrate the rate in force during (t - 1m, t]; gauges are the value at t.
    """
    minutes = DAYS * DAY // RAW_STEP
    ts = WATCH_START + RAW_STEP * np.arange(minutes + 1)
    into, day = (ts - WATCH_START) % DAY, (ts - WATCH_START) // DAY + 1
    hours = (ts % DAY) / 3600.0
    in_bad = (day == BAD_DAY) & (into >= BAD_FROM) & (into < BAD_TO)
    rng = np.random.default_rng(seed)
    names: list[tuple[str, str]] = []
    rows: list[np.ndarray] = []

    def counter(rate: np.ndarray) -> np.ndarray:  # rate per second at each minute, for the minute after it
        return np.concatenate(([0.0], np.cumsum(rate[:-1] * RAW_STEP)))

    for i in range(n):
        svc = service_name(i)
        job = {"job": svc, "instance": f"{svc}:8080"}
        base = 20.0 + 5.0 * (i % 7)
        rps = (
            base
            * (0.3 + 0.7 * c.hour_factor(hours))
            * np.clip(1 + 0.05 * rng.standard_normal(ts.size), 0.5, 1.5)
        )
        hit = in_bad if bad(i) else np.zeros(ts.size, dtype=bool)
        err = np.where(hit, 0.02, 0.0002)
        cpu = (0.1 + 0.004 * rps) * np.where(hit, 1.5, 1.0)
        grow = 0.02 if bad(i) else 0.0
        memory = (200e6 + 1e6 * (i % 5)) * (1 + grow * (day - 1)) * (1 + 0.002 * rng.standard_normal(ts.size))
        for code, share in (("200", 1 - err), ("500", err)):
            names.append(("http_requests_total", _series("http_requests_total", {**job, "code": code})))
            rows.append(counter(rps * share))
        for le in GOOD_BUCKETS:
            share = np.where(hit, BAD_BUCKETS[le], GOOD_BUCKETS[le])
            names.append(
                (
                    "http_request_duration_seconds_bucket",
                    _series("http_request_duration_seconds_bucket", {**job, "le": le}),
                )
            )
            rows.append(counter(rps * share))
        names.append(
            ("http_request_duration_seconds_count", _series("http_request_duration_seconds_count", job))
        )
        rows.append(counter(rps))
        names.append(("process_cpu_seconds_total", _series("process_cpu_seconds_total", job)))
        rows.append(counter(cpu))
        names.append(("process_resident_memory_bytes", _series("process_resident_memory_bytes", job)))
        rows.append(memory)
        baseline = {
            "error_ratio": 0.0002,
            "p95_latency": 0.4,
            "p99_latency": 0.5,
            "cpu": 0.1 + 0.004 * base * 0.8,
            "memory": 200e6 + 1e6 * (i % 5),
        }
        for ind, (unit, _) in INDICATORS.items():
            names.append(
                (
                    "slodrift_baseline",
                    _series(
                        "slodrift_baseline",
                        {
                            "job": "slodrift",
                            "instance": "exporter:9877",
                            "service": svc,
                            "indicator": ind,
                            "unit": unit,
                        },
                    ),
                )
            )
            rows.append(np.full(ts.size, baseline[ind]))
        if bad(i):
            for labels in alerts.get(svc, []):
                names.append(("ALERTS", _series("ALERTS", labels)))
                rows.append(np.where(in_bad, 1.0, np.nan))
    order = sorted(range(len(names)), key=lambda k: names[k][0])  # one metric family after the other
    return [names[k] for k in order], np.vstack([rows[k] for k in order])


def _value(v: float, fmt: str) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return format(v, fmt)


def write_blocks(
    series: list[tuple[str, str]],
    values: np.ndarray,
    present: np.ndarray,
    step: int,
    out: Path,
    work: Path,
    fmt: str,
) -> dict[str, float]:
    """Samples at WATCH_START + step * k as one OpenMetrics file per 2h block, each turned into a TSDB block
    by promtool (a file spanning many blocks is re-read once per block). `series` is sorted by family."""
    out.mkdir(parents=True, exist_ok=True)
    steps = values.shape[1]
    ts = WATCH_START + step * np.arange(steps)
    per_block = c.BLOCK // step
    write_s = import_s = 0.0
    nbytes = samples = 0
    for k0 in range(0, steps, per_block):
        k1 = min(steps, k0 + per_block)
        t = time.monotonic()
        path = work / "chunk.om"
        tss = [str(x) for x in ts[k0:k1].tolist()]
        family = None
        with path.open("w") as f:
            for (fam, name), row, have in zip(
                series, values[:, k0:k1].tolist(), present[:, k0:k1].tolist(), strict=True
            ):
                if fam != family:
                    f.write(f"# TYPE {fam} gauge\n")  # raw samples; rate() does not need the type
                    family = fam
                lines = [
                    f"{name} {_value(v, fmt)} {tt}\n" for v, h, tt in zip(row, have, tss, strict=True) if h
                ]
                samples += len(lines)
                f.write("".join(lines))
            f.write("# EOF\n")
        nbytes += path.stat().st_size
        write_s += time.monotonic() - t
        t = time.monotonic()
        c.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(out)], timeout=600
        )
        import_s += time.monotonic() - t
        path.unlink()
    return {
        "write_s": write_s,
        "import_s": import_s,
        "openmetrics_mb": nbytes / 1e6,
        "series": float(len(series)),
        "samples": float(samples),
    }


def evaluate(
    prom: c.Prom, rules: list[dict[str, object]], threads: int = 2
) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Every rule evaluated every STEP over the watch with one query_range (what promtool does per 2h block),
    labelled like Prometheus labels a recorded series: the result's labels, then the rule's, then the name."""
    steps = DAYS * DAY // STEP + 1

    def one_rule(rule: dict[str, object]) -> list[tuple[str, dict[int, float]]]:
        params = {"query": str(rule["expr"]), "start": str(WATCH_START), "end": str(END), "step": str(STEP)}
        doc = json.loads(prom.get("/api/v1/query_range", params, timeout=600))
        if doc.get("status") != "success":
            raise RuntimeError(f"rule {rule['record']}: {doc}")
        out = []
        for s in doc["data"]["result"]:
            labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
            labels |= {k: str(v) for k, v in (rule.get("labels") or {}).items()}  # type: ignore[attr-defined]
            pts = {(int(t) - WATCH_START) // STEP: float(v) for t, v in s["values"]}
            out.append((_series(str(rule["record"]), labels), pts))
        return out

    found: dict[tuple[str, str], dict[int, float]] = {}
    with ThreadPoolExecutor(threads) as pool:
        for rule, result in zip(rules, pool.map(one_rule, rules), strict=True):
            for name, pts in result:
                found[(str(rule["record"]), name)] = pts
    series = sorted(found)
    values = np.full((len(series), steps), np.nan)
    present = np.zeros((len(series), steps), dtype=bool)
    for i, key in enumerate(series):
        for k, v in found[key].items():
            values[i, k] = v
            present[i, k] = True
    return series, values, present


def backfill_levels(
    levels: list[list[dict[str, object]]],
    data: Path,
    work: Path,
    raw_families: list[str],
    how: str,
    limit_s: float,
) -> tuple[dict[str, float], list[str]]:
    """Each level of recording rules evaluated against what is already there, then added as blocks."""
    cfg = work / "prometheus.yml"
    c.write_config(cfg, [], INTERVAL)
    times = {
        "rules_eval_s": 0.0,
        "rules_write_s": 0.0,
        "rules_import_s": 0.0,
        "rules_samples": 0.0,
        "backfill_wait_s": 0.0,
    }
    done: list[str] = []
    for k, rules in enumerate(levels, 1):
        blocks = work / f"blocks{k}"
        with c.prometheus(cfg, data, limit_s) as prom:
            # what this level reads must be fully visible first, or its evaluations would miss samples
            t = time.monotonic()
            wait_visible(
                prom,
                {**dict.fromkeys(raw_families, DAY // RAW_STEP), **dict.fromkeys(done, per_day(how))},
                limit_s,
            )
            if k > 1:
                wait_idle(prom, limit_s)  # evaluate on merged blocks, not while they are being merged
            times["backfill_wait_s"] += time.monotonic() - t
            t = time.monotonic()
            if how == "promtool":
                level_file = c.dump(
                    {"groups": [{"name": f"backfill-level-{k}", "interval": INTERVAL, "rules": rules}]},
                    work / f"level{k}.yml",
                )
                times["rules_eval_s"] += c.backfill_rules(
                    prom, level_file, WATCH_START, END, INTERVAL, blocks
                )
            else:
                series, values, present = evaluate(prom, rules)
                times["rules_eval_s"] += time.monotonic() - t
        if how != "promtool":
            w = write_blocks(series, values, present, STEP, blocks, work, "")
            times["rules_write_s"] += w["write_s"]
            times["rules_import_s"] += w["import_s"]
            times["rules_samples"] += w["samples"]
        moved = c.move_blocks(blocks, data)
        done = sorted({*done, *(str(r["record"]) for r in rules)})
        print(f"  level {k}: {len(rules)} rules, {moved} blocks", file=sys.stderr, flush=True)
    return times, done


def per_day(how: str) -> int:
    """Evaluations a recorded series must have per day. promtool (2.42) drops the evaluation at the end of
    each 2h block when its group's evaluation offset falls in the last second of the interval."""
    return DAY // STEP - (DAY // c.BLOCK if how == "promtool" else 0)


# ---------------------------------------------------------------- Prometheus


def query_counter(prom: c.Prom) -> tuple[float, float]:
    """(requests, seconds) Prometheus served on its query endpoints so far, from its own /metrics."""
    text = prom.metrics()
    reqs = sum(
        v
        for _, lab, v in c.parse_metrics(text, {"prometheus_http_requests_total"})
        if QUERY_HANDLER.match(lab.get("handler", ""))
    )
    secs = sum(
        v
        for _, lab, v in c.parse_metrics(text, {"prometheus_http_request_duration_seconds_sum"})
        if QUERY_HANDLER.match(lab.get("handler", ""))
    )
    return reqs, secs


def tsdb_activity(prom: c.Prom) -> dict[str, float]:
    """Prometheus' own counters of block loading and compaction."""
    vals = dict.fromkeys(
        (
            "prometheus_tsdb_compactions_total",
            "prometheus_tsdb_vertical_compactions_total",
            "prometheus_tsdb_blocks_loaded",
            "prometheus_tsdb_compactions_triggered_total",
        ),
        0.0,
    )
    for line in prom.metrics().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in vals:
            vals[parts[0]] = float(parts[1])
    return vals


def run_report(
    spec: Path, url: str, out: Path, no_html: bool, timeout: float
) -> tuple[float, float, str, str]:
    """One `slodrift report` as its own child: (wall s, peak RSS MiB of that child, stdout, stderr)."""
    cmd = [
        str(c.SLODRIFT),
        "report",
        str(spec),
        "--prometheus-url",
        url,
        "--out",
        str(out),
        "--at",
        datetime.fromtimestamp(AT, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]  # its own timeout and retries
    if no_html:
        cmd.append("--no-html")
    log_out, log_err = out.parent / f"{out.name}.stdout", out.parent / f"{out.name}.stderr"
    with log_out.open("wb") as fo, log_err.open("wb") as fe:
        t = time.monotonic()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, start_new_session=True)
        killer = threading.Timer(timeout, lambda: os.killpg(p.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)  # the rusage of exactly this child
        finally:
            killer.cancel()
        wall = time.monotonic() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = log_out.read_text(), log_err.read_text()
    if p.returncode != 0:
        why = f"killed after {timeout:.0f}s" if p.returncode == -signal.SIGKILL else f"exit {p.returncode}"
        raise RuntimeError(f"{' '.join(cmd)} failed ({why}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return wall, ru.ru_maxrss / 1024, stdout, stderr


def has_no_html() -> bool:
    return "--no-html" in c.run([str(c.SLODRIFT), "report", "--help"]).stdout


# ---------------------------------------------------------------- one size


def sizes_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def one(n: int, a: argparse.Namespace, work: Path) -> dict[str, object]:
    """Set up the week for N services, then measure the reports."""
    d = work / f"n{n}"
    d.mkdir()
    res: dict[str, object] = {
        "services": n,
        "days": DAYS,
        "interval": INTERVAL,
        "raw_step_s": RAW_STEP,
        "bad_services": [service_name(i) for i in range(n) if bad(i)],
        "all_rules": a.all_rules,
        "rules_backfill": a.rules_backfill,
    }
    spec = d / "spec.yml"
    spec.write_text(spec_text(n))
    t = time.monotonic()
    c.run([str(c.SLODRIFT), "generate", str(spec), "--out", str(d / "gen")], timeout=3600)
    setup: dict[str, float] = {"generate_s": time.monotonic() - t}
    rule_files = sorted((d / "gen" / "rules").glob("*.yml"))
    levels = rule_levels(rule_files, a.all_rules)
    res["recording_rules"] = sum(len(x) for x in levels)
    res["levels"] = len(levels)
    t = time.monotonic()
    names, values = history(n, burn_alerts(rule_files))
    setup["history_s"] = time.monotonic() - t
    data = d / "data"
    raw = write_blocks(names, values, ~np.isnan(values), RAW_STEP, data, d, ".6f")
    setup |= {
        "raw_write_s": raw["write_s"],
        "raw_import_s": raw["import_s"],
        "openmetrics_mb": raw["openmetrics_mb"],
        "raw_series": raw["series"],
        "raw_samples": raw["samples"],
    }
    raw_families = sorted({fam for fam, _ in names} - {"ALERTS"})
    del names, values
    print(
        f"  n={n}: {raw['series']:.0f} raw series, {raw['samples']:.3g} samples written; backfilling "
        f"{res['recording_rules']} recording rules in {len(levels)} levels",
        file=sys.stderr,
        flush=True,
    )
    times, records = backfill_levels(levels, data, d, raw_families, a.rules_backfill, a.prometheus_limit)
    setup |= times
    setup["data_mb"] = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 1e6
    setup["blocks"] = float(sum(1 for p in data.iterdir() if (p / "meta.json").exists()))
    runs: list[dict[str, object]] = []
    cfg = d / "prometheus.yml"
    with c.prometheus(cfg, data, a.prometheus_limit) as prom:
        t = time.monotonic()
        setup["series_backfilled"] = wait_visible(
            prom, dict.fromkeys(records, per_day(a.rules_backfill)), a.prometheus_limit
        )
        setup |= wait_idle(prom, a.prometheus_limit)
        setup["final_wait_s"] = time.monotonic() - t
        plan = [False] * a.repeat + ([True] if has_no_html() else [])
        for k, no_html in enumerate(plan):
            out = d / f"report{k}"
            q0, s0 = query_counter(prom)
            wall, rss, stdout, stderr = run_report(spec, prom.url, out, no_html, a.report_timeout)
            q1, s1 = query_counter(prom)
            weekly = json.loads((out / "weekly_summary.json").read_text())
            said = re.search(r"with (\d+) queries", stdout)
            files = sizes_of(out)
            services = weekly["services"].values()
            runs.append(
                {
                    "no_html": no_html,
                    "wall_s": wall,
                    "rss_mib": rss,
                    "queries_report": weekly["_metadata"]["queries"],
                    "queries_stdout": int(said.group(1)) if said else None,
                    "queries_prometheus": q1 - q0,
                    "prometheus_query_s": s1 - s0,
                    "files": len(files),
                    "bytes": sum(files.values()),
                    "html_bytes": files.get("weekly_summary.html", 0),
                    "md_bytes": files.get("weekly_summary.md", 0),
                    "weekly_json_bytes": files.get("weekly_summary.json", 0),
                    "partial": weekly["partial"],
                    "completeness": weekly["_metadata"]["data_completeness"],
                    "warnings": weekly["_metadata"]["warnings"][:20],
                    "warnings_total": len(weekly["_metadata"]["warnings"]),
                    "rollback": sorted(s for s, w in weekly["services"].items() if w["rollback_recommended"]),
                    "degraded_days": {
                        s: w["degraded_days"] for s, w in weekly["services"].items() if w["degraded_days"]
                    },
                    "critical_alerts": sum(w["total_critical_alerts"] for w in services),
                    "grades": {
                        g: sum(w["grade"] == g for w in services)
                        for g in sorted({w["grade"] for w in services})
                    },
                    "stderr": list(
                        dict.fromkeys(line.strip() for line in stderr.splitlines() if line.strip())
                    )[:10],
                }
            )
            if a.keep_reports and k == a.repeat - 1:
                shutil.copytree(out, a.keep_reports / f"services-{n}", dirs_exist_ok=True)
            shutil.rmtree(out, ignore_errors=True)
            print(
                f"  n={n}: report {k + 1}/{len(plan)}{' --no-html' if no_html else ''}: {wall:.2f} s, "
                f"{rss:.0f} MiB, {runs[-1]['queries_report']} queries (Prometheus counted {q1 - q0:.0f})",
                file=sys.stderr,
                flush=True,
            )
    res["setup"] = setup
    res["runs"] = runs
    return res


def wait_visible(prom: c.Prom, per_day: dict[str, int], limit_s: float) -> float:
    """Until every series of each metric has `per_day[name]` samples on every day after the first (the first
    may miss the start of the data). Prometheus serves overlapping backfilled blocks only once it has
    loaded them all; a query before that can miss an hour. Returns the number of series checked."""
    t0 = time.monotonic()
    want = {m: prom.scalar(f"count(count_over_time({m}[{DAYS}d]))", END) or 0.0 for m in per_day}
    pending = [(m, d) for m in per_day for d in range(2, DAYS + 1)]
    while pending:
        m, d = pending[0]
        got = prom.scalar(f"count(count_over_time({m}[1d]) >= {per_day[m]})", WATCH_START + d * DAY) or 0.0
        if got >= want[m] > 0:
            pending.pop(0)
            continue
        if time.monotonic() - t0 > limit_s:
            raise RuntimeError(
                f"{m}: day {d} not fully visible after {limit_s:.0f}s ({got:.0f} of {want[m]:.0f})"
            )
        time.sleep(2)
        want[m] = prom.scalar(f"count(count_over_time({m}[{DAYS}d]))", END) or 0.0
    return float(sum(want.values()))


def wait_idle(prom: c.Prom, limit_s: float, quiet_s: float = 10.0) -> dict[str, float]:
    """Until Prometheus has merged the overlapping backfilled blocks: its TSDB compacts once a minute, and
    the first cycle merges every 2h window (e.g. 340 blocks into 85), so wait for one cycle and then until
    blocks and compactions have not moved for `quiet_s`. Nothing is compacted under what is measured."""
    t0 = time.monotonic()
    moving = (
        "prometheus_tsdb_compactions_total",
        "prometheus_tsdb_vertical_compactions_total",
        "prometheus_tsdb_blocks_loaded",
    )
    start = tsdb_activity(prom)
    last, since = start, time.monotonic()
    while True:
        if time.monotonic() - t0 > limit_s:
            raise RuntimeError(f"Prometheus' TSDB still busy after {limit_s:.0f}s")
        time.sleep(1)
        now = tsdb_activity(prom)
        if any(now[k] != last[k] for k in moving):
            since = time.monotonic()
        last = now
        cycled = (
            now["prometheus_tsdb_compactions_triggered_total"]
            > start["prometheus_tsdb_compactions_triggered_total"]
        )
        if cycled and time.monotonic() - since >= quiet_s:
            break
    return {
        "idle_wait_s": time.monotonic() - t0,
        "blocks_loaded": now["prometheus_tsdb_blocks_loaded"],
        "vertical_compactions": now["prometheus_tsdb_vertical_compactions_total"],
    }


# ---------------------------------------------------------------- tables


def mmm(xs: list[float], digits: int = 3) -> str:
    lo, med, hi = c.mmm(xs)
    return f"{med:.{digits}g} ({lo:.{digits}g}..{hi:.{digits}g})"


def tables(res: list[dict[str, object]]) -> str:
    rows, detail, setup_rows = [], [], []
    for r in res:
        runs: list[dict[str, object]] = r["runs"]  # type: ignore[assignment]
        html = [x for x in runs if not x["no_html"]]
        plain = [x for x in runs if x["no_html"]]

        def distinct(key: str, xs: list[dict[str, object]] = runs) -> str:
            return "/".join(dict.fromkeys(f"{float(x[key]):.0f}" for x in xs))  # type: ignore[arg-type]

        walls = [float(x["wall_s"]) for x in html]  # type: ignore[arg-type]
        no_html_s = c.mmm([float(x["wall_s"]) for x in plain])[1] if plain else None  # type: ignore[arg-type]
        rows.append(
            [
                r["services"],
                distinct("queries_report"),
                distinct("queries_prometheus"),
                mmm(walls),
                f"{max(float(x['rss_mib']) for x in html):.0f}",
                distinct("bytes", html),  # type: ignore[arg-type]
                f"{c.mmm(walls)[1]:.2f} vs {no_html_s:.2f}" if no_html_s is not None else "n/a",
            ]
        )
        last = html[-1]
        detail.append(
            [
                r["services"],
                mmm([float(x["prometheus_query_s"]) for x in html]),  # type: ignore[arg-type]
                f"{max(float(x['rss_mib']) for x in plain):.0f}" if plain else "n/a",  # type: ignore[arg-type]
                last["html_bytes"],
                last["md_bytes"],
                last["weekly_json_bytes"],
                last["files"],
                f"{last['completeness']}{' PARTIAL' if last['partial'] else ''}",
                last["warnings_total"],
                len(last["rollback"]),
                last["critical_alerts"],  # type: ignore[arg-type]
                " ".join(f"{g}:{k}" for g, k in last["grades"].items()),
            ]
        )  # type: ignore[attr-defined]
        s: dict[str, float] = r["setup"]  # type: ignore[assignment]
        setup_rows.append(
            [
                r["services"],
                f"{s['raw_series']:.0f}",
                f"{s['raw_samples']:.3g}",
                f"{s['openmetrics_mb']:.0f}",
                r["recording_rules"],
                r["levels"],
                f"{s['generate_s']:.1f}",
                f"{s['history_s'] + s['raw_write_s']:.1f}",
                f"{s['raw_import_s']:.1f}",
                f"{s['rules_eval_s']:.1f}",
                f"{s['rules_write_s'] + s['rules_import_s']:.1f}",
                f"{s['backfill_wait_s'] + s['final_wait_s']:.1f}",
                f"{s['blocks']:.0f} -> {s['blocks_loaded']:.0f}",
                f"{s['data_mb']:.0f}",
            ]
        )
    return "\n".join(
        [
            "### `slodrift report` over a 7-day watch (wall s: median (min..max); peak RSS: max of the runs)",
            "",
            c.table(
                [
                    "services",
                    "queries (report)",
                    "queries (Prometheus counter)",
                    "wall s median (min..max)",
                    "peak RSS MiB",
                    "report bytes",
                    "html s vs no-html s",
                ],
                rows,
            ),
            "",
            "### Where the time goes and what the reports said (last run with HTML)",
            "",
            c.table(
                [
                    "services",
                    "in Prometheus s",
                    "no-html RSS MiB",
                    "html bytes",
                    "md bytes",
                    "weekly json bytes",
                    "files",
                    "completeness",
                    "warnings",
                    "rollback",
                    "critical alerts",
                    "grades",
                ],
                detail,
            ),
            "",
            "### Setup (not the measured cost)",
            "",
            c.table(
                [
                    "services",
                    "raw series",
                    "raw samples",
                    "OpenMetrics MB",
                    "rules backfilled",
                    "levels",
                    "generate s",
                    "history + write s",
                    "raw import s",
                    "rules eval s",
                    "rules write + import s",
                    "visibility + merge waits s",
                    "blocks (merged)",
                    "TSDB MB",
                ],
                setup_rows,
            ),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--repeat", type=int, default=3, help="reports with HTML per size (then one --no-html)")
    ap.add_argument(
        "--all-rules",
        action="store_true",
        help="backfill every recording rule, not only those the report reads (slower setup)",
    )
    ap.add_argument(
        "--rules-backfill",
        choices=["query", "promtool"],
        default="query",
        help="query: one query_range per rule, written as one block per 2h (default); promtool: "
        "`promtool tsdb create-blocks-from rules` (one block per rule and 2h: small N only)",
    )
    ap.add_argument("--prometheus-limit", type=float, default=3600, help="seconds any one Prometheus may run")
    ap.add_argument("--report-timeout", type=float, default=900, help="seconds one report may take")
    ap.add_argument(
        "--keep-reports",
        type=Path,
        default=None,
        help="copy the last report with HTML of each size to DIR/services-N (to look at)",
    )
    ap.add_argument("--out", type=Path, default=c.BENCH / "results" / "report_scale.json")
    a = ap.parse_args()
    c.unwind_on_sigterm()
    t = time.monotonic()
    res: list[dict[str, object]] = []
    with c.tempdir("slodrift-bench-report-") as work:
        for n in a.services:
            t_n = time.monotonic()
            res.append(one(n, a, work))
            res[-1]["total_s"] = time.monotonic() - t_n
            a.out.parent.mkdir(parents=True, exist_ok=True)
            a.out.write_text(
                json.dumps(res, indent=1) + "\n"
            )  # after every size: a later failure keeps the rest
            shutil.rmtree(work / f"n{n}", ignore_errors=True)
    print(tables(res))
    per = ", ".join(f"{r['services']} services: {r['total_s']:.0f} s" for r in res)
    print(f"\ntotal {time.monotonic() - t:.0f} s ({per}); results in {a.out}")


if __name__ == "__main__":
    main()
