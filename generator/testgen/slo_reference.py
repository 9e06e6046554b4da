"""A small reference model of what the SLO rules must compute, written from their meaning, not their
PromQL: events per evaluation interval in, window sums, ratios and alert states out.

The generated tests feed promtool raw counters whose true events per interval are known by
construction, and compare what the rules recorded and fired with what this model says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from slodrift.generator.model import SLO, BurnWindow

COVERED = Decimal("0.9")  # the share of a window's intervals that must have data (documented in README)


_EXACT = float(2**53)  # integers up to this are exact in a float64, and so are their sums


@dataclass(frozen=True)
class Events:
    """True events of each evaluation interval n (the interval ending at evaluation n); None where the
    rules record no slice (before the first interval that has a sample one interval earlier)."""

    error: Sequence[float | None]
    total: Sequence[float | None]
    # Running sums of the intervals with data (index i: intervals 0..i-1), computed once, so a window
    # is two subtractions; None when the events are not all whole numbers (then `window` adds them up
    # one by one: a difference of float sums could round differently from the sum in order).
    _sums: tuple[list[float], list[float], list[int]] | None = field(
        init=False, repr=False, compare=False, default=None
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sums", _running_sums(self.error, self.total))

    def intervals(self) -> list[float | None]:
        """1 for every interval with data (the `interval` event), None elsewhere."""
        return [None if t is None else 1.0 for t in self.total]

    def window(self, n: int, slices: int) -> tuple[float, float, int]:
        """Errors, total and the number of intervals with data in the `slices` intervals ending at n."""
        start = max(0, n - slices + 1)
        if self._sums is not None:
            es, ts, cs = self._sums
            return es[n + 1] - es[start], ts[n + 1] - ts[start], cs[n + 1] - cs[start]
        err = tot = 0.0
        count = 0
        for i in range(start, n + 1):
            if self.total[i] is None:
                continue
            tot += self.total[i] or 0.0
            err += self.error[i] or 0.0
            count += 1
        return err, tot, count


def _running_sums(
    error: Sequence[float | None], total: Sequence[float | None]
) -> tuple[list[float], list[float], list[int]] | None:
    """Running sums of errors, totals and intervals with data; None unless every event counted is a
    whole number and every sum stays below 2^53, where each partial sum, and so each difference of two,
    is exact and equal to what adding the window up in order gives."""
    if len(error) != len(total):
        return None
    es, ts, cs = [0.0], [0.0], [0]
    e_abs = t_abs = 0.0
    for t, e in zip(total, error, strict=True):
        if t is None:
            es.append(es[-1])
            ts.append(ts[-1])
            cs.append(cs[-1])
            continue
        t, e = float(t or 0.0), float(e or 0.0)
        if not (t.is_integer() and e.is_integer()):
            return None
        e_abs += abs(e)
        t_abs += abs(t)
        if e_abs >= _EXACT or t_abs >= _EXACT:
            return None
        es.append(es[-1] + e)
        ts.append(ts[-1] + t)
        cs.append(cs[-1] + 1)
    return es, ts, cs


def covered(count: int, slices: int) -> bool:
    """A window is complete enough to alert on when 90 % of its intervals (rounded down) have data."""
    return count >= covered_least(slices)


def covered_least(slices: int) -> int:
    """The intervals with data a window of `slices` intervals needs to be covered."""
    return max(1, math.floor(COVERED * slices))


@dataclass(frozen=True)
class BurnCondition:
    """One window pair's alert condition, from the spec's meaning, with its constants worked out once
    (it is checked at every evaluation of a test)."""

    long_n: int  # intervals of the long window
    short_n: int
    long_seconds: int
    budget: float
    factor: float
    threshold: float  # the short window's error ratio must exceed this
    min_errors: float | None  # guards (None: not applied)
    min_rate: float | None
    long_least: int  # intervals with data each window needs
    short_least: int

    @classmethod
    def of(cls, slo: SLO, pair: BurnWindow, interval: int) -> BurnCondition:
        guards = slo.sli.kind != "error_ratio"
        long_n, short_n = pair.long // interval, pair.short // interval
        return cls(
            long_n=long_n,
            short_n=short_n,
            long_seconds=pair.long,
            budget=float(slo.error_budget),
            factor=float(pair.factor),
            threshold=float(pair.factor * slo.error_budget),
            min_errors=float(slo.min_error_events) if guards and slo.min_error_events > 0 else None,
            min_rate=float(slo.min_request_rate) if guards and slo.min_request_rate > 0 else None,
            long_least=covered_least(long_n),
            short_least=covered_least(short_n),
        )

    def holds(self, events: Events, n: int) -> bool:
        """Whether the condition holds at evaluation n."""
        le, lt, lc = events.window(n, self.long_n)
        se, st, sc = events.window(n, self.short_n)
        if lt == 0 or st == 0:
            return False
        if not (le / lt / self.budget > self.factor and se / st > self.threshold):
            return False
        if self.min_errors is not None and le < self.min_errors:
            return False
        if self.min_rate is not None and lt / self.long_seconds < self.min_rate:
            return False
        return lc >= self.long_least and sc >= self.short_least


def burn_value(slo: SLO, pair: BurnWindow, events: Events, n: int, interval: int) -> float:
    """The alert's value: the long window's burn rate, computed as Prometheus does (float64)."""
    le, lt, _ = events.window(n, pair.long // interval)
    return le / lt / float(slo.error_budget)
