"""A synthetic post-release week with a known bad day, for the stability-score integration test.

Raw counters and gauges every minute for seven days, written as OpenMetrics; the exporter's baseline
gauges are part of the history, as if Prometheus had scraped them all week. The reference values the
report must match are computed here from the same raw numbers, independently of Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

WATCH_START = 1763769600  # 2025-11-22T00:00:00Z
DAYS = 7
DAY = 86400
BAD_DAY = 4  # 1-based day of the watch
BAD_FROM, BAD_TO = 6 * 3600, 18 * 3600  # seconds into the bad day
STEP = 300  # evaluation step of the backfilled rules and of the report's queries

SPEC = """\
version: 1
release: {name: shop, version: v2.0.0, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}
defaults: {evaluation_interval: 5m}  # the step the recorded series are backfilled at, as they must be
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
      error_ratio: {}
      p95_latency: {}
      p99_latency: {}
      cpu: {regression: 20%}
      memory: {regression: 20%}
  - name: catalog
    labels: {team: storefront}
    selector: {job: catalog}
    slos:
      - name: availability
        objective: 99.5
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
    indicators:
      p99_latency: {}
      cpu: {}
"""

# Cumulative share of requests at or under each bucket bound.
GOOD_BUCKETS = {"0.1": 0.5, "0.25": 0.9, "0.5": 0.996, "1": 1.0, "+Inf": 1.0}
BAD_BUCKETS = {"0.1": 0.3, "0.25": 0.6, "0.5": 0.9, "1": 0.99, "+Inf": 1.0}


@dataclass(frozen=True)
class Phase:
    """Rates of one service at one moment."""

    rps: float
    error_share: float
    buckets: dict[str, float]
    cpu: float
    memory: float


def phase(service: str, t: int) -> Phase:
    """What a service does at Unix time `t`: healthy, except checkout on the bad day's working hours."""
    day = (t - WATCH_START) // DAY + 1
    into = (t - WATCH_START) % DAY
    if service == "checkout":
        bad = day == BAD_DAY and BAD_FROM <= into < BAD_TO
        memory = 300e6 * (1 + 0.02 * (day - 1))  # slowly growing memory: a resource trend
        if bad:
            return Phase(50.0, 0.02, BAD_BUCKETS, 0.45, memory)
        return Phase(50.0, 0.0002, GOOD_BUCKETS, 0.30, memory)
    return Phase(20.0, 0.001, GOOD_BUCKETS, 0.10, 120e6)


def counter(service: str, fn: Callable[[Phase], float]) -> Callable[[int], float]:
    """A counter whose rate follows `fn(phase)`; integrates minute by minute from the watch start."""
    cache: dict[int, float] = {WATCH_START: 0.0}

    def value(t: int) -> float:
        if t in cache:
            return cache[t]
        prev = value(t - 60)
        cache[t] = prev + fn(phase(service, t - 60)) * 60  # the rate in force during (t-60, t]
        return cache[t]

    return value


def series() -> list:
    """Every raw series of the week, plus the exporter's baseline gauges."""
    out = []
    for svc in ("checkout", "catalog"):
        job = {"job": svc, "instance": f"{svc}:8080"}
        out.append(
            (
                "http_requests_total",
                {**job, "code": "200"},
                counter(svc, lambda p: p.rps * (1 - p.error_share)),
            )
        )
        out.append(
            ("http_requests_total", {**job, "code": "500"}, counter(svc, lambda p: p.rps * p.error_share))
        )
        for le in GOOD_BUCKETS:
            out.append(
                (
                    "http_request_duration_seconds_bucket",
                    {**job, "le": le},
                    counter(svc, lambda p, le=le: p.rps * p.buckets[le]),
                )
            )
        out.append(("http_request_duration_seconds_count", job, counter(svc, lambda p: p.rps)))
        out.append(("process_cpu_seconds_total", job, counter(svc, lambda p: p.cpu)))
        out.append(("process_resident_memory_bytes", job, lambda t, s=svc: phase(s, t).memory))
    baseline = {
        ("checkout", "error_ratio", "ratio"): 0.0002,
        ("checkout", "p95_latency", "seconds"): 0.4,
        ("checkout", "p99_latency", "seconds"): 0.5,
        ("checkout", "cpu", "cores"): 0.3,
        ("checkout", "memory", "bytes"): 300e6,
        ("catalog", "p99_latency", "seconds"): 0.5,
        ("catalog", "cpu", "cores"): 0.1,
    }
    for (svc, ind, unit), v in baseline.items():
        out.append(
            (
                "slodrift_baseline",
                {
                    "job": "slodrift",
                    "instance": "exporter:9877",
                    "service": svc,
                    "indicator": ind,
                    "unit": unit,
                },
                lambda t, v=v: v,
            )
        )
    return out


def five_minute_error_ratio(service: str, t: int, good_bucket: str | None = None) -> float:
    """The 5m error ratio at `t` from the raw numbers: (errors over [t-5m, t]) / (requests over it)."""
    errors = total = 0.0
    for m in range(t - 300, t, 60):
        p = phase(service, m)
        bad = (1 - p.buckets[good_bucket]) if good_bucket else p.error_share
        errors += p.rps * bad * 60
        total += p.rps * 60
    return errors / total


def reference_compliance(service: str, day: int, budget: float, good_bucket: str | None = None) -> float:
    """Share of the day's 5m evaluations whose SLI met the objective (evaluations at (D, D+1], every 5m)."""
    start = WATCH_START + (day - 1) * DAY
    steps = range(start + STEP, start + DAY + 1, STEP)
    met = sum(five_minute_error_ratio(service, t, good_bucket) <= budget for t in steps)
    return met / len(steps)
