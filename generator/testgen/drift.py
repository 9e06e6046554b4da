"""promtool unit tests for the drift rules, fed raw counters, gauges and histograms.

Each test group builds a small world of raw series, as the service would expose them (request counters
by code, histogram buckets, CPU counters and memory gauges per instance, cache hits and misses, `up`),
and the exporter's baseline gauges. The expected value of every indicator is computed here from those
raw numbers (sums of rates, Prometheus' histogram interpolation), and a model of the drift method says
which alerts fire. The baselines are chosen so that each condition of a drift alert (the category
threshold, the absolute floor, the significance, the minimum traffic) sits 2 % over or 2 % under its
limit while the others pass, and so that the baseline for the time of day (an hourly profile) matters.

Raw series start at 0; baselines appear at 5m, when every 5m rate window is full, so the values the
rules see from then on are exact and `for` starts counting there.

- `drift_world`: the raw series and what each indicator's query gives on them; `drift_clock`: warm-up and
  the evaluation grid;
- `drift_method`: the baseline and the model of the drift method; `drift_baselines`: baselines that put
  each condition just over or under its limit; `drift_expected`: the alerts that fire, with their text;
- `drift_inputs`: baseline gauges and other input series;
- the groups: `drift_cases` (thresholds), `drift_time_of_day`, `drift_lifecycle` (hysteresis, missing
  baseline), `drift_region_anomaly`; this module puts them in one file per service.
"""

from __future__ import annotations

from typing import Any

from slodrift.generator.model import DriftSettings, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift import drift_groups
from slodrift.generator.testgen.drift_cases import case_groups
from slodrift.generator.testgen.drift_clock import EVAL_MINUTES
from slodrift.generator.testgen.drift_lifecycle import hysteresis_group, missing_groups
from slodrift.generator.testgen.drift_region_anomaly import anomaly_test_groups, region_groups
from slodrift.generator.testgen.drift_time_of_day import time_of_day_groups
from slodrift.generator.testgen.series import STEP


def drift_test_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """Every test group of one service's drift rules."""
    if not service.indicators:
        return []
    return (
        case_groups(service, drift)
        + time_of_day_groups(service, drift)
        + hysteresis_group(service, drift)
        + missing_groups(service, drift)
        + region_groups(service, drift)
        + anomaly_test_groups(service, drift)
    )


def drift_test_file(service: Service, drift: DriftSettings, rule_file: str) -> dict[str, Any]:
    """The promtool test file of one service's drift rules."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(EVAL_MINUTES * 60),
        # promtool evaluates groups in no fixed order unless told: values before the alerts that read them
        "group_eval_order": [g.name for g in drift_groups(service, drift, STEP)],
        "tests": drift_test_groups(service, drift),
    }
