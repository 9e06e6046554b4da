"""Test groups of an alert's life beyond its condition: keep_firing_for (hysteresis), and a baseline
that is missing or has no values."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    BASELINE_MISSING_ALERT,
    DRIFT,
    DRIFT_ALERT,
    INDICATOR_NO_DATA_ALERT,
    VALUE,
    indicator_labels,
)
from slodrift.generator.testgen.drift_baselines import at_baseline, plan
from slodrift.generator.testgen.drift_clock import EVAL_MINUTES, WARMUP, grid, last_before
from slodrift.generator.testgen.drift_expected import expected_alert, template_queries
from slodrift.generator.testgen.drift_inputs import baseline_inputs, custom_inputs
from slodrift.generator.testgen.drift_method import fires, judge, limit_of
from slodrift.generator.testgen.drift_wants import baseline_missing, levels, no_data
from slodrift.generator.testgen.drift_world import BIG, build_world, current_traffic, current_value
from slodrift.generator.testgen.series import STEP, series


def hysteresis_group(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """keep_firing_for: once firing, an alert outlives its condition by that long, then resolves."""
    keep = drift.keep_firing_for_seconds
    if not keep:
        return []
    world = build_world(service, BIG)
    fire_at = grid(WARMUP + -(-drift.for_seconds // 60))
    clear = fire_at + 2 * EVAL_MINUTES  # the condition holds until here
    kept = last_before(clear, keep)
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
    want = levels(service, drift)[(ind.name, "warning")]
    alert = expected_alert(
        want, indicator_labels(service, ind), j.drift or 0.0, template_queries(service, ind, j)
    )
    return [
        {
            "name": f"{service.name}: hysteresis: {ind.name} keeps firing {fd(keep)} after its drift ends",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": f"{clear - EVAL_MINUTES}m", "alertname": want.alert, "exp_alerts": [alert]},
                {
                    "eval_time": f"{kept}m",
                    "alertname": want.alert,
                    "exp_alerts": [alert],
                },
                {"eval_time": f"{gone}m", "alertname": want.alert, "exp_alerts": []},
            ],
        }
    ]


def missing_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """No baseline at all (one alert for the service, absent() branch included), and a baseline without
    values (one no-data alert per indicator); a healthy service without any 5xx series has an error
    ratio of 0, not no data."""
    at = grid(WARMUP + -(-drift.baseline_missing_for_seconds // 60) + EVAL_MINUTES)
    missing, nodata = baseline_missing(service, drift), no_data(service, drift)

    def before(alertname: str, wait: int) -> list[dict[str, Any]]:
        """The last evaluation before `wait` has passed since the start, where the alert may not fire
        yet: its condition holds from the first evaluation at the earliest, so a `for` shorter than the
        spec's fires there already."""
        early = last_before(0, wait)
        return (
            [{"eval_time": f"{early}m", "alertname": alertname, "exp_alerts": []}] if 0 <= early < at else []
        )

    n = len(service.indicators)
    svc = {**service.labels, "service": service.name}
    world = build_world(service, BIG)
    groups: list[dict[str, Any]] = [
        {
            "name": f"{service.name}: values but no baseline (exporter down): one alert for the service",
            "interval": fd(STEP),
            "input_series": world.inputs(at) + custom_inputs(service, world, at),
            "alert_rule_test": [
                *before(BASELINE_MISSING_ALERT, missing.for_seconds),
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
                *before(BASELINE_MISSING_ALERT, missing.for_seconds),
                {
                    "eval_time": f"{at}m",
                    "alertname": BASELINE_MISSING_ALERT,
                    "exp_alerts": [expected_alert(missing, svc, n, {})],
                },
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
                *before(INDICATOR_NO_DATA_ALERT, nodata.for_seconds),
                {
                    "eval_time": f"{at}m",
                    "alertname": INDICATOR_NO_DATA_ALERT,
                    "exp_alerts": [
                        expected_alert(nodata, {"service": service.name, "indicator": i.name}, 0.0, {})
                        for i in service.indicators
                    ],
                },
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
