"""The time-of-day test groups: the hourly profile, interpolated, decides; the flat baseline does not."""

from __future__ import annotations

import math
from typing import Any

from slodrift.generator.model import DriftSettings, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    CHANGE,
    DRIFT,
    DRIFT_ALERT,
    DRIFT_Z,
    EXPECTED,
    REGRESSION_ALERT,
)
from slodrift.generator.testgen.drift_baselines import plan, valid_base
from slodrift.generator.testgen.drift_clock import WARMUP, eval_after
from slodrift.generator.testgen.drift_expected import expected_drift_alerts
from slodrift.generator.testgen.drift_inputs import (
    baseline_inputs,
    close_test,
    custom_inputs,
    profile_hour_inputs,
)
from slodrift.generator.testgen.drift_method import Base, Point, judge, weights
from slodrift.generator.testgen.drift_world import (
    BIG,
    build_world,
    current_traffic,
    current_value,
    enough_traffic,
)
from slodrift.generator.testgen.series import STEP


def time_of_day_groups(service: Service, drift: DriftSettings) -> list[dict[str, Any]]:
    """The baseline for this time of day: an hourly profile, interpolated between the two nearest hours,
    decides; the flat daily value does not. With the default `for` the test is evaluated before 00:30 UTC
    (promtool's clock starts at midnight), so the two hours are 23:00 and 00:00, across midnight; a longer
    `for` puts it later in the day, between the two hours around that time.

    Quiet at night: the current value is the profile's, while the day's mean (the flat baseline) is
    2.5 times it (night traffic at 40 % of the mean). Firing: the interpolated profile puts drift 2 %
    over the warning threshold while the flat baseline equals the current value.
    """
    at = eval_after(drift, drift.for_seconds)
    midnight = at < 30  # the default: 23:00 and 00:00 interpolated, and hours that must not count
    if not midnight:
        at = -(-at // 60) * 60  # on the hour: the two hours around it weigh half each
    t = at * 60
    w = weights(t, list(range(24)))
    late = int((t % 86400) / 3600 + 0.5) % 24  # the hour whose centre comes next
    early = (late - 1) % 24
    assert set(w) == {early, late}, f"the time-of-day test at {at}m interpolates {sorted(w)}"
    where = (
        "across midnight"
        if midnight
        else f"between {early:02d}:00 and {late:02d}:00"
        if at < 1440
        else "(the same at every hour: the test spans a day)"
    )
    world = build_world(service, enough_traffic(service, BIG))  # every traffic guard passes
    groups = []
    for name, firing in (("night: the profile matches, the day's mean is 2.5x higher; quiet", False),
                         (f"profile interpolated {where} puts drift 2% over warning; fires", True)):  # fmt: skip
        inputs = world.inputs(at) + custom_inputs(service, world, at) + profile_hour_inputs(at)
        judged = {}
        for ind in service.indicators:
            v, traffic = current_value(world, ind), current_traffic(world, ind)
            if firing:
                target = plan(ind, drift, v, traffic, "warning", 1.02).flat
                if target.value == v:
                    continue  # no critical level in reach in this world
                # The later hour 3 % past the target (on the better side), the earlier one on the worse
                # side, so that only the interpolation hits it, and earlier (more weight on the earlier
                # hour) drift was larger.
                p_late = target.value * (0.99 if ind.direction == "lower_is_worse" else 1.03)
                p_early = (target.value - w[late] * p_late) / w[early]
                if at >= 1440:
                    p_late = p_early = target.value
                if not valid_base(ind, p_late) or not valid_base(ind, p_early):
                    continue
                flat = Point(v, target.stddev)
                spread = target.stddev
            else:
                p_late = p_early = v
                flat_value = v * 2.5 if ind.unit != "ratio" else v
                flat = Point(flat_value, max(abs(v) * 0.01, 1e-9))
                spread = max(abs(v) * 0.01, 1e-9)
            req = traffic if ind.noise == "quantile" else None
            if midnight:
                profile = {
                    early: Point(p_early, spread, 12, req),
                    late: Point(p_late, spread, 12, req),
                    1: Point(v * 7 + 1, spread, 12, req),  # an hour away: must not count
                    12: Point(v * 9 + 1, spread, 12, req),
                }
            elif at >= 1440:
                # A `for` of about a day: the pending condition has seen this hour of the day before, so
                # every hour gives the same value (no interpolation to check; the profile still decides).
                profile = {h: Point(p_early, spread, 12, req) for h in range(24)}
            else:
                # A `for` of hours: every hour the condition is pending through has a point, on the worse
                # side (3 % worse than the target at most, so it stays under the critical threshold),
                # and the hour after `at` one that must not count.
                profile = {h: Point(p_early, spread, 12, req) for h in range(24)}
                profile[late] = Point(p_late, spread, 12, req)
                if at < 1440 - 60 and late != 23:
                    profile[late + 1] = Point(v * 7 + 1, spread, 12, req)
            if ind.unit == "ratio":
                profile = {h: p for h, p in profile.items() if valid_base(ind, p.value)}
            base = Base(flat, profile)
            judged[ind.name] = judge(ind, v, traffic, base, t)
            inputs += baseline_inputs(service, ind, base, at)
        if not judged:
            continue
        expected = expected_drift_alerts(service, drift, judged, f"{service.name}: time of day", at - WARMUP)
        if firing:
            assert expected[DRIFT_ALERT] or expected[REGRESSION_ALERT], "the profile case fires nothing"
        group: dict[str, Any] = {
            "name": f"{service.name}: time of day: {name}",
            "interval": fd(STEP),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": a, "exp_alerts": exp}
                for a, exp in expected.items()
                if exp or a == DRIFT_ALERT
            ],
        }
        if firing:
            tests = []
            for ind in service.indicators:
                j = judged.get(ind.name)
                if j is None:
                    continue
                for metric, want in (
                    (EXPECTED, j.expected),
                    (CHANGE, j.change),
                    (DRIFT, j.drift),
                    (DRIFT_Z, j.z),
                ):
                    if want is None or not math.isfinite(want):
                        continue
                    x = close_test(metric, service, ind, want)
                    x["eval_time"] = f"{at}m"
                    tests.append(x)
            group["promql_expr_test"] = tests
        groups.append(group)
    return groups
