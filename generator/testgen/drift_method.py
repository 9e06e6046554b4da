"""The exporter's baseline (flat, and an hourly profile) and a model of the drift method on it: the
expected value for the time of day, the change, drift and significance, and which alerts fire."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import DriftSettings, Indicator

MARGIN = 0.01  # every judged quantity stays at least 1 % away from its limit


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
    return math.fsum(w * v for h, w in ws.items() if (v := get(profile[h])) is not None) / math.fsum(
        ws.values()
    )


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
