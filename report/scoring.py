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

The days are scored in `scoring_day`; this module makes the week of them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from slodrift.report.scoring_day import (
    DailySummary,
    GroupCompliance,
    Thresholds,
    mean,
    stability_score,
    week_groups,
)

GRADES = (
    (90.0, "A", "Excellent"),
    (80.0, "B", "Good"),
    (70.0, "C", "Fair"),
    (60.0, "D", "Poor"),
    (0.0, "F", "Failing"),
)


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
        return mean([v for v, _ in pairs])
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
