"""The SLO rule groups of a service: one recording group (reads, windows, per-SLO figures) and one
alerting group. Each layer is built by its own module; see `slo_names` for how the math fits together."""

from __future__ import annotations

from slodrift.generator.model import Service
from slodrift.generator.rules.slo_alerts import alert_rules
from slodrift.generator.rules.slo_names import (
    ABSENT_ALERT,
    BUDGET,
    BUDGET_REMAINING,
    BURN_ALERT,
    COMPLIANT,
    CURRENT_BURN_WINDOW,
    GROUP_LIMIT_ALERT,
    INFO,
    NO_DATA_ALERT,
    OBJECTIVE,
    PERIOD_COVERAGE,
    RATE_WINDOW,
    burn_name,
    ratio_name,
    slo_matchers,
    sum_name,
)
from slodrift.generator.rules.slo_period import constant_rules, period_rules
from slodrift.generator.rules.slo_reads import read_rules
from slodrift.generator.rules.slo_windows import window_rules
from slodrift.generator.rules.types import Alerting, Group, Rule

__all__ = [
    "ABSENT_ALERT",
    "BUDGET",
    "BUDGET_REMAINING",
    "BURN_ALERT",
    "COMPLIANT",
    "CURRENT_BURN_WINDOW",
    "GROUP_LIMIT_ALERT",
    "INFO",
    "NO_DATA_ALERT",
    "OBJECTIVE",
    "PERIOD_COVERAGE",
    "RATE_WINDOW",
    "burn_name",
    "group_names",
    "ratio_name",
    "slo_groups",
    "slo_matchers",
    "sum_name",
]


def group_names(service: Service) -> list[str]:
    """Names of the SLO rule groups of a service, in evaluation order (recordings, then alerts)."""
    return [f"slodrift-slo-{service.name}", f"slodrift-slo-alerts-{service.name}"]


def slo_groups(service: Service, interval: int) -> list[Group]:
    """Recordings first (each rule reads only rules above it), then the alerts that read them."""
    recordings: list[Rule] = []
    for slo in service.slos:
        recordings.extend(constant_rules(service, slo))
    for slo in service.slos:
        recordings.extend(read_rules(service, slo, interval))
    recordings.extend(window_rules(service, interval))
    for slo in service.slos:
        recordings.extend(period_rules(service, slo, interval))
    alerts: list[Alerting] = [a for slo in service.slos for a in alert_rules(service, slo, interval)]
    names = group_names(service)
    groups = [Group(names[0], interval, tuple(recordings))]
    if alerts:
        groups.append(Group(names[1], interval, tuple(alerts)))
    return groups
