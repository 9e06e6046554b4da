"""A small reference model of what the SLO rules must compute, written from their meaning, not their
PromQL: events per evaluation interval in, window sums, ratios and alert states out.

The generated tests feed promtool raw counters whose true events per interval are known by
construction, and compare what the rules recorded and fired with what this model says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from slodrift.generator.model import SLO, BurnWindow

COVERED = Decimal("0.9")  # the share of a window's intervals that must have data (documented in README)


@dataclass(frozen=True)
class Events:
    """True events of each evaluation interval n (the interval ending at evaluation n); None where the
    rules record no slice (before the first interval that has a sample one interval earlier)."""

    error: Sequence[float | None]
    total: Sequence[float | None]

    def intervals(self) -> list[float | None]:
        """1 for every interval with data (the `interval` event), None elsewhere."""
        return [None if t is None else 1.0 for t in self.total]

    def window(self, n: int, slices: int) -> tuple[float, float, int]:
        """Errors, total and the number of intervals with data in the `slices` intervals ending at n."""
        err = tot = 0.0
        count = 0
        for i in range(max(0, n - slices + 1), n + 1):
            if self.total[i] is None:
                continue
            tot += self.total[i] or 0.0
            err += self.error[i] or 0.0
            count += 1
        return err, tot, count


def covered(count: int, slices: int) -> bool:
    """A window is complete enough to alert on when 90 % of its intervals (rounded down) have data."""
    return count >= max(1, math.floor(COVERED * slices))


def burn_condition(slo: SLO, pair: BurnWindow, events: Events, n: int, interval: int) -> bool:
    """The alert condition of one window pair at evaluation n, from the spec's meaning."""
    long_n, short_n = pair.long // interval, pair.short // interval
    le, lt, lc = events.window(n, long_n)
    se, st, sc = events.window(n, short_n)
    if lt == 0 or st == 0:
        return False
    budget = float(slo.error_budget)
    threshold = float(pair.factor * slo.error_budget)
    if not (le / lt / budget > float(pair.factor) and se / st > threshold):
        return False
    if slo.sli.kind != "error_ratio":
        if slo.min_error_events > 0 and le < float(slo.min_error_events):
            return False
        if slo.min_request_rate > 0 and lt / pair.long < float(slo.min_request_rate):
            return False
    return covered(lc, long_n) and covered(sc, short_n)


def burn_value(slo: SLO, pair: BurnWindow, events: Events, n: int, interval: int) -> float:
    """The alert's value: the long window's burn rate, computed as Prometheus does (float64)."""
    le, lt, _ = events.window(n, pair.long // interval)
    return le / lt / float(slo.error_budget)
