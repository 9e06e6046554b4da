"""Drift, regression and anomaly rules: the release watched against its own baseline.

The exporter publishes each indicator's release baseline (`slodrift_baseline`, its spread and sample
count) and, when the baseline was captured over a day, a profile per UTC hour of day
(`slodrift_baseline_profile{hour}` and friends). Prometheus records each indicator's current value
once; the baseline *for this time of day* is the profile interpolated between the two nearest hours
(the flat baseline when there is no profile). Drift is `(current - expected) / expected`, signed so
that positive is always worse.

A drift alert needs the change to be big and real at once: past its category's threshold (the seeds'
sizes), past the indicator's absolute floor (`min_change`), `z_threshold` standard deviations beyond
noise (the baseline's spread at this hour, widened to the Poisson noise of the traffic seen now), and
on enough traffic for ratios and latencies. Drift is a release regression, not an outage: its critical
level files a ticket (`tier="ticket"`) unless the spec says `page: true`. A missing baseline is one
alert per service, so drift can never go silent unnoticed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd

# What the exporter publishes.
BASELINE = "slodrift_baseline"
BASELINE_STDDEV = "slodrift_baseline_stddev"
BASELINE_SAMPLES = "slodrift_baseline_samples"
BASELINE_REQUESTS = "slodrift_baseline_requests"
PROFILE = "slodrift_baseline_profile"
PROFILE_STDDEV = "slodrift_baseline_profile_stddev"
PROFILE_SAMPLES = "slodrift_baseline_profile_samples"
PROFILE_REQUESTS = "slodrift_baseline_profile_requests"
PROFILE_HOUR = "slodrift_baseline_profile_hour"

# What the rules record.
VALUE = "slodrift:indicator:value"
REQUESTS = "slodrift:indicator_requests:rate5m"
WEIGHT = "slodrift:baseline_profile:weight"
EXPECTED = "slodrift:indicator_baseline:value"
EXPECTED_STDDEV = "slodrift:indicator_baseline:stddev"
EXPECTED_STDERR = "slodrift:indicator_baseline:stderr"
EXPECTED_REQUESTS = "slodrift:indicator_baseline_requests:rate5m"
CHANGE = "slodrift:indicator:change"
DRIFT = "slodrift:indicator:drift_ratio"
DRIFT_Z = "slodrift:indicator:drift_zscore"
ZSCORE = "slodrift:indicator:zscore"
BAND_UPPER = "slodrift:indicator_band:upper"
BAND_LOWER = "slodrift:indicator_band:lower"
REGION_VALUE = "slodrift:indicator_region:value"
REGION_DELTA = "slodrift:indicator_region:delta_ratio"

DRIFT_ALERT = "SlodriftIndicatorDrift"
REGRESSION_ALERT = "SlodriftResourceRegression"
BASELINE_MISSING_ALERT = "SlodriftBaselineMissing"
INDICATOR_NO_DATA_ALERT = "SlodriftIndicatorNoData"
ANOMALY_ALERT = "SlodriftIndicatorAnomaly"
REGION_ALERT = "SlodriftRegionDrift"
SEVERITIES = ("warning", "critical")
DELTA = "slodrift:indicator_value:delta5m"
LIVE_SPREAD_WINDOW = "1h"  # the live series' own spread, when the baseline has none
SI = "on (service, indicator)"

# How a value of each unit reads in an alert (Prometheus template functions) and what follows it.
HUMANIZE = {
    "seconds": ("humanizeDuration", ""),
    "ratio": ("humanizePercentage", ""),
    "bytes": ("humanize1024", "B"),
    "cores": ("humanize", " cores"),
    "requests_per_second": ("humanize", " req/s"),
    "count": ("humanize", ""),
}
SEASON_PERIODS = {"daily": 86400, "weekly": 604800}


def mean_name(window: int, seasonality: str = "none") -> str:
    """Recorded mean of an indicator over its anomaly history (the same hour of each day or week in it
    when seasonal)."""
    if seasonality in SEASON_PERIODS:
        return f"slodrift:indicator_value:avg_over_time1h_{seasonality}{fd(window)}"
    return f"slodrift:indicator_value:avg_over_time{fd(window)}"


def stddev_name(window: int, seasonality: str = "none") -> str:
    """Recorded standard deviation of an indicator over its anomaly history, like `mean_name`."""
    if seasonality in SEASON_PERIODS:
        return f"slodrift:indicator_value:stddev_over_time1h_{seasonality}{fd(window)}"
    return f"slodrift:indicator_value:stddev_over_time{fd(window)}"


def indicator_labels(service: Service, ind: Indicator) -> dict[str, str]:
    """Identity of an indicator's series: user labels, then slodrift's own."""
    return {**service.labels, "service": service.name, "indicator": ind.name, "category": ind.category}


def service_labels(service: Service) -> dict[str, str]:
    """Labels every alert of a service carries, so team routes see all of them (values escaped: alert
    labels are templates, and a user's `{{` is text)."""
    return {**_literal(service.labels), "service": service.name}


def _literal(labels: dict[str, str]) -> dict[str, str]:
    return {k: promql.template_literal(v) for k, v in labels.items()}


def _si(service: Service, ind: Indicator) -> dict[str, str]:
    return {"service": service.name, "indicator": ind.name}


def _sel(metric: str, service: Service, ind: Indicator | None = None) -> str:
    return promql.selector(metric, _si(service, ind) if ind else {"service": service.name})


def value_expr(ind: Indicator) -> str:
    """The indicator's query; a custom one is averaged so it always yields one series."""
    return f"avg({ind.query})" if ind.kind == "custom" else ind.query


def pages(ind: Indicator, drift: DriftSettings) -> bool:
    """Whether the indicator's critical level pages: its own `page`, else its category's."""
    return ind.page if ind.page is not None else drift.thresholds[ind.category].page


# -- the baseline for this time of day -------------------------------------------------------------


def weight_expr() -> str:
    """Interpolation weights of the profile hours around now: hour h describes h:00-h:59 UTC, so its
    centre is h + 0.5; the two centres nearest the current time get weights that sum to 1, the others
    none (wrapping around midnight)."""
    return (
        f"clamp_min(\n  1 - abs((max by (hour) ({PROFILE_HOUR}) + 0.5 - (time() % 86400) / 3600 + 36) % 24 - 12),\n"
        "  0\n) > 0"
    )


def _interpolated(per_hour: str, service: Service) -> str:
    """`per_hour` (labels service, indicator, hour) interpolated to now; hours without a point are left
    out and the remaining weights renormalised."""
    w = _sel(WEIGHT, service)
    return (
        f"sum by (service, indicator) (\n  {per_hour}\n  * on (service, hour) group_left ()\n  {w}\n)\n/\n"
        f"sum by (service, indicator) (\n  {per_hour} * 0\n  + on (service, hour) group_left ()\n  {w}\n)"
    )


def _per_hour(metric: str, service: Service) -> str:
    # max by: two exporters (HA) publishing the same baseline must not break the one-to-one joins.
    return f"max by (service, indicator, hour) ({_sel(metric, service)})"


def _flat(metric: str, service: Service) -> str:
    return f"max by (service, indicator) ({_sel(metric, service)})"


def expected_expr(service: Service) -> str:
    """Every indicator's baseline for this time of day: the interpolated profile, else the flat value."""
    return f"{_interpolated(_per_hour(PROFILE, service), service)}\nor\n{_flat(BASELINE, service)}"


def delta_expr(service: Service) -> str:
    """Each value minus the value 5 minutes earlier (two windows that share no request)."""
    value = _sel(VALUE, service)
    return f"{value}\n- {SI}\n{value} offset 5m"


def expected_stddev_expr(service: Service) -> str:
    """The spread of each indicator at this time of day: the profile's, else the baseline's, else the
    live series' own over the last hour, measured on 5-minute differences (Var(x - x') = 2 Var(x) for
    independent windows), so that a step change, the regression itself, is one short burst of big
    differences rather than a spread that swallows it; 0 before there is any history (a hand-written
    baseline may give no spread: then thresholds, floors and Poisson noise decide)."""
    live = f"max by (service, indicator) (stddev_over_time({_sel(DELTA, service)}[{LIVE_SPREAD_WINDOW}])) / 1.4142135623730951"
    return (
        f"{_interpolated(_per_hour(PROFILE_STDDEV, service), service)}\nor\n"
        f"{_flat(BASELINE_STDDEV, service)}\nor\n{live}\nor\n"
        f"max by (service, indicator) ({_sel(VALUE, service)}) * 0"
    )


def expected_stderr_expr(service: Service) -> str:
    """The standard error of each expected value (spread / sqrt(samples)), where the samples are known."""
    hourly = f"{_per_hour(PROFILE_STDDEV, service)} ^ 2\n  / on (service, indicator, hour)\n  {_per_hour(PROFILE_SAMPLES, service)}"
    return (
        f"sqrt(\n{_interpolated(f'({hourly})', service)}\n)\nor\n"
        f"{_flat(BASELINE_STDDEV, service)}\n/ {SI}\nsqrt({_flat(BASELINE_SAMPLES, service)} > 0)"
    )


def expected_requests_expr(service: Service) -> str:
    """The traffic behind each ratio or latency baseline at this time of day, where it was captured."""
    return (
        f"{_interpolated(_per_hour(PROFILE_REQUESTS, service), service)}\nor\n"
        f"{_flat(BASELINE_REQUESTS, service)}"
    )


# -- change, drift and significance ----------------------------------------------------------------


def change_expr(service: Service, ind: Indicator) -> str:
    """The change from the expected value in the indicator's unit, signed so that positive is worse."""
    value, expected = _sel(VALUE, service, ind), _sel(EXPECTED, service, ind)
    if ind.direction == "lower_is_worse":
        return f"{expected}\n- {SI}\n{value}"
    if ind.direction == "either":
        return f"abs(\n  {value}\n  - {SI}\n  {expected}\n)"
    return f"{value}\n- {SI}\n{expected}"


def drift_expr(service: Service, ind: Indicator) -> str:
    """Relative change: the change over the expected value (at least the indicator's floor). Without a
    floor, a change from a baseline of 0 is infinitely large (+Inf; no change is NaN, which passes no
    threshold): a feature flag switched on from 0 is a configuration change, decided by the absolute
    floor and the significance like any other."""
    expected = _sel(EXPECTED, service, ind)
    denominator = (
        f"clamp_min({expected}, {promql.number(ind.floor)})" if ind.floor is not None else f"abs({expected})"
    )
    return f"{_sel(CHANGE, service, ind)}\n/ {SI}\n{denominator}"


def noise_expr(service: Service, ind: Indicator) -> str:
    """Standard deviation of the change when nothing changed (the z-score's denominator): the noise of the current value (the
    spread at this hour, and at least the Poisson noise of the traffic seen now) plus the baseline's own
    standard error."""
    s, se = _sel(EXPECTED_STDDEV, service, ind), _sel(EXPECTED_STDERR, service, ind)
    stderr2 = f"({se} or {SI} {s} * 0) ^ 2"
    expected, value = _sel(EXPECTED, service, ind), _sel(VALUE, service, ind)
    mid = f"({expected} + {SI} {value}) / 2"
    if ind.noise == "binomial":
        # p (1 - p) / n: the variance of a ratio of n requests, at the mean of then and now.
        live = f"{mid}\n  * (1 - {mid})\n  / {SI}\n  ({_sel(REQUESTS, service, ind)} * {RATE_SECONDS})"
    elif ind.noise == "poisson":
        live = f"{mid} / {RATE_SECONDS}"  # a count of rate * window events has variance rate * window
    elif ind.noise == "quantile":
        # A quantile's sampling noise grows as 1 / sqrt(requests): widen the spread when traffic is lower.
        ratio = f"clamp_min({_sel(EXPECTED_REQUESTS, service, ind)} / {SI} {_sel(REQUESTS, service, ind)}, 1)"
        var = f"(\n  {s} ^ 2 * {SI} {ratio}\n  or {SI}\n  {s} ^ 2\n)"
        return f"sqrt(\n{var}\n+ {SI}\n{stderr2}\n)"
    else:
        return f"sqrt(\n{s} ^ 2\n+ {SI}\n{stderr2}\n)"
    var = f"(\n  (\n  {live}\n  ) > {SI} {s} ^ 2\n  or {SI}\n  {s} ^ 2\n)"
    return f"sqrt(\n{var}\n+ {SI}\n{stderr2}\n)"


def recording_rules(service: Service) -> list[dict[str, Any]]:
    """Values first, then the baseline for this time of day, then change, drift, noise and z, so every
    rule reads what this evaluation recorded."""
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        labels = indicator_labels(service, ind)
        rules.append({"record": VALUE, "expr": Expr(value_expr(ind)), "labels": {**labels, "unit": ind.unit}})
        if ind.traffic_query:
            rules.append({"record": REQUESTS, "expr": Expr(ind.traffic_query), "labels": labels})
    svc = {**service.labels, "service": service.name}  # recorded series: label values as they are
    rules += [
        {"record": DELTA, "expr": Expr(delta_expr(service)), "labels": svc},
        {"record": WEIGHT, "expr": Expr(weight_expr()), "labels": svc},
        {"record": EXPECTED, "expr": Expr(expected_expr(service)), "labels": svc},
        {"record": EXPECTED_STDDEV, "expr": Expr(expected_stddev_expr(service)), "labels": svc},
        {"record": EXPECTED_STDERR, "expr": Expr(expected_stderr_expr(service)), "labels": svc},
    ]
    if any(i.noise == "quantile" for i in service.indicators):
        rules.append(
            {"record": EXPECTED_REQUESTS, "expr": Expr(expected_requests_expr(service)), "labels": svc}
        )
    for ind in service.indicators:
        labels = indicator_labels(service, ind)
        z = f"{_sel(CHANGE, service, ind)}\n/ {SI}\n{noise_expr(service, ind)}"
        rules += [
            {"record": CHANGE, "expr": Expr(change_expr(service, ind)), "labels": labels},
            {"record": DRIFT, "expr": Expr(drift_expr(service, ind)), "labels": labels},
            {"record": DRIFT_Z, "expr": Expr(z), "labels": labels},
        ]
    return rules


# -- cross-region ------------------------------------------------------------------------------------


def region_delta_expr(service: Service, ind: Indicator) -> str:
    """Each group's relative difference from the primary, signed so that positive is worse."""
    assert ind.group_label is not None and ind.primary is not None
    sel = _si(service, ind)
    every = promql.selector(REGION_VALUE, sel)
    primary = promql.selector(REGION_VALUE, {**sel, ind.group_label: ind.primary})
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
    """Cross-region (seed 004): the indicator per group (`group_by`), and each group's delta from the primary."""
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        if not ind.group_by:
            continue
        labels = indicator_labels(service, ind)
        rules.append(
            {"record": REGION_VALUE, "expr": Expr(ind.group_query), "labels": {**labels, "unit": ind.unit}}
        )
        rules.append(
            {"record": REGION_DELTA, "expr": Expr(region_delta_expr(service, ind)), "labels": labels}
        )
    return rules


# -- anomaly -------------------------------------------------------------------------------------------


def _cycles(window: int, seasonality: str) -> list[str]:
    """Offsets that centre a 1h range on the same time of each day or week of the window."""
    period = SEASON_PERIODS[seasonality]
    return [fd(k * period - 1800) for k in range(1, window // period + 1)]


def _per_cycle(template: str, offsets: list[str]) -> str:
    """One series per cycle (labelled so `or` keeps them apart), for an average over the cycles present."""
    parts = [
        f'label_replace({template.replace("OFFSET", o)}, "slodrift_cycle", "{n}", "", "")'
        for n, o in enumerate(offsets, 1)
    ]
    return "\n  or ".join(parts)


def anomaly_stat_exprs(service: Service, ind: Indicator, window: int, seasonality: str) -> tuple[str, str]:
    """Mean and standard deviation the z-score compares with."""
    value = _sel(VALUE, service, ind)
    if seasonality not in SEASON_PERIODS:
        return f"avg_over_time({value}[{fd(window)}])", f"stddev_over_time({value}[{fd(window)}])"
    offsets = _cycles(window, seasonality)
    mean = f"avg by (service, indicator) (\n  {_per_cycle(f'avg_over_time({value}[1h] offset OFFSET)', offsets)}\n)"
    # Pooled over the cycles: the mean of (variance + mean^2) of each cycle's hour, minus the overall mean^2.
    second = f"stddev_over_time({value}[1h] offset OFFSET) ^ 2 + avg_over_time({value}[1h] offset OFFSET) ^ 2"
    m = _sel(mean_name(window, seasonality), service, ind)
    std = (
        f"sqrt(clamp_min(\n  avg by (service, indicator) (\n  {_per_cycle(f'({second})', offsets)}\n  )\n"
        f"  - {SI}\n  {m} ^ 2,\n  0\n))"
    )
    return mean, std


def anomaly_rules(service: Service) -> list[dict[str, Any]]:
    """Mean and deviation over the anomaly history, z-score (no result at zero deviation) and bands."""
    an = service.anomaly
    if an is None:
        return []
    rules: list[dict[str, Any]] = []
    z = promql.number(an.z_threshold)
    for ind in service.indicators:
        if ind.name not in an.indicators:
            continue
        labels = indicator_labels(service, ind)
        value = _sel(VALUE, service, ind)
        mname, sname = mean_name(an.window, an.seasonality), stddev_name(an.window, an.seasonality)
        mean_src, std_src = anomaly_stat_exprs(service, ind, an.window, an.seasonality)
        mean, std = _sel(mname, service, ind), _sel(sname, service, ind)
        rules += [
            {"record": mname, "expr": Expr(mean_src), "labels": labels},
            {"record": sname, "expr": Expr(std_src), "labels": labels},
            {
                "record": ZSCORE,
                "expr": Expr(f"({value} - {SI} {mean})\n/ {SI}\n({std} > 0)"),
                "labels": labels,
            },
            {"record": BAND_UPPER, "expr": Expr(f"{mean} + {SI} ({std} * {z})"), "labels": labels},
            {"record": BAND_LOWER, "expr": Expr(f"{mean} - {SI} ({std} * {z})"), "labels": labels},
        ]
    return rules


# -- alerts ---------------------------------------------------------------------------------------------


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
    sel = _sel(metric, service, ind)
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


def drift_condition(service: Service, ind: Indicator, drift: DriftSettings, limit: Decimal) -> str:
    """Big (past `limit`), real (past the floor and the noise) and measured on enough traffic."""
    parts = [
        f"{_sel(DRIFT, service, ind)} > {promql.number(limit)}",
        f"{_sel(CHANGE, service, ind)} > {promql.number(ind.min_change)}",
        f"{_sel(DRIFT_Z, service, ind)} > {promql.number(drift.z_threshold)}",
    ]
    if ind.traffic_query and ind.min_requests is not None:
        parts.append(f"{_sel(REQUESTS, service, ind)} * {RATE_SECONDS} >= {promql.number(ind.min_requests)}")
    return f"\nand {SI}\n".join(parts)


def _timing(seconds: int, drift: DriftSettings) -> dict[str, str]:
    out = {"for": fd(seconds)}
    if drift.keep_firing_for_seconds:
        out["keep_firing_for"] = fd(drift.keep_firing_for_seconds)
    return out


def indicator_alerts(service: Service, ind: Indicator, drift: DriftSettings) -> list[dict[str, Any]]:
    """An indicator's drift alerts, one per severity; with `regression`, its critical level is
    `SlodriftResourceRegression` at that threshold (one alert for one condition, never two)."""
    th = drift.thresholds[ind.category]
    rules: list[dict[str, Any]] = []
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
            **_literal(ind.labels),
        }
        wait = drift.regression_for_seconds if regression else drift.for_seconds
        annotations = drift_annotations(service, ind, drift, severity, limit, wait)
        if regression:
            annotations["summary"] = promql.template_literal(
                f"{service.name} {ind.name} regressed more than {_pct(limit)} over its release baseline"
            )
        rules.append(
            {
                "alert": REGRESSION_ALERT if regression else DRIFT_ALERT,
                "expr": Expr(drift_condition(service, ind, drift, limit)),
                **_timing(wait, drift),
                "labels": labels,
                "annotations": annotations,
            }
        )
    return rules


def baseline_alerts(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """One alert per service when baselines are missing; one per indicator whose value is missing."""
    lit = promql.template_literal
    n = len(service.indicators)
    values, baseline = _sel(VALUE, service), _sel(BASELINE, service)
    return [
        {
            "alert": BASELINE_MISSING_ALERT,
            "expr": Expr(
                f"count by (service) (\n  {values}\n  unless {SI}\n  {baseline}\n)\n"
                f"or\nabsent({baseline}) * {n}"
            ),
            "for": fd(drift.baseline_missing_for_seconds),
            "labels": {**service_labels(service), "severity": "warning"},
            "annotations": {
                "summary": lit(f"{service.name}: no release baseline, drift alerts are blind"),
                "description": "{{ $value }}"
                + lit(
                    f" of the {n} indicators of service {service.name} have no {BASELINE} series in "
                    "Prometheus (the slodrift exporter is down, not scraped, or its baseline file lacks "
                    "them), so their drift cannot be computed."
                ),
            },
        },
        {
            "alert": INDICATOR_NO_DATA_ALERT,
            "expr": Expr(f"{_flat(BASELINE, service)}\nunless {SI}\n{values}"),
            "for": fd(drift.baseline_missing_for_seconds),
            "labels": {**service_labels(service), "severity": "warning"},
            "annotations": {
                "summary": "{{ $labels.service }} {{ $labels.indicator }}: the indicator has no current value",
                "description": lit(
                    f"A baseline exists but the indicator's query returns nothing for "
                    f"{fd(drift.baseline_missing_for_seconds)}: its metrics are missing or renamed."
                ),
            },
        },
    ]


def region_alerts(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """A region worse than the primary by the category's warning threshold (warning only)."""
    lit = promql.template_literal
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        th = drift.thresholds[ind.category]
        limit = th.warning if th.warning is not None else th.critical
        if ind.group_label is None or limit is None:
            continue
        rules.append(
            {
                "alert": REGION_ALERT,
                "expr": Expr(f"{promql.selector(REGION_DELTA, _si(service, ind))} > {promql.number(limit)}"),
                "for": fd(drift.for_seconds),
                "labels": {**service_labels(service), "indicator": ind.name, "severity": "warning"},
                "annotations": {
                    "summary": f"{{{{ $labels.service }}}} {{{{ $labels.indicator }}}}: {{{{ $labels.{ind.group_label} }}}} "
                    "drifts from the other regions",
                    "description": lit(
                        f"{ind.name} in one {ind.group_label} is more than {_pct(limit)} worse than in "
                        f"{ind.primary} (the primary) for {fd(drift.for_seconds)}."
                    ),
                    **ind.annotations,
                },
            }
        )
    return rules


def anomaly_alerts(service: Service) -> list[dict[str, Any]]:
    """Warning-only: an indicator outside its usual band."""
    an = service.anomaly
    if an is None:
        return []
    where = {
        "daily": " (the same hour of each day)",
        "weekly": " (the same hour of each week)",
    }.get(an.seasonality, "")
    return [
        {
            "alert": ANOMALY_ALERT,
            "expr": Expr(f"abs({_sel(ZSCORE, service)}) > {promql.number(an.z_threshold)}"),
            "for": fd(an.for_seconds),
            "labels": {**service_labels(service), "severity": "warning"},  # anomalies never page
            "annotations": {
                "summary": "{{ $labels.service }} {{ $labels.indicator }} is outside its usual band",
                "description": promql.template_literal(
                    f"The indicator is more than {promql.number(an.z_threshold)} standard "
                    f"deviations from its mean over {fd(an.window)}{where}."
                ),
            },
        }
    ]


def drift_alerts(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Every alert of a service's drift rules."""
    rules: list[dict[str, Any]] = []
    for ind in service.indicators:
        rules += indicator_alerts(service, ind, drift)
    if service.indicators:
        rules += baseline_alerts(service, drift)
    return rules + region_alerts(service, drift) + anomaly_alerts(service)


def drift_groups(service: Service, drift: DriftSettings, interval: int) -> list[dict[str, Any]]:
    """One service's drift rules: a recording group in dependency order (values, baseline for this time
    of day, drift and significance, regions, anomaly statistics), then the alerts that read them."""
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
