"""A world of raw series for the drift tests, as a service exposes them (request counters by code,
histogram buckets, CPU counters and memory gauges per instance, cache hits and misses, `up`), and what each
indicator's default query gives on it, computed from the raw numbers (sums of rates, Prometheus'
histogram interpolation)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.matching import labels_matching, selects
from slodrift.generator.model import Indicator, Service
from slodrift.generator.promql import Selector
from slodrift.generator.testgen.series import STEP, num, series

GIB = 1073741824.0
MIB = 1048576.0
LES = ("0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
SLOW = (0.01, 0.03, 0.1, 0.3, 0.6, 0.9, 0.995, 1.0, 1.0)  # p95 0.76 s, p99 0.97 s
FAST = (0.5, 0.94, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)  # p95 30 ms, p99 48 ms
KIND_ORDER = (
    "error_ratio",
    "availability",
    "cache_hit_ratio",
    "latency_quantile",
    "db_latency",
    "request_rate",
    "cpu",
    "memory",
    "targets_up",
    "custom",
)


@dataclass(frozen=True)
class Params:
    """What the service exposes in one test group: rates per second, gauges, a latency distribution."""

    requests: float = 1200.0
    error_ratio: float = 0.15
    histogram_rate: float = 1100.0
    histogram: tuple[float, ...] = SLOW
    cpu: tuple[float, ...] = (0.8, 1.3)
    memory: tuple[float, ...] = (0.9 * GIB, 1.3 * GIB)
    up: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
    lookups: float = 900.0
    hit_ratio: float = 0.8
    custom: float = 40.0


BIG = Params()
SMALL = Params(
    error_ratio=0.001, histogram=FAST, cpu=(0.08, 0.12), memory=(60 * MIB, 68 * MIB), hit_ratio=0.03
)


@dataclass
class Raw:
    metric: str
    labels: dict[str, str]
    counter: bool
    value: float  # per second for counters


class World:
    """Raw series; a selector reads every series it matches, as PromQL would."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.series: list[Raw] = []

    def matching(self, sel: Selector) -> list[Raw]:
        return [s for s in self.series if s.metric == sel.metric and selects(sel, s.labels)]

    def add(self, sel: Selector, counter: bool, value: float, extra: dict[str, str] | None = None,
            avoid: Selector | None = None) -> None:  # fmt: skip
        labels = {**labels_matching(sel, avoid), **(extra or {})}
        if not any(s.metric == sel.metric and s.labels == labels for s in self.series):
            self.series.append(Raw(sel.metric, labels, counter, value))

    def total(self, sel: Selector) -> float:
        return math.fsum(s.value for s in self.matching(sel))

    def mean(self, sel: Selector) -> float:
        xs = [s.value for s in self.matching(sel)]
        return math.fsum(xs) / len(xs) if xs else math.nan

    def inputs(self, minutes: int) -> list[dict[str, str]]:
        out = []
        for s in self.series:
            values = f"0+{num(s.value * STEP)}x{minutes}" if s.counter else f"{num(s.value)}+0x{minutes}"
            out.append({"series": series(s.metric, s.labels), "values": values})
        return out


def _instances(sel: Selector, values: tuple[float, ...]) -> list[tuple[dict[str, str], float]]:
    if any(m.label == "instance" for m in sel.matchers):
        return [({}, math.fsum(values) / len(values))]
    return [({"instance": f"i{n}"}, v) for n, v in enumerate(values)]


def populate(world: World, ind: Indicator) -> None:
    """Add the raw series an indicator reads, unless the world already has series its selectors match."""
    p, src = world.params, dict(ind.sources)
    if not src or any(world.matching(sel) for sel in src.values()):
        return
    if "errors" in src:
        errors, total = src["errors"], src["total"]
        inside = errors.metric == total.metric and selects(total, labels_matching(errors))
        if p.error_ratio > 0:
            world.add(errors, True, p.requests * p.error_ratio)
        if inside:
            world.add(total, True, p.requests * (1 - p.error_ratio), avoid=errors)
        else:
            world.add(total, True, p.requests)
    elif "hits" in src:
        world.add(src["hits"], True, p.lookups * p.hit_ratio)
        world.add(src["misses"], True, p.lookups * (1 - p.hit_ratio))
    elif "bucket" in src:
        for le, share in zip(LES, p.histogram, strict=True):
            world.add(src["bucket"], True, p.histogram_rate * share, {"le": le})
        world.add(src["count"], True, p.histogram_rate)
    elif "counter" in src:
        values = (p.requests,) if ind.kind == "request_rate" else p.cpu
        for extra, v in _instances(src["counter"], values):
            world.add(src["counter"], True, v, extra)
    elif "gauge" in src:
        for extra, v in _instances(src["gauge"], p.up if ind.kind == "targets_up" else p.memory):
            world.add(src["gauge"], False, v, extra)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile on (upper bound, cumulative count) pairs, linear in a bucket."""
    buckets = sorted(buckets)
    if len(buckets) < 2 or buckets[-1][0] != math.inf:
        return math.nan
    total = buckets[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next(i for i, (_, c) in enumerate(buckets) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end = (0.0 if b == 0 else buckets[b - 1][0]), buckets[b][0]
    count = buckets[b][1] - (0.0 if b == 0 else buckets[b - 1][1])
    rank -= 0.0 if b == 0 else buckets[b - 1][1]
    return start + (end - start) * (rank / count)


def current_value(world: World, ind: Indicator) -> float:
    """What the indicator's default query gives on the world's raw series."""
    if ind.kind == "custom" or not ind.sources:
        return world.params.custom
    src = dict(ind.sources)
    if "errors" in src:
        total = world.total(src["total"])
        ratio = world.total(src["errors"]) / total if total else math.nan
        return ratio if ind.kind == "error_ratio" else 1 - ratio
    if "hits" in src:
        hits, misses = world.total(src["hits"]), world.total(src["misses"])
        return hits / (hits + misses)
    if "bucket" in src:
        by_le: dict[float, float] = {}
        for s in world.matching(src["bucket"]):
            le = float(s.labels["le"].replace("+Inf", "inf"))
            by_le[le] = by_le.get(le, 0.0) + s.value
        assert ind.quantile is not None
        return histogram_quantile(float(ind.quantile), list(by_le.items()))
    if ind.kind in ("request_rate",):
        return world.total(src["counter"])
    return world.mean(next(iter(src.values())))


def custom_traffic(ind: Indicator) -> float | None:
    """Requests per second a custom query's traffic guard reads in the tests, or None without a guard.
    The user's traffic query reads whatever the user wrote, so its recorded value is fed instead (as a
    custom query's value is): twice the guard, and at least as much as the world's requests."""
    if ind.sources or not ind.traffic_query or ind.min_requests is None:
        return None
    return max(BIG.requests, 2 * float(ind.min_requests) / RATE_SECONDS)


def current_traffic(world: World, ind: Indicator) -> float | None:
    """Requests per second behind a ratio or latency indicator."""
    if not ind.sources:
        return custom_traffic(ind)
    if not ind.traffic_query:
        return None
    src = dict(ind.sources)
    if "total" in src:
        return world.total(src["total"])
    if "hits" in src:
        return world.total(src["hits"]) + world.total(src["misses"])
    return world.total(src["count"])


def enough_traffic(service: Service, params: Params) -> Params:
    """`params` with each kind of traffic at least twice the largest traffic guard (`min_requests` per
    rate window) of the indicators reading it, so every guard passes with room: an extreme quantile's
    default guard (10 / (1 - q) requests: 10 million at 0.999999) or a large `min_requests` is more
    traffic than the default world has. Unchanged when every guard already passes."""
    need: dict[str, float] = {}
    for ind in service.indicators:
        src = dict(ind.sources)
        if ind.min_requests is None or not ind.traffic_query or not src:
            continue
        key = "requests" if "total" in src else "lookups" if "hits" in src else "histogram_rate"
        need[key] = max(need.get(key, 0.0), 2 * float(ind.min_requests) / RATE_SECONDS)
    return replace(
        params,
        requests=max(params.requests, need.get("requests", 0.0)),
        lookups=max(params.lookups, need.get("lookups", 0.0)),
        histogram_rate=max(params.histogram_rate, need.get("histogram_rate", 0.0)),
    )


def build_world(service: Service, params: Params) -> World:
    world = World(params)
    for ind in sorted(
        service.indicators, key=lambda i: KIND_ORDER.index(i.kind) if i.kind in KIND_ORDER else 99
    ):
        populate(world, ind)
    return world
