"""The drift alerts: drift and regression per indicator and severity, a missing baseline, an indicator without
data, cross-region drift and anomalies; with their labels and annotations."""

from __future__ import annotations

from decimal import Decimal

from slodrift.generator import promql
from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import Anomaly, DriftSettings, Indicator, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    ANOMALY_ALERT,
    BASELINE,
    BASELINE_MISSING_ALERT,
    CHANGE,
    DRIFT,
    DRIFT_ALERT,
    DRIFT_Z,
    EXPECTED,
    HUMANIZE,
    INDICATOR_NO_DATA_ALERT,
    REGION_ALERT,
    REGION_DELTA,
    REGRESSION_ALERT,
    REQUESTS,
    SEVERITIES,
    SI,
    VALUE,
    ZSCORE,
    pages,
    series_selector,
    service_labels,
    si_labels,
    template_literals,
)
from slodrift.generator.rules.drift_records import flat_baseline
from slodrift.generator.rules.types import Alerting


def _pct(x: Decimal) -> str:
    return promql.number(x * 100) + "%"


def _amount(ind: Indicator, x: Decimal) -> str:
    """A floor written for people: 5ms, 0.025pp, 32MiB, 0.05 cores."""
    if ind.unit == "seconds":
        return promql.number(x * 1000) + "ms"
    if ind.unit == "ratio":
        return promql.number(x * 100) + "pp"
    if ind.unit == "bytes" and x and x % 1048576 == 0:
        return promql.number(x / 1048576) + "MiB"
    suffix = {"cores": " cores", "requests_per_second": " req/s", "bytes": " bytes"}.get(ind.unit, "")
    return promql.number(x) + suffix


def query_value(metric: str, service: Service, ind: Indicator, fn: str, suffix: str = "") -> str:
    """A template action printing one recorded series of the indicator (nothing if it has no value)."""
    sel = series_selector(metric, service, ind)
    return f"{{{{ with query `{sel}` }}}}{{{{ . | first | value | {fn} }}}}{{{{ end }}}}{suffix}"


def drift_annotations(
    service: Service, ind: Indicator, drift: DriftSettings, severity: str, limit: Decimal, wait: int
) -> dict[str, str]:
    """What one indicator's drift alert says: the value now, the baseline, the change and its size."""
    lit = promql.template_literal
    fn, suffix = HUMANIZE[ind.unit]
    now = query_value(VALUE, service, ind, fn, suffix)
    expected = query_value(EXPECTED, service, ind, fn, suffix)
    change = query_value(CHANGE, service, ind, fn, suffix)
    z = query_value(DRIFT_Z, service, ind, 'printf "%.1f"')
    worse = {"lower_is_worse": "lower", "higher_is_worse": "higher"}.get(ind.direction, "away")
    return {
        "summary": lit(f"{service.name} {ind.name} drifted ")
        + "{{ $value | humanizePercentage }}"
        + lit(" from its release baseline"),
        "description": lit(f"{ind.name} ({ind.category}) of {service.name} is ")
        + now
        + lit(", against ")
        + expected
        + lit(" expected at this time of day from the release baseline: ")
        + change
        + lit(f" {worse} (")
        + "{{ $value | humanizePercentage }}"
        + lit(", ")
        + z
        + lit(
            f" standard deviations of noise). The {severity} threshold is {_pct(limit)}, with at least "
            f"{_amount(ind, ind.min_change)} and {promql.number(drift.z_threshold)} standard deviations, "
            f"for {fd(wait)}."
        ),
        **ind.annotations,
    }


def level_annotations(
    service: Service,
    ind: Indicator,
    drift: DriftSettings,
    severity: str,
    limit: Decimal,
    wait: int,
    regression: bool,
) -> dict[str, str]:
    """What a drift level says; a regression's summary says it regressed past its own threshold."""
    annotations = drift_annotations(service, ind, drift, severity, limit, wait)
    if regression:
        annotations["summary"] = promql.template_literal(
            f"{service.name} {ind.name} regressed more than {_pct(limit)} over its release baseline"
        )
    return annotations


def drift_condition(service: Service, ind: Indicator, drift: DriftSettings, limit: Decimal) -> str:
    """Big (past `limit`), real (past the floor and the noise) and measured on enough traffic."""
    parts = [
        f"{series_selector(DRIFT, service, ind)} > {promql.number(limit)}",
        f"{series_selector(CHANGE, service, ind)} > {promql.number(ind.min_change)}",
        f"{series_selector(DRIFT_Z, service, ind)} > {promql.number(drift.z_threshold)}",
    ]
    if ind.traffic_query and ind.min_requests is not None:
        parts.append(
            f"{series_selector(REQUESTS, service, ind)} * {RATE_SECONDS} >= {promql.number(ind.min_requests)}"
        )
    return f"\nand {SI}\n".join(parts)


def indicator_alerts(service: Service, ind: Indicator, drift: DriftSettings) -> list[Alerting]:
    """An indicator's drift alerts, one per severity; with `regression`, its critical level is
    `SlodriftResourceRegression` at that threshold (one alert for one condition, never two)."""
    th = drift.thresholds[ind.category]
    rules: list[Alerting] = []
    for severity in SEVERITIES:
        limit = th.warning if severity == "warning" else th.critical
        regression = severity == "critical" and ind.regression is not None
        if regression:
            limit = ind.regression
        if limit is None:
            continue
        tier = "page" if severity == "critical" and pages(ind, drift) else "ticket"
        labels = {
            **service_labels(service),
            "indicator": ind.name,
            "category": ind.category,
            "severity": severity,
            "tier": tier,
            **template_literals(ind.labels),
        }
        wait = drift.regression_for_seconds if regression else drift.for_seconds
        annotations = level_annotations(service, ind, drift, severity, limit, wait, regression)
        rules.append(
            Alerting(
                REGRESSION_ALERT if regression else DRIFT_ALERT,
                Expr(drift_condition(service, ind, drift, limit)),
                labels,
                annotations,
                for_seconds=wait,
                keep_firing_for_seconds=drift.keep_firing_for_seconds,
            )
        )
    return rules


def baseline_missing_annotations(service: Service) -> dict[str, str]:
    lit = promql.template_literal
    return {
        "summary": lit(f"{service.name}: no release baseline, drift alerts are blind"),
        "description": "{{ $value }}"
        + lit(
            f" of the {len(service.indicators)} indicators of service {service.name} have no {BASELINE} "
            "series in Prometheus (the slodrift exporter is down, not scraped, or its baseline file lacks "
            "them), so their drift cannot be computed."
        ),
    }


def no_data_annotations(drift: DriftSettings) -> dict[str, str]:
    return {
        "summary": "{{ $labels.service }} {{ $labels.indicator }}: the indicator has no current value",
        "description": promql.template_literal(
            f"A baseline exists but the indicator's query returns nothing for "
            f"{fd(drift.baseline_missing_for_seconds)}: its metrics are missing or renamed."
        ),
    }


def baseline_alerts(service: Service, drift: DriftSettings) -> list[Alerting]:
    """One alert per service when baselines are missing; one per indicator whose value is missing."""
    n = len(service.indicators)
    values, baseline = series_selector(VALUE, service), series_selector(BASELINE, service)
    return [
        Alerting(
            BASELINE_MISSING_ALERT,
            Expr(
                f"count by (service) (\n  {values}\n  unless {SI}\n  {baseline}\n)\n"
                f"or\nabsent({baseline}) * {n}"
            ),
            {**service_labels(service), "severity": "warning"},
            baseline_missing_annotations(service),
            for_seconds=drift.baseline_missing_for_seconds,
        ),
        Alerting(
            INDICATOR_NO_DATA_ALERT,
            Expr(f"{flat_baseline(BASELINE, service)}\nunless {SI}\n{values}"),
            {**service_labels(service), "severity": "warning"},
            no_data_annotations(drift),
            for_seconds=drift.baseline_missing_for_seconds,
        ),
    ]


def region_annotations(ind: Indicator, drift: DriftSettings, limit: Decimal) -> dict[str, str]:
    return {
        "summary": f"{{{{ $labels.service }}}} {{{{ $labels.indicator }}}}: {{{{ $labels.{ind.group_label} }}}} "
        "drifts from the other regions",
        "description": promql.template_literal(
            f"{ind.name} in one {ind.group_label} is more than {_pct(limit)} worse than in "
            f"{ind.primary} (the primary) for {fd(drift.for_seconds)}."
        ),
        **ind.annotations,
    }


def region_alerts(service: Service, drift: DriftSettings) -> list[Alerting]:
    """A region worse than the primary by the category's warning threshold (warning only)."""
    rules: list[Alerting] = []
    for ind in service.indicators:
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if ind.group_label is None or limit is None:
            continue
        rules.append(
            Alerting(
                REGION_ALERT,
                Expr(f"{promql.selector(REGION_DELTA, si_labels(service, ind))} > {promql.number(limit)}"),
                {**service_labels(service), "indicator": ind.name, "severity": "warning"},
                region_annotations(ind, drift, limit),
                for_seconds=drift.for_seconds,
            )
        )
    return rules


def anomaly_annotations(an: Anomaly) -> dict[str, str]:
    where = {
        "daily": " (the same hour of each day)",
        "weekly": " (the same hour of each week)",
    }.get(an.seasonality, "")
    return {
        "summary": "{{ $labels.service }} {{ $labels.indicator }} is outside its usual band",
        "description": promql.template_literal(
            f"The indicator is more than {promql.number(an.z_threshold)} standard "
            f"deviations from its mean over {fd(an.window)}{where}."
        ),
    }


def anomaly_alerts(service: Service) -> list[Alerting]:
    """Warning-only: an indicator outside its usual band."""
    an = service.anomaly
    if an is None:
        return []
    return [
        Alerting(
            ANOMALY_ALERT,
            Expr(f"abs({series_selector(ZSCORE, service)}) > {promql.number(an.z_threshold)}"),
            {**service_labels(service), "severity": "warning"},  # anomalies never page
            anomaly_annotations(an),
            for_seconds=an.for_seconds,
        )
    ]


def drift_alerts(service: Service, drift: DriftSettings) -> list[Alerting]:
    """Every alert of a service's drift rules."""
    rules: list[Alerting] = []
    for ind in service.indicators:
        rules += indicator_alerts(service, ind, drift)
    if service.indicators:
        rules += baseline_alerts(service, drift)
    return rules + region_alerts(service, drift) + anomaly_alerts(service)
