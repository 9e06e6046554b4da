"""Choosing baselines: each condition of a drift alert (the category threshold, the absolute floor,
the significance, the minimum traffic) put just over or just under its limit while the others pass."""

from __future__ import annotations

import math
from dataclasses import replace

from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.testgen import gofmt
from slodrift.generator.testgen.drift_clock import WARMUP
from slodrift.generator.testgen.drift_method import (
    MARGIN,
    Base,
    Judged,
    Point,
    checks,
    judge,
    limit_of,
    top_limit,
)
from slodrift.generator.testgen.drift_world import BIG, Params, build_world, current_value


def valid_base(ind: Indicator, b: float) -> bool:
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


def legible_factor(zt: float, factor: float) -> float:
    """`factor`, or the nearest of `factor` + 0.001, + 0.002, ... (- when under 1) at which z = zt * factor
    prints to one decimal (the description's `printf "%.1f"`) the same whichever way its last bits round:
    at z_threshold 2.5, 2 % over is 2.55, which Prometheus may print as 2.5 or 2.6."""
    step = 0.001 if factor >= 1 else -0.001
    for k in range(20):
        z = zt * (factor + k * step)
        if gofmt.fixed1(z * (1 - 1e-6)) == gofmt.fixed1(z * (1 + 1e-6)):
            return factor + k * step
    raise AssertionError(f"no legible z near {zt * factor!r}")


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
    if case in ("z", "noise"):
        factor = legible_factor(zt, factor)
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
        if not valid_base(ind, base.flat.value):
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
        if not valid_base(ind, b):
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
