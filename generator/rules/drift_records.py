"""The drift recording rules: each indicator's value, the baseline for this time of day (the hourly profile
interpolated, or the flat baseline), the change, drift and its significance; cross-region deltas; anomaly
statistics."""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.indicators import RATE_SECONDS
from slodrift.generator.model import Indicator, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    BAND_LOWER,
    BAND_UPPER,
    BASELINE,
    BASELINE_REQUESTS,
    BASELINE_SAMPLES,
    BASELINE_STDDEV,
    CHANGE,
    DELTA,
    DRIFT,
    DRIFT_Z,
    EXPECTED,
    EXPECTED_REQUESTS,
    EXPECTED_STDDEV,
    EXPECTED_STDERR,
    LIVE_SPREAD_WINDOW,
    PROFILE,
    PROFILE_HOUR,
    PROFILE_REQUESTS,
    PROFILE_SAMPLES,
    PROFILE_STDDEV,
    REGION_DELTA,
    REGION_VALUE,
    REQUESTS,
    SEASON_PERIODS,
    SI,
    VALUE,
    WEIGHT,
    ZSCORE,
    indicator_labels,
    mean_name,
    series_selector,
    si_labels,
    stddev_name,
    value_expr,
)
from slodrift.generator.rules.types import Recording


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
    w = series_selector(WEIGHT, service)
    return (
        f"sum by (service, indicator) (\n  {per_hour}\n  * on (service, hour) group_left ()\n  {w}\n)\n/\n"
        f"sum by (service, indicator) (\n  {per_hour} * 0\n  + on (service, hour) group_left ()\n  {w}\n)"
    )


def _per_hour(metric: str, service: Service) -> str:
    # max by: two exporters (HA) publishing the same baseline must not break the one-to-one joins.
    return f"max by (service, indicator, hour) ({series_selector(metric, service)})"


def flat_baseline(metric: str, service: Service) -> str:
    return f"max by (service, indicator) ({series_selector(metric, service)})"


def expected_expr(service: Service) -> str:
    """Every indicator's baseline for this time of day: the interpolated profile, else the flat value."""
    return f"{_interpolated(_per_hour(PROFILE, service), service)}\nor\n{flat_baseline(BASELINE, service)}"


def delta_expr(service: Service) -> str:
    """Each value minus the value 5 minutes earlier (two windows that share no request)."""
    value = series_selector(VALUE, service)
    return f"{value}\n- {SI}\n{value} offset 5m"


def expected_stddev_expr(service: Service) -> str:
    """The spread of each indicator at this time of day: the profile's, else the baseline's, else the
    live series' own over the last hour, measured on 5-minute differences (Var(x - x') = 2 Var(x) for
    independent windows), so that a step change, the regression itself, is one short burst of big
    differences rather than a spread that swallows it; 0 before there is any history (a hand-written
    baseline may give no spread: then thresholds, floors and Poisson noise decide)."""
    live = f"max by (service, indicator) (stddev_over_time({series_selector(DELTA, service)}[{LIVE_SPREAD_WINDOW}])) / 1.4142135623730951"
    return (
        f"{_interpolated(_per_hour(PROFILE_STDDEV, service), service)}\nor\n"
        f"{flat_baseline(BASELINE_STDDEV, service)}\nor\n{live}\nor\n"
        f"max by (service, indicator) ({series_selector(VALUE, service)}) * 0"
    )


def expected_stderr_expr(service: Service) -> str:
    """The standard error of each expected value (spread / sqrt(samples)), where the samples are known."""
    hourly = f"{_per_hour(PROFILE_STDDEV, service)} ^ 2\n  / on (service, indicator, hour)\n  {_per_hour(PROFILE_SAMPLES, service)}"
    return (
        f"sqrt(\n{_interpolated(f'({hourly})', service)}\n)\nor\n"
        f"{flat_baseline(BASELINE_STDDEV, service)}\n/ {SI}\nsqrt({flat_baseline(BASELINE_SAMPLES, service)} > 0)"
    )


def expected_requests_expr(service: Service) -> str:
    """The traffic behind each ratio or latency baseline at this time of day, where it was captured."""
    return (
        f"{_interpolated(_per_hour(PROFILE_REQUESTS, service), service)}\nor\n"
        f"{flat_baseline(BASELINE_REQUESTS, service)}"
    )


def change_expr(service: Service, ind: Indicator) -> str:
    """The change from the expected value in the indicator's unit, signed so that positive is worse."""
    value, expected = series_selector(VALUE, service, ind), series_selector(EXPECTED, service, ind)
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
    expected = series_selector(EXPECTED, service, ind)
    denominator = (
        f"clamp_min({expected}, {promql.number(ind.floor)})" if ind.floor is not None else f"abs({expected})"
    )
    return f"{series_selector(CHANGE, service, ind)}\n/ {SI}\n{denominator}"


def noise_expr(service: Service, ind: Indicator) -> str:
    """Standard deviation of the change when nothing changed (the z-score's denominator): the noise of the current value (the
    spread at this hour, and at least the Poisson noise of the traffic seen now) plus the baseline's own
    standard error."""
    s, se = series_selector(EXPECTED_STDDEV, service, ind), series_selector(EXPECTED_STDERR, service, ind)
    stderr2 = f"({se} or {SI} {s} * 0) ^ 2"
    expected, value = series_selector(EXPECTED, service, ind), series_selector(VALUE, service, ind)
    mid = f"({expected} + {SI} {value}) / 2"
    if ind.noise == "binomial":
        # p (1 - p) / n: the variance of a ratio of n requests, at the mean of then and now.
        live = f"{mid}\n  * (1 - {mid})\n  / {SI}\n  ({series_selector(REQUESTS, service, ind)} * {RATE_SECONDS})"
    elif ind.noise == "poisson":
        live = f"{mid} / {RATE_SECONDS}"  # a count of rate * window events has variance rate * window
    elif ind.noise == "quantile":
        # A quantile's sampling noise grows as 1 / sqrt(requests): widen the spread when traffic is lower.
        ratio = f"clamp_min({series_selector(EXPECTED_REQUESTS, service, ind)} / {SI} {series_selector(REQUESTS, service, ind)}, 1)"
        var = f"(\n  {s} ^ 2 * {SI} {ratio}\n  or {SI}\n  {s} ^ 2\n)"
        return f"sqrt(\n{var}\n+ {SI}\n{stderr2}\n)"
    else:
        return f"sqrt(\n{s} ^ 2\n+ {SI}\n{stderr2}\n)"
    var = f"(\n  (\n  {live}\n  ) > {SI} {s} ^ 2\n  or {SI}\n  {s} ^ 2\n)"
    return f"sqrt(\n{var}\n+ {SI}\n{stderr2}\n)"


def recording_rules(service: Service) -> list[Recording]:
    """Values first, then the baseline for this time of day, then change, drift, noise and z, so every
    rule reads what this evaluation recorded."""
    rules: list[Recording] = []
    for ind in service.indicators:
        labels = indicator_labels(service, ind)
        rules.append(Recording(VALUE, Expr(value_expr(ind)), {**labels, "unit": ind.unit}))
        if ind.traffic_query:
            rules.append(Recording(REQUESTS, Expr(ind.traffic_query), labels))
    svc = {**service.labels, "service": service.name}  # recorded series: label values as they are
    rules += [
        Recording(DELTA, Expr(delta_expr(service)), svc),
        Recording(WEIGHT, Expr(weight_expr()), svc),
        Recording(EXPECTED, Expr(expected_expr(service)), svc),
        Recording(EXPECTED_STDDEV, Expr(expected_stddev_expr(service)), svc),
        Recording(EXPECTED_STDERR, Expr(expected_stderr_expr(service)), svc),
    ]
    if any(i.noise == "quantile" for i in service.indicators):
        rules.append(Recording(EXPECTED_REQUESTS, Expr(expected_requests_expr(service)), svc))
    for ind in service.indicators:
        labels = indicator_labels(service, ind)
        z = f"{series_selector(CHANGE, service, ind)}\n/ {SI}\n{noise_expr(service, ind)}"
        rules += [
            Recording(CHANGE, Expr(change_expr(service, ind)), labels),
            Recording(DRIFT, Expr(drift_expr(service, ind)), labels),
            Recording(DRIFT_Z, Expr(z), labels),
        ]
    return rules


def region_delta_expr(service: Service, ind: Indicator) -> str:
    """Each group's relative difference from the primary, signed so that positive is worse."""
    assert ind.group_label is not None and ind.primary is not None
    sel = si_labels(service, ind)
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


def region_rules(service: Service) -> list[Recording]:
    """Cross-region (seed 004): the indicator per group (`group_by`), and each group's delta from the primary."""
    rules: list[Recording] = []
    for ind in service.indicators:
        if not ind.group_by:
            continue
        labels = indicator_labels(service, ind)
        rules.append(Recording(REGION_VALUE, Expr(ind.group_query), {**labels, "unit": ind.unit}))
        rules.append(Recording(REGION_DELTA, Expr(region_delta_expr(service, ind)), labels))
    return rules


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
    value = series_selector(VALUE, service, ind)
    if seasonality not in SEASON_PERIODS:
        return f"avg_over_time({value}[{fd(window)}])", f"stddev_over_time({value}[{fd(window)}])"
    offsets = _cycles(window, seasonality)
    mean = f"avg by (service, indicator) (\n  {_per_cycle(f'avg_over_time({value}[1h] offset OFFSET)', offsets)}\n)"
    # Pooled over the cycles: the mean of (variance + mean^2) of each cycle's hour, minus the overall mean^2.
    second = f"stddev_over_time({value}[1h] offset OFFSET) ^ 2 + avg_over_time({value}[1h] offset OFFSET) ^ 2"
    m = series_selector(mean_name(window, seasonality), service, ind)
    std = (
        f"sqrt(clamp_min(\n  avg by (service, indicator) (\n  {_per_cycle(f'({second})', offsets)}\n  )\n"
        f"  - {SI}\n  {m} ^ 2,\n  0\n))"
    )
    return mean, std


def anomaly_rules(service: Service) -> list[Recording]:
    """Mean and deviation over the anomaly history, z-score (no result at zero deviation) and bands."""
    an = service.anomaly
    if an is None:
        return []
    rules: list[Recording] = []
    z = promql.number(an.z_threshold)
    for ind in service.indicators:
        if ind.name not in an.indicators:
            continue
        labels = indicator_labels(service, ind)
        value = series_selector(VALUE, service, ind)
        mname, sname = mean_name(an.window, an.seasonality), stddev_name(an.window, an.seasonality)
        mean_src, std_src = anomaly_stat_exprs(service, ind, an.window, an.seasonality)
        mean, std = series_selector(mname, service, ind), series_selector(sname, service, ind)
        rules += [
            Recording(mname, Expr(mean_src), labels),
            Recording(sname, Expr(std_src), labels),
            Recording(ZSCORE, Expr(f"({value} - {SI} {mean})\n/ {SI}\n({std} > 0)"), labels),
            Recording(BAND_UPPER, Expr(f"{mean} + {SI} ({std} * {z})"), labels),
            Recording(BAND_LOWER, Expr(f"{mean} - {SI} ({std} * {z})"), labels),
        ]
    return rules
