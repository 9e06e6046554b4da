"""The key metrics of a service's week against their targets: one table the Markdown and the HTML
report both print, so a PASS in one is a PASS in the other.

Input is the week as written to `weekly_summary.json` (`WeeklySummary.to_dict()`), targets come from
the service's `Thresholds` (its own objective, budget and latency threshold; the seed's limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slodrift.report.scoring_day import Thresholds


def fmt(x: float | None, spec: str, suffix: str = "") -> str:
    """A number in `spec` format with its unit, or `n/a` when there is none."""
    return "n/a" if x is None else f"{x:{spec}}{suffix}"


@dataclass(frozen=True)
class KeyMetric:
    """One row: what was measured, against what, and whether it met it (None: nothing to judge)."""

    name: str
    value: str
    target: str
    ok: bool | None

    @property
    def status(self) -> str:
        """PASS, FAIL or n/a."""
        return "n/a" if self.ok is None else ("PASS" if self.ok else "FAIL")


def _judge(x: float | None, ok: bool) -> bool | None:
    return None if x is None else ok


def key_metrics(wk: Mapping[str, Any], th: Thresholds) -> list[KeyMetric]:
    """The seed report's key-metrics rows for one service's week."""
    obj = th.availability_objective * 100
    comp = th.degraded_below_compliance_pct
    err = th.error_ratio * 100
    p99 = th.p99_latency_seconds * 1000
    drift = th.drift_over * 100
    avail, a_comp, l_comp = (
        wk["avg_availability"],
        wk["availability_compliance_percent"],
        wk["latency_compliance_percent"],
    )
    err_rate, p99_ms, drift_pct = wk["avg_error_rate"], wk["avg_p99_latency_ms"], wk["avg_drift_percent"]
    critical, degraded = wk["total_critical_alerts"], wk["days_with_degradation"]
    return [
        KeyMetric(
            "Availability",
            fmt(avail, ".3f", "%"),
            f"≥{obj:g}%",
            _judge(avail, avail is not None and avail >= obj),
        ),
        KeyMetric(
            "Availability SLO compliance",
            fmt(a_comp, ".1f", "%"),
            f"≥{comp:g}%",
            _judge(a_comp, a_comp is not None and a_comp >= comp),
        ),
        KeyMetric(
            "Latency SLO compliance",
            fmt(l_comp, ".1f", "%"),
            f"≥{comp:g}%",
            _judge(l_comp, l_comp is not None and l_comp >= comp),
        ),
        KeyMetric(
            "Error Rate",
            fmt(err_rate, ".3f", "%"),
            f"<{err:g}%",
            _judge(err_rate, err_rate is not None and err_rate < err),
        ),
        KeyMetric(
            "P99 Latency",
            fmt(p99_ms, ".0f", "ms"),
            f"<{p99:g}ms",
            _judge(p99_ms, p99_ms is not None and p99_ms < p99),
        ),
        KeyMetric(
            "Drift",
            fmt(drift_pct, ".1f", "%"),
            f"≤{drift:g}%",
            _judge(drift_pct, drift_pct is not None and drift_pct <= drift),
        ),
        KeyMetric(
            "Critical Alerts",
            str(critical),
            f"≤{th.rollback_critical_alerts}",
            critical <= th.rollback_critical_alerts,
        ),
        KeyMetric(
            "Days Degraded",
            str(degraded),
            f"<{th.rollback_days_degraded}",
            degraded < th.rollback_days_degraded,
        ),
    ]
