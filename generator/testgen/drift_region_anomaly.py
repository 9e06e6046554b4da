"""Test groups of the drift alerts outside the drift method: cross-region comparison and anomalies."""

from __future__ import annotations

import math
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    ANOMALY_ALERT,
    REGION_ALERT,
    REGION_VALUE,
    VALUE,
    ZSCORE,
    indicator_labels,
)
from slodrift.generator.testgen import drift_wants
from slodrift.generator.testgen.drift_clock import eval_after, grid_down
from slodrift.generator.testgen.drift_expected import expected_alert
from slodrift.generator.testgen.series import STEP, num, series


def region_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """One region 2 % over the threshold away from the primary fires; one 2 % under stays quiet."""
    split = [i for i in service.indicators if i.group_by]
    if not split:
        return []
    at = eval_after(drift, drift.for_seconds)
    inputs, expected = [], []
    for ind in split:
        assert ind.group_label is not None and ind.primary is not None
        want = drift_wants.region(service, ind, drift)
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if want is None or limit is None:
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
                expected.append(expected_alert(want, labels, delta, {}))
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
    want = drift_wants.anomaly(service)
    assert want is not None
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
        expected.append(expected_alert(want, labels, 0.0, {}))
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
