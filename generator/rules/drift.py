"""Drift, regression and anomaly rules: the release watched against its own baseline.

The exporter publishes `slodrift_baseline{service,indicator}`; Prometheus records each indicator's
current value once, and drift is `(current - baseline) / baseline`, signed so that positive is always
worse. Alerts compare drift with per-category thresholds; a missing baseline is itself an alert, so
drift alerts can never go silent unnoticed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd

BASELINE = "slodrift_baseline"
VALUE = "slodrift:indicator:value"
DRIFT = "slodrift:indicator:drift_ratio"
ZSCORE = "slodrift:indicator:zscore"
BAND_UPPER = "slodrift:indicator_band:upper"
BAND_LOWER = "slodrift:indicator_band:lower"
DRIFT_ALERT = "SlodriftIndicatorDrift"
REGRESSION_ALERT = "SlodriftResourceRegression"
BASELINE_MISSING_ALERT = "SlodriftBaselineMissing"
INDICATOR_NO_DATA_ALERT = "SlodriftIndicatorNoData"
ANOMALY_ALERT = "SlodriftIndicatorAnomaly"
REGION_VALUE = "slodrift:indicator_region:value"
REGION_DELTA = "slodrift:indicator_region:delta_ratio"
REGION_ALERT = "SlodriftRegionDrift"
SEVERITIES = ("warning", "critical")


def mean_name(window: int) -> str:
    """Recorded mean of an indicator over its anomaly window."""
    return f"slodrift:indicator_value:avg_over_time{fd(window)}"


def stddev_name(window: int) -> str:
    """Recorded standard deviation of an indicator over its anomaly window."""
    return f"slodrift:indicator_value:stddev_over_time{fd(window)}"


def indicator_labels(service: Service, ind: Indicator) -> dict[str, str]:
    """Identity of an indicator's series: user labels, then slodrift's own."""
    return {**service.labels, "service": service.name, "indicator": ind.name, "category": ind.category}


def _ind_sel(service: Service, ind: Indicator) -> dict[str, str]:
    return {"service": service.name, "indicator": ind.name}


def _baseline(service: Service, ind: Indicator, denominator: bool = False) -> str:
    # max by: two exporters (HA) publishing the same baseline must not break the one-to-one join.
    sel = promql.selector(BASELINE, _ind_sel(service, ind))
    if not denominator:
        return f"max by (service, indicator) ({sel})"
    if ind.floor is not None:
        return f"clamp_min(max by (service, indicator) ({sel}), {promql.number(ind.floor)})"
    return f"max by (service, indicator) ({sel} != 0)"  # no floor: a zero baseline gives no drift


def drift_expr(service: Service, ind: Indicator) -> str:
    """Relative change from the baseline, signed so that positive means worse."""
    value = promql.selector(VALUE, _ind_sel(service, ind))
    core = (
        f"(\n  {value}\n  - on (service, indicator)\n  {_baseline(service, ind)}\n)\n"
        f"/ on (service, indicator)\n{_baseline(service, ind, denominator=True)}"
    )
    if ind.direction == "lower_is_worse":
        return f"-(\n{core}\n)"
    if ind.direction == "either":
        return f"abs(\n{core}\n)"
    return core


def value_expr(ind: Indicator) -> str:
    """The indicator's query; a custom one is averaged so it always yields one series."""
    return f"avg({ind.query})" if ind.kind == "custom" else ind.query


def recording_rules(service: Service) -> list[dict[str, Any]]:
    """Current value and drift of every indicator, value first so drift reads this evaluation's value."""
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        labels = indicator_labels(service, ind)
        rules.append({"record": VALUE, "expr": Expr(value_expr(ind)), "labels": {**labels, "unit": ind.unit}})
        rules.append({"record": DRIFT, "expr": Expr(drift_expr(service, ind)), "labels": labels})
    return rules


def region_delta_expr(service: Service, ind: Indicator) -> str:
    """Each split value's relative difference from the primary, signed so that positive is worse."""
    assert ind.split_by is not None and ind.primary is not None
    sel = _ind_sel(service, ind)
    every = promql.selector(REGION_VALUE, sel)
    primary = promql.selector(REGION_VALUE, {**sel, ind.split_by: ind.primary})
    denom = (
        f"clamp_min(max by (service, indicator) ({primary}), {promql.number(ind.floor)})"
        if ind.floor
        else f"max by (service, indicator) ({primary} != 0)"
    )
    core = (
        f"(\n  {every}\n  - on (service, indicator) group_left ()\n  max by (service, indicator) ({primary})\n)\n"
        f"/ on (service, indicator) group_left ()\n{denom}"
    )
    if ind.direction == "lower_is_worse":
        return f"-(\n{core}\n)"
    return f"abs(\n{core}\n)" if ind.direction == "either" else core


def region_rules(service: Service) -> list[dict[str, Any]]:
    """Cross-region (seed 004): the indicator per split value, and each value's delta from the primary."""
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        if not ind.split_by:
            continue
        labels = indicator_labels(service, ind)
        rules.append(
            {"record": REGION_VALUE, "expr": Expr(ind.split_query), "labels": {**labels, "unit": ind.unit}}
        )
        rules.append(
            {"record": REGION_DELTA, "expr": Expr(region_delta_expr(service, ind)), "labels": labels}
        )
    return rules


def anomaly_rules(service: Service) -> list[dict[str, Any]]:
    """Mean and deviation over the anomaly window, z-score (no result at zero deviation) and bands."""
    an = service.anomaly
    if an is None:
        return []
    rules: list[dict[str, Any]] = []
    w = fd(an.window)
    z = promql.number(an.z_threshold)
    for ind in service.indicators:
        if ind.name not in an.indicators:
            continue
        labels = indicator_labels(service, ind)
        sel = _ind_sel(service, ind)
        value = promql.selector(VALUE, sel)
        mean_src = (
            f"avg_over_time({value}[1h] offset 1w)"
            if an.seasonality == "weekly"
            else f"avg_over_time({value}[{w}])"
        )
        mean, std = promql.selector(mean_name(an.window), sel), promql.selector(stddev_name(an.window), sel)
        rules += [
            {"record": mean_name(an.window), "expr": Expr(mean_src), "labels": labels},
            {
                "record": stddev_name(an.window),
                "expr": Expr(f"stddev_over_time({value}[{w}])"),
                "labels": labels,
            },
            {
                "record": ZSCORE,
                "expr": Expr(
                    f"({value} - on (service, indicator) {mean})\n/ on (service, indicator)\n({std} > 0)"
                ),
                "labels": labels,
            },
            {
                "record": BAND_UPPER,
                "expr": Expr(f"{mean} + on (service, indicator) ({std} * {z})"),
                "labels": labels,
            },
            {
                "record": BAND_LOWER,
                "expr": Expr(f"{mean} - on (service, indicator) ({std} * {z})"),
                "labels": labels,
            },
        ]
    return rules


def _pct(x: Decimal) -> str:
    return promql.number(x * 100) + "%"


def drift_alerts(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Per category and severity, one rule that serves every indicator of that category."""
    lit = promql.template_literal
    rules: list[dict[str, Any]] = []
    categories = sorted({i.category for i in service.indicators})
    for category in categories:
        th = drift.thresholds[category]
        names = ", ".join(i.name for i in service.indicators if i.category == category)
        for severity in SEVERITIES:
            limit = th.warning if severity == "warning" else th.critical
            if limit is None:
                continue
            sel = promql.selector(DRIFT, {"service": service.name, "category": category})
            rules.append(
                {
                    "alert": DRIFT_ALERT,
                    "expr": Expr(f"{sel} > {promql.number(limit)}"),
                    "for": fd(drift.for_seconds),
                    "labels": {"service": service.name, "category": category, "severity": severity},
                    "annotations": {
                        "summary": "{{ $labels.service }} {{ $labels.indicator }} drifted from the release baseline",
                        "description": lit(
                            f"A {category} indicator of {service.name} ({names}) is more than "
                            f"{_pct(limit)} worse than its release baseline ({severity} threshold) for "
                            f"{fd(drift.for_seconds)}."
                        ),
                    },
                }
            )
    for ind in service.indicators:
        if ind.regression is None:
            continue
        sel = promql.selector(DRIFT, _ind_sel(service, ind))
        rules.append(
            {
                "alert": REGRESSION_ALERT,
                "expr": Expr(f"{sel} > {promql.number(ind.regression)}"),
                "for": fd(drift.regression_for_seconds),
                "labels": {"service": service.name, "indicator": ind.name, "severity": "warning"},
                "annotations": {
                    "summary": lit(
                        f"{service.name} {ind.name} regressed more than {_pct(ind.regression)} over baseline"
                    ),
                    "description": lit(
                        f"{ind.name} ({ind.unit}) of {service.name} has been more than "
                        f"{_pct(ind.regression)} above its release baseline for "
                        f"{fd(drift.regression_for_seconds)}: a resource regression."
                    ),
                },
            }
        )
    if service.indicators:
        svc = {"service": service.name}
        rules.append(
            {
                "alert": BASELINE_MISSING_ALERT,
                "expr": Expr(
                    f"(\n  {promql.selector(VALUE, svc)}\n  unless on (service, indicator)\n"
                    f"  {promql.selector(BASELINE, svc)}\n)\nor\nabsent({promql.selector(BASELINE, svc)})"
                ),
                "for": fd(drift.baseline_missing_for_seconds),
                "labels": {"service": service.name, "severity": "warning"},
                "annotations": {
                    "summary": lit(f"{service.name}: no release baseline, drift alerts are blind"),
                    "description": lit(
                        f"Prometheus has no {BASELINE} series for service {service.name} (the "
                        "slodrift exporter is down, not scraped, or its baseline file lacks it), so "
                        "drift cannot be computed."
                    ),
                },
            }
        )
        rules.append(
            {
                "alert": INDICATOR_NO_DATA_ALERT,
                "expr": Expr(
                    f"max by (service, indicator) ({promql.selector(BASELINE, svc)})\n"
                    f"unless on (service, indicator)\n{promql.selector(VALUE, svc)}"
                ),
                "for": fd(drift.baseline_missing_for_seconds),
                "labels": {"service": service.name, "severity": "warning"},
                "annotations": {
                    "summary": "{{ $labels.service }} {{ $labels.indicator }}: the indicator has no current value",
                    "description": lit(
                        f"A baseline exists but the indicator's query returns nothing for "
                        f"{fd(drift.baseline_missing_for_seconds)}: its metrics are missing or renamed."
                    ),
                },
            }
        )
    for ind in service.indicators:
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if not ind.split_by or limit is None:
            continue
        rules.append(
            {
                "alert": REGION_ALERT,
                "expr": Expr(
                    f"{promql.selector(REGION_DELTA, _ind_sel(service, ind))} > {promql.number(limit)}"
                ),
                "for": fd(drift.for_seconds),
                "labels": {"service": service.name, "indicator": ind.name, "severity": "warning"},
                "annotations": {
                    "summary": f"{{{{ $labels.service }}}} {{{{ $labels.indicator }}}}: {{{{ $labels.{ind.split_by} }}}} "
                    "drifts from the other regions",
                    "description": lit(
                        f"{ind.name} in one {ind.split_by} is more than {_pct(limit)} worse than in "
                        f"{ind.primary} (the primary) for {fd(drift.for_seconds)}."
                    ),
                },
            }
        )
    an = service.anomaly
    if an is not None:
        rules.append(
            {
                "alert": ANOMALY_ALERT,
                "expr": Expr(
                    f"abs({promql.selector(ZSCORE, {'service': service.name})}) > {promql.number(an.z_threshold)}"
                ),
                "for": fd(an.for_seconds),
                "labels": {"service": service.name, "severity": "warning"},  # anomalies never page
                "annotations": {
                    "summary": "{{ $labels.service }} {{ $labels.indicator }} is outside its usual band",
                    "description": lit(
                        f"The indicator is more than {promql.number(an.z_threshold)} standard "
                        f"deviations from its mean over {fd(an.window)}"
                        f"{' (same hour last week)' if an.seasonality == 'weekly' else ''}."
                    ),
                },
            }
        )
    return rules


def drift_groups(service: Service, drift: DriftSettings, interval: int) -> list[dict[str, Any]]:
    """One service's drift rules: a recording group in dependency order (values, drift, anomaly
    statistics), then the alerts that read them."""
    if not service.indicators:
        return []
    recordings = recording_rules(service) + region_rules(service) + anomaly_rules(service)
    groups = [{"name": f"slodrift-drift-{service.name}", "interval": fd(interval), "rules": recordings}]
    groups.append(
        {
            "name": f"slodrift-drift-alerts-{service.name}",
            "interval": fd(interval),
            "rules": drift_alerts(service, drift),
        }
    )
    return groups
