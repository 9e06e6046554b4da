"""promtool tests of a service's SLO rules, with expected values that do not come from the rules.

- raw (`slo_raw`): raw counters in, as a scraped service exposes them; slices, windows, ratios and
  alerts out, compared with a small reference model of what they mean (`slo_reference`): rules loaded
  onto history, a burst, a restart, warm-up, the page, one healthy group beside a burning one;
- comparisons (`slo_alerts`): every condition of every burn pair 2 % either side of its limit, at one
  evaluation; each tier's `for` to the interval, carried by the raw test;
- absent (`slo_absent`, a file of its own): targets going quiet, then away: no data first, then the
  critical alert;
- windows (`slo_windows`, a file of its own with a long evaluation step): every block-built window at
  its edges, 30 days included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slodrift.generator.model import Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo import BURN_ALERTS, DATA_ALERTS, RECORDINGS
from slodrift.generator.testgen.slo_absent import absent_group
from slodrift.generator.testgen.slo_alerts import alert_group, held_cases
from slodrift.generator.testgen.slo_raw import raw_group
from slodrift.generator.testgen.slo_windows import window_test_file

# The SLO rule files of a service a test generator is given: suffix -> (path relative to the test
# file, the name of its group), in evaluation order.
RuleFiles = Mapping[str, tuple[str, str]]


def _loaded(rules: RuleFiles, suffixes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The rule files a test loads (those of `suffixes` the service has) and the order of their groups:
    recordings before alerts at every step, as Prometheus evaluates them a group apart (promtool
    orders groups at random otherwise, and alerts would read either this step's or the last step's
    windows). promtool evaluates every rule of every file a test loads at every step: a test loads
    only the files of the rules it checks."""
    chosen = [rules[s] for s in rules if s in suffixes]
    return [path for path, _ in chosen], [group for _, group in chosen]


def _file(
    rules: RuleFiles, suffixes: tuple[str, ...], interval: int, groups: list[dict[str, Any] | None]
) -> dict[str, Any] | None:
    tests = [g for g in groups if g]
    if not tests:
        return None
    files, order = _loaded(rules, suffixes)
    return {
        "rule_files": files,
        "evaluation_interval": fd(interval),
        "group_eval_order": order,
        "tests": tests,
    }


def slo_test_file(service: Service, rules: RuleFiles, interval: int) -> dict[str, Any] | None:
    """The raw-counter test of one service's SLO rules: the recordings and the burn alerts."""
    return _file(
        rules,
        (RECORDINGS, BURN_ALERTS),
        interval,
        [raw_group(service, interval, held_cases(service, interval))],
    )


def slo_data_test_file(service: Service, rules: RuleFiles, interval: int) -> dict[str, Any] | None:
    """The absent and no-data test of one service: the recordings and the alerts on the SLI's data."""
    return _file(rules, (RECORDINGS, DATA_ALERTS), interval, [absent_group(service, interval)])


def slo_alert_test_file(service: Service, rules: RuleFiles, interval: int) -> dict[str, Any] | None:
    """The comparison tests of one service's burn alerts, or None without any."""
    return _file(rules, (RECORDINGS, BURN_ALERTS), interval, [alert_group(service, interval)])


def slo_window_test_file(service: Service, rules: RuleFiles, interval: int) -> dict[str, Any] | None:
    """The window test file of one service (a long evaluation step of its own; the recordings only),
    or None."""
    files, order = _loaded(rules, (RECORDINGS,))
    return window_test_file(service, files, interval, order)
