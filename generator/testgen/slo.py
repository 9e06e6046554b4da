"""promtool tests of a service's SLO rules, with expected values that do not come from the rules.

- raw (`slo_raw`): raw counters in, as a scraped service exposes them; slices, windows, ratios and
  alerts out, compared with a small reference model of what they mean (`slo_reference`): rules loaded
  onto history, a burst, a restart, warm-up, the page, one healthy group beside a burning one;
- comparisons (`slo_alerts`): every condition of every burn pair 2 % either side of its limit, at one
  evaluation; each tier's `for` to the interval, carried by the raw test;
- absent (`slo_absent`): targets going quiet, then away: no data first, then the critical alert;
- windows (`slo_windows`, a file of its own with a long evaluation step): every block-built window at
  its edges, 30 days included.
"""

from __future__ import annotations

from typing import Any

from slodrift.generator.model import Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo import group_names
from slodrift.generator.testgen.slo_absent import absent_group
from slodrift.generator.testgen.slo_alerts import alert_group, held_cases
from slodrift.generator.testgen.slo_raw import raw_group
from slodrift.generator.testgen.slo_windows import window_test_file


def eval_order(service: Service) -> list[str]:
    """Recordings before alerts at every step, as in the rule file (promtool orders groups at random
    otherwise, and alerts would read either this step's or the last step's windows)."""
    return group_names(service)


def _file(
    service: Service, rule_file: str, interval: int, groups: list[dict[str, Any] | None]
) -> dict[str, Any] | None:
    tests = [g for g in groups if g]
    if not tests:
        return None
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(interval),
        "group_eval_order": eval_order(service),
        "tests": tests,
    }


def slo_test_file(service: Service, rule_file: str, interval: int) -> dict[str, Any] | None:
    """The raw-counter and absent tests of one service's SLO rules (`rule_file` relative to it)."""
    return _file(
        service,
        rule_file,
        interval,
        [raw_group(service, interval, held_cases(service, interval)), absent_group(service, interval)],
    )


def slo_alert_test_file(service: Service, rule_file: str, interval: int) -> dict[str, Any] | None:
    """The comparison tests of one service's burn alerts, or None without any."""
    return _file(service, rule_file, interval, [alert_group(service, interval)])


def slo_window_test_file(service: Service, rule_file: str, interval: int) -> dict[str, Any] | None:
    """The window test file of one service (a long evaluation step of its own), or None."""
    return window_test_file(service, rule_file, interval, eval_order(service))
