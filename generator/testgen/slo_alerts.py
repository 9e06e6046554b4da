"""The comparison test of a service's burn alerts: every condition of every window pair 2 % on either
side of its limit, with everything else of the pair decided by a wide margin.

Inputs are the window sums the alert reads (errors, total and covered intervals of its long and short
window), one case per condition and side, told apart by a case label; the error ratios are computed
by the rules themselves from those sums. Whether each case fires comes from the spec, not the rules:
a threshold, guard or coverage limit that is off by 5 %, or a `for` off by one interval, fails a case.
How the sums are built from raw counters is the raw test's and the window test's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slodrift.generator.model import SLO, AlertTier, BurnWindow, Service
from slodrift.generator.promql import SharedLabels
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_alerts import burn_annotations, guards_apply
from slodrift.generator.rules.slo_names import (
    BURN_ALERT,
    ERROR,
    EVENT,
    INTERVAL,
    TOTAL,
    covered_count,
    sum_name,
)
from slodrift.generator.testgen.series import MAX_STEPS, num, series
from slodrift.generator.testgen.slo_reference import covered
from slodrift.generator.testgen.templates import render_template

CASE = "slodrift_case"
NEAR_OVER, NEAR_UNDER = 1.02, 0.98  # the tested limit
WELL_OVER = 1.5  # every other condition of the case, far from its limit
TOTAL_EVENTS = 1_000_000.0  # events in a window of a case (the long window, scaled for the short)
LOOKBACK = 300  # seconds: how long Prometheus reads a series after its last sample


@dataclass(frozen=True)
class Window:
    """The sums one case feeds for one window."""

    errors: float
    total: float
    intervals: float


@dataclass(frozen=True)
class Case:
    """One side of one condition of one window pair."""

    name: str
    slo: SLO
    tier: AlertTier
    pair: BurnWindow
    long: Window
    short: Window


def _fires(slo: SLO, pair: BurnWindow, long: Window, short: Window, interval: int) -> bool:
    """The pair's condition on the fed sums, from the spec's meaning."""
    budget = float(slo.error_budget)
    if not long.errors / long.total / budget > float(pair.factor):
        return False
    if not short.errors / short.total > float(pair.factor * slo.error_budget):
        return False
    if guards_apply(slo):
        if slo.min_error_events > 0 and long.errors < float(slo.min_error_events):
            return False
        if slo.min_request_rate > 0 and long.total / pair.long < float(slo.min_request_rate):
            return False
    return covered(int(long.intervals), pair.long // interval) and covered(
        int(short.intervals), pair.short // interval
    )


def error_guard_binds(slo: SLO, pair: BurnWindow) -> bool:
    """Whether the error guard can decide anything for a pair: not when the traffic guard already asks
    for more errors (its minimum traffic at the pair's threshold)."""
    if slo.min_error_events <= 0:
        return False
    least = slo.min_request_rate * pair.long * pair.factor * slo.error_budget
    return least < slo.min_error_events


def _base(slo: SLO, pair: BurnWindow, interval: int) -> tuple[Window, Window]:
    """Sums that fire by a wide margin: burning 1.5x the factor in both windows, fully covered, with
    traffic and errors well above any guard."""
    ratio = min(float(pair.factor * slo.error_budget) * WELL_OVER, 1.0)
    total = TOTAL_EVENTS
    if slo.min_error_events > 0:
        total = max(total, float(slo.min_error_events) * WELL_OVER * 2 / ratio)
    if slo.min_request_rate > 0:
        total = max(total, float(slo.min_request_rate) * pair.long * WELL_OVER * 2)
    long = Window(ratio * total, total, float(pair.long // interval))
    short = Window(ratio * total, total, float(pair.short // interval))
    return long, short


def cases(slo: SLO, interval: int) -> list[Case]:
    """Every condition of every pair, just over and just under its limit."""
    out = []
    for tier in slo.tiers:
        for k, pair in enumerate(tier.windows):
            long, short = _base(slo, pair, interval)
            tag = f"{slo.name}/{tier.name}/{k}"
            out.append(Case(f"{tag}/fires", slo, tier, pair, long, short))
            ratio = float(pair.factor * slo.error_budget)
            for side, f in (("over", NEAR_OVER), ("under", NEAR_UNDER)):
                if ratio * f < 1:
                    out.append(
                        Case(
                            f"{tag}/long-{side}",
                            slo,
                            tier,
                            pair,
                            Window(ratio * f * long.total, long.total, long.intervals),
                            short,
                        )
                    )
                    out.append(
                        Case(
                            f"{tag}/short-{side}",
                            slo,
                            tier,
                            pair,
                            long,
                            Window(ratio * f * short.total, short.total, short.intervals),
                        )
                    )
            if guards_apply(slo) and error_guard_binds(slo, pair):
                need = float(slo.min_error_events)
                for side, errors in (("over", need), ("under", need * NEAR_UNDER)):
                    if errors > 0:
                        # errors at the guard, in enough traffic that the ratio still burns far over
                        total = errors / min(ratio * WELL_OVER, 1.0)
                        out.append(
                            Case(
                                f"{tag}/min-errors-{side}",
                                slo,
                                tier,
                                pair,
                                Window(errors, total, long.intervals),
                                short,
                            )
                        )
            if guards_apply(slo) and slo.min_request_rate > 0:
                need = float(slo.min_request_rate) * pair.long
                for side, f in (("over", NEAR_OVER), ("under", NEAR_UNDER)):
                    total = need * f
                    errors = max(ratio * WELL_OVER * total, float(slo.min_error_events) * WELL_OVER)
                    if errors < total:
                        out.append(
                            Case(
                                f"{tag}/min-rate-{side}",
                                slo,
                                tier,
                                pair,
                                Window(errors, total, long.intervals),
                                short,
                            )
                        )
            for which, window, base in (("long", pair.long, long), ("short", pair.short, short)):
                need = covered_count(window, interval)
                for side, count in (("over", need), ("under", need - 1)):
                    if count < 0:
                        continue
                    w = Window(base.errors, base.total, float(count))
                    lw, sw = (w, short) if which == "long" else (long, w)
                    out.append(Case(f"{tag}/covered-{which}-{side}", slo, tier, pair, lw, sw))
    return out


class AlertTest:
    """The comparison test groups of one service: every condition at one evaluation, each `for` apart."""

    def __init__(self, service: Service, interval: int) -> None:
        self.service = service
        self.interval = interval
        self.cases = [c for slo in service.slos for c in cases(slo, interval)]
        fors = [-(-t.for_seconds // interval) for slo in service.slos for t in slo.tiers]
        # `for` checked to the interval where it fits in MAX_STEPS evaluations (all, at 1m intervals)
        self.fors = {f for f in fors if f + 2 <= MAX_STEPS}
        self.steps = max(self.fors, default=0) + 2

    def _ids(self, case: Case) -> dict[str, str]:
        return {**self.service.labels, "service": self.service.name, "slo": case.slo.name, CASE: case.name}

    def inputs(self, cases: list[Case], steps: int) -> list[dict[str, str]]:
        """The sums of each case, held from evaluation 0 to `steps` (one sample when 0)."""
        out = []
        events = [SharedLabels({EVENT: e}) for e in (ERROR, TOTAL, INTERVAL)]
        names: dict[int, str] = {}  # window -> its sum's series name (a handful per service)
        for case in cases:
            ids = SharedLabels(self._ids(case))
            for window, w in ((case.pair.long, case.long), (case.pair.short, case.short)):
                name = names.get(window) or names.setdefault(window, sum_name(window))
                selectors = ids.selectors(name, events)
                for sel, value in zip(selectors, (w.errors, w.total, w.intervals), strict=True):
                    out.append({"series": sel, "values": f"{num(value)}+0x{steps}" if steps else num(value)})
        return out

    def labels(self, case: Case, tier: AlertTier, pair: BurnWindow) -> dict[str, str]:
        """The labels of the alert a case raises for one pair, from the spec."""
        labels = {
            **self._ids(case),
            **case.slo.labels,
            **tier.labels,
            "severity": tier.severity,
            "tier": tier.name,
            "long_window": fd(pair.long),
            "short_window": fd(pair.short),
        }
        if tier.receiver:
            labels["receiver"] = tier.receiver
        return {k: v for k, v in labels.items() if v != ""}  # Prometheus drops a label with no value

    def expected(self, case: Case, tier: AlertTier, pair: BurnWindow, long: Window) -> dict[str, Any]:
        """The alert a case raises for one pair: labels from the spec, the rule's annotation templates
        rendered with them and the long window's burn rate."""
        value = long.errors / long.total / float(case.slo.error_budget)
        # Prometheus renders annotations with the expression's labels, before the rule's own are added:
        # the series' identity and the SLO's labels (copied from its info series), not the tier's
        seen = {**case.slo.labels, **self._ids(case)}
        return {
            "exp_labels": self.labels(case, tier, pair),
            "exp_annotations": {
                k: render_template(v, seen, value)
                for k, v in burn_annotations(self.service, case.slo, tier, pair).items()
            },
        }

    def raised(self, case: Case) -> list[tuple[AlertTier, BurnWindow]]:
        """Every pair of the case's SLO whose two windows the case feeds and whose condition its sums
        satisfy (from the spec's meaning, not the rules)."""
        fed = {case.pair.long: case.long, case.pair.short: case.short}
        return [
            (tier, pair)
            for tier in case.slo.tiers
            for pair in tier.windows
            if pair.long in fed
            and pair.short in fed
            and _fires(case.slo, pair, fed[pair.long], fed[pair.short], self.interval)
        ]

    def alerts_at(self, cases: list[Case], step: int) -> list[dict[str, Any]]:
        """Every alert firing at `step`: each pair a case raises, once its tier's `for` has passed (the
        inputs hold from evaluation 0)."""
        out = []
        for case in cases:
            fed = {case.pair.long: case.long, case.pair.short: case.short}
            for tier, pair in self.raised(case):
                if step >= -(-tier.for_seconds // self.interval):
                    out.append(self.expected(case, tier, pair, fed[pair.long]))
        return out

    def conditions_group(self) -> dict[str, Any] | None:
        """Every case at evaluation 0, one sample each: which alerts are raised (pending, or firing
        without a `for`) is read from Prometheus' ALERTS series. Holding 2,000 series for a `for` of
        15 intervals cost seven times more, and the `for` needs only one case per pair (`held`)."""
        if not self.cases:
            return None
        samples = []
        for case in self.cases:
            for tier, pair in self.raised(case):
                state = "firing" if tier.for_seconds == 0 else "pending"
                labels = {"alertname": BURN_ALERT, "alertstate": state, **self.labels(case, tier, pair)}
                samples.append({"labels": series("ALERTS", labels), "value": 1})
        return {
            "name": f"{self.service.name}: every burn condition 2 % either side of its limit",
            "interval": fd(self.interval),
            "input_series": self.inputs(self.cases, 0),
            "promql_expr_test": [
                {
                    "expr": series("ALERTS", {"alertname": BURN_ALERT, "service": self.service.name}),
                    "eval_time": "0s",
                    "exp_samples": samples,
                }
            ],
        }

    def held(self) -> Held:
        """The `for` checks, for another test group to carry: the case of each pair that fires by a
        wide margin, its sums held from evaluation 0 on; at each tier's `for` and one evaluation
        before it, which alerts fire (with their annotations)."""
        firing = [c for c in self.cases if c.name.endswith("/fires")]
        checks = sorted(({self.steps} | self.fors | {f - 1 for f in self.fors}) - {-1}) if firing else []
        return Held(self, firing, checks)


class Held:
    """Comparison cases another test group carries (the raw test's long run, at little cost): their
    sums, told apart by the case label, held for as long as that group runs."""

    label = CASE

    def __init__(
        self,
        test: AlertTest | None = None,
        cases: list[Case] | None = None,
        checks: list[int] | None = None,
        steps: int = 0,
    ) -> None:
        self.test = test
        self.cases = cases or []
        self.checks = checks or []  # evaluations the `for` of every tier is checked at
        self.steps = max([steps, *self.checks])  # the sums are held from evaluation 0 to this one

    def holding(self, steps: int) -> Held:
        """The same cases, their sums held to `steps` (where a group checks something else after the
        last `for` check while the cases' alerts would be resolving)."""
        return Held(self.test, self.cases, self.checks, steps)

    def resolving(self, step: int) -> bool:
        """Whether `step` falls after the sums end but within Prometheus' lookback of them."""
        if self.test is None or not self.cases:
            return False
        return self.steps < step <= self.steps + LOOKBACK // self.test.interval + 1

    def inputs(self, per_step: int) -> list[dict[str, str]]:
        """The cases' sums from evaluation 0 to `steps`, `per_step` samples per evaluation interval (the
        carrying group's input interval); they go stale 5 minutes later."""
        return self.test.inputs(self.cases, self.steps * per_step) if self.test and self.cases else []

    def alerts_at(self, step: int) -> list[dict[str, Any]]:
        """The alerts the cases fire at `step`: while their sums are held, by their `for`; none once
        their sums are past Prometheus' 5-minute lookback."""
        if self.test is None or not self.cases:
            return []
        if self.resolving(step):
            raise ValueError(f"step {step}: the carried cases' alerts are resolving")
        return self.test.alerts_at(self.cases, step) if step <= self.steps else []


def alert_group(service: Service, interval: int) -> dict[str, Any] | None:
    """The comparison test group of one service's burn alerts, or None without any."""
    return AlertTest(service, interval).conditions_group()


def held_cases(service: Service, interval: int) -> Held:
    """The `for` checks of one service's burn alerts, for the raw test to carry."""
    return AlertTest(service, interval).held()
