"""Expected alerts of the drift tests: which drift and regression alerts fire for a judgement, and their
labels and annotations, expanded as Prometheus expands the templates. What each alert carries and how long
it waits comes from the spec (`drift_wants`), not from the rules under test."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, Indicator, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.drift_names import (
    CHANGE,
    DRIFT_ALERT,
    DRIFT_Z,
    EXPECTED,
    REGRESSION_ALERT,
    VALUE,
    indicator_labels,
)
from slodrift.generator.testgen import gofmt
from slodrift.generator.testgen.drift_clock import EVAL_MINUTES
from slodrift.generator.testgen.drift_method import Judged, assert_clear, fires
from slodrift.generator.testgen.drift_wants import Want, levels
from slodrift.generator.testgen.unbuildable import Unbuildable

_WITH_QUERY = re.compile(
    r"\{\{ with query `([^`]*)` \}\}\{\{ \. \| first \| value \| (.+?) \}\}\{\{ end \}\}"
)
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_LABEL = re.compile(r"^\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")


def go_value(v: float) -> str:
    """`{{ $value }}`: Go prints a float64 in its shortest form."""
    return str(int(v)) if v == int(v) and abs(v) < 1e21 else repr(v)


def render(text: str, labels: dict[str, str], value: float, queries: dict[str, float]) -> str:
    """Expand the template actions slodrift's alerts use, as Prometheus will for this alert."""

    def query(m: re.Match[str]) -> str:
        v = queries.get(m.group(1))
        return "" if v is None else stable(gofmt.FUNCTIONS[m.group(2)], v)

    def action(m: re.Match[str]) -> str:
        body = m.group(1).strip()
        if body == '"{{"':
            return "{{"
        if body == "$value":
            return go_value(value)
        if body == "$value | humanizePercentage":
            return stable(gofmt.humanize_percentage, value)
        label = _LABEL.match(body)
        if label:
            return labels.get(label.group(1), "")
        raise ValueError(f"unsupported template action {{{{{body}}}}}")

    return _ACTION.sub(action, _WITH_QUERY.sub(query, text))


def stable(fmt: Callable[[float], str], v: float) -> str:
    """Format v, refusing a value whose text a rounding error in the last bits could change."""
    text = fmt(v)
    if not fmt(v * (1 + 1e-9)) == text == fmt(v * (1 - 1e-9)):
        raise Unbuildable(
            f"an expected annotation shows {v!r} as {text!r}, on a rounding edge of its format: "
            "Prometheus may print it either way"
        )
    return text


def expected_alert(
    want: Want, labels: dict[str, str], value: float, queries: dict[str, float]
) -> dict[str, Any]:
    """The alert `want` with its expression's `labels` and `value`: the labels it delivers (the
    expression's, then the rule's own) and its annotations, rendered as Prometheus renders them: with the
    expression's labels only (`$labels.severity` or an indicator's own label is empty there)."""
    return {
        "exp_labels": {**labels, **want.labels},
        "exp_annotations": {k: render(v, labels, value, queries) for k, v in want.annotations.items()},
    }


def template_queries(service: Service, ind: Indicator, j: Judged) -> dict[str, float]:
    si = {"service": service.name, "indicator": ind.name}
    return {
        promql.selector(VALUE, si): j.value,
        promql.selector(EXPECTED, si): j.expected,
        promql.selector(CHANGE, si): j.change,
        promql.selector(DRIFT_Z, si): j.z,
    }


def expected_drift_alerts(
    service: Service,
    drift: DriftSettings,
    judged: dict[str, Judged],
    where: str,
    held: int,
    before_waits: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Which drift and regression alerts fire for these judgements, held for `held` minutes, with their
    labels and text (an alert whose `for` is longer is still pending).

    `held` is kept an evaluation step away from every alert's wait: the condition may start a step late.
    With `before_waits`, `held` may fall just short of a wait (the last evaluation before it), where a
    late start only keeps the alert pending: that check catches a `for` shorter than the spec's."""
    wants = levels(service, drift)
    out: dict[str, list[dict[str, Any]]] = {DRIFT_ALERT: [], REGRESSION_ALERT: []}
    for ind in service.indicators:
        j = judged.get(ind.name)
        if j is None:
            continue
        assert_clear(ind, drift, j, where)
        for severity in ("warning", "critical"):
            if fires(ind, drift, j, severity):
                want = wants[(ind.name, severity)]
                wait = want.for_seconds
                gap = held * 60 - wait
                close = 0 <= gap < EVAL_MINUTES * 60 if before_waits else abs(gap) < EVAL_MINUTES * 60
                assert not close, f"{where}: evaluated too close to {fd(wait)}"
                if held * 60 < wait:
                    continue
                assert j.drift is not None
                out[want.alert].append(
                    expected_alert(
                        want, indicator_labels(service, ind), j.drift, template_queries(service, ind, j)
                    )
                )
    return out
