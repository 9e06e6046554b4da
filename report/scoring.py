"""Stability scores of a post-release week, following the seed monitor's formulas.

Pure functions over samples already fetched from Prometheus (see `signals.py`): day N of the watch,
daily aggregation, the weekly score (40 % availability compliance, 40 % latency compliance, 20 % drift
penalty capped at 20), grade, trends (first half of the week against the second), days degraded and
the rollback recommendation with the reasons that triggered it.

A grouped SLO (`group_by`) is one objective per group. The service-level compliance takes the worst
group at each step (as it takes the worst SLO), so a step counts as met only when every group met its
objective; availability and error rate are the SLO's over all its groups' requests (`signals.py`). Each
group's own compliance is kept beside them (`groups`), per day and for the week, worst first.

Units: inputs are base units and ratios; summaries present percent and milliseconds, as the seed's
reports do. No data is never a good score: a day without samples is marked `no_data`, left out of
the averages and named in the warnings, and the week is then marked partial.
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

GRADES = (
    (90.0, "A", "Excellent"),
    (80.0, "B", "Good"),
    (70.0, "C", "Fair"),
    (60.0, "D", "Poor"),
    (0.0, "F", "Failing"),
)


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


def _mean(xs: list[float]) -> float | None:
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
    slo_pct = _scaled(_mean(comp), 100)
    lat_pct = _scaled(_mean(lat), 100)
    avg_err = _mean(errors)
    return DailySummary(
        service=service,
        day_number=inp.day,
        start_time=_iso(inp.start),
        end_time=_iso(inp.end),
        snapshot_count=actual,
        avg_availability=_scaled(_mean(avail), 100),
        min_availability=_scaled(_min(avail), 100),
        max_availability=_scaled(_max(avail), 100),
        slo_compliance_percent=slo_pct,
        latency_slo_compliance_percent=lat_pct,
        avg_error_rate=_scaled(avg_err, 100),
        max_error_rate=_scaled(_max(errors), 100),
        avg_p95_latency_ms=_scaled(_mean(_vals(inp.p95_latency)), 1000),
        max_p95_latency_ms=_scaled(_max(_vals(inp.p95_latency)), 1000),
        avg_p99_latency_ms=_scaled(_mean(_vals(inp.p99_latency)), 1000),
        max_p99_latency_ms=_scaled(_max(_vals(inp.p99_latency)), 1000),
        avg_cpu_cores=_mean(_vals(inp.cpu)),
        peak_cpu_cores=_max(_vals(inp.cpu)),
        avg_memory_bytes=_mean(_vals(inp.memory)),
        peak_memory_bytes=_max(_vals(inp.memory)),
        critical_alerts=inp.alerts.get("critical", 0),
        warning_alerts=inp.alerts.get("warning", 0),
        info_alerts=inp.alerts.get("info", 0),
        avg_drift_percent=_scaled(_mean(worse), 100),
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


def grade(score: float | None) -> tuple[str, str]:
    """Letter and word for a score (A >= 90 Excellent ... F < 60 Failing)."""
    if score is None:
        return "N/A", "No data"
    return next((g, w) for limit, g, w in GRADES if score >= limit)


def _trend(first: float | None, second: float | None, deadband: float, higher_is_better: bool) -> str:
    if first is None or second is None:
        return "unknown"
    delta = second - first
    if abs(delta) <= deadband:
        return "stable"
    return "improving" if (delta > 0) == higher_is_better else "degrading"


def _halves(days: list[DailySummary]) -> tuple[list[DailySummary], list[DailySummary]]:
    """First and second half of the week; the middle day of an odd week belongs to neither."""
    n = len(days)
    return days[: n // 2], days[(n + 1) // 2 :]


def _avg_of(days: list[DailySummary], attr: str) -> float | None:
    """Average of a daily value weighted by each day's samples, so a day with one sample of 288 weighs
    1/288 of a full day instead of a whole day (equal to the plain mean when every day is complete)."""
    pairs = [(getattr(d, attr), d.actual_samples) for d in days if getattr(d, attr) is not None]
    weight = sum(w for _, w in pairs)
    if not pairs:
        return None
    if weight == 0:
        return _mean([v for v, _ in pairs])
    return math.fsum(v * w for v, w in pairs) / weight


@dataclass
class WeeklySummary:
    """The week of one service: score, grade, trends, degradation, rollback and what to do."""

    service: str
    release: str
    version: str
    window_start: str
    window_end: str
    days_reported: int
    days_with_data: int
    avg_availability: float | None
    availability_compliance_percent: float | None
    latency_compliance_percent: float | None
    avg_error_rate: float | None
    avg_p99_latency_ms: float | None
    max_p99_latency_ms: float | None
    avg_drift_percent: float | None
    total_critical_alerts: int
    total_warning_alerts: int
    days_with_degradation: int
    degraded_days: list[int]
    stability_score: float | None
    grade: str
    grade_label: str
    availability_trend: str
    latency_trend: str
    resource_trend: str
    rollback_recommended: bool
    rollback_reasons: list[str]
    recommendations: list[str]
    action_items: list[str]
    partial: bool
    warnings: list[str]
    groups: list[GroupCompliance] = field(default_factory=list)  # grouped SLOs: each group, worst first

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see report/schema/weekly_summary.schema.json)."""
        return asdict(self)


def _resource_change_pct(
    first: list[DailySummary], second: list[DailySummary], deadband: float
) -> float | None:
    """The change that decides the resource trend: the largest rise of CPU or memory past the deadband,
    else the largest fall past it, else the largest change. Taking the largest change by magnitude
    would let a CPU drop hide a memory regression (CPU -10 %, memory +6 % must read "degrading")."""
    changes = []
    for attr in ("avg_cpu_cores", "avg_memory_bytes"):
        a, b = _avg_of(first, attr), _avg_of(second, attr)
        if a and b is not None:
            changes.append((b - a) / a * 100)
    if not changes:
        return None
    if rises := [c for c in changes if c > deadband]:
        return max(rises)
    if falls := [c for c in changes if c < -deadband]:
        return min(falls)
    return max(changes, key=abs)


def _imputed_components(avail_pct: float | None, lat_pct: float | None, drift: float | None) -> list[str]:
    """Warnings for score components `stability_score` had to stand in for, so that a week scored
    without latency or drift samples is marked partial instead of looking perfect."""
    if avail_pct is None:
        return []  # no score at all; the days' own warnings say why
    out = []
    if lat_pct is None:
        out.append(
            "stability score: no latency compliance samples in the week; "
            "latency compliance counted as equal to availability compliance"
        )
    if drift is None:
        out.append("stability score: no drift samples in the week; drift penalty counted as 0 %")
    return out


def weekly_summary(
    service: str, days: list[DailySummary], th: Thresholds, release: str = "", version: str = ""
) -> WeeklySummary:
    """Roll days up into the week per the seed; days without data are left out and reported."""
    scored = [d for d in days if d.data_completeness != "no_data"]
    avail_pct = _avg_of(scored, "slo_compliance_percent")
    lat_pct = _avg_of(scored, "latency_slo_compliance_percent")
    drift = _avg_of(scored, "avg_drift_percent")
    score = stability_score(avail_pct, lat_pct, drift)
    letter, label = grade(score)
    first, second = _halves(scored)
    avg_avail = _avg_of(scored, "avg_availability")
    p99 = _avg_of(scored, "avg_p99_latency_ms")
    critical = sum(d.critical_alerts for d in days)
    degraded = [d.day_number for d in days if d.degraded]
    res_change = _resource_change_pct(first, second, th.trend_resource_pct)
    resource_trend = (
        "unknown"
        if res_change is None
        else "stable"
        if abs(res_change) <= th.trend_resource_pct
        else "degrading"
        if res_change > 0
        else "improving"
    )
    reasons = []
    objective_pct = th.availability_objective * 100
    if avg_avail is not None and avg_avail < objective_pct:
        reasons.append(f"average availability {avg_avail:.3f}% is below the {objective_pct:g}% objective")
    if drift is not None and drift > th.rollback_drift_pct:
        reasons.append(f"average drift {drift:.1f}% exceeds {th.rollback_drift_pct:g}%")
    if len(degraded) >= th.rollback_days_degraded:
        reasons.append(
            f"{len(degraded)} days degraded (days {', '.join(map(str, degraded))}); rollback at "
            f"{th.rollback_days_degraded} or more"
        )
    if critical > th.rollback_critical_alerts:
        reasons.append(f"{critical} critical alerts exceed {th.rollback_critical_alerts}")
    warnings = [w for d in days for w in d.warnings]
    imputed = _imputed_components(avail_pct, lat_pct, drift)
    warnings += imputed
    partial = any(d.data_completeness != "complete" for d in days) or not days or bool(imputed)
    recs, actions = _advice(
        scored, avail_pct, lat_pct, drift, resource_trend, critical, degraded, score, th, version
    )
    return WeeklySummary(
        service=service,
        release=release,
        version=version,
        window_start=days[0].start_time if days else "",
        window_end=days[-1].end_time if days else "",
        days_reported=len(days),
        days_with_data=len(scored),
        avg_availability=avg_avail,
        availability_compliance_percent=avail_pct,
        latency_compliance_percent=lat_pct,
        avg_error_rate=_avg_of(scored, "avg_error_rate"),
        avg_p99_latency_ms=p99,
        max_p99_latency_ms=max(
            (d.max_p99_latency_ms for d in scored if d.max_p99_latency_ms is not None), default=None
        ),
        avg_drift_percent=drift,
        total_critical_alerts=critical,
        total_warning_alerts=sum(d.warning_alerts for d in days),
        days_with_degradation=len(degraded),
        degraded_days=degraded,
        stability_score=score,
        grade=letter,
        grade_label=label,
        availability_trend=_trend(
            _avg_of(first, "avg_availability"),
            _avg_of(second, "avg_availability"),
            th.trend_availability_pct,
            True,
        ),
        latency_trend=_trend(
            _avg_of(first, "avg_p99_latency_ms"),
            _avg_of(second, "avg_p99_latency_ms"),
            th.trend_latency_ms,
            False,
        ),
        resource_trend=resource_trend,
        rollback_recommended=bool(reasons),
        rollback_reasons=reasons,
        recommendations=recs,
        action_items=actions,
        partial=partial,
        warnings=warnings,
        groups=week_groups([d.groups for d in days]),
    )


def _advice(
    days: list[DailySummary],
    avail_pct: float | None,
    lat_pct: float | None,
    drift: float | None,
    resource_trend: str,
    critical: int,
    degraded: list[int],
    score: float | None,
    th: Thresholds,
    version: str,
) -> tuple[list[str], list[str]]:
    """The seed's recommendations and action items, each triggered by the number behind it."""
    recs, actions = [], []
    floor = th.degraded_below_compliance_pct
    if avail_pct is not None and avail_pct < floor:
        recs.append(
            f"Availability SLO met only {avail_pct:.1f}% of the time: investigate service health and scaling."
        )
        actions += [
            "Review pod restart patterns and resource limits",
            "Schedule incident review for availability degradation",
        ]
    if lat_pct is not None and lat_pct < floor:
        recs.append(
            f"Latency SLO met only {lat_pct:.1f}% of the time: optimize database queries and caching."
        )
        actions += ["Run EXPLAIN ANALYZE on slow queries", "Profile API endpoints with distributed tracing"]
    if drift is not None and drift > th.drift_over * 100:
        recs.append(
            f"Average drift {drift:.1f}% from the release baseline: investigate unexpected behavior changes."
        )
        actions.append("Compare baseline vs current configurations")
    if resource_trend == "degrading":
        recs.append("CPU or memory use grew through the week: capacity planning needed.")
        actions.append("Review HPA settings and node autoscaling thresholds")
    if critical:
        recs.append(f"{critical} critical alert(s) fired: review alert definitions and fix root causes.")
        actions.append("Document critical alert incidents in retrospective")
    if len(degraded) >= th.rollback_days_degraded:
        recs.append(f"{len(degraded)} degraded days: consider rollback to the previous version.")
        actions.append(f"Prepare rollback plan{' from ' + version if version else ''}")
    if score is not None and score < 80:
        recs.append(f"Stability score {score:.1f} is below 80: comprehensive review required.")
    if not recs:
        recs.append("The release is stable: no action needed beyond routine monitoring.")
    actions.append("Schedule post-release retrospective meeting")
    return recs, actions
