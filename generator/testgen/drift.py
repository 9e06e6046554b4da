"""promtool unit tests for the drift rules, fed raw counters, gauges and histograms.

Each test group builds a small world of raw series, as the service would expose them (request counters
by code, histogram buckets, CPU counters and memory gauges per instance, cache hits and misses, `up`),
and the exporter's baseline gauges. The expected value of every indicator is computed here from those
raw numbers (sums of rates, Prometheus' histogram interpolation), and a model of the drift method says
which alerts fire. The baselines are chosen so that each condition of a drift alert (the category
threshold, the absolute floor, the significance, the minimum traffic) sits 2 % over or 2 % under its
limit while the others pass, and so that the baseline for the time of day (an hourly profile) matters.

Raw series start at 0; baselines appear at 5m, when every 5m rate window is full, so the values the
rules see from then on are exact and `for` starts counting there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from slodrift.generator import promql
from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import Selector
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift import (
    ANOMALY_ALERT,
    BASELINE,
    BASELINE_MISSING_ALERT,
    BASELINE_REQUESTS,
    BASELINE_SAMPLES,
    BASELINE_STDDEV,
    CHANGE,
    DRIFT,
    DRIFT_ALERT,
    DRIFT_Z,
    EXPECTED,
    INDICATOR_NO_DATA_ALERT,
    PROFILE,
    PROFILE_HOUR,
    PROFILE_REQUESTS,
    PROFILE_SAMPLES,
    PROFILE_STDDEV,
    REGION_ALERT,
    REGION_VALUE,
    REGRESSION_ALERT,
    VALUE,
    ZSCORE,
    drift_alerts,
    drift_groups,
    indicator_labels,
)
from slodrift.generator.testgen import gofmt
from slodrift.generator.testgen.labels import labels_matching, selects
from slodrift.generator.testgen.series import STEP, labelset, num, series

BASELINE_JOB = {"job": "slodrift"}
WARMUP = 6  # minutes until every 5m rate window is full (on the evaluation grid); baselines start here
EVAL_MINUTES = 2  # promtool evaluates every rule of the file at every step: every other minute halves it
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
MARGIN = 0.01  # every judged quantity stays at least 1 % away from its limit


# -- a world of raw series ---------------------------------------------------------------------------


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


def current_traffic(world: World, ind: Indicator) -> float | None:
    """Requests per second behind a ratio or latency indicator."""
    if not ind.traffic_query or not ind.sources:
        return None
    src = dict(ind.sources)
    if "total" in src:
        return world.total(src["total"])
    if "hits" in src:
        return world.total(src["hits"]) + world.total(src["misses"])
    return world.total(src["count"])


# -- the exporter's baseline, and the drift method on it -----------------------------------------------


@dataclass(frozen=True)
class Point:
    value: float
    stddev: float | None = None
    samples: int | None = None
    requests: float | None = None


@dataclass(frozen=True)
class Base:
    """One indicator's published baseline: flat, and optionally an hourly profile (UTC hour -> point)."""

    flat: Point
    profile: dict[int, Point] = field(default_factory=dict)


def weights(t: float, hours: list[int]) -> dict[int, float]:
    """Interpolation weights of profile hours at time t (seconds), as the weight rule computes them."""
    now = (t % 86400) / 3600
    out = {}
    for h in hours:
        w = max(1 - abs((h + 0.5 - now + 36) % 24 - 12), 0.0)
        if w > 0:
            out[h] = w
    return out


def _interp(profile: dict[int, Point], t: float, get: Callable[[Point], float | None]) -> float | None:
    ws = weights(t, [h for h, p in profile.items() if get(p) is not None])
    if not ws:
        return None
    return math.fsum(w * get(profile[h]) for h, w in ws.items()) / math.fsum(ws.values())  # type: ignore[operator]


@dataclass(frozen=True)
class Judged:
    """Everything the rules record for one indicator at one time, and what its alerts need."""

    value: float
    traffic: float | None
    expected: float
    stddev: float
    stderr: float
    change: float
    drift: float | None
    noise: float
    z: float


def judge(ind: Indicator, value: float, traffic: float | None, base: Base, t: float) -> Judged:
    """The drift method, in Python: the baseline for time t, the change, its noise and significance."""
    flat = base.flat
    expected = _interp(base.profile, t, lambda p: p.value)
    expected = flat.value if expected is None else expected
    stddev = _interp(base.profile, t, lambda p: p.stddev)
    stddev = flat.stddev if stddev is None else stddev
    assert stddev is not None, "generated tests always publish a spread"
    se2 = _interp(
        base.profile, t, lambda p: p.stddev**2 / p.samples if p.stddev is not None and p.samples else None
    )
    if se2 is not None:
        stderr = math.sqrt(se2)
    elif flat.stddev is not None and flat.samples:
        stderr = flat.stddev / math.sqrt(flat.samples)
    else:
        stderr = 0.0
    req = _interp(base.profile, t, lambda p: p.requests)
    req = flat.requests if req is None else req
    if ind.direction == "lower_is_worse":
        change = expected - value
    elif ind.direction == "either":
        change = abs(value - expected)
    else:
        change = value - expected
    if ind.floor is not None:
        drift: float | None = change / max(expected, float(ind.floor))
    else:
        drift = (
            change / abs(expected) if expected != 0 else math.copysign(math.inf, change) if change else None
        )
    mid = (expected + value) / 2
    var = stddev**2
    if ind.noise == "binomial" and traffic is not None:
        live = mid * (1 - mid) / (traffic * RATE_SECONDS)
        var = live if live > var else var
    elif ind.noise == "poisson":
        live = mid / RATE_SECONDS
        var = live if live > var else var
    elif ind.noise == "quantile" and req is not None and traffic:
        var = stddev**2 * max(req / traffic, 1.0)
    noise = math.sqrt(var + stderr**2)
    if noise > 0:
        z = change / noise
    else:
        z = math.nan if change == 0 else math.copysign(math.inf, change)
    return Judged(value, traffic, expected, stddev, stderr, change, drift, noise, z)


def limit_of(ind: Indicator, drift: DriftSettings, severity: str) -> float | None:
    th = drift.thresholds[ind.category]
    if severity == "critical":
        limit = ind.regression if ind.regression is not None else th.critical
    else:
        limit = th.warning
    return None if limit is None else float(limit)


def top_limit(ind: Indicator, drift: DriftSettings) -> float:
    return max(
        (x for s in ("warning", "critical") if (x := limit_of(ind, drift, s)) is not None), default=0.0
    )


def checks(ind: Indicator, drift: DriftSettings, j: Judged, severity: str) -> dict[str, tuple[float, float]]:
    """Each condition of the alert at `severity`: (quantity, limit); it passes when quantity > limit
    (the traffic guard: >=)."""
    limit = limit_of(ind, drift, severity)
    assert limit is not None
    out = {
        "drift": (math.nan if j.drift is None else j.drift, limit),
        "change": (j.change, float(ind.min_change)),
        "z": (j.z, float(drift.z_threshold)),
    }
    if ind.traffic_query and ind.min_requests is not None and j.traffic is not None:
        out["traffic"] = (j.traffic * RATE_SECONDS, float(ind.min_requests))
    return out


def fires(ind: Indicator, drift: DriftSettings, j: Judged, severity: str) -> bool:
    if limit_of(ind, drift, severity) is None:
        return False
    return all(
        (q >= lim if name == "traffic" else q > lim)
        for name, (q, lim) in checks(ind, drift, j, severity).items()
    )


def assert_clear(ind: Indicator, drift: DriftSettings, j: Judged, where: str) -> None:
    """Every quantity that decides an alert is well away from its limit, so float rounding in Prometheus
    cannot flip the outcome."""
    for severity in ("warning", "critical"):
        if limit_of(ind, drift, severity) is None:
            continue
        for name, (q, lim) in checks(ind, drift, j, severity).items():
            if math.isnan(q) or math.isinf(q) or (q == 0 and lim == 0):
                continue
            if lim == 0:
                continue
            assert abs(q / lim - 1) >= MARGIN, (
                f"{where}: {ind.name} {name} {q!r} is within {MARGIN:.0%} of its {severity} limit {lim!r}"
            )


# -- choosing baselines ---------------------------------------------------------------------------------


def _valid(ind: Indicator, b: float) -> bool:
    if ind.unit == "ratio":
        return 0 <= b <= 1
    return b >= 0 or ind.unit == "count"


def base_for_drift(ind: Indicator, v: float, d: float) -> float:
    """The baseline at which the drift of value v is d."""
    floor = float(ind.floor or 0)
    if ind.direction == "lower_is_worse":
        b = v / (1 - d) if d < 1 else math.inf
        return b if b >= floor else v + d * floor
    b = v / (1 + d)
    return b if b >= floor else v - d * floor


def base_for_change(ind: Indicator, v: float, c: float) -> float:
    return v + c if ind.direction == "lower_is_worse" else v - c


def _spread(change: float, v: float, zt: float, z: float) -> float:
    return change / (zt * z) if change > 0 else max(abs(v) * 0.01, 1e-9)


def at_baseline(v: float) -> Base:
    return Base(Point(v, max(abs(v) * 0.01, 1e-9)))


def plan(
    ind: Indicator,
    drift: DriftSettings,
    v: float,
    traffic: float | None,
    case: str,
    factor: float,
) -> Base:
    """A baseline putting one condition of the indicator's alert at `factor` times its limit (case
    `warning`, `critical`, `floor`, `z`) or making every condition pass (`traffic`), the others passing
    with room; at its value when that is impossible in this world."""
    zt = float(drift.z_threshold)
    floor = float(ind.min_change)
    top = top_limit(ind, drift)
    if case in ("warning", "critical"):
        limit = limit_of(ind, drift, case)
        if limit is None:
            return at_baseline(v)
        d = limit * factor if limit > 0 else (0.01 if factor > 1 else 0.0)
        b = base_for_drift(ind, v, d)
        if factor > 1 and abs(v - b) < floor * 1.05:  # an "over" case: get past the floor too
            b = base_for_change(ind, v, floor * 1.05)
        candidates = [Base(Point(b, _spread(abs(v - b), v, zt, 4.0)))]
    elif case == "floor":
        if floor <= 0:
            return at_baseline(v)
        b = base_for_change(ind, v, floor * factor)
        candidates = [Base(Point(b, _spread(floor * factor, v, zt, 4.0)))]
    elif case == "z":
        b = base_for_drift(ind, v, max(top * 1.05, 0.01))
        if abs(v - b) < floor * 1.05:
            b = base_for_change(ind, v, floor * 1.05)
        candidates = [Base(Point(b, abs(v - b) / (zt * factor)))]
    elif case == "noise":
        candidates = _noise_candidates(ind, drift, v, traffic, factor)
    else:  # traffic: big enough to pass everything despite the Poisson noise of little traffic
        candidates = []
        c = max(abs(v - base_for_drift(ind, v, max(top * 1.05, 0.01))), floor * 1.05, abs(v) * 0.01, 1e-6)
        for _ in range(40):
            b = base_for_change(ind, v, c)
            candidates.append(Base(Point(b, _spread(c, v, zt, 4.0))))
            c *= 1.5
    for base in candidates:
        if not _valid(ind, base.flat.value):
            continue
        j = judge(ind, v, traffic, base, WARMUP * 60)
        if case == "z" and (j.noise - (base.flat.stddev or 0)) > 1e-12 * max(j.noise, 1e-300):
            continue  # the Poisson noise, not the spread, decides here: the boundary is not the spread's
        if case == "noise" and j.noise < (base.flat.stddev or 0) * 1.5:
            continue  # the spread, not the traffic seen now, decides here
        ok = _passes_others(ind, drift, j, case, factor)
        if ok:
            return base
    return at_baseline(v)


def low_limit(ind: Indicator, drift: DriftSettings) -> float | None:
    """The lowest drift threshold of the indicator (its warning, else its critical level)."""
    w = limit_of(ind, drift, "warning")
    return w if w is not None else limit_of(ind, drift, "critical")


def _noise_candidates(
    ind: Indicator, drift: DriftSettings, v: float, traffic: float | None, factor: float
) -> list[Base]:
    """Baselines whose change is `factor` times the z threshold of the noise of the traffic seen now
    (a spread too small to matter): Poisson noise for counts and ratios; for a latency quantile the
    spread, doubled because the baseline had 4 times today's traffic."""
    zt, low = float(drift.z_threshold), low_limit(ind, drift)
    if traffic is None or low is None:
        return []
    if ind.noise == "quantile":
        b = base_for_drift(ind, v, max(low * 1.1, 0.01))
        if abs(v - b) < float(ind.min_change) * 1.05:
            b = base_for_change(ind, v, float(ind.min_change) * 1.05)
        return [Base(Point(b, abs(v - b) / (2 * factor * zt), None, traffic * 4))]
    if ind.noise not in ("binomial", "poisson"):
        return []
    tiny = 1e-12
    room = (1 - v) if ind.unit == "ratio" and ind.direction == "lower_is_worse" else v
    lo, hi = 0.0, room * (1 - 1e-9)

    def z_of(c: float) -> float:
        return judge(ind, v, traffic, Base(Point(base_for_change(ind, v, c), tiny)), 0).z

    if not hi > 0 or z_of(hi) < factor * zt:
        return []
    for _ in range(200):  # z grows with the change: bisect for z = factor * zt
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if z_of(mid) < factor * zt else (lo, mid)
    return [Base(Point(base_for_change(ind, v, (lo + hi) / 2), tiny))]


def noise_params(service: Service, drift: DriftSettings) -> Params:
    """A world with little traffic: the first ratio on each kind of traffic needs a change of about
    10 % over its lowest threshold to be z_threshold standard deviations of its Poisson noise."""
    zt, p = float(drift.z_threshold), BIG
    rates: dict[str, float] = {}
    for ind in service.indicators:
        src, low = dict(ind.sources), low_limit(ind, drift)
        if ind.noise != "binomial" or low is None or not src:
            continue
        key = "requests" if "total" in src else "lookups"
        if key in rates:
            continue
        v = current_value(build_world(service, BIG), ind)
        b = base_for_drift(ind, v, low * 1.1)
        if not _valid(ind, b):
            continue
        c = max(abs(v - b), float(ind.min_change) * 1.1)
        m = (v + b) / 2
        rates[key] = m * (1 - m) / (c / zt) ** 2 / RATE_SECONDS
    return replace(p, requests=rates.get("requests", p.requests), lookups=rates.get("lookups", p.lookups))


def _passes_others(ind: Indicator, drift: DriftSettings, j: Judged, case: str, factor: float) -> bool:
    """Every condition other than the one under test passes with room (the traffic guard is the
    world's to set); the one under test is where it was put."""
    severity = "warning" if case in ("warning", "noise") else "critical"
    if limit_of(ind, drift, severity) is None:
        severity = "warning" if severity == "critical" else "critical"
        if limit_of(ind, drift, severity) is None:
            return False
    tested = {"warning": "drift", "critical": "drift", "floor": "change", "z": "z", "noise": "z"}.get(case)
    for name, (q, lim) in checks(ind, drift, j, severity).items():
        if name == "traffic" or name == tested:
            continue
        if not (q > lim * (1 + 2 * MARGIN) or (lim == 0 and q > 0)):
            return False
    return True


# -- expected alerts ---------------------------------------------------------------------------------------

_WITH_QUERY = re.compile(
    r"\{\{ with query `([^`]*)` \}\}\{\{ \. \| first \| value \| (.+?) \}\}\{\{ end \}\}"
)
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_LABEL = re.compile(r"^\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")


def go_value(v: float) -> str:
    """`{{ $value }}`: Go prints a float64 in its shortest form."""
    return str(int(v)) if v == int(v) and abs(v) < 1e21 else repr(v)


def render(text: str, labels: dict[str, str], value: float, queries: dict[str, float]) -> str:
    """Expand the template actions slodrift's alerts use, as Prometheus will for this alert."""

    def query(m: re.Match[str]) -> str:
        v = queries.get(m.group(1))
        return "" if v is None else stable(gofmt.FUNCTIONS[m.group(2)], v)

    def action(m: re.Match[str]) -> str:
        body = m.group(1).strip()
        if body == '"{{"':
            return "{{"
        if body == "$value":
            return go_value(value)
        if body == "$value | humanizePercentage":
            return stable(gofmt.humanize_percentage, value)
        label = _LABEL.match(body)
        if label:
            return labels.get(label.group(1), "")
        raise ValueError(f"unsupported template action {{{{{body}}}}}")

    return _ACTION.sub(action, _WITH_QUERY.sub(query, text))


def stable(fmt: Callable[[float], str], v: float) -> str:
    """Format v, refusing a value whose text a rounding error in the last bits could change."""
    text = fmt(v)
    assert fmt(v * (1 + 1e-9)) == text == fmt(v * (1 - 1e-9)), f"{v!r} formats unstably ({text})"
    return text


def expected_alert(
    rule: dict[str, Any], labels: dict[str, str], value: float, queries: dict[str, float]
) -> dict[str, Any]:
    # alert labels are templates too: expand them (a user's `{{` comes back as text)
    full = {**labels, **{k: render(v, labels, value, queries) for k, v in rule["labels"].items()}}
    return {
        "exp_labels": full,
        "exp_annotations": {k: render(v, full, value, queries) for k, v in rule["annotations"].items()},
    }


def _queries(service: Service, ind: Indicator, j: Judged) -> dict[str, float]:
    si = {"service": service.name, "indicator": ind.name}
    return {
        promql.selector(VALUE, si): j.value,
        promql.selector(EXPECTED, si): j.expected,
        promql.selector(CHANGE, si): j.change,
        promql.selector(DRIFT_Z, si): j.z,
    }


def _rules_by(service: Service, drift: DriftSettings) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for r in drift_alerts(service, drift):
        if r["alert"] in (DRIFT_ALERT, REGRESSION_ALERT):
            out[(r["labels"]["indicator"], r["labels"]["severity"])] = r
    return out


def expected_drift_alerts(
    service: Service, drift: DriftSettings, judged: dict[str, Judged], where: str, held: int
) -> dict[str, list[dict[str, Any]]]:
    """Which drift and regression alerts fire for these judgements, held for `held` minutes, with their
    labels and text (an alert whose `for` is longer is still pending)."""
    rules = _rules_by(service, drift)
    out: dict[str, list[dict[str, Any]]] = {DRIFT_ALERT: [], REGRESSION_ALERT: []}
    for ind in service.indicators:
        j = judged.get(ind.name)
        if j is None:
            continue
        assert_clear(ind, drift, j, where)
        for severity in ("warning", "critical"):
            if fires(ind, drift, j, severity):
                rule = rules[(ind.name, severity)]
                wait = promql.parse_duration(rule["for"])
                assert abs(held * 60 - wait) >= EVAL_MINUTES * 60, (
                    f"{where}: evaluated too close to {rule['for']}"
                )
                if held * 60 < wait:
                    continue
                assert j.drift is not None
                out[rule["alert"]].append(
                    expected_alert(rule, indicator_labels(service, ind), j.drift, _queries(service, ind, j))
                )
    return out


# -- input series ---------------------------------------------------------------------------------------------


def baseline_inputs(
    service: Service, ind: Indicator, base: Base, minutes: int, start: int = WARMUP
) -> list[dict[str, str]]:
    """The exporter's gauges for one indicator, published from minute `start` on."""
    ids = {**BASELINE_JOB, "service": service.name, "indicator": ind.name}
    gap = f"_x{start} " if start else ""
    n = minutes - start

    def one(metric: str, labels: dict[str, str], v: float) -> dict[str, str]:
        return {"series": series(metric, labels), "values": f"{gap}{num(v)}+0x{n}"}

    out = [one(BASELINE, {**ids, "unit": ind.unit}, base.flat.value)]
    if base.flat.stddev is not None:
        out.append(one(BASELINE_STDDEV, {**ids, "unit": ind.unit}, base.flat.stddev))
    if base.flat.samples is not None:
        out.append(one(BASELINE_SAMPLES, ids, base.flat.samples))
    if base.flat.requests is not None:
        out.append(one(BASELINE_REQUESTS, ids, base.flat.requests))
    for hour, p in sorted(base.profile.items()):
        h = {"hour": str(hour)}
        out.append(one(PROFILE, {**ids, "unit": ind.unit, **h}, p.value))
        if p.stddev is not None:
            out.append(one(PROFILE_STDDEV, {**ids, "unit": ind.unit, **h}, p.stddev))
        if p.samples is not None:
            out.append(one(PROFILE_SAMPLES, {**ids, **h}, p.samples))
        if p.requests is not None:
            out.append(one(PROFILE_REQUESTS, {**ids, **h}, p.requests))
    return out


def profile_hour_inputs(minutes: int, start: int = WARMUP) -> list[dict[str, str]]:
    gap = f"_x{start} " if start else ""
    return [
        {
            "series": series(PROFILE_HOUR, {**BASELINE_JOB, "hour": str(h)}),
            "values": f"{gap}{h}+0x{minutes - start}",
        }
        for h in range(24)
    ]


def custom_inputs(service: Service, world: World, minutes: int) -> list[dict[str, str]]:
    """Custom queries read whatever the user wrote: their recorded value is given instead."""
    return [
        {
            "series": series(VALUE, {**indicator_labels(service, ind), "unit": ind.unit}),
            "values": f"{num(world.params.custom)}+0x{minutes}",
        }
        for ind in service.indicators
        if not ind.sources
    ]


def build_world(service: Service, params: Params) -> World:
    world = World(params)
    for ind in sorted(
        service.indicators, key=lambda i: KIND_ORDER.index(i.kind) if i.kind in KIND_ORDER else 99
    ):
        populate(world, ind)
    return world


def _close(metric: str, service: Service, ind: Indicator, want: float) -> dict[str, Any]:
    sel = promql.selector(metric, {"service": service.name, "indicator": ind.name})
    tol = max(abs(want) * 1e-9, 1e-12)
    return {
        "expr": f"abs({sel} - {num(want)}) <= bool {num(tol)}",
        "eval_time": "",  # set by the caller
        "exp_samples": [{"labels": labelset(_recorded_labels(service, ind, metric)), "value": 1}],
    }


def _recorded_labels(service: Service, ind: Indicator, metric: str) -> dict[str, str]:
    if metric == EXPECTED:
        return {**service.labels, "service": service.name, "indicator": ind.name}
    return indicator_labels(service, ind)


# -- the groups ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    params: Params
    case: str
    factor: float
    at: int  # minutes
    check_values: bool = False
    only: Callable[[Indicator], bool] | None = None  # indicators judged; others sit at their baseline


def _case_group(service: Service, drift: DriftSettings, c: Case) -> dict[str, Any] | None:
    world = build_world(service, c.params)
    judged: dict[str, Judged] = {}
    inputs = world.inputs(c.at) + custom_inputs(service, world, c.at)
    for ind in service.indicators:
        v, traffic = current_value(world, ind), current_traffic(world, ind)
        if c.only is not None and not c.only(ind):
            base = at_baseline(v)
        else:
            base = plan(ind, drift, v, traffic, c.case, c.factor)
        judged[ind.name] = judge(ind, v, traffic, base, c.at * 60)
        inputs += baseline_inputs(service, ind, base, c.at)
    expected = expected_drift_alerts(service, drift, judged, f"{service.name}: {c.name}", c.at - WARMUP)
    group: dict[str, Any] = {
        "name": f"{service.name}: {c.name}",
        "interval": fd(STEP),
        "input_series": inputs,
        "alert_rule_test": [
            {"eval_time": f"{c.at}m", "alertname": a, "exp_alerts": exp}
            for a, exp in expected.items()
            if exp or any(r["alert"] == a for r in _rules_by(service, drift).values())
        ],
    }
    if c.check_values:
        tests = []
        for ind in service.indicators:
            j = judged[ind.name]
            for metric, want in (
                (VALUE, j.value),
                (EXPECTED, j.expected),
                (CHANGE, j.change),
                (DRIFT, j.drift),
                (DRIFT_Z, j.z),
            ):
                if want is None or math.isnan(want) or math.isinf(want):
                    continue
                if metric == VALUE and not ind.sources:
                    continue
                t = _close(metric, service, ind, want)
                if metric == VALUE:
                    t["exp_samples"][0]["labels"] = labelset(
                        {**indicator_labels(service, ind), "unit": ind.unit}
                    )
                t["eval_time"] = f"{c.at}m"
                tests.append(t)
        group["promql_expr_test"] = tests
        group["alert_rule_test"] += [
            {"eval_time": f"{c.at}m", "alertname": BASELINE_MISSING_ALERT, "exp_alerts": []},
            {"eval_time": f"{c.at}m", "alertname": INDICATOR_NO_DATA_ALERT, "exp_alerts": []},
        ]
    return group


def grid(minutes: int) -> int:
    """The first evaluation at or after `minutes`."""
    return -(-minutes // EVAL_MINUTES) * EVAL_MINUTES


def grid_down(minutes: int) -> int:
    return minutes // EVAL_MINUTES * EVAL_MINUTES


def _at(drift: DriftSettings, seconds: int) -> int:
    return grid(WARMUP + -(-seconds // 60) + EVAL_MINUTES)


def case_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Each condition of the drift alerts 2 % over and 2 % under its limit."""
    at = _at(drift, drift.for_seconds)
    regressions = [drift.regression_for_seconds for i in service.indicators if i.regression is not None]
    at_critical = _at(drift, max([drift.for_seconds, *regressions]))
    noise = noise_params(service, drift)
    cases = [
        Case("warning threshold: drift 2% over", BIG, "warning", 1.02, at, check_values=True),
        Case("warning threshold: drift 2% under", BIG, "warning", 0.98, at),
        Case("critical threshold: drift 2% over", BIG, "critical", 1.02, at_critical),
        Case("critical threshold: drift 2% under", BIG, "critical", 0.98, at_critical),
        Case("absolute floor: change 2% over", SMALL, "floor", 1.02, at),
        Case("absolute floor: change 2% under", SMALL, "floor", 0.98, at),
        Case("significance: 2% over the z threshold", BIG, "z", 1.02, at),
        Case("significance: 2% under the z threshold", BIG, "z", 0.98, at),
        Case("noise at the traffic seen now: 2% over the z threshold", noise, "noise", 1.02, at),
        Case("noise at the traffic seen now: 2% under the z threshold", noise, "noise", 0.98, at),
    ]
    cases += traffic_cases(service, at)
    return [g for c in cases if (g := _case_group(service, drift, c)) is not None]


def traffic_cases(service: Service, at: int) -> list[Case]:
    """Each traffic guard with traffic 2 % over and 2 % under it (ratio requests, histogram count and
    cache lookups are separate raw series, so each is set on its own)."""
    mins: dict[str, list[float]] = {}
    for ind in service.indicators:
        if ind.min_requests is None or not ind.sources or ind.min_requests <= 0:
            continue
        src = dict(ind.sources)
        key = "requests" if "total" in src else "lookups" if "hits" in src else "histogram_rate"
        if float(ind.min_requests) not in mins.setdefault(key, []):
            mins[key].append(float(ind.min_requests))
    out = []
    for n in range(max((len(v) for v in mins.values()), default=0)):
        for side, factor in (("over", 1.02), ("under", 0.98)):
            overrides = {k: sorted(v)[min(n, len(v) - 1)] * factor / RATE_SECONDS for k, v in mins.items()}
            params = replace(
                BIG,
                requests=overrides.get("requests", BIG.requests),
                lookups=overrides.get("lookups", BIG.lookups),
                histogram_rate=overrides.get("histogram_rate", BIG.histogram_rate),
            )
            judged_here = {k: sorted(v)[min(n, len(v) - 1)] for k, v in mins.items()}
            out.append(
                Case(
                    f"minimum traffic: {', '.join(f'{k} {num(m)} per 5m' for k, m in sorted(judged_here.items()))}, 2% {side}",
                    params,
                    "traffic",
                    1.0,
                    at,
                    only=lambda i: i.traffic_query != "" and i.min_requests is not None,
                )
            )
    return out


def time_of_day_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """The baseline for this time of day: an hourly profile, interpolated between the two nearest hours,
    decides; the flat daily value does not. With the default `for` the test is evaluated before 00:30 UTC
    (promtool's clock starts at midnight), so the two hours are 23:00 and 00:00, across midnight; a longer
    `for` puts it later in the day, between the two hours around that time.

    Quiet at night: the current value is the profile's, while the day's mean (the flat baseline) is
    2.5 times it (night traffic at 40 % of the mean). Firing: the interpolated profile puts drift 2 %
    over the warning threshold while the flat baseline equals the current value.
    """
    at = _at(drift, drift.for_seconds)
    midnight = at < 30  # the default: 23:00 and 00:00 interpolated, and hours that must not count
    if not midnight:
        at = -(-at // 60) * 60  # on the hour: the two hours around it weigh half each
    t = at * 60
    w = weights(t, list(range(24)))
    late = int((t % 86400) / 3600 + 0.5) % 24  # the hour whose centre comes next
    early = (late - 1) % 24
    assert set(w) == {early, late}, f"the time-of-day test at {at}m interpolates {sorted(w)}"
    where = (
        "across midnight"
        if midnight
        else f"between {early:02d}:00 and {late:02d}:00"
        if at < 1440
        else "(the same at every hour: the test spans a day)"
    )
    world = build_world(service, BIG)
    groups = []
    for name, firing in (("night: the profile matches, the day's mean is 2.5x higher; quiet", False),
                         (f"profile interpolated {where} puts drift 2% over warning; fires", True)):  # fmt: skip
        inputs = world.inputs(at) + custom_inputs(service, world, at) + profile_hour_inputs(at)
        judged = {}
        for ind in service.indicators:
            v, traffic = current_value(world, ind), current_traffic(world, ind)
            if firing:
                target = plan(ind, drift, v, traffic, "warning", 1.02).flat
                if target.value == v:
                    continue  # no critical level in reach in this world
                # The later hour 3 % past the target (on the better side), the earlier one on the worse
                # side, so that only the interpolation hits it, and earlier (more weight on the earlier
                # hour) drift was larger.
                p_late = target.value * (0.99 if ind.direction == "lower_is_worse" else 1.03)
                p_early = (target.value - w[late] * p_late) / w[early]
                if at >= 1440:
                    p_late = p_early = target.value
                if not _valid(ind, p_late) or not _valid(ind, p_early):
                    continue
                flat = Point(v, target.stddev)
                spread = target.stddev
            else:
                p_late = p_early = v
                flat_value = v * 2.5 if ind.unit != "ratio" else v
                flat = Point(flat_value, max(abs(v) * 0.01, 1e-9))
                spread = max(abs(v) * 0.01, 1e-9)
            req = traffic if ind.noise == "quantile" else None
            if midnight:
                profile = {
                    early: Point(p_early, spread, 12, req),
                    late: Point(p_late, spread, 12, req),
                    1: Point(v * 7 + 1, spread, 12, req),  # an hour away: must not count
                    12: Point(v * 9 + 1, spread, 12, req),
                }
            elif at >= 1440:
                # A `for` of about a day: the pending condition has seen this hour of the day before, so
                # every hour gives the same value (no interpolation to check; the profile still decides).
                profile = {h: Point(p_early, spread, 12, req) for h in range(24)}
            else:
                # A `for` of hours: every hour the condition is pending through has a point, on the worse
                # side (3 % worse than the target at most, so it stays under the critical threshold),
                # and the hour after `at` one that must not count.
                profile = {h: Point(p_early, spread, 12, req) for h in range(24)}
                profile[late] = Point(p_late, spread, 12, req)
                if at < 1440 - 60 and late != 23:
                    profile[late + 1] = Point(v * 7 + 1, spread, 12, req)
            if ind.unit == "ratio":
                profile = {h: p for h, p in profile.items() if _valid(ind, p.value)}
            base = Base(flat, profile)
            judged[ind.name] = judge(ind, v, traffic, base, t)
            inputs += baseline_inputs(service, ind, base, at)
        if not judged:
            continue
        expected = expected_drift_alerts(service, drift, judged, f"{service.name}: time of day", at - WARMUP)
        if firing:
            assert expected[DRIFT_ALERT] or expected[REGRESSION_ALERT], "the profile case fires nothing"
        group: dict[str, Any] = {
            "name": f"{service.name}: time of day: {name}",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": a, "exp_alerts": exp}
                for a, exp in expected.items()
                if exp or a == DRIFT_ALERT
            ],
        }
        if firing:
            tests = []
            for ind in service.indicators:
                j = judged.get(ind.name)
                if j is None:
                    continue
                for metric, want in (
                    (EXPECTED, j.expected),
                    (CHANGE, j.change),
                    (DRIFT, j.drift),
                    (DRIFT_Z, j.z),
                ):
                    if want is None or not math.isfinite(want):
                        continue
                    x = _close(metric, service, ind, want)
                    x["eval_time"] = f"{at}m"
                    tests.append(x)
            group["promql_expr_test"] = tests
        groups.append(group)
    return groups


def hysteresis_group(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """keep_firing_for: once firing, an alert outlives its condition by that long, then resolves."""
    keep = drift.keep_firing_for_seconds
    if not keep:
        return []
    world = build_world(service, BIG)
    fire_at = grid(WARMUP + -(-drift.for_seconds // 60))
    clear = fire_at + 2 * EVAL_MINUTES  # the condition holds until here
    kept = grid_down(clear + -(-keep // 60) - 1)
    gone = grid(clear + -(-keep // 60) + 1)
    end = gone + 1
    inputs = world.inputs(end) + custom_inputs(service, world, end)
    firing = []
    for ind in service.indicators:
        if limit_of(ind, drift, "warning") is None:
            inputs += baseline_inputs(service, ind, at_baseline(current_value(world, ind)), end)
            continue
        v, traffic = current_value(world, ind), current_traffic(world, ind)
        base = plan(ind, drift, v, traffic, "warning", 1.02)
        still = at_baseline(v)
        j = judge(ind, v, traffic, base, clear * 60)
        if not fires(ind, drift, j, "warning") or fires(ind, drift, j, "critical"):
            inputs += baseline_inputs(service, ind, still, end)
            continue
        firing.append((ind, j))
        # the baseline moves to the current value at `clear`: no drift from then on
        for inp, quiet in zip(
            baseline_inputs(service, ind, base, end), baseline_inputs(service, ind, still, end), strict=True
        ):
            before = [x for x in inp["values"].split(" ")]
            after = quiet["values"].split(" ")[-1].split("+")[0]
            first = before[-1].split("+")[0]
            inputs.append(
                {
                    "series": inp["series"],
                    "values": f"_x{WARMUP} {first}+0x{clear - 1 - WARMUP} {after}+0x{end - clear}",
                }
            )
        break  # one indicator is enough
    if not firing:
        return []
    ind, j = firing[0]
    rule = _rules_by(service, drift)[(ind.name, "warning")]
    alert = expected_alert(rule, indicator_labels(service, ind), j.drift or 0.0, _queries(service, ind, j))
    return [
        {
            "name": f"{service.name}: hysteresis: {ind.name} keeps firing {fd(keep)} after its drift ends",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": f"{clear - EVAL_MINUTES}m", "alertname": rule["alert"], "exp_alerts": [alert]},
                {
                    "eval_time": f"{kept}m",
                    "alertname": rule["alert"],
                    "exp_alerts": [alert],
                },
                {"eval_time": f"{gone}m", "alertname": rule["alert"], "exp_alerts": []},
            ],
        }
    ]


def missing_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """No baseline at all (one alert for the service, absent() branch included), and a baseline without
    values (one no-data alert per indicator); a healthy service without any 5xx series has an error
    ratio of 0, not no data."""
    at = grid(WARMUP + -(-drift.baseline_missing_for_seconds // 60) + EVAL_MINUTES)
    rules = {r["alert"]: r for r in drift_alerts(service, drift)}
    missing, nodata = rules[BASELINE_MISSING_ALERT], rules[INDICATOR_NO_DATA_ALERT]
    n = len(service.indicators)
    svc = {**service.labels, "service": service.name}
    world = build_world(service, BIG)
    groups: list[dict[str, Any]] = [
        {
            "name": f"{service.name}: values but no baseline (exporter down): one alert for the service",
            "interval": fd(STEP),
            "input_series": world.inputs(at) + custom_inputs(service, world, at),
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": BASELINE_MISSING_ALERT,
                    "exp_alerts": [expected_alert(missing, svc, n, {})],
                },
                {"eval_time": f"{at}m", "alertname": DRIFT_ALERT, "exp_alerts": []},
            ],
        },
        {
            "name": f"{service.name}: no baseline and no values: the absent() branch, with the service's labels",
            "interval": fd(STEP),
            "input_series": [{"series": series("up", {"job": "unrelated"}), "values": f"1+0x{at}"}],
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": BASELINE_MISSING_ALERT,
                    "exp_alerts": [expected_alert(missing, svc, n, {})],
                }
            ],
        },
    ]
    inputs = []
    for ind in service.indicators:
        inputs += baseline_inputs(service, ind, at_baseline(1.0 if ind.unit != "ratio" else 0.5), at, start=0)
    groups.append(
        {
            "name": f"{service.name}: baseline but no current values",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": INDICATOR_NO_DATA_ALERT,
                    "exp_alerts": [
                        expected_alert(nodata, {"service": service.name, "indicator": i.name}, 0.0, {})
                        for i in service.indicators
                    ],
                }
            ],
        }
    )
    ratios = [i for i in service.indicators if i.kind in ("error_ratio", "availability") and i.sources]
    if ratios:
        healthy = build_world(service, replace(BIG, error_ratio=0.0))
        inputs = healthy.inputs(at) + custom_inputs(service, healthy, at)
        tests = []
        for ind in service.indicators:
            v = current_value(healthy, ind)
            inputs += baseline_inputs(service, ind, at_baseline(v), at)
        for ind in service.indicators:
            if ind.floor is None or ind.kind != "error_ratio":
                continue
            # a clean day's baseline of 0 still gives a drift: measured against the floor, 0 here
            sel = promql.selector(DRIFT, {"service": service.name, "indicator": ind.name})
            tests.append(
                {
                    "expr": sel,
                    "eval_time": f"{at}m",
                    "exp_samples": [{"labels": series(DRIFT, indicator_labels(service, ind)), "value": 0}],
                }
            )
        for ind in ratios:
            want = 0.0 if ind.kind == "error_ratio" else 1.0
            sel = promql.selector(VALUE, {"service": service.name, "indicator": ind.name})
            tests.append(
                {
                    "expr": sel,
                    "eval_time": f"{at}m",
                    "exp_samples": [
                        {
                            "labels": series(VALUE, {**indicator_labels(service, ind), "unit": ind.unit}),
                            "value": want,
                        }
                    ],
                }
            )
        groups.append(
            {
                "name": f"{service.name}: healthy, no 5xx series at all: error ratio 0, not no data",
                "interval": fd(STEP),
                "input_series": inputs,
                "promql_expr_test": tests,
                "alert_rule_test": [
                    {"eval_time": f"{at}m", "alertname": INDICATOR_NO_DATA_ALERT, "exp_alerts": []},
                    {"eval_time": f"{at}m", "alertname": DRIFT_ALERT, "exp_alerts": []},
                ],
            }
        )
    return groups


def region_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """One region 2 % over the threshold away from the primary fires; one 2 % under stays quiet."""
    split = [i for i in service.indicators if i.group_by]
    if not split:
        return []
    at = _at(drift, drift.for_seconds)
    rules = {r["labels"]["indicator"]: r for r in drift_alerts(service, drift) if r["alert"] == REGION_ALERT}
    inputs, expected = [], []
    for ind in split:
        assert ind.group_label is not None and ind.primary is not None
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if limit is None:
            continue
        base = {**indicator_labels(service, ind), "unit": ind.unit}
        b = {"seconds": 0.25, "ratio": 0.5, "bytes": 268435456.0, "cores": 0.5}.get(ind.unit, 40.0)
        floor = float(ind.floor or 0)
        for region, factor in ((ind.primary, 0.0), ("over-region", 1.02), ("under-region", 0.98)):
            d = float(limit) * factor if limit > 0 else (0.01 if factor > 1 else 0.0)
            v = b * (1 - d) if ind.direction == "lower_is_worse" else b * (1 + d)
            labels = {**base, ind.group_label: region}
            inputs.append({"series": series(REGION_VALUE, labels), "values": f"{num(v)}+0x{at}"})
            delta = (v - b) / max(b, floor)
            delta = (
                -delta
                if ind.direction == "lower_is_worse"
                else abs(delta)
                if ind.direction == "either"
                else delta
            )
            if delta > float(limit):
                rule = rules[ind.name]
                expected.append(expected_alert(rule, labels, delta, {}))
    return [
        {
            "name": f"{service.name}: cross-region: a region 2% past the threshold from the primary fires",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [{"eval_time": f"{at}m", "alertname": REGION_ALERT, "exp_alerts": expected}],
        }
    ]


def _zscores(samples: list[float]) -> list[float | None]:
    """z of each sample against all samples so far (population deviation), as the rules compute it."""
    out: list[float | None] = []
    for t in range(len(samples)):
        xs = samples[: t + 1]
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
        out.append(None if std == 0 else (samples[t] - mean) / std)
    return out


def anomaly_test_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """A bump inside the band stays quiet; then a spike far outside it fires the warning (no
    seasonality: the seasonal statistics need days of history, which tests/test_drift.py covers at a
    coarse step)."""
    an = service.anomaly
    if an is None or an.seasonality != "none":
        return []
    z = float(an.z_threshold)
    # A spike that keeps growing stays outside a band it widens (z tends to sqrt(history)), so a short
    # history proves the alert; a constant bump of 0.3 z before it stays inside.
    wait = an.for_seconds // 60
    history, bump, spike = max(30, int((2 * z) ** 2) + 1), wait + 4, wait + 4
    quiet_at, fire_at = grid_down(history + bump - 1), grid_down(history + bump + spike)
    rule = next(r for r in drift_alerts(service, drift) if r["alert"] == ANOMALY_ALERT)
    inputs, expected = [], []
    for ind in service.indicators:
        if ind.name not in an.indicators:
            continue
        b, s = 40.0, 2.0
        samples = [b + (s if i % 2 else -s) for i in range(history)] + [b + 0.3 * z * s] * bump
        samples += [b + (z + 1) * s * 1.3**k for k in range(spike + 1)]
        zs = _zscores(samples)
        assert all(x is None or abs(x) <= z * 0.95 for x in zs[: quiet_at + 1]), "anomaly bump too big"
        assert all(x is not None and abs(x) > z * 1.02 for x in zs[fire_at - wait : fire_at + 1]), (
            f"anomaly spike too small for {ind.name}"
        )
        labels = indicator_labels(service, ind)
        inputs.append(
            {
                "series": series(VALUE, {**labels, "unit": ind.unit}),
                "values": " ".join(num(x) for x in samples),
            }
        )
        expected.append(expected_alert(rule, labels, 0.0, {}))
    return [
        {
            "name": f"{service.name}: anomaly: a bump inside the band is quiet, a growing spike outside it fires",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": f"{quiet_at}m", "alertname": ANOMALY_ALERT, "exp_alerts": []},
                {"eval_time": f"{fire_at}m", "alertname": ANOMALY_ALERT, "exp_alerts": expected},
            ],
            "promql_expr_test": [
                {
                    "expr": f"count({promql.selector(ZSCORE, {'service': service.name})})",
                    "eval_time": f"{fire_at}m",
                    "exp_samples": [{"labels": "{}", "value": len(inputs)}],
                }
            ],
        }
    ]


def drift_test_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Every test group of one service's drift rules."""
    if not service.indicators:
        return []
    return (
        case_groups(service, drift)
        + time_of_day_groups(service, drift)
        + hysteresis_group(service, drift)
        + missing_groups(service, drift)
        + region_groups(service, drift)
        + anomaly_test_groups(service, drift)
    )


def drift_test_file(service: Service, drift: DriftSettings, rule_file: str) -> dict[str, Any]:
    """The promtool test file of one service's drift rules."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(EVAL_MINUTES * 60),
        # promtool evaluates groups in no fixed order unless told: values before the alerts that read them
        "group_eval_order": [g["name"] for g in drift_groups(service, drift, STEP)],
        "tests": drift_test_groups(service, drift),
    }
