"""Drift alert quality on a simulated service: real Prometheus, real capture, real backtest.

A checkout service (the example's indicators plus the README's `replicas`) is simulated minute by
minute: Poisson requests over three instances with a daily cycle (night at 40 % of the daily mean, peak
at 160 %), a day-to-day level that wanders by 2 %, binomial 5xx at 0.05 %, latencies from a lognormal
whose median rises with load (bucketed with prometheus-client's default buckets), CPU proportional to
traffic with 3 % jitter, memory with a daily swing, and ten pods `up`. The raw series are written as
OpenMetrics and loaded with `promtool tsdb create-blocks-from openmetrics` into a real Prometheus on
127.0.0.1; nothing in the rules' path is simulated.

1. The baseline is captured from the day before the watch with `slodrift baseline capture` (hourly
   profile included) from a Prometheus holding that day only.
2. The exporter's gauges for that baseline come from the exporter's own collector, written into the
   history every minute of the watch as if Prometheus had scraped it.
3. `slodrift backtest` replays every rule of the spec over the watch, `for` and `keep_firing_for`
   included, and routes each firing through the generated Alertmanager configuration (page or ticket).

Scenarios: `noise` (a week of nothing but noise) and `release` (one day: p99 latency +30 % from 06:00
to 09:00 UTC, CPU +25 % from 12:00 to 15:00, an autoscaler adding an 11th pod at 18:00).

    .venv/bin/python bench/drift_alerts.py [--days 7] [--out bench/results/drift_alerts.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, SLODRIFT, prometheus, run, tempdir, write_config  # noqa: E402

DAY = 86400
START = 1763683200  # 2025-11-21T00:00:00Z: the baseline day; the watch starts a day later
STEP = 60  # seconds between raw samples
# Seconds between the exporter's (constant) samples: as often as the rules run. The backtest's scratch
# Prometheus looks back one evaluation interval only (report/ruleeval.py), also for raw series it reads
# at later levels, so gauges every 4 minutes were seen one minute in four: the drift chain had a value
# every 4 minutes, no `for` ever completed, and every scenario was silent whatever happened.
GAUGE_STEP = 60
INSTANCES = 3
MEAN_RPS = 182.4  # the example baseline's request rate
ERROR_RATIO = 0.0005
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
PODS = 10
DRIFT_ALERTS = (
    "SlodriftIndicatorDrift",
    "SlodriftResourceRegression",
    "SlodriftBaselineMissing",
    "SlodriftIndicatorNoData",
)

SPEC = """\
version: 1
release: {name: checkout, version: v1.0.1, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}
defaults:
  slo_window: 30d
  alerting: {page: {receiver: pager}, ticket: {receiver: chat}}
services:
  - name: checkout
    labels: {team: payments}
    selector: {job: checkout}
    slos:
      - name: availability
        objective: 99.9
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
      - name: latency
        objective: 99
        sli: {latency: {histogram: http_request_duration_seconds, threshold: 0.5}}
    indicators:
      availability: {}
      error_ratio: {}
      p95_latency: {}
      p99_latency: {}
      request_rate: {}
      cpu: {regression: 20%}
      memory: {regression: 20%}
      replicas: {query: 'count(up{job="checkout-pods"})', category: configuration, direction: either, unit: count}
drift:
  performance: {warning: 5%, critical: 10%}
  resource: {warning: 10%, critical: 20%}
"""


@dataclass
class Events:
    """What changes, as functions of the Unix time (minute resolution)."""

    latency: Callable[[np.ndarray], np.ndarray] = lambda t: np.ones(t.shape)
    cpu: Callable[[np.ndarray], np.ndarray] = lambda t: np.ones(t.shape)
    pods_from: float | None = None  # the 11th pod appears
    marks: dict[str, tuple[int, int | None]] = field(default_factory=dict)


def window(t: np.ndarray, a: int, b: int, factor: float) -> np.ndarray:
    return np.where((t >= a) & (t < b), factor, 1.0)


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def simulate(days: int, events: Events, seed: int) -> list[tuple[str, dict[str, str], np.ndarray, bool]]:
    """Raw series (name, labels, value per minute, is_counter) from START over `days` days."""
    rng = np.random.default_rng(seed)
    n = days * DAY // STEP
    t = START + STEP * np.arange(1, n + 1) - STEP / 2  # the middle of each minute's increments
    hours = (t % DAY) / 3600
    diurnal = 1 + 0.6 * np.cos(2 * math.pi * (hours - 15) / 24)  # 0.4 at 03:00, 1.6 at 15:00
    level = np.repeat(rng.normal(1.0, 0.02, days + 1), DAY // STEP)[:n]
    median = 0.06 * (1 + 0.25 * (diurnal - 1)) * events.latency(t)
    probs = _phi((np.log(np.array(BUCKETS))[None, :] - np.log(median)[:, None]) / 0.6)
    cell = np.diff(np.concatenate([np.zeros((n, 1)), probs, np.ones((n, 1))], axis=1), axis=1)
    out: list[tuple[str, dict[str, str], np.ndarray, bool]] = []
    for i in range(INSTANCES):
        inst = {"job": "checkout", "instance": f"checkout-{i}:8080"}
        reqs = rng.poisson(MEAN_RPS / INSTANCES * diurnal * level * STEP)
        errs = rng.binomial(reqs, ERROR_RATIO)
        out.append(("http_requests_total", {**inst, "code": "200"}, np.cumsum(reqs - errs), True))
        out.append(("http_requests_total", {**inst, "code": "500"}, np.cumsum(errs), True))
        per_bucket = rng.multinomial(reqs, cell)
        cumulative = np.cumsum(np.cumsum(per_bucket, axis=1), axis=0)
        for j, le in enumerate(BUCKETS):
            out.append(
                ("http_request_duration_seconds_bucket", {**inst, "le": repr(le)}, cumulative[:, j], True)
            )
        out.append(("http_request_duration_seconds_bucket", {**inst, "le": "+Inf"}, np.cumsum(reqs), True))
        out.append(("http_request_duration_seconds_count", inst, np.cumsum(reqs), True))
        cpu = (0.05 + 0.004 * reqs / STEP) * STEP * events.cpu(t) * (1 + rng.normal(0, 0.03, n))
        out.append(("process_cpu_seconds_total", inst, np.cumsum(cpu), True))
        memory = 400 * 2**20 + 40 * 2**20 * (diurnal - 1) + rng.normal(0, 2 * 2**20, n)
        out.append(("process_resident_memory_bytes", inst, memory, False))
        out.append(("up", inst, np.ones(n), False))
    for p in range(PODS + 1):
        up = np.ones(n)
        if p == PODS:
            if events.pods_from is None:
                continue
            up = np.where(t >= events.pods_from, 1.0, np.nan)  # the new pod exists from then on
        out.append(("up", {"job": "checkout-pods", "instance": f"pod-{p}"}, up, False))
    return out


def labels_text(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def write_openmetrics(path: Path, raw: list[tuple[str, dict[str, str], np.ndarray, bool]], upto: int,
                      extra: list[tuple[str, dict[str, str], float, int, int]] = ()) -> None:  # fmt: skip
    """Raw samples up to minute `upto` (exclusive), plus constant gauges (name, labels, value, from, to)."""
    times = START + STEP * np.arange(1, upto + 1)
    by_name: dict[str, list[str]] = {}
    for name, labels, values, _counter in raw:
        lt = labels_text(labels)
        lines = by_name.setdefault(name, [])
        for ts, v in zip(times, values[:upto], strict=True):
            if not math.isnan(v):
                lines.append(f"{name}{lt} {float(v)!r} {int(ts)}\n")
    for name, labels, value, frm, to in extra:
        lt = labels_text(labels)
        lines = by_name.setdefault(name, [])
        lines.extend(f"{name}{lt} {value!r} {ts}\n" for ts in range(frm, to, GAUGE_STEP))
    with path.open("w") as f:
        for name, lines in by_name.items():
            f.write(f"# TYPE {name} gauge\n")
            f.writelines(lines)
        f.write("# EOF\n")


def exporter_series(spec: Path, baseline: Path) -> list[tuple[str, dict[str, str], float]]:
    """What the exporter publishes for this baseline, from its own collector, labelled as scraped."""
    from slodrift.exporter.collector import SlodriftCollector
    from slodrift.exporter.state import StateHolder

    state = StateHolder(spec, baseline)
    assert state.reload(), state.status.last_error
    out = []
    for family in SlodriftCollector(state).collect():
        if not family.name.startswith("slodrift_baseline") or family.name == "slodrift_baseline_info":
            continue
        for s in family.samples:
            out.append(
                (s.name, {"job": "slodrift", "instance": "127.0.0.1:9877", **s.labels}, float(s.value))
            )
    return out


def backfill(om: Path, data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)], timeout=1800)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario(name: str, days: int, events: Events, work: Path, seed: int) -> dict[str, Any]:
    """Capture the baseline from day 0, replay the rules over days 1..days, return the firings."""
    t0 = time.monotonic()
    spec = work / "spec.yml"
    spec.write_text(SPEC)
    raw = simulate(days + 1, events, seed)
    day0 = work / f"{name}-day0.om"
    write_openmetrics(day0, raw, DAY // STEP)
    backfill(day0, work / f"{name}-capture" / "data")
    cfg = work / f"{name}-prometheus.yml"
    write_config(cfg, [], "1m")
    baseline = work / f"{name}-baseline.json"
    with prometheus(cfg, work / f"{name}-capture" / "data", limit_s=1800) as prom:
        run(
            [str(SLODRIFT), "baseline", "capture", str(spec), "--prometheus-url", prom.url,
             "--from", iso(START), "--to", iso(START + DAY), "--step", "5m", "--out", str(baseline)],
            timeout=900,
        )  # fmt: skip
    gauges = [
        (n, lab, v, START + DAY, START + (days + 1) * DAY + STEP)
        for n, lab, v in exporter_series(spec, baseline)
    ]
    week = work / f"{name}-week.om"
    write_openmetrics(week, raw, (days + 1) * DAY // STEP, gauges)
    backfill(week, work / f"{name}-watch" / "data")
    out = work / f"{name}-backtest"
    with prometheus(cfg, work / f"{name}-watch" / "data", limit_s=3600) as prom:
        run(
            [str(SLODRIFT), "backtest", str(spec), "--prometheus-url", prom.url, "--from", iso(START + DAY),
             "--to", iso(START + (days + 1) * DAY), "--out", str(out), "--no-html"],
            timeout=3600,
        )  # fmt: skip
    doc = json.loads((out / "backtest.json").read_text())
    b = json.loads(baseline.read_text())["services"]["checkout"]["indicators"]
    return {
        "alerts": doc["alerts"],
        "baseline": {k: {x: v[x] for x in ("value", "stddev", "samples") if x in v} for k, v in b.items()},
        "profile_hours": {k: len(v.get("profile", [])) for k, v in b.items()},
        "seconds": round(time.monotonic() - t0, 1),
    }


def _t(iso_text: str) -> int:
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp())


def drift_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["alertname"] in DRIFT_ALERTS]


def noise_summary(res: dict[str, Any], days: int) -> dict[str, Any]:
    alerts = drift_alerts(res["alerts"])
    per_day = []
    for d in range(1, days + 1):
        lo, hi = START + d * DAY, START + (d + 1) * DAY
        today = [a for a in alerts if lo <= _t(a["start"]) < hi]
        per_day.append(
            {
                "day": d,
                "critical": sum(a["severity"] == "critical" for a in today),
                "warning": sum(a["severity"] == "warning" for a in today),
                "pages": sum(a["tier"] == "page" for a in today),
                "night_00_06": sum((_t(a["start"]) % DAY) < 6 * 3600 for a in today),
            }
        )
    return {
        "days": days,
        "per_day": per_day,
        "critical": sum(d["critical"] for d in per_day),
        "max_warnings_per_day": max((d["warning"] for d in per_day), default=0),
        "pages": sum(d["pages"] for d in per_day),
        "night_alerts": sum(d["night_00_06"] for d in per_day),
        "alerts": [
            {k: a[k] for k in ("alertname", "severity", "tier", "start", "end")}
            | {"indicator": a["labels"].get("indicator")}
            for a in alerts
        ],
        "other_alerts": sorted({a["alertname"] for a in res["alerts"]} - set(DRIFT_ALERTS)),
    }


def first(alerts: list[dict[str, Any]], since: int, **labels: str) -> dict[str, Any] | None:
    hits = [
        a
        for a in alerts
        if _t(a["start"]) >= since and all(a["labels"].get(k) == v for k, v in labels.items())
    ]
    return min(hits, key=lambda a: _t(a["start"])) if hits else None


def release_summary(res: dict[str, Any], events: Events) -> dict[str, Any]:
    alerts = drift_alerts(res["alerts"])
    out: dict[str, Any] = {}
    p99_at = events.marks["p99"][0]
    for sev in ("warning", "critical"):
        a = first(alerts, p99_at, alertname="SlodriftIndicatorDrift", indicator="p99_latency", severity=sev)
        out[f"p99_{sev}_minutes"] = None if a is None else (_t(a["start"]) - p99_at) / 60
        out[f"p99_{sev}_tier"] = None if a is None else a["tier"]
    cpu_at = events.marks["cpu"][0]
    for name, sev in (("SlodriftIndicatorDrift", "warning"), ("SlodriftResourceRegression", "critical")):
        a = first(alerts, cpu_at, alertname=name, indicator="cpu", severity=sev)
        out[f"cpu_{sev}_minutes"] = None if a is None else (_t(a["start"]) - cpu_at) / 60
        out[f"cpu_{sev}_tier"] = None if a is None else a["tier"]
    pods_at = events.marks["pods"][0]
    pods = [a for a in alerts if a["labels"].get("indicator") == "replicas" and _t(a["start"]) >= pods_at]
    out["pods_alerts"] = [{"severity": a["severity"], "tier": a["tier"]} for a in pods]
    out["pods_pages"] = sum(a["tier"] == "page" for a in pods)
    marked = {"p99_latency": "p99", "p95_latency": "p99", "cpu": "cpu", "replicas": "pods"}
    unexplained = []
    for a in alerts:
        mark = marked.get(a["labels"].get("indicator", ""))
        if mark is not None:
            frm, to = events.marks[mark]
            if _t(a["start"]) >= frm and (to is None or _t(a["start"]) <= to + 3600):
                continue
        unexplained.append(
            {
                "alertname": a["alertname"],
                "indicator": a["labels"].get("indicator"),
                "severity": a["severity"],
                "start": a["start"],
            }
        )
    out["unexplained"] = unexplained
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7, help="days of noise to watch (default 7)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "drift_alerts.json")
    args = ap.parse_args()
    day1 = START + DAY
    release = Events(
        latency=lambda t: window(t, day1 + 6 * 3600, day1 + 9 * 3600, 1.3),
        cpu=lambda t: window(t, day1 + 12 * 3600, day1 + 15 * 3600, 1.25),
        pods_from=day1 + 18 * 3600,
        marks={
            "p99": (day1 + 6 * 3600, day1 + 9 * 3600),
            "cpu": (day1 + 12 * 3600, day1 + 15 * 3600),
            "pods": (day1 + 18 * 3600, None),
        },
    )
    results: dict[str, Any] = {"seed": args.seed}
    with tempdir("slodrift-drift-bench-") as work:
        noise = scenario("noise", args.days, Events(), work, args.seed)
        results["noise"] = noise_summary(noise, args.days) | {
            "baseline": noise["baseline"],
            "profile_hours": noise["profile_hours"],
            "seconds": noise["seconds"],
        }
        rel = scenario("release", 1, release, work, args.seed + 1)
        results["release"] = release_summary(rel, release) | {"seconds": rel["seconds"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    n, r = results["noise"], results["release"]
    print(f"noise week ({args.days} days): {n['critical']} critical, at most {n['max_warnings_per_day']} warning(s) a day, "
          f"{n['pages']} pages, {n['night_alerts']} alerts at night")  # fmt: skip
    print(f"release: p99 +30% warning after {r['p99_warning_minutes']} min, critical ({r['p99_critical_tier']}) after "
          f"{r['p99_critical_minutes']} min; CPU +25% warning after {r['cpu_warning_minutes']} min, regression after "
          f"{r['cpu_critical_minutes']} min; 11th pod: {r['pods_alerts']} ({r['pods_pages']} pages); "
          f"unexplained: {len(r['unexplained'])}")  # fmt: skip
    print(f"wrote {args.out}")
    if r["p99_warning_minutes"] is None and r["cpu_warning_minutes"] is None and not r["pods_alerts"]:
        # the noise figures mean nothing if the rules cannot fire here (the bench, not the rules, broke)
        print("error: the release scenario fired nothing: the noise figures are vacuous", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
