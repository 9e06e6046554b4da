"""The SLO rule groups of a service, each in a rule file of its own: the recordings (reads, windows,
per-SLO figures), the burn-rate alerts, and the alerts on the SLI's data (absent, no data, group limit).
Each layer is built by its own module; see `slo_names` for how the math fits together.

Three files, not one, so that each generated test loads only the rules it tests: promtool evaluates
every rule of every file a test loads at every step, and the window test, for one, needs no alert.
Prometheus evaluates groups independently either way; the alerts read the recordings one group later
wherever they are."""

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
from slodrift.generator.rules.slo_period import constant_rules, shared_period_rules
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
    "DATA_ALERTS",
    "BURN_ALERTS",
    "RECORDINGS",
    "group_names",
    "ratio_name",
    "slo_groups",
    "slo_matchers",
    "slo_rule_files",
    "sum_name",
]

# The suffixes of a service's SLO rule files (`rules/<service>.<suffix>.yml`), in evaluation order.
RECORDINGS, BURN_ALERTS, DATA_ALERTS = "slo", "slo-alerts", "slo-data"


def group_names(service: Service) -> dict[str, str]:
    """The name of each SLO rule group of a service, by the suffix of its rule file, in evaluation
    order (recordings, then the alerts that read them)."""
    return {
        RECORDINGS: f"slodrift-slo-{service.name}",
        BURN_ALERTS: f"slodrift-slo-alerts-{service.name}",
        DATA_ALERTS: f"slodrift-slo-data-{service.name}",
    }


def slo_rule_files(service: Service, interval: int) -> dict[str, Group]:
    """Each SLO rule group of a service by the suffix of its rule file, in evaluation order: the
    recordings (each rule reads only rules above it), the burn alerts, the alerts on the SLI's data.
    A group without rules (no burn alerts) has no file."""
    recordings: list[Rule] = []
    for slo in service.slos:
        recordings.extend(constant_rules(service, slo))
    for slo in service.slos:
        recordings.extend(read_rules(service, slo, interval))
    recordings.extend(window_rules(service, interval))
    recordings.extend(shared_period_rules(service, interval))
    alerts: list[Alerting] = [a for slo in service.slos for a in alert_rules(service, slo, interval)]
    rules: dict[str, tuple[Rule, ...]] = {
        RECORDINGS: tuple(recordings),
        BURN_ALERTS: tuple(a for a in alerts if a.alert == BURN_ALERT),
        DATA_ALERTS: tuple(a for a in alerts if a.alert != BURN_ALERT),
    }
    names = group_names(service)
    return {suffix: Group(names[suffix], interval, group) for suffix, group in rules.items() if group}


def slo_groups(service: Service, interval: int) -> list[Group]:
    """Every SLO rule group of a service, in evaluation order."""
    return list(slo_rule_files(service, interval).values())
