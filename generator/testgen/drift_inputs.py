"""Input series of the drift tests besides the raw ones: the exporter's baseline gauges, the profile
hour, recorded values of custom queries; and the value checks of recorded series."""

from __future__ import annotations

from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import Indicator, Service
from slodrift.generator.rules.drift_names import (
    BASELINE,
    BASELINE_REQUESTS,
    BASELINE_SAMPLES,
    BASELINE_STDDEV,
    EXPECTED,
    PROFILE,
    PROFILE_HOUR,
    PROFILE_REQUESTS,
    PROFILE_SAMPLES,
    PROFILE_STDDEV,
    REQUESTS,
    VALUE,
    indicator_labels,
)
from slodrift.generator.testgen.drift_clock import WARMUP
from slodrift.generator.testgen.drift_method import Base
from slodrift.generator.testgen.drift_world import World, custom_traffic
from slodrift.generator.testgen.series import labelset, num, series

BASELINE_JOB = {"job": "slodrift"}


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
    """Custom queries read whatever the user wrote: their recorded value is given instead, and the
    recorded traffic of those with a traffic guard."""
    out = []
    for ind in service.indicators:
        if ind.sources:
            continue
        out.append(
            {
                "series": series(VALUE, {**indicator_labels(service, ind), "unit": ind.unit}),
                "values": f"{num(world.params.custom)}+0x{minutes}",
            }
        )
        traffic = custom_traffic(ind)
        if traffic is not None:
            out.append(
                {
                    "series": series(REQUESTS, indicator_labels(service, ind)),
                    "values": f"{num(traffic)}+0x{minutes}",
                }
            )
    return out


def close_test(metric: str, service: Service, ind: Indicator, want: float) -> dict[str, Any]:
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
