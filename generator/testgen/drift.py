"""promtool unit tests for the drift rules, with the baseline gauges as input series.

Indicator values are given as the recorded `slodrift:indicator:value` series (their queries read
whatever the service exports); the expected drift and which alerts fire are computed here from the
inputs, by a small model of the rules, for values 2 % over and 2 % under every threshold.
"""

from __future__ import annotations

import math
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift import (
    ANOMALY_ALERT,
    BASELINE,
    BASELINE_MISSING_ALERT,
    DRIFT,
    DRIFT_ALERT,
    INDICATOR_NO_DATA_ALERT,
    REGION_ALERT,
    REGION_VALUE,
    REGRESSION_ALERT,
    SEVERITIES,
    VALUE,
    ZSCORE,
    drift_alerts,
    indicator_labels,
)
from slodrift.generator.testgen.series import STEP, labelset, num, series
from slodrift.generator.testgen.templates import render_template

BASELINE_JOB = {"job": "slodrift"}


def baseline_value(ind: Indicator) -> float:
    """A plausible baseline per unit, so the tests read like a real release."""
    return {
        "seconds": 0.25,
        "ratio": 0.5,
        "bytes": 268435456.0,
        "cores": 0.5,
        "requests_per_second": 120.0,
    }.get(ind.unit, 40.0)


def value_for(ind: Indicator, drift: float) -> float:
    """The current value whose signed drift from the baseline is `drift`."""
    b = baseline_value(ind)
    return b * (1 - drift) if ind.direction == "lower_is_worse" else b * (1 + drift)


def drift_of(ind: Indicator, value: float) -> float:
    """The drift Prometheus will record, with the same floating-point operations as the rule."""
    b = baseline_value(ind)
    d = (value - b) / max(b, float(ind.floor or 0))
    if ind.direction == "lower_is_worse":
        return -d
    return abs(d) if ind.direction == "either" else d


def expected_drift_alerts(
    service: Service, drift: DriftSettings, values: dict[str, float]
) -> dict[str, list[dict[str, Any]]]:
    """Which drift and regression alerts the rules must raise for these indicator values."""
    rules = drift_alerts(service, drift)
    out: dict[str, list[dict[str, Any]]] = {DRIFT_ALERT: [], REGRESSION_ALERT: []}
    for ind in service.indicators:
        if ind.name not in values:
            continue
        d = drift_of(ind, values[ind.name])
        labels = indicator_labels(service, ind)
        th = drift.thresholds[ind.category]
        for severity, limit in (("warning", th.warning), ("critical", th.critical)):
            if limit is not None and d > float(limit):
                rule = next(
                    r
                    for r in rules
                    if r["alert"] == DRIFT_ALERT
                    and r["labels"]["category"] == ind.category
                    and r["labels"]["severity"] == severity
                )
                out[DRIFT_ALERT].append(_alert({**labels, **rule["labels"]}, rule["annotations"]))
        if ind.regression is not None and d > float(ind.regression):
            rule = next(
                r for r in rules if r["alert"] == REGRESSION_ALERT and r["labels"]["indicator"] == ind.name
            )
            out[REGRESSION_ALERT].append(_alert({**labels, **rule["labels"]}, rule["annotations"]))
    return out


def _alert(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {k: render_template(v, labels) for k, v in annotations.items()},
    }


def _inputs(
    service: Service, values: dict[str, float], with_baseline: bool, minutes: int
) -> list[dict[str, str]]:
    out = []
    for ind in service.indicators:
        if ind.name in values:
            labels = {**indicator_labels(service, ind), "unit": ind.unit}
            out.append({"series": series(VALUE, labels), "values": f"{num(values[ind.name])}+0x{minutes}"})
        if with_baseline:
            labels = {**BASELINE_JOB, "service": service.name, "indicator": ind.name, "unit": ind.unit}
            out.append(
                {"series": series(BASELINE, labels), "values": f"{num(baseline_value(ind))}+0x{minutes}"}
            )
    return out


def _threshold_cases(service: Service, drift: DriftSettings) -> list[tuple[str, dict[str, float]]]:
    """2 % over and under every threshold each indicator is judged by (configuration 0 %: 1 % over, at 0)."""
    cases = []
    for severity in SEVERITIES:
        for side, factor in (("over", 1.02), ("under", 0.98)):
            values = {}
            for ind in service.indicators:
                th = drift.thresholds[ind.category]
                limit = th.warning if severity == "warning" else th.critical
                if limit is None:
                    values[ind.name] = value_for(ind, 0.0)  # present, at baseline, so nothing else fires
                    continue
                d = float(limit) * factor if limit > 0 else (0.01 if side == "over" else 0.0)
                values[ind.name] = value_for(ind, d)
            if values:
                cases.append((f"{severity} threshold: drift 2% {side}", values))
    regressions = [i for i in service.indicators if i.regression is not None]
    for side, factor in (("over", 1.02), ("under", 0.98)):
        if regressions:
            values = {i.name: value_for(i, 0.0) for i in service.indicators}
            values.update({i.name: value_for(i, float(i.regression or 0) * factor) for i in regressions})
            cases.append((f"regression threshold: drift 2% {side}", values))
    return cases


def drift_test_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Threshold, baseline-missing and no-data test groups for one service."""
    if not service.indicators:
        return []
    at = max(drift.for_seconds, drift.regression_for_seconds, drift.baseline_missing_for_seconds) // 60 + 2
    groups = []
    for n, (name, values) in enumerate(_threshold_cases(service, drift)):
        expected = expected_drift_alerts(service, drift, values)
        group: dict[str, Any] = {
            "name": f"{service.name}: {name}",
            "interval": fd(STEP),
            "input_series": _inputs(service, values, True, at),
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": a, "exp_alerts": exp} for a, exp in expected.items()
            ],
        }
        if n == 0:
            # the drift values themselves, and no blind-spot alerts while baseline and value are both there
            group["promql_expr_test"] = [
                {
                    "expr": f"abs({promql.selector(DRIFT, {'service': service.name, 'indicator': ind.name})} - "
                    f"{num(drift_of(ind, v))}) <= bool 1e-12",
                    "eval_time": f"{at}m",
                    "exp_samples": [{"labels": labelset(indicator_labels(service, ind)), "value": 1}],
                }
                for ind in service.indicators
                if (v := values.get(ind.name)) is not None
            ]
            group["alert_rule_test"] += [
                {"eval_time": f"{at}m", "alertname": BASELINE_MISSING_ALERT, "exp_alerts": []},
                {"eval_time": f"{at}m", "alertname": INDICATOR_NO_DATA_ALERT, "exp_alerts": []},
            ]
        groups.append(group)
    rules = {r["alert"]: r for r in drift_alerts(service, drift)}
    healthy = {ind.name: baseline_value(ind) for ind in service.indicators}
    missing = rules[BASELINE_MISSING_ALERT]
    absent_labels = {"service": service.name, **missing["labels"]}
    groups.append(
        {
            "name": f"{service.name}: values but no baseline (exporter down)",
            "interval": fd(STEP),
            "input_series": _inputs(service, healthy, False, at),
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": BASELINE_MISSING_ALERT,
                    "exp_alerts": [
                        _alert(
                            {**indicator_labels(service, i), "unit": i.unit, **missing["labels"]},
                            missing["annotations"],
                        )
                        for i in service.indicators
                    ]
                    + [_alert(absent_labels, missing["annotations"])],
                },
                {"eval_time": f"{at}m", "alertname": DRIFT_ALERT, "exp_alerts": []},
            ],
        }
    )
    nodata = rules[INDICATOR_NO_DATA_ALERT]
    groups.append(
        {
            "name": f"{service.name}: baseline but no current values",
            "interval": fd(STEP),
            "input_series": _inputs(service, {}, True, at),
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": INDICATOR_NO_DATA_ALERT,
                    "exp_alerts": [
                        _alert(
                            {"service": service.name, "indicator": i.name, **nodata["labels"]},
                            nodata["annotations"],
                        )
                        for i in service.indicators
                    ],
                }
            ],
        }
    )
    groups += zero_baseline_groups(service, drift, at)
    groups += region_groups(service, drift, at)
    groups += anomaly_test_groups(service, drift)
    return groups


def zero_baseline_groups(service: Service, drift: DriftSettings, at: int) -> list[dict[str, Any]]:
    """A baseline of 0 (a clean release day) still gives drift, measured against the indicator's floor."""
    floored = [i for i in service.indicators if i.floor is not None]
    if not floored:
        return []
    inputs, exprs, expected = [], [], []
    rules = drift_alerts(service, drift)
    for ind in floored:
        assert ind.floor is not None
        floor = float(ind.floor)
        value = floor * 1.5  # 50 % worse than the floor: past every default threshold of its category
        d = value / floor
        labels = indicator_labels(service, ind)
        inputs.append(
            {"series": series(VALUE, {**labels, "unit": ind.unit}), "values": f"{num(value)}+0x{at}"}
        )
        inputs.append(
            {
                "series": series(
                    BASELINE,
                    {**BASELINE_JOB, "service": service.name, "indicator": ind.name, "unit": ind.unit},
                ),
                "values": f"0+0x{at}",
            }
        )
        exprs.append(
            {
                "expr": f"abs({promql.selector(DRIFT, {'service': service.name, 'indicator': ind.name})} - "
                f"{num(d)}) <= bool 1e-12",
                "eval_time": f"{at}m",
                "exp_samples": [{"labels": labelset(labels), "value": 1}],
            }
        )
        th = drift.thresholds[ind.category]
        for severity, limit in (("warning", th.warning), ("critical", th.critical)):
            if limit is not None and d > float(limit):
                rule = next(
                    r
                    for r in rules
                    if r["alert"] == DRIFT_ALERT
                    and r["labels"]["category"] == ind.category
                    and r["labels"]["severity"] == severity
                )
                expected.append(_alert({**labels, **rule["labels"]}, rule["annotations"]))
    return [
        {
            "name": f"{service.name}: zero baseline, drift against the floor",
            "interval": fd(STEP),
            "input_series": inputs,
            "promql_expr_test": exprs,
            "alert_rule_test": [{"eval_time": f"{at}m", "alertname": DRIFT_ALERT, "exp_alerts": expected}],
        }
    ]


def region_groups(service: Service, drift: DriftSettings, at: int) -> list[dict[str, Any]]:
    """One region 2 % over the threshold away from the primary fires; one 2 % under stays quiet."""
    split = [i for i in service.indicators if i.split_by]
    if not split:
        return []
    rules = {r["labels"]["indicator"]: r for r in drift_alerts(service, drift) if r["alert"] == REGION_ALERT}
    inputs, expected = [], []
    for ind in split:
        assert ind.split_by is not None and ind.primary is not None
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if limit is None:
            continue
        base = {**indicator_labels(service, ind), "unit": ind.unit}
        b = baseline_value(ind)
        floor = float(ind.floor or 0)
        for region, factor in ((ind.primary, 0.0), ("over-region", 1.02), ("under-region", 0.98)):
            d = float(limit) * factor if limit > 0 else (0.01 if factor > 1 else 0.0)
            v = b * (1 - d) if ind.direction == "lower_is_worse" else b * (1 + d)
            labels = {**base, ind.split_by: region}
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
                expected.append(_alert({**labels, **rule["labels"]}, rule["annotations"]))
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
    """A spike far outside the band fires the warning; a bump inside it does not."""
    an = service.anomaly
    if an is None:
        return []
    # A long quiet history, so a short spike barely moves the mean and deviation, as over a real week.
    history, spike_len = 600, an.for_seconds // 60 + 4
    at = history + spike_len
    z = float(an.z_threshold)
    groups = []
    for name, level in (("spike outside the band fires", 2.7), ("bump inside the band is quiet", 0.4)):
        inputs, expected = [], []
        for ind in service.indicators:
            if ind.name not in an.indicators:
                continue
            b = baseline_value(ind)
            s = b * 0.05
            samples = [b + (s if i % 2 else -s) for i in range(history)] + [b + level * z * s] * (
                spike_len + 1
            )
            zs = _zscores(samples)
            fires = all(x is not None and abs(x) > z for x in zs[at - an.for_seconds // 60 : at + 1])
            quiet = all(x is None or abs(x) <= z * 0.95 for x in zs)
            assert fires or quiet, f"anomaly test data too close to the threshold for {ind.name}"
            labels = indicator_labels(service, ind)
            inputs.append(
                {
                    "series": series(VALUE, {**labels, "unit": ind.unit}),
                    "values": " ".join(num(x) for x in samples),
                }
            )
            if fires:
                rule = next(r for r in drift_alerts(service, drift) if r["alert"] == ANOMALY_ALERT)
                expected.append(_alert({**labels, **rule["labels"]}, rule["annotations"]))
        groups.append(
            {
                "name": f"{service.name}: anomaly: {name}",
                "interval": fd(STEP),
                "input_series": inputs,
                "alert_rule_test": [
                    {"eval_time": f"{at}m", "alertname": ANOMALY_ALERT, "exp_alerts": expected}
                ],
                "promql_expr_test": [
                    {
                        "expr": f"count({promql.selector(ZSCORE, {'service': service.name})})",
                        "eval_time": f"{at}m",
                        "exp_samples": [{"labels": "{}", "value": len(inputs)}],
                    }
                ],
            }
        )
    return groups


def drift_test_file(service: Service, drift: DriftSettings, rule_file: str) -> dict[str, Any]:
    """The promtool test file of one service's drift rules."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(STEP),
        "tests": drift_test_groups(service, drift),
    }
