"""The names of the drift rules' series and alerts, what the exporter publishes, and the labels that identify
an indicator's series; every module of the drift rules (and the tests, dashboard and demo that read them) takes
them from here."""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Indicator, Service
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
    return {**template_literals(service.labels), "service": service.name}


def template_literals(labels: dict[str, str]) -> dict[str, str]:
    return {k: promql.template_literal(v) for k, v in labels.items()}


def si_labels(service: Service, ind: Indicator) -> dict[str, str]:
    return {"service": service.name, "indicator": ind.name}


def series_selector(metric: str, service: Service, ind: Indicator | None = None) -> str:
    return promql.selector(metric, si_labels(service, ind) if ind else {"service": service.name})


def value_expr(ind: Indicator) -> str:
    """The indicator's query; a custom one is averaged so it always yields one series."""
    return f"avg({ind.query})" if ind.kind == "custom" else ind.query


def pages(ind: Indicator, drift: DriftSettings) -> bool:
    """Whether the indicator's critical level pages: its own `page`, else its category's."""
    return ind.page if ind.page is not None else drift.thresholds[ind.category].page
