"""The threshold cases: each condition of the drift alerts 2 % over and 2 % under its limit, one test
group each."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    BASELINE_MISSING_ALERT,
    CHANGE,
    DRIFT,
    DRIFT_Z,
    EXPECTED,
    INDICATOR_NO_DATA_ALERT,
    VALUE,
    indicator_labels,
)
from slodrift.generator.testgen.drift_baselines import at_baseline, noise_params, plan
from slodrift.generator.testgen.drift_clock import EVAL_MINUTES, WARMUP, clear_of, eval_after, last_before
from slodrift.generator.testgen.drift_expected import expected_drift_alerts
from slodrift.generator.testgen.drift_inputs import baseline_inputs, close_test, custom_inputs
from slodrift.generator.testgen.drift_method import Judged, judge
from slodrift.generator.testgen.drift_wants import levels
from slodrift.generator.testgen.drift_world import (
    BIG,
    SMALL,
    Params,
    build_world,
    current_traffic,
    current_value,
)
from slodrift.generator.testgen.series import STEP, labelset, num


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
    where = f"{service.name}: {c.name}"
    wants = levels(service, drift).values()
    # The last evaluation before each wait ends (the baselines, and so every condition, start at WARMUP):
    # an alert whose `for` is shorter than the spec's fires there already.
    waits = [w.for_seconds for w in wants]
    before = sorted({last_before(WARMUP, w) for w in waits})
    checks = [
        (at, expected_drift_alerts(service, drift, judged, where, at - WARMUP, before_waits=True))
        for at in before
        if WARMUP < at < c.at and not any(0 <= (at - WARMUP) * 60 - w < EVAL_MINUTES * 60 for w in waits)
    ]
    checks.append((c.at, expected_drift_alerts(service, drift, judged, where, c.at - WARMUP)))
    group: dict[str, Any] = {
        "name": where,
        "interval": fd(STEP),
        "input_series": inputs,
        "alert_rule_test": [
            {"eval_time": f"{at}m", "alertname": a, "exp_alerts": exp}
            for at, expected in checks
            for a, exp in expected.items()
            if exp or any(w.alert == a for w in wants)
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
                t = close_test(metric, service, ind, want)
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


def case_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Each condition of the drift alerts 2 % over and 2 % under its limit."""
    waits = [w.for_seconds for w in levels(service, drift).values()]
    at = clear_of(eval_after(drift, drift.for_seconds), waits)
    regressions = [drift.regression_for_seconds for i in service.indicators if i.regression is not None]
    at_critical = clear_of(eval_after(drift, max([drift.for_seconds, *regressions])), waits)
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
