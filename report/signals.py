"""What the stability scores read back from Prometheus: the series slodrift's rules recorded.

One `query_range` per signal fetches every service at once (the cost does not grow with the number of
services); alerts are counted per day with a 1d step. A spec with grouped SLOs (`group_by`) adds one
query: the compliance of each group of each grouped SLO. The service's compliance takes the worst group
at each step (as it takes the worst SLO); its availability and error ratio are each SLO's over all its
groups' events, the worst SLO at each step. A signal that cannot be fetched is left out
and named in `warnings`, so a report built from it is marked partial instead of silently wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slodrift.report.prometheus_api import (
    PrometheusError,
    PrometheusQueryError,
    QueryResult,
    RangeQuerier,
)
from slodrift.report.scoring_day import GroupKey

# signal name -> (PromQL returning one series per service, the label that splits it further or None)
_AVAIL = 'on (service, slo) slodrift:slo_compliant:bool5m{compliance="availability"}'
# The 5m error ratio of each availability SLO over all its groups' events (traffic-weighted: for an SLO
# without groups, its ratio), so a quiet group's one failed request does not stand for the service.
_ERRORS = (
    'sum by (service, slo) (slodrift:sli_events:sum5m{event="error"})'
    ' / sum by (service, slo) (slodrift:sli_events:sum5m{event="total"})'
    f" and {_AVAIL}"
)
SIGNALS: dict[str, tuple[str, str | None]] = {
    "availability": (f"min by (service) (1 - ({_ERRORS}))", None),
    "error_ratio": (f"max by (service) ({_ERRORS})", None),
    "availability_compliant": (
        'min by (service) (slodrift:slo_compliant:bool5m{compliance="availability"})',
        None,
    ),
    "latency_compliant": ('min by (service) (slodrift:slo_compliant:bool5m{compliance="latency"})', None),
    "p95_latency": ('max by (service) (slodrift:indicator:value{indicator="p95_latency"})', None),
    "p99_latency": ('max by (service) (slodrift:indicator:value{indicator="p99_latency"})', None),
    "cpu": ('max by (service) (slodrift:indicator:value{indicator="cpu"})', None),
    "memory": ('max by (service) (slodrift:indicator:value{indicator="memory"})', None),
    "drift": ("max by (service, indicator) (slodrift:indicator:drift_ratio)", "indicator"),
}
# Compliance per SLO and group, for the SLOs whose rules say they are grouped.
GROUP_COMPLIANCE = 'slodrift:slo_compliant:bool5m and on (service, slo) slodrift:slo:info{group_by!=""}'
ALERTS_PER_DAY = 'count by (service, severity) (count_over_time(ALERTS{alertstate="firing",service!=""}[1d]))'

Samples = list[tuple[float, float]]
# (service, SLO) -> the SLO's group labels, from the spec
GroupLabels = Mapping[tuple[str, str], Sequence[str]]


@dataclass
class Signals:
    """Every signal of every service over the watch window, as fetched."""

    start: float
    end: float
    step: float
    # service -> signal -> samples; split signals (drift) use "drift:<indicator>"
    series: dict[str, dict[str, Samples]] = field(default_factory=dict)
    # service -> day end timestamp -> severity -> number of distinct alerts that fired that day
    alerts: dict[str, dict[float, dict[str, int]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    queries: int = 0
    # service -> group of a grouped SLO -> its compliance samples (1 met, 0 not)
    groups: dict[str, dict[GroupKey, Samples]] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """True when a signal could not be fetched or Prometheus warned about its data."""
        return bool(self.warnings)

    def get(self, service: str, signal: str) -> Samples:
        """Samples of one signal of one service (empty when there were none)."""
        return self.series.get(service, {}).get(signal, [])


# No signal the scores read (ratios, seconds, bytes, cores, drift) comes near this; a value past it is a
# broken rule or a hostile server, and averaging a few of them would overflow a float.
MAX_MAGNITUDE = 1e15


def _add(sig: Signals, result: QueryResult, name: str, split: str | None, services: set[str]) -> None:
    for s in result.series:
        service = s.labels.get("service", "")
        if service not in services:
            continue
        key = f"{name}:{s.labels.get(split, '')}" if split else name
        kept = [(t, v) for t, v in s.samples if v == v]  # NaN: no value for that step
        sane = [(t, v) for t, v in kept if abs(v) <= MAX_MAGNITUDE]
        if len(sane) < len(kept):
            bad = next(v for _, v in kept if abs(v) > MAX_MAGNITUDE)
            sig.warnings.append(
                f"signal {name} of {service}: {len(kept) - len(sane)} sample(s) out of range (e.g. {bad:g}) ignored"
            )
        sig.series.setdefault(service, {}).setdefault(key, []).extend(sane)


def _add_groups(sig: Signals, result: QueryResult, group_labels: GroupLabels) -> None:
    """Each group's compliance, keyed by the spec's group labels: series of one group that differ in
    other labels (a service label renamed mid-week) are merged, the lower value winning at a step."""
    merged: dict[str, dict[GroupKey, dict[float, float]]] = {}
    odd = 0
    for s in result.series:
        service, slo = s.labels.get("service", ""), s.labels.get("slo", "")
        labels = group_labels.get((service, slo))
        if labels is None:  # not a grouped SLO of the spec (or not a service of it)
            continue
        key = (slo, s.labels.get("compliance", ""), tuple((g, s.labels.get(g, "")) for g in labels))
        by_time = merged.setdefault(service, {}).setdefault(key, {})
        for t, v in s.samples:
            if 0.0 <= v <= 1.0:  # a compliance sample is 0 or 1: NaN or anything else is not one
                by_time[t] = min(v, by_time.get(t, v))
            else:
                odd += 1
    if odd:
        sig.warnings.append(f"compliance per group: {odd} sample(s) neither 0 nor 1 ignored")
    for service, groups in merged.items():
        for key, by_time in groups.items():
            sig.groups.setdefault(service, {})[key] = sorted(by_time.items())


def fetch(
    client: RangeQuerier,
    services: Iterable[str],
    start: datetime,
    end: datetime,
    step_seconds: int,
    progress: Callable[[int, int, str], None] | None = None,
    group_labels: GroupLabels | None = None,
) -> Signals:
    """Fetch every signal for `services` over [start, end]; failures become warnings, not exceptions.

    `group_labels` names the group labels of each grouped SLO; with any, each group's compliance is
    fetched too (one more query). `progress(done, total, what)` is called before each query, for a
    terminal display.
    """
    names = set(services)
    sig = Signals(start.timestamp(), end.timestamp(), float(step_seconds))
    total = len(SIGNALS) + 1 + (1 if group_labels else 0)
    for n, (name, (expr, split)) in enumerate(SIGNALS.items()):
        if progress:
            progress(n, total, name)
        try:
            result = client.query_range(expr, start, end, step_seconds)
        except PrometheusQueryError as exc:
            sig.warnings.append(f"signal {name}: query rejected: {exc}")
            continue
        except PrometheusError as exc:
            sig.warnings.append(f"signal {name}: Prometheus unavailable: {exc}")
            continue
        finally:
            sig.queries += 1
        sig.warnings += [f"signal {name}: Prometheus warned: {w}" for w in result.warnings]
        _add(sig, result, name, split, names)
    if group_labels:
        if progress:
            progress(len(SIGNALS), total, "compliance per group")
        sig.queries += 1
        try:
            result = client.query_range(GROUP_COMPLIANCE, start, end, step_seconds)
            sig.warnings += [f"compliance per group: Prometheus warned: {w}" for w in result.warnings]
            _add_groups(sig, result, group_labels)
        except PrometheusError as exc:
            sig.warnings.append(f"compliance per group: {exc}")
    day_ends_start = start.timestamp() + 86400
    if progress:
        progress(total - 1, total, "alerts per day")
    if day_ends_start <= end.timestamp():
        try:
            sig.queries += 1
            result = client.query_range(ALERTS_PER_DAY, day_ends_start, end.timestamp(), 86400)
            for s in result.series:
                service = s.labels.get("service", "")
                if service in names:
                    bad = [v for _, v in s.samples if not (math.isfinite(v) and 0 <= v <= MAX_MAGNITUDE)]
                    if bad:  # NaN or absurd: int() would raise or lie
                        sig.warnings.append(
                            f"alerts of {service}: {len(bad)} count(s) like {bad[0]:g} are not counts; ignored"
                        )
                    for t, v in s.samples:
                        if math.isfinite(v) and 0 <= v <= MAX_MAGNITUDE:
                            day = sig.alerts.setdefault(service, {}).setdefault(t, {})
                            day[s.labels.get("severity", "none")] = int(v)
        except PrometheusError as exc:
            sig.warnings.append(f"alerts: {exc}")
    for service in sorted(names):
        if service not in sig.series:
            sig.warnings.append(f"service {service}: no recorded series at all in the window")
    return sig
