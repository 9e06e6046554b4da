"""Prometheus' alerting state machine, replayed over evaluations: pending -> firing -> resolved.

This follows `rules/alerting.go` (`AlertingRule.Eval`) of Prometheus 2.42, which introduced
`keep_firing_for`:

- a label set in the result that has no active alert (or only a resolved one) becomes *pending* with
  `active_at` = now; an alert already pending or firing stays as it is;
- a pending alert fires once `now - active_at >= for` (at once when `for` is 0);
- a label set missing from the result: a pending alert is dropped; a firing one is resolved at `now`,
  unless `keep_firing_for` is set, in which case it keeps firing while `now - keep_firing_since <
  keep_firing_for` (`keep_firing_since` = the first evaluation it was missing; reset when it comes back);
- an evaluation whose result holds two series with the same labels once the rule's labels are applied is
  an error, and the state does not change at that evaluation (Prometheus returns before updating it).

Alert labels are the result's labels (without `__name__`), then the rule's labels, then `alertname`.
Label templates of the form `{{ $labels.NAME }}` are expanded; any other template is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FiringInterval", "AlertReplay", "alert_labels"]

_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

LabelSet = tuple[tuple[str, str], ...]


def alert_labels(series: Mapping[str, str], rule_labels: Mapping[str, str], alertname: str) -> LabelSet:
    """The labels Prometheus gives the alert of one result series."""
    out = {k: v for k, v in series.items() if k != "__name__"}
    for k, v in rule_labels.items():
        out[k] = _TEMPLATE.sub(lambda m: series.get(m.group(1), ""), v)
    out["alertname"] = alertname
    return tuple(sorted(out.items()))


@dataclass(frozen=True)
class FiringInterval:
    """One alert instance firing from `start_ms` (its first firing evaluation) until `end_ms` (the first
    evaluation it was resolved at); `end_ms` is None when it was still firing at the end of the range."""

    labels: dict[str, str]
    start_ms: int
    end_ms: int | None
    active_ms: int  # when it became pending


@dataclass
class _Alert:
    state: str  # pending | firing | inactive
    active_at: int
    fired_at: int = 0
    resolved_at: int | None = None
    keep_firing_since: int | None = None


@dataclass
class AlertReplay:
    """The state of one alerting rule; feed it every evaluation in time order with `step`."""

    for_ms: int
    keep_firing_for_ms: int = 0
    intervals: list[FiringInterval] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # evaluation times whose result was an error
    _active: dict[LabelSet, _Alert] = field(default_factory=dict)

    def step(self, t: int, result: Iterable[LabelSet]) -> None:
        """One evaluation at `t` (ms) whose result holds `result` (alert label sets, duplicates allowed)."""
        present = list(result)
        seen = set(present)
        if len(seen) != len(present):
            self.errors.append(
                t
            )  # "vector contains metrics with the same labelset after applying alert labels"
            return
        for ls in present:
            a = self._active.get(ls)
            if a is None or a.state == "inactive":
                self._active[ls] = _Alert(state="pending", active_at=t)
        for ls, a in list(self._active.items()):
            if ls not in seen:
                keep = False
                if a.state == "firing" and self.keep_firing_for_ms > 0:
                    if a.keep_firing_since is None:
                        a.keep_firing_since = t
                    keep = t - a.keep_firing_since < self.keep_firing_for_ms
                if a.state == "pending" or (a.resolved_at is not None and t - a.resolved_at > 15 * 60_000):
                    del self._active[ls]
                if a.state != "inactive" and not keep:
                    if a.state == "firing":
                        self.intervals.append(FiringInterval(dict(ls), a.fired_at, t, a.active_at))
                    a.state, a.resolved_at = "inactive", t
                if not keep:
                    continue
            else:
                a.keep_firing_since = None
            if a.state == "pending" and t - a.active_at >= self.for_ms:
                a.state, a.fired_at = "firing", t

    def finish(self) -> list[FiringInterval]:
        """Every firing interval, the ones still firing at the last evaluation with `end_ms` None."""
        still = [
            FiringInterval(dict(ls), a.fired_at, None, a.active_at)
            for ls, a in self._active.items()
            if a.state == "firing"
        ]
        return sorted([*self.intervals, *still], key=lambda i: (i.start_ms, sorted(i.labels.items())))
