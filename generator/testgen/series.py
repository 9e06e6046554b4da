"""Input series of generated promtool tests: names, label sets and values in promtool's notation."""

from __future__ import annotations

from slodrift.generator import promql

STEP = 60  # seconds between input samples and rule evaluations in every generated test
MAX_STEPS = 400  # evaluations a generated test group may run (promtool evaluates every rule at each)


def series(metric: str, labels: dict[str, str]) -> str:
    return promql.selector(metric, labels)


def labelset(labels: dict[str, str]) -> str:
    """`{a="b",...}`: a label set without a metric name, escaped like a selector."""
    return promql.labelset(tuple(labels.items()))


def num(x: float) -> str:
    """Input values in promtool's expanding notation; repr keeps every bit."""
    return repr(float(x)) if x != int(x) else str(int(x))
