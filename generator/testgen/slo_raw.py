"""The raw-counter test of a service's SLO rules: what a scraped service exposes in, alerts out.

Every SLO whose SLI reads plain selectors (events, latency) gets counters scraped twice per evaluation
interval: a large count from before the rules were loaded, steady traffic, and from the third interval
an error burst in its first group (a second group, when the SLO is grouped, stays healthy). Right after
the third interval every counter of the burning group restarts, and counts past its old value within
the next interval, so a reset inside an interval is read. The true events of each interval are known
by construction; the reference model (`slo_reference`) turns them into the window sums, ratios and
alert times the test expects. This is the production case of a deploy: rules loaded onto history, a
burst two minutes later, no page until the windows are covered, then the page, for the burning group
only, with its labels and the current burn rate in its description.

SLIs given as queries cannot be fed raw counters in general: their recorded totals are fed instead
(unless a query reads a metric fed here), and the test checks their windows only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from slodrift.generator import promql
from slodrift.generator.matching import group_values, labels_matching, selects
from slodrift.generator.model import SLO, AlertTier, BurnWindow, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_alerts import burn_annotations
from slodrift.generator.rules.slo_names import (
    BLOCK_LEVELS,
    BLOCK_SLICES,
    BURN_ALERT,
    CURRENT_BURN_WINDOW,
    ERROR,
    EVENT,
    INTERVAL,
    OBJECTIVE,
    PARTIAL,
    TOTAL,
    burn_name,
    events_name,
    ratio_name,
    service_windows,
    span,
    sum_name,
)
from slodrift.generator.testgen.series import MAX_STEPS, num, series
from slodrift.generator.testgen.slo_alerts import Held
from slodrift.generator.testgen.slo_reference import BurnCondition, Events, burn_value
from slodrift.generator.testgen.templates import render_template

HISTORY = 1_000_000  # what a counter had counted before the rules were loaded
PER_SCRAPE = 60  # events per scrape
SCRAPES = 2  # scrapes per evaluation interval
BURST_FROM = 3  # the first evaluation interval with errors: two intervals after the rules started
RESTART_AFTER = 3  # the burning group's counters restart right after this interval's last scrape
WARMUP_CHECK = 6  # six intervals after loading, with a burst going on, nothing may fire yet
SHORT_HORIZON = 20  # evaluations when no SLO of the service can page


@dataclass
class Counter:
    """One raw counter: its true events per scrape, and where it restarts from 0."""

    metric: str
    labels: dict[str, str]
    events: list[int]  # events[k]: counted between sample k-1 and sample k (events[0] is unused)
    restart_after: int | None = None  # the sample index after which the counter restarts
    base: int = HISTORY

    def samples(self) -> list[int]:
        """The counter's value at every scrape."""
        value = self.base
        out = [value]
        for k in range(1, len(self.events)):
            if k - 1 == self.restart_after:
                value = 0
            value += self.events[k]
            out.append(value)
        return out


@dataclass
class Plan:
    """The inputs of a service's raw test and what each SLO (and group) reads from them."""

    counters: list[Counter] = field(default_factory=list)
    recorded: list[dict[str, str]] = field(default_factory=list)
    events: dict[tuple[str, tuple[tuple[str, str], ...]], Events] = field(default_factory=dict)


def groups_of(slo: SLO) -> list[dict[str, str]]:
    """The groups fed: a burning one and, for a grouped SLO, a healthy one, with group label values the
    SLI's selectors select (one group when a selector fixes a group label to one value)."""
    if not slo.group_by:
        return [{}]
    sli = slo.sli
    selectors: list[promql.Selector] = []
    if sli.kind == "events" and sli.errors is not None and sli.total is not None:
        selectors = [sli.errors, sli.total]
    elif sli.kind == "latency" and sli.histogram is not None:
        selectors = [promql.Selector(sli.histogram + "_count", sli.latency_matchers)]
    values = {g: group_values(g, selectors) or ["a", "b"] for g in slo.group_by}
    count = min(len(v) for v in values.values())
    return [{g: v[k] for g, v in values.items()} for k in range(count)]


def _key(slo: SLO, group: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return slo.name, tuple(sorted(group.items()))


def _burst_errors(slo: SLO) -> int:
    """Errors per scrape in the burst: three times the fastest pair's threshold, at most every event."""
    factors = [bw.factor for t in slo.tiers for bw in t.windows]
    share = 0.5 if not factors else min(1.0, 3 * float(max(factors) * slo.error_budget))
    return max(1, math.ceil(share * PER_SCRAPE))


def _per_scrape(per: int, steps: int, start: int = 1, spread: int = 11) -> list[int]:
    """About `per` events at every scrape from evaluation interval `start` on, varying from scrape to
    scrape (by up to `spread` - 1), so no two slices, blocks or windows are equal by accident."""
    first = SCRAPES * (start - 1) + 1
    return [0] + [per + (k * 37) % spread if k >= first else 0 for k in range(1, steps * SCRAPES + 1)]


def _counters(slo: SLO, steps: int) -> list[Counter]:
    """Per group: errors and the rest (events SLIs) or count and threshold bucket (latency SLIs)."""
    sli = slo.sli
    out = []
    for g, group in enumerate(groups_of(slo)):
        burning = g == 0
        restart = SCRAPES * RESTART_AFTER if burning else None
        every = _per_scrape(PER_SCRAPE, steps)
        bad = (
            _per_scrape(_burst_errors(slo), steps, BURST_FROM, 3) if burning else _per_scrape(0, steps, 1, 1)
        )
        bad = [min(b, e) for b, e in zip(bad, every, strict=True)]
        if sli.kind == "events":
            assert sli.errors is not None and sli.total is not None
            bad_labels = {**labels_matching(sli.errors), **group}
            good_labels = {**labels_matching(sli.total, avoid=sli.errors), **group}
            good = every
            if sli.errors.metric == sli.total.metric and selects(sli.total, bad_labels):
                good = [x - y for x, y in zip(every, bad, strict=True)]  # the total reads the errors too
            out.append(Counter(sli.errors.metric, bad_labels, bad, restart, base=0))
            out.append(Counter(sli.total.metric, good_labels, good, restart))
        else:
            assert sli.histogram is not None and sli.threshold is not None
            count = promql.Selector(sli.histogram + "_count", sli.latency_matchers)
            labels = {**labels_matching(count), **group}
            fast = [x - y for x, y in zip(every, bad, strict=True)]
            out.append(Counter(sli.histogram + "_count", labels, every, restart))
            out.append(
                Counter(
                    sli.histogram + "_bucket", {**labels, "le": promql.number(sli.threshold)}, fast, restart
                )
            )
    return out


def _interval_events(counters: list[Counter], steps: int) -> list[float | None]:
    """True events of each evaluation interval (None for interval 0: no sample before it)."""
    per = [0] * (steps + 1)  # whole numbers: the order they are added in does not matter
    for c in counters:
        ev = c.events
        for n in range(1, steps + 1):
            per[n] += sum(ev[SCRAPES * (n - 1) + 1 : SCRAPES * n + 1])
    return [None] + [float(x) for x in per[1:]]


def _reading(sel: promql.Selector, counters: list[Counter], group: dict[str, str]) -> list[Counter]:
    return [
        c
        for c in counters
        if sel.metric == c.metric
        and selects(sel, c.labels)
        and all(c.labels.get(k) == v for k, v in group.items())
    ]


def sli_events(slo: SLO, counters: list[Counter], group: dict[str, str], steps: int) -> Events:
    """The true events an SLO's selectors read from the fed counters, for one group."""
    sli = slo.sli
    if sli.kind == "events":
        assert sli.errors is not None and sli.total is not None
        return Events(
            _interval_events(_reading(sli.errors, counters, group), steps),
            _interval_events(_reading(sli.total, counters, group), steps),
        )
    assert sli.histogram is not None and sli.threshold is not None
    count = promql.Selector(sli.histogram + "_count", sli.latency_matchers)
    bucket = promql.Selector(
        sli.histogram + "_bucket", (*sli.latency_matchers, promql.le_matcher(sli.threshold))
    )
    total = _interval_events(_reading(count, counters, group), steps)
    fast = _interval_events(_reading(bucket, counters, group), steps)
    return Events([None if t is None else t - (f or 0.0) for t, f in zip(total, fast, strict=True)], total)


def _query_metrics(slo: SLO) -> set[str]:
    text = " ".join(q for q in (slo.sli.error_query, slo.sli.total_query, slo.sli.error_ratio_query) if q)
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text))


def make_plan(service: Service, steps: int, interval: int) -> Plan:
    """Counters for every selector SLI; recorded totals for each query SLI that reads none of them."""
    p = Plan()
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for slo in service.slos:
        if slo.sli.kind in ("events", "latency"):
            for c in _counters(slo, steps):
                key = (c.metric, tuple(sorted(c.labels.items())))
                if (
                    key not in seen
                ):  # SLOs reading the same series share it (expectations sum what each reads)
                    seen.add(key)
                    p.counters.append(c)
    fed = {c.metric for c in p.counters}
    for slo in service.slos:
        for group in groups_of(slo):
            if slo.sli.kind in ("events", "latency"):
                p.events[_key(slo, group)] = sli_events(slo, p.counters, group, steps)
            elif not _query_metrics(slo) & fed:
                per = float(SCRAPES * PER_SCRAPE) if slo.sli.kind == "event_queries" else 1.0
                p.events[_key(slo, group)] = Events([None] + [0.0] * steps, [None] + [per] * steps)
                labels = {**service.labels, "service": service.name, "slo": slo.name, **group, EVENT: TOTAL}
                values = " ".join(["_"] + (["_"] * (SCRAPES - 1) + [num(per)]) * steps)
                p.recorded.append({"series": series(events_name(interval), labels), "values": values})
    return p


class RawTest:
    """The raw-counter test group of one service."""

    def __init__(self, service: Service, interval: int, held: Held | None = None) -> None:
        self.service = service
        self.interval = interval
        held = held or Held()
        # The run ends two evaluations after the page of the fastest pair of every SLO that has one
        # (found on the reference model over its long window and `for`): slower pairs are proven by
        # the comparison tests, and blocks of many slices and the windows built from them by the
        # window test. At short evaluation intervals a page may be too many evaluations away: then
        # the windows only.
        self.steps = self._horizon()
        self.plan = make_plan(service, self.steps, interval)
        self.steps = max(SHORT_HORIZON, self._first_pages() + 2, held.steps)
        self.plan = make_plan(service, self.steps, interval)
        for n in sorted({WARMUP_CHECK, self.steps}):
            if held.resolving(n):
                held = held.holding(n)  # no check while the carried cases' alerts resolve
        self.held = held

    def _horizon(self) -> int:
        """An upper bound: each SLO's fastest page pair's long window and `for`, a few intervals more."""
        firsts = [
            min(bw.long + t.for_seconds for t in slo.tiers if t.name == "page" for bw in t.windows)
            for slo in self.service.slos
            if any(t.name == "page" and t.windows for t in slo.tiers)
        ]
        page = max(firsts) // self.interval + 4 if firsts else 0
        return max(SHORT_HORIZON, page if page <= MAX_STEPS else 0)

    def _first_pages(self) -> int:
        """The evaluation by which every SLO that can page has paged in the model (0 if none can)."""
        out = 0
        for slo in self.service.slos:
            ev = self.plan.events.get(_key(slo, groups_of(slo)[0]))
            if ev is None:
                continue
            firsts = [
                states.index(True)
                for tier in slo.tiers
                if tier.name == "page"
                for bw in tier.windows
                for states in [self._firing(slo, tier, bw, ev)]
                if True in states
            ]
            if firsts:
                out = max(out, min(firsts))
        return out

    def at(self, n: int) -> str:
        return fd(n * self.interval) if n else "0s"

    def group(self) -> dict[str, Any] | None:
        """The test group, or None when no SLO of the service can be fed."""
        if not self.plan.events:
            return None
        inputs = (
            [
                {"series": series(c.metric, c.labels), "values": " ".join(str(v) for v in c.samples())}
                for c in self.plan.counters
            ]
            + self.plan.recorded
            + self.held.inputs(SCRAPES)
        )
        tests = []
        for slo in self.service.slos:
            for group in groups_of(slo):
                ev = self.plan.events.get(_key(slo, group))
                if ev is not None:
                    tests += self.window_tests(slo, group, ev)
        return {
            "name": f"{self.service.name}: raw counters; rules loaded onto history, a burst, a restart",
            "interval": span(self.interval / SCRAPES),
            "input_series": inputs,
            "promql_expr_test": tests,
            "alert_rule_test": self.alert_tests(),
        }

    def _expr(self, metric: str, labels: dict[str, str], value: float, n: int) -> dict[str, Any]:
        matchers = {k: v for k, v in labels.items() if k not in self.service.labels}
        if self.held.cases:
            matchers[self.held.label] = ""  # not the comparison cases this group carries
        return {
            "expr": promql.selector(metric, matchers),
            "eval_time": self.at(n),
            "exp_samples": [{"labels": series(metric, labels), "value": value}],
        }

    def window_tests(self, slo: SLO, group: dict[str, str], ev: Events) -> list[dict[str, Any]]:
        """The slices of the restart interval, every window's sums at the end, the 1h ratio and burn."""
        ids = {**self.service.labels, "service": self.service.name, "slo": slo.name, **group}
        out = []
        n = RESTART_AFTER + 1
        for event, xs in ((ERROR, ev.error), (TOTAL, ev.total)):
            value = xs[n]
            if (
                value is not None
                and n <= self.steps
                and not (event == ERROR and slo.sli.kind == "error_ratio")
            ):
                out.append(self._expr(events_name(self.interval), {**ids, EVENT: event}, value, n))
        end = self.steps
        events = (TOTAL, INTERVAL) if slo.sli.kind == "error_ratio" else (ERROR, TOTAL, INTERVAL)
        # Every window at the end, and where the open block is one of each block size (63 slices after
        # a 64-slice block, read three evaluations later): each block level is read.
        checks = sorted({n for n in (BLOCK_SLICES + 2, 2 * BLOCK_SLICES + 2) if n < end} | {end})
        for n in checks:
            for window in service_windows(self.service):
                err, tot, count = ev.window(n, window // self.interval)
                values = {ERROR: err, TOTAL: tot, INTERVAL: float(count)}
                for event in events:
                    out.append(self._expr(sum_name(window), {**ids, EVENT: event}, values[event], n))
        # The open block where its newest block of each size was recorded just one evaluation before
        # (the count of slices since the last 64-slice block is 2^j times an odd number).
        for level in range(BLOCK_LEVELS):
            n = 2 + (1 << level) + (1 << (level + 1))
            if n > end:
                continue
            m = n - 2
            start = m - m % BLOCK_SLICES
            for event, xs in ((ERROR, ev.error), (TOTAL, ev.total), (INTERVAL, ev.intervals())):
                if event in events:
                    value = sum(x for x in xs[start + 1 : m + 1] if x is not None)
                    out.append(self._expr(PARTIAL, {**ids, EVENT: event}, value, n))
        err, tot, _ = ev.window(end, CURRENT_BURN_WINDOW // self.interval)
        if tot and slo.sli.kind != "error_ratio":
            labels = {**ids, "window": fd(CURRENT_BURN_WINDOW)}
            out.append(self._expr(ratio_name(CURRENT_BURN_WINDOW), labels, err / tot, end))
            out.append(
                self._expr(burn_name(CURRENT_BURN_WINDOW), labels, err / tot / float(slo.error_budget), end)
            )
        if group == groups_of(slo)[0]:  # the SLO's objective, once per SLO: what the spec says
            constant = {**slo.labels, "service": self.service.name, "slo": slo.name, "window": fd(slo.window)}
            out.append(self._expr(OBJECTIVE, constant, float(slo.objective), end))
        return out

    def _firing(self, slo: SLO, tier: AlertTier, bw: BurnWindow, ev: Events) -> list[bool]:
        """Whether the pair's alert is firing at each evaluation (its `for` applied)."""
        for_steps = -(-tier.for_seconds // self.interval)
        condition = BurnCondition.of(slo, bw, self.interval)
        out, run = [], 0
        for n in range(self.steps + 1):
            active = condition.holds(ev, n)
            run = run + 1 if active else 0
            out.append(active and run - 1 >= for_steps)
        return out

    def expected_alert(
        self, slo: SLO, tier: AlertTier, bw: BurnWindow, group: dict[str, str], value: float
    ) -> dict[str, Any]:
        """Labels of the firing alert, from the spec: the series' identity, the SLO's and the tier's
        labels, the pair; annotations are the rule's templates rendered with them and the value."""
        labels = {
            **self.service.labels,
            "service": self.service.name,
            "slo": slo.name,
            **group,
            **slo.labels,
            **tier.labels,
            "severity": tier.severity,
            "tier": tier.name,
            "long_window": fd(bw.long),
            "short_window": fd(bw.short),
        }
        if tier.receiver:
            labels["receiver"] = tier.receiver
        templates = burn_annotations(self.service, slo, tier, bw)
        # Prometheus renders annotations with the expression's labels, before the rule's own are added:
        # the series' identity and the SLO's labels (copied from its info series), not the tier's
        seen = {
            **slo.labels,
            **self.service.labels,
            "service": self.service.name,
            "slo": slo.name,
            **group,
        }
        return {
            "exp_labels": labels,
            "exp_annotations": {k: render_template(v, seen, value) for k, v in templates.items()},
        }

    def alert_tests(self) -> list[dict[str, Any]]:
        """The burn alert six intervals in (no raw-counter alert may fire yet) and at the end (what the
        model says), and where the carried comparison cases are checked; with the cases' alerts."""
        firing: dict[int, list[dict[str, Any]]] = {
            n: self.held.alerts_at(n) for n in {WARMUP_CHECK, self.steps, *self.held.checks}
        }
        for slo in self.service.slos:
            for group in groups_of(slo):
                ev = self.plan.events.get(_key(slo, group))
                if ev is None:
                    continue
                for tier in slo.tiers:
                    for bw in tier.windows:
                        states = self._firing(slo, tier, bw, ev)
                        for n, alerts in firing.items():
                            if n <= self.steps and states[n]:
                                value = burn_value(slo, bw, ev, n, self.interval)
                                alerts.append(self.expected_alert(slo, tier, bw, group, value))
        return [
            {"eval_time": self.at(n), "alertname": BURN_ALERT, "exp_alerts": alerts}
            for n, alerts in sorted(firing.items())
        ]


def raw_group(service: Service, interval: int, held: Held | None = None) -> dict[str, Any] | None:
    """The raw-counter test group of one service (carrying `held` comparison cases), or None when none
    of its SLOs can be fed."""
    return RawTest(service, interval, held).group()
