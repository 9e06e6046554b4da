"""The raw reads of an SLO: its error, total and interval events of the last evaluation interval.

The only rules that read the service's raw counters, once per SLO and evaluation, whatever the number
of raw series; every window is built from what they record.
"""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.model import SLO, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
    ERROR,
    EVENT,
    INTERVAL,
    LOOKBACK,
    RATE_WINDOW,
    TOTAL,
    by,
    events_name,
    on,
    slo_matchers,
)
from slodrift.generator.rules.types import Recording


def increase_expr(sel: promql.Selector, interval: int) -> str:
    """Increments of each selected counter during the last evaluation interval (not yet summed).

    The counter's last sample now minus its last sample one interval ago: summed over consecutive
    evaluations this telescopes, so nothing is counted twice or missed. `last_over_time` looks past the
    staleness marker of a failed scrape, so increments across a short gap are counted when the scrape
    succeeds again, as `rate()` would count them.

    A reset inside the interval (a sample lower than the one before it: `resets`, or lower than the
    value one interval ago: `min_over_time`) counts the value now, which is what the counter counted
    since it restarted: a restarted counter that passes its old value within one interval counts 5
    errors as 5, as `increase()` does, not as the difference. Increments between the last sample before
    the interval and the restart are not seen: at most one scrape interval's worth per restart. An
    interval without a new sample (scrapes slower than evaluations) has no reset to look for: it counts
    the difference, 0 (`or 0 * x`, while the series is not stale).

    A counter without a sample one interval ago (a new series) adds nothing yet, as with `rate()`:
    counting its whole value would count, say, a freshly scraped target's lifetime in one interval.
    """
    s = sel.render()
    i = fd(interval)
    now = f"last_over_time({s}[{LOOKBACK}])"
    before = f"last_over_time({s}[{LOOKBACK}] offset {i})"
    reset = f"(clamp_max(resets({s}[{i}]) + (min_over_time({s}[{i}]) < bool {before}), 1) or 0 * {s})"
    return f"{now} - {before} * (1 - {reset})"


def _events(slo: SLO, sel: promql.Selector, interval: int) -> str:
    """`sum by (groups)` of the increments of a selector's counters."""
    return f"sum {by(slo.group_by)} (\n  {increase_expr(sel, interval)}\n)"


def _limited(slo: SLO, expr: str) -> str:
    """At most `max_groups` groups (the busiest this interval) for a grouped SLO."""
    if not slo.group_by:
        return expr
    return f"topk({slo.max_groups},\n{expr}\n)"


def _query(text: str, interval: int) -> str:
    return text.replace("{{window}}", fd(RATE_WINDOW))


def total_expr(slo: SLO, interval: int) -> str:
    """All events of the last interval (for a ratio-only SLI: 1, each evaluation weighs the same)."""
    sli = slo.sli
    if sli.kind == "events":
        assert sli.total is not None
        return _limited(slo, _events(slo, sli.total, interval))
    if sli.kind == "latency":
        assert sli.histogram is not None
        return _limited(
            slo, _events(slo, promql.Selector(sli.histogram + "_count", sli.latency_matchers), interval)
        )
    if sli.kind == "event_queries":
        assert sli.total_query is not None
        q = _query(sli.total_query, interval)
        return _limited(slo, f"sum {by(slo.group_by)} (\n  {q}\n) * {promql.number(interval)}")
    if sli.kind == "error_ratio":
        assert sli.error_ratio_query is not None
        q = _query(sli.error_ratio_query, interval)
        return _limited(slo, f"clamp(count {by(slo.group_by)} (\n  {q}\n), 1, 1)")
    raise ValueError(f"unknown SLI kind {sli.kind!r}")


def _recorded_total(service: Service, slo: SLO, interval: int) -> str:
    """The total events just recorded (same evaluation, earlier rule), one series per group: matched on
    every label that rule sets, so slices that other (older) rules recorded never count."""
    sel = promql.selector(
        events_name(interval), {**service.labels, **slo_matchers(service, slo), EVENT: TOTAL}
    )
    return f"sum {by(slo.group_by)} ({sel})"


def _only_recorded(slo: SLO, errors: str, total: str) -> str:
    """A grouped SLO's errors only for the groups its total recorded (at most `max_groups`). An SLO
    without groups does not wait for the total: an evaluator that sees it one evaluation late (vmalert)
    would otherwise drop errors it has read."""
    if not slo.group_by:
        return errors
    return f"{errors}\nand {on(slo.group_by)}\n{total}"


def error_expr(service: Service, slo: SLO, interval: int) -> str:
    """Bad events of the last interval, for every group that has a total: 0 for a group with requests
    but no error series at all (a service that has not failed since it started: `code="500"` appears
    with the first 500), so windows read one series per event, never an `or` of two."""
    sli = slo.sli
    total = _recorded_total(service, slo, interval)
    match = on(slo.group_by)
    if sli.kind == "events":
        assert sli.errors is not None
        return (
            f"(\n{_only_recorded(slo, _events(slo, sli.errors, interval), total)}\n)\nor {match}\n0 * {total}"
        )
    if sli.kind == "latency":
        assert sli.histogram is not None and sli.threshold is not None
        good = promql.Selector(
            sli.histogram + "_bucket", (*sli.latency_matchers, promql.le_matcher(sli.threshold))
        )
        count = promql.Selector(sli.histogram + "_count", sli.latency_matchers)
        # Both counters read here (not the total recorded just before), so an evaluator that sees
        # that one evaluation late (vmalert) still subtracts the same interval's events. No fallback:
        # a missing bucket (a threshold that is no bucket bound) must not read as 100 % slow.
        slow = f"{_events(slo, count, interval)}\n- {match}\n{_events(slo, good, interval)}"
        return _only_recorded(slo, slow, total)
    if sli.kind == "event_queries":
        assert sli.error_query is not None
        q = _query(sli.error_query, interval)
        bad = f"sum {by(slo.group_by)} (\n  {q}\n) * {promql.number(interval)}"
        return f"(\n{_only_recorded(slo, bad, total)}\n)\nor {match}\n0 * {total}"
    if sli.kind == "error_ratio":
        assert sli.error_ratio_query is not None
        q = _query(sli.error_ratio_query, interval)
        return _only_recorded(slo, f"avg {by(slo.group_by)} (\n  {q}\n)", total)
    raise ValueError(f"unknown SLI kind {sli.kind!r}")


def read_rules(service: Service, slo: SLO, interval: int) -> list[Recording]:
    """The three event series of one SLO, total first (the other two read it)."""
    name = events_name(interval)
    labels = {**service.labels, "service": service.name, "slo": slo.name}
    total = _recorded_total(service, slo, interval)
    return [
        Recording(name, Expr(total_expr(slo, interval)), {**labels, EVENT: TOTAL}),
        Recording(name, Expr(error_expr(service, slo, interval)), {**labels, EVENT: ERROR}),
        Recording(name, Expr(f"0 * {total} + 1"), {**labels, EVENT: INTERVAL}),
    ]
