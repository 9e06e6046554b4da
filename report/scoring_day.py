"""One day of a post-release watch, scored: the samples fetched for a service and day (`DayInput`), the
limits (`Thresholds`), and the day's aggregation (`DailySummary`: compliance, latency, drift, alerts,
data completeness), with each group of a grouped SLO over the day and the week.

Units: inputs are base units and ratios; summaries present percent and milliseconds, as the seed's
reports do. No data is never a good score: a day without samples is marked `no_data`.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

Series = list[tuple[float, float]]

DAY = 86400

# One group of one grouped SLO: (SLO, compliance kind: availability | latency, ((label, value), ...)).
GroupKey = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Thresholds:
    """The seed's SLO, degradation and rollback limits; the objective comes from the spec."""

    availability_objective: float = 0.999  # ratio
    p99_latency_seconds: float = 0.5
    error_ratio: float = 0.001
    drift_over: float = 0.10  # an indicator drifting more than this counts as a violation
    degraded_below_compliance_pct: float = 95.0
    rollback_drift_pct: float = 15.0
    rollback_days_degraded: int = 2
    rollback_critical_alerts: int = 5
    trend_availability_pct: float = 0.5
    trend_latency_ms: float = 10.0
    trend_resource_pct: float = 5.0


@dataclass
class DayInput:
    """Everything fetched for one service and one day of the watch: samples at (start, end]."""

    day: int
    start: float
    end: float
    step: float
    availability: Series = field(default_factory=list)
    error_ratio: Series = field(default_factory=list)
    availability_compliant: Series = field(default_factory=list)
    latency_compliant: Series = field(default_factory=list)
    p95_latency: Series = field(default_factory=list)
    p99_latency: Series = field(default_factory=list)
    cpu: Series = field(default_factory=list)
    memory: Series = field(default_factory=list)
    drift: dict[str, Series] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    groups: dict[GroupKey, Series] = field(default_factory=dict)  # compliance of each group

    @property
    def expected_samples(self) -> int:
        """Evaluations a complete day holds at this step."""
        return int(round((self.end - self.start) / self.step))


def day_number(watch_start: datetime, t: datetime | float) -> int:
    """Day N of the watch (1-based, UTC): a sample at exactly midnight closes the day before it."""
    ts = t.timestamp() if isinstance(t, datetime) else t
    return max(1, math.ceil((ts - watch_start.timestamp()) / DAY))


def _vals(s: Series) -> list[float]:
    return [v for _, v in s if not math.isnan(v)]


def mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _max(xs: list[float]) -> float | None:
    return max(xs) if xs else None


def _min(xs: list[float]) -> float | None:
    return min(xs) if xs else None


def _scaled(x: float | None, k: float) -> float | None:
    return None if x is None else x * k


@dataclass(frozen=True)
class GroupCompliance:
    """One group of a grouped SLO over a day or the week: the share of its evaluations with data that
    met the SLO's objective, and how many evaluations that share is of."""

    slo: str
    compliance: str  # availability | latency
    labels: dict[str, str]
    compliance_percent: float
    samples: int

    def key(self) -> GroupKey:
        return self.slo, self.compliance, tuple(self.labels.items())


def _worst_first(groups: list[GroupCompliance]) -> list[GroupCompliance]:
    return sorted(groups, key=lambda g: (g.compliance_percent, g.slo, g.compliance, tuple(g.labels.items())))


def day_groups(groups: dict[GroupKey, Series]) -> list[GroupCompliance]:
    """Each group's compliance over one day's samples, worst first (groups without a sample left out)."""
    out = []
    for (slo, kind, labels), series in groups.items():
        vals = _vals(series)
        if vals:
            out.append(GroupCompliance(slo, kind, dict(labels), statistics.fmean(vals) * 100, len(vals)))
    return _worst_first(out)


def week_groups(days: list[list[GroupCompliance]]) -> list[GroupCompliance]:
    """Each group over the week: its days' compliance weighted by their samples, worst first."""
    sums: dict[GroupKey, tuple[float, int]] = {}
    for day in days:
        for g in day:
            met, n = sums.get(g.key(), (0.0, 0))
            sums[g.key()] = (met + g.compliance_percent * g.samples, n + g.samples)
    return _worst_first(
        [
            GroupCompliance(slo, kind, dict(labels), met / n, n)
            for (slo, kind, labels), (met, n) in sums.items()
        ]
    )


def stability_score(
    availability_pct: float | None, latency_pct: float | None, drift_pct: float | None
) -> float | None:
    """The seed's formula: 40 % availability compliance + 40 % latency compliance + 20 % (100 - drift, capped 20).

    A missing latency compliance counts as the availability one and missing drift as none, so a
    service without a latency SLO is not punished for it; without availability data there is no score.
    """
    if availability_pct is None:
        return None
    lat = latency_pct if latency_pct is not None else availability_pct
    drift_penalty = min(drift_pct or 0.0, 20.0)
    return availability_pct * 0.4 + lat * 0.4 + (100.0 - drift_penalty) * 0.2


@dataclass
class DailySummary:
    """One day of one service, in the seed's fields (percent, ms)."""

    service: str
    day_number: int
    start_time: str
    end_time: str
    snapshot_count: int
    avg_availability: float | None
    min_availability: float | None
    max_availability: float | None
    slo_compliance_percent: float | None
    latency_slo_compliance_percent: float | None
    avg_error_rate: float | None
    max_error_rate: float | None
    avg_p95_latency_ms: float | None
    max_p95_latency_ms: float | None
    avg_p99_latency_ms: float | None
    max_p99_latency_ms: float | None
    avg_cpu_cores: float | None
    peak_cpu_cores: float | None
    avg_memory_bytes: float | None
    peak_memory_bytes: float | None
    critical_alerts: int
    warning_alerts: int
    info_alerts: int
    avg_drift_percent: float | None
    max_drift_percent: float | None
    drift_by_indicator: dict[str, dict[str, float]]
    indicators_over_threshold: list[str]
    availability_degraded: bool | None  # None: no sample to judge by (never "healthy" by default)
    latency_degraded: bool | None
    error_rate_degraded: bool | None
    data_completeness: str  # complete | partial | no_data
    expected_samples: int
    actual_samples: int
    completeness_percent: float
    warnings: list[str]
    groups: list[GroupCompliance] = field(default_factory=list)  # grouped SLOs: each group, worst first

    @property
    def degraded(self) -> bool | None:
        """Any of the seed's three degradation flags; None when none could be judged (a day without data
        is neither degraded nor healthy)."""
        flags = (self.availability_degraded, self.latency_degraded, self.error_rate_degraded)
        if any(f is True for f in flags):
            return True
        return None if all(f is None for f in flags) else False

    @property
    def daily_score(self) -> float | None:
        """The weekly formula applied to one day, for the `window="1d"` gauge."""
        return stability_score(
            self.slo_compliance_percent, self.latency_slo_compliance_percent, self.avg_drift_percent
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see report/schema/daily_summary.schema.json)."""
        d = asdict(self)
        d["degraded"] = self.degraded
        d["stability_score"] = self.daily_score
        return d


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _latency_compliance(inp: DayInput, th: Thresholds) -> Series:
    """Latency SLO compliance per interval; without a latency SLO, the seed's p99 < threshold test."""
    if inp.latency_compliant:
        return inp.latency_compliant
    return [(t, 1.0 if v < th.p99_latency_seconds else 0.0) for t, v in inp.p99_latency if not math.isnan(v)]


def aggregate_day(service: str, inp: DayInput, th: Thresholds) -> DailySummary:
    """Aggregate one day per the seed: min/max/avg, compliance, degradation flags, completeness."""
    avail = _vals(inp.availability)
    comp = _vals(inp.availability_compliant)
    lat = _vals(_latency_compliance(inp, th))
    errors = _vals(inp.error_ratio)
    drift_stats: dict[str, dict[str, float]] = {}
    over: list[str] = []
    worse: list[float] = []
    for name, series in sorted(inp.drift.items()):
        vals = _vals(series)
        if not vals:
            continue
        pos = [max(v, 0.0) for v in vals]  # positive drift is worse; an improvement costs nothing
        drift_stats[name] = {"avg_percent": statistics.fmean(pos) * 100, "max_percent": max(pos) * 100}
        worse.append(statistics.fmean(pos))
        if max(vals) > th.drift_over:
            over.append(name)
    actual = len(comp) if comp else len(avail)
    if lat:  # a latency gap makes the day partial too; a service with no latency data at all is warned below
        actual = min(actual, len(lat))
    expected = inp.expected_samples
    warnings: list[str] = []
    if actual == 0:
        completeness = "no_data"
        warnings.append(f"day {inp.day}: no availability samples; the day is left out of the weekly averages")
    elif actual < expected:
        completeness = "partial"
        warnings.append(f"day {inp.day}: {actual} of {expected} expected samples")
    else:
        completeness = "complete"
    if not lat and actual:
        warnings.append(f"day {inp.day}: no latency compliance samples (no latency SLO and no p99 indicator)")
    slo_pct = _scaled(mean(comp), 100)
    lat_pct = _scaled(mean(lat), 100)
    avg_err = mean(errors)
    return DailySummary(
        service=service,
        day_number=inp.day,
        start_time=_iso(inp.start),
        end_time=_iso(inp.end),
        snapshot_count=actual,
        avg_availability=_scaled(mean(avail), 100),
        min_availability=_scaled(_min(avail), 100),
        max_availability=_scaled(_max(avail), 100),
        slo_compliance_percent=slo_pct,
        latency_slo_compliance_percent=lat_pct,
        avg_error_rate=_scaled(avg_err, 100),
        max_error_rate=_scaled(_max(errors), 100),
        avg_p95_latency_ms=_scaled(mean(_vals(inp.p95_latency)), 1000),
        max_p95_latency_ms=_scaled(_max(_vals(inp.p95_latency)), 1000),
        avg_p99_latency_ms=_scaled(mean(_vals(inp.p99_latency)), 1000),
        max_p99_latency_ms=_scaled(_max(_vals(inp.p99_latency)), 1000),
        avg_cpu_cores=mean(_vals(inp.cpu)),
        peak_cpu_cores=_max(_vals(inp.cpu)),
        avg_memory_bytes=mean(_vals(inp.memory)),
        peak_memory_bytes=_max(_vals(inp.memory)),
        critical_alerts=inp.alerts.get("critical", 0),
        warning_alerts=inp.alerts.get("warning", 0),
        info_alerts=inp.alerts.get("info", 0),
        avg_drift_percent=_scaled(mean(worse), 100),
        max_drift_percent=max((d["max_percent"] for d in drift_stats.values()), default=None),
        drift_by_indicator=drift_stats,
        indicators_over_threshold=over,
        availability_degraded=None if slo_pct is None else slo_pct < th.degraded_below_compliance_pct,
        latency_degraded=None if lat_pct is None else lat_pct < th.degraded_below_compliance_pct,
        error_rate_degraded=None if avg_err is None else avg_err >= th.error_ratio,
        data_completeness=completeness,
        expected_samples=expected,
        actual_samples=actual,
        completeness_percent=100.0 * actual / expected if expected else 0.0,
        warnings=warnings,
        groups=day_groups(inp.groups),
    )
