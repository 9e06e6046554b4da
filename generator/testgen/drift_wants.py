"""What each drift alert must deliver, from the spec alone: its name, the labels it carries and its wait, as
README "Watching drift from the release baseline" documents them. Nothing here reads the rules the
builders made, so a wrong label, severity, tier or `for` in a rule fails the generated tests instead of
being copied into them. The annotation templates are the builders' (the tests render them as Prometheus
does), as in the SLO tests.

Labels are the text Prometheus delivers: a user's `{{` in a label value arrives as `{{`.
"""

from __future__ import annotations

from dataclasses import dataclass

from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.rules.drift_alerts import (
    anomaly_annotations,
    baseline_missing_annotations,
    level_annotations,
    no_data_annotations,
    region_annotations,
)
from slodrift.generator.rules.drift_names import (
    ANOMALY_ALERT,
    BASELINE_MISSING_ALERT,
    DRIFT_ALERT,
    INDICATOR_NO_DATA_ALERT,
    REGION_ALERT,
    REGRESSION_ALERT,
)

LEVELS = ("warning", "critical")


@dataclass(frozen=True)
class Want:
    """One alert rule as the spec says it must be."""

    alert: str
    labels: dict[str, str]  # added to the expression's labels (the rule's own, rendered)
    for_seconds: int
    annotations: dict[str, str]  # templates


def _owner(service: Service) -> dict[str, str]:
    """Every alert of a service carries the service's labels and its name (team routes see them all)."""
    return {**service.labels, "service": service.name}


def level(service: Service, ind: Indicator, drift: DriftSettings, severity: str) -> Want | None:
    """An indicator's drift alert at `severity` (None: the category has no such threshold).

    The critical level of an indicator with `regression: X` is `SlodriftResourceRegression` at X after
    `regression_for`; every other level is `SlodriftIndicatorDrift` after `for`. Critical files a ticket
    unless `page: true` is set on the indicator, or on its category and not turned off on the indicator.
    """
    th = drift.thresholds[ind.category]
    regression = severity == "critical" and ind.regression is not None
    limit = ind.regression if regression else th.critical if severity == "critical" else th.warning
    if limit is None:
        return None
    paging = ind.page if ind.page is not None else th.page
    wait = drift.regression_for_seconds if regression else drift.for_seconds
    labels = {
        **_owner(service),
        "indicator": ind.name,
        "category": ind.category,
        "severity": severity,
        "tier": "page" if severity == "critical" and paging else "ticket",
        **ind.labels,
    }
    return Want(
        REGRESSION_ALERT if regression else DRIFT_ALERT,
        labels,
        wait,
        level_annotations(service, ind, drift, severity, limit, wait, regression),
    )


def levels(service: Service, drift: DriftSettings) -> dict[tuple[str, str], Want]:
    """Every drift and regression alert of the service, by (indicator, severity)."""
    out = {}
    for ind in service.indicators:
        for severity in LEVELS:
            want = level(service, ind, drift, severity)
            if want is not None:
                out[(ind.name, severity)] = want
    return out


def baseline_missing(service: Service, drift: DriftSettings) -> Want:
    """One warning per service, after `baseline_missing_for`."""
    return Want(
        BASELINE_MISSING_ALERT,
        {**_owner(service), "severity": "warning"},
        drift.baseline_missing_for_seconds,
        baseline_missing_annotations(service),
    )


def no_data(service: Service, drift: DriftSettings) -> Want:
    """One warning per indicator without a value, after `baseline_missing_for`."""
    return Want(
        INDICATOR_NO_DATA_ALERT,
        {**_owner(service), "severity": "warning"},
        drift.baseline_missing_for_seconds,
        no_data_annotations(drift),
    )


def region(service: Service, ind: Indicator, drift: DriftSettings) -> Want | None:
    """A group worse than the primary by the category's warning threshold (its critical one when it has
    no warning): a warning after `for`."""
    th = drift.thresholds[ind.category]
    limit = th.warning if th.warning is not None else th.critical
    if ind.group_label is None or limit is None:
        return None
    return Want(
        REGION_ALERT,
        {**_owner(service), "indicator": ind.name, "severity": "warning"},
        drift.for_seconds,
        region_annotations(ind, drift, limit),
    )


def anomaly(service: Service) -> Want | None:
    """Outside the band: warning only (anomalies never page), after the anomaly's own `for`."""
    an = service.anomaly
    if an is None:
        return None
    return Want(
        ANOMALY_ALERT, {**_owner(service), "severity": "warning"}, an.for_seconds, anomaly_annotations(an)
    )
