"""From a spec and fetched signals to daily and weekly summaries: the one place scoring meets the spec.

Thresholds come from each service's own SLOs (its availability objective and budget, its latency
threshold), falling back to the seed's (99.9 %, 500 ms, 0.1 %) where a service has no such SLO.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from slodrift.generator.model import Service, Spec
from slodrift.report import signals as sig
from slodrift.report.prometheus_api import RangeQuerier
from slodrift.report.scoring import WeeklySummary, weekly_summary
from slodrift.report.scoring_day import DAY, DailySummary, DayInput, Thresholds, aggregate_day


def thresholds_for(service: Service) -> Thresholds:
    """The seed's limits, with the objective, budget and latency threshold of this service's SLOs."""
    avail = [s for s in service.slos if s.sli.kind != "latency"]
    latency = [s for s in service.slos if s.sli.kind == "latency" and s.sli.threshold is not None]
    seed = Thresholds()
    objective, error_ratio, p99 = seed.availability_objective, seed.error_ratio, seed.p99_latency_seconds
    if avail:
        strictest = max(s.objective for s in avail)
        objective, error_ratio = float(strictest), float(1 - strictest)
    if latency:
        p99 = float(min(s.sli.threshold for s in latency if s.sli.threshold))
    return Thresholds(availability_objective=objective, error_ratio=error_ratio, p99_latency_seconds=p99)


def _slice(samples: sig.Samples, start: float, end: float) -> sig.Samples:
    return [(t, v) for t, v in samples if start < t <= end]


@dataclass
class Report:
    """Summaries of every service for the finished days of the watch."""

    spec: Spec
    watch_start: datetime
    at: datetime
    step: int
    days: dict[str, list[DailySummary]]
    weeks: dict[str, WeeklySummary]
    warnings: list[str]
    queries: int

    @property
    def partial(self) -> bool:
        """Any missing signal or incomplete day makes the whole report partial."""
        return bool(self.warnings) or any(w.partial for w in self.weeks.values())


def finished_days(watch_start: datetime, at: datetime, watch_days: int) -> int:
    """How many whole days of the watch have ended by `at` (at most the watch length)."""
    return max(0, min(watch_days, int((at.timestamp() - watch_start.timestamp()) // DAY)))


def build(spec: Spec, fetched: sig.Signals, watch_start: datetime, at: datetime, step: int) -> Report:
    """Aggregate fetched signals into per-day and per-week summaries for every service."""
    n_days = finished_days(watch_start, at, spec.release.watch_days)
    days: dict[str, list[DailySummary]] = {}
    weeks: dict[str, WeeklySummary] = {}
    for service in spec.services:
        th = thresholds_for(service)
        out = []
        for n in range(1, n_days + 1):
            start = watch_start.timestamp() + (n - 1) * DAY
            end = start + DAY
            drift = {
                k.split(":", 1)[1]: _slice(v, start, end)
                for k, v in fetched.series.get(service.name, {}).items()
                if k.startswith("drift:")
            }
            inp = DayInput(
                day=n,
                start=start,
                end=end,
                step=step,
                availability=_slice(fetched.get(service.name, "availability"), start, end),
                error_ratio=_slice(fetched.get(service.name, "error_ratio"), start, end),
                availability_compliant=_slice(
                    fetched.get(service.name, "availability_compliant"), start, end
                ),
                latency_compliant=_slice(fetched.get(service.name, "latency_compliant"), start, end),
                p95_latency=_slice(fetched.get(service.name, "p95_latency"), start, end),
                p99_latency=_slice(fetched.get(service.name, "p99_latency"), start, end),
                cpu=_slice(fetched.get(service.name, "cpu"), start, end),
                memory=_slice(fetched.get(service.name, "memory"), start, end),
                drift=drift,
                alerts=fetched.alerts.get(service.name, {}).get(end, {}),
                groups={k: _slice(v, start, end) for k, v in fetched.groups.get(service.name, {}).items()},
            )
            out.append(aggregate_day(service.name, inp, th))
        days[service.name] = out
        weeks[service.name] = weekly_summary(service.name, out, th, spec.release.name, spec.release.version)
    return Report(spec, watch_start, at, step, days, weeks, list(fetched.warnings), fetched.queries)


def watch_start_of(spec: Spec, at: datetime) -> datetime:
    """The spec's watch start, or (without one) the start of the watch that ends at `at`."""
    if spec.release.watch_start is not None:
        return spec.release.watch_start
    day0 = datetime.fromtimestamp((at.timestamp() // DAY) * DAY, UTC)
    return datetime.fromtimestamp(day0.timestamp() - spec.release.watch_days * DAY, UTC)


def run(
    spec: Spec,
    client: RangeQuerier,
    at: datetime,
    step: int = 300,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Fetch every signal over the finished days of the watch and build the report."""
    start = watch_start_of(spec, at)
    n_days = finished_days(start, at, spec.release.watch_days)
    end = datetime.fromtimestamp(start.timestamp() + max(n_days, 1) * DAY, UTC)
    if n_days == 0:
        end = at
    group_labels = {(s.name, o.name): o.group_by for s in spec.services for o in s.slos if o.group_by}
    fetched = sig.fetch(client, [s.name for s in spec.services], start, end, step, progress, group_labels)
    return build(spec, fetched, start, at, step)
