"""The raw reads of an SLO: its error, total and interval events of the last evaluation interval.

The only rules that read the service's raw counters, once per SLO and evaluation, whatever the number
of raw series; every window is built from what they record.
"""

from __future__ import annotations

import re

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
    raw_events_name,
    slo_matchers,
)
from slodrift.generator.rules.types import Recording


def increase_expr(sel: promql.Selector, interval: int) -> str:
    """Increments of each selected counter during the last evaluation interval (not yet summed), for
    every counter with a sample in the interval and one before it.

    The counter's last sample now minus its last sample before the interval: summed over consecutive
    evaluations this telescopes, so nothing is counted twice or missed. `last_over_time` looks past
    staleness markers, so a counter whose last scrapes before the interval failed is still read from
    its last good sample (up to `LOOKBACK` before the interval), and the increments across a gap are
    counted when scraping resumes, as `rate()` over 5m would count them.

    A reset inside the interval (a sample lower than the one before it: `resets`, or lower than the
    last sample before the interval: `min_over_time`) counts the value now, which is what the counter
    counted since it restarted: a restarted counter that passes its old value within one interval
    counts 5 errors as 5, as `increase()` does, not as the difference. The increments before the
    restart within the interval are not seen: at most one interval's worth per restart.

    A counter without a sample in the interval adds nothing (it counted nothing new: its next sample is
    measured from its last one), and neither does one without a sample before the interval (a new
    series), as with `rate()`: counting its whole value would count, say, a freshly scraped target's
    lifetime in one interval.

    Samples read per counter at 30 s scrapes and a 1m interval: 2 (now) + 10 + 10 (the sample before,
    in the difference and in the reset test) + 2 + 2 (resets, minimum) = 26.
    """
    s = sel.render()
    i = fd(interval)
    now = f"last_over_time({s}[{i}])"
    before = f"last_over_time({s}[{LOOKBACK}] offset {i})"
    reset = f"clamp_max(resets({s}[{i}]) + (min_over_time({s}[{i}]) < bool {before}), 1)"
    return f"{now} - {before} * (1 - {reset})"


def _events(slo: SLO, sel: promql.Selector, interval: int, fallback: bool = True) -> str:
    """`sum by (groups)` of the increments of a selector's counters. With
    `fallback`, 0 for a group whose counters had a sample before the interval but none in it (scrapes
    slower than the evaluations, a failed scrape): such an interval counted nothing, it is not without
    data. A group whose counters are all new has no slice yet, as before."""
    labels = by(slo.group_by)
    events = f"sum {labels} (\n  {increase_expr(sel, interval)}\n)"
    return (
        f"(\n{events}\nor\n0 * sum {labels} ({sel.render()} offset {fd(interval)})\n)" if fallback else events
    )


def error_matchers(slo: SLO) -> tuple[promql.Matcher, ...] | None:
    """The matchers the error selector adds to the total's, when the errors are the total's counters
    plus matchers (`http_requests_total{code=~"5.."}` and `http_requests_total`): the counters are
    then read once, and both events are taken from that read. None for every other SLI, and for a
    grouped SLO (its groups are capped after the read)."""
    sli = slo.sli
    if sli.kind != "events" or slo.group_by or sli.errors is None or sli.total is None:
        return None
    if sli.errors.metric != sli.total.metric or not set(sli.total.matchers) <= set(sli.errors.matchers):
        return None
    return tuple(m for m in sli.errors.matchers if m not in sli.total.matchers)


def match_label(k: int) -> str:
    """The label that says whether a counter matches the error selector's k-th added matcher."""
    return f"slodrift_match_{k}"


def _flagged(expr: str, matchers: tuple[promql.Matcher, ...]) -> str:
    """Each series of `expr` with `slodrift_match_<k>="1"` where it matches the k-th matcher, so the
    errors are the series with every flag: `label_replace`'s anchored RE2 regex is a matcher's."""
    for k, m in enumerate(matchers):
        regex = m.value if m.op in ("=~", "!~") else re.escape(m.value)
        label, pattern = promql.quote(m.label), promql.quote(regex)
        if m.op in ("=", "=~"):
            expr = f'label_replace({expr}, "{match_label(k)}", "1", {label}, {pattern})'
        else:
            expr = f'label_replace({expr}, "{match_label(k)}", "1", "", "")'
            expr = f'label_replace({expr}, "{match_label(k)}", "", {label}, {pattern})'
    return expr


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
        errors = _events(slo, sli.errors, interval, fallback=False)
        return f"(\n{_only_recorded(slo, errors, total)}\n)\nor {match}\n0 * {total}"
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


def _split_rules(
    service: Service, slo: SLO, interval: int, matchers: tuple[promql.Matcher, ...]
) -> list[Recording]:
    """The total counters read once, summed by whether they match each matcher the errors add (at most
    2^n series for n matchers, whatever the counters' labels); then the total and the errors summed
    from that (same evaluation, earlier rule: an evaluator that sees it one evaluation late reads both
    from the same evaluation)."""
    sli = slo.sli
    assert sli.total is not None
    raw = raw_events_name(interval)
    labels = {**service.labels, "service": service.name, "slo": slo.name}
    flags = [match_label(k) for k in range(len(matchers))]
    read = f"sum {by(flags)} (\n  {_flagged(increase_expr(sli.total, interval), matchers)}\n)"
    split = promql.selector(raw, labels)
    bad = promql.selector(raw, {**labels, **dict.fromkeys(flags, "1")})
    quiet = f"0 * sum ({sli.total.render()} offset {fd(interval)})"
    return [
        Recording(raw, Expr(read), labels),
        Recording(events_name(interval), Expr(f"sum ({split})\nor\n{quiet}"), {**labels, EVENT: TOTAL}),
        Recording(
            events_name(interval),
            Expr(f"sum ({bad})\nor on ()\n0 * {_recorded_total(service, slo, interval)}"),
            {**labels, EVENT: ERROR},
        ),
    ]


def read_rules(service: Service, slo: SLO, interval: int) -> list[Recording]:
    """The three event series of one SLO, total first (the other two read it)."""
    name = events_name(interval)
    labels = {**service.labels, "service": service.name, "slo": slo.name}
    total = _recorded_total(service, slo, interval)
    matchers = error_matchers(slo)
    if matchers is not None:
        first = _split_rules(service, slo, interval, matchers)
    else:
        first = [
            Recording(name, Expr(total_expr(slo, interval)), {**labels, EVENT: TOTAL}),
            Recording(name, Expr(error_expr(service, slo, interval)), {**labels, EVENT: ERROR}),
        ]
    return [*first, Recording(name, Expr(f"0 * {total} + 1"), {**labels, EVENT: INTERVAL})]
