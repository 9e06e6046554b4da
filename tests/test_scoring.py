"""Stability scoring: a hand-computed week with a known bad day, edge cases (empty, partial, single day,
zero drift), and regressions for trends and score components that must never look better than the data.

Complements tests/test_scores.py (formula, grades, day boundaries); every expectation here is written
out as arithmetic from the seed's formulas.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slodrift.report.scoring import weekly_summary
from slodrift.report.scoring_day import DayInput, Thresholds, aggregate_day

START = datetime(2025, 11, 22, tzinfo=UTC).timestamp()
DAY = 86400
TH = (
    Thresholds()
)  # 99.9 %, p99 < 500 ms, errors < 0.1 %, drift over 10 %, rollback at 15 % / 2 days / >5 critical


def series(values: list[float], day: int) -> list[tuple[float, float]]:
    """Samples spread evenly over day `day`, stamped at the end of each step (the rules' convention)."""
    step = DAY / len(values)
    base = START + (day - 1) * DAY
    return [(base + (i + 1) * step, v) for i, v in enumerate(values)]


def day(
    n: int,
    *,
    avail=(0.9999,) * 4,
    compliant=(1.0,) * 4,
    latency_ok=(1.0,) * 4,
    errors=(0.0001,) * 4,
    p99=(0.2,) * 4,
    cpu=0.3,
    memory=1e8,
    drift=(0.05,) * 4,
    alerts=None,
    step=None,
) -> DayInput:
    """One day of four 6-hour samples, healthy unless told otherwise."""
    k = len(compliant)
    return DayInput(
        day=n,
        start=START + (n - 1) * DAY,
        end=START + n * DAY,
        step=step or DAY / max(k, 1),
        availability=series(list(avail), n),
        error_ratio=series(list(errors), n),
        availability_compliant=series(list(compliant), n),
        latency_compliant=series(list(latency_ok), n),
        p95_latency=series([0.8 * v for v in p99], n),
        p99_latency=series(list(p99), n),
        cpu=series([cpu] * len(p99), n),
        memory=series([memory] * len(p99), n),
        drift={} if drift is None else {"p99_latency": series(list(drift), n)},
        alerts=alerts or {},
    )


def summarise(inputs: list[DayInput], th: Thresholds = TH):
    days = [aggregate_day("checkout", d, th) for d in inputs]
    return days, weekly_summary("checkout", days, th, "shop", "v2.0.0")


def known_bad_week() -> list[DayInput]:
    """Days 1-7; day 4 is bad; latency and resources shift in the second half (days 5-7)."""
    out = []
    for n in range(1, 8):
        if n == 4:
            out.append(
                day(
                    4,
                    avail=(0.9999, 0.99, 0.99, 0.9999),
                    compliant=(1, 0, 0, 1),
                    latency_ok=(1, 1, 0, 1),
                    errors=(0.0001, 0.01, 0.01, 0.0001),
                    p99=(0.2, 0.6, 0.6, 0.2),
                    drift=(0.05, 0.45, 0.45, 0.05),
                    alerts={"critical": 6, "warning": 2},
                )
            )
        elif n >= 5:
            out.append(day(n, p99=(0.25,) * 4, cpu=0.27, memory=1.06e8))
        else:
            out.append(day(n))
    return out


def test_the_bad_day_by_hand():
    days, _ = summarise(known_bad_week())
    d = days[3]
    assert d.day_number == 4 and d.data_completeness == "complete" and d.snapshot_count == 4
    assert d.slo_compliance_percent == pytest.approx(50.0)  # 2 of 4 intervals at objective
    assert d.latency_slo_compliance_percent == pytest.approx(75.0)  # 3 of 4 under 500 ms
    assert d.avg_availability == pytest.approx((2 * 99.99 + 2 * 99.0) / 4)  # 99.495 %
    assert d.min_availability == pytest.approx(99.0) and d.max_availability == pytest.approx(99.99)
    assert d.avg_error_rate == pytest.approx((2 * 0.01 + 2 * 1.0) / 4)  # 0.505 % >= 0.1 %
    assert d.avg_p99_latency_ms == pytest.approx(400.0) and d.max_p99_latency_ms == pytest.approx(600.0)
    assert d.avg_drift_percent == pytest.approx((5 + 45 + 45 + 5) / 4)  # 25 %
    assert d.indicators_over_threshold == ["p99_latency"]
    assert d.availability_degraded and d.latency_degraded and d.error_rate_degraded and d.degraded
    assert d.critical_alerts == 6 and d.warning_alerts == 2
    assert not any(x.degraded for i, x in enumerate(days) if i != 3)


def test_the_week_by_hand():
    _, wk = summarise(known_bad_week())
    avail_c = (6 * 100 + 50) / 7  # 92.857 %
    lat_c = (6 * 100 + 75) / 7  # 96.429 %
    drift = (6 * 5 + 25) / 7  # 7.857 %: under the 20 % cap
    assert wk.availability_compliance_percent == pytest.approx(avail_c)
    assert wk.latency_compliance_percent == pytest.approx(lat_c)
    assert wk.avg_drift_percent == pytest.approx(drift)
    score = 0.4 * avail_c + 0.4 * lat_c + 0.2 * (100 - drift)  # 37.143 + 38.571 + 18.429 = 94.143
    assert wk.stability_score == pytest.approx(score) and wk.stability_score == pytest.approx(
        94.142857, abs=1e-5
    )
    assert (wk.grade, wk.grade_label) == ("A", "Excellent")
    assert wk.avg_availability == pytest.approx((6 * 99.99 + 99.495) / 7)  # 99.919 %: above 99.9 %
    assert wk.avg_p99_latency_ms == pytest.approx((3 * 200 + 400 + 3 * 250) / 7)  # 250 ms
    assert wk.days_with_degradation == 1 and wk.degraded_days == [4]
    assert wk.total_critical_alerts == 6 and wk.total_warning_alerts == 2
    # trends: days 1-3 against days 5-7 (the middle day of an odd week belongs to neither half)
    assert wk.availability_trend == "stable"
    assert wk.latency_trend == "degrading"  # 200 ms -> 250 ms: +50 ms > 10 ms
    assert wk.resource_trend == "degrading"  # memory +6 % > 5 %, although CPU fell 10 %
    # rollback: only the critical-alert criterion fires (6 > 5); availability 99.919 % >= 99.9 %,
    # drift 7.9 % <= 15 %, 1 degraded day < 2
    assert wk.rollback_recommended
    assert wk.rollback_reasons == ["6 critical alerts exceed 5"]
    assert not wk.partial and wk.warnings == []


def test_recommendations_and_action_items_follow_the_findings():
    _, wk = summarise(known_bad_week())
    recs = " | ".join(wk.recommendations)
    assert "investigate service health and scaling" in recs  # availability compliance 92.9 % < 95 %
    assert "capacity planning needed" in recs  # resource trend degrading
    assert "6 critical alert(s) fired" in recs
    assert "optimize database queries" not in recs  # latency compliance 96.4 % >= 95 %
    assert "consider rollback" not in recs  # one degraded day only
    assert "comprehensive review" not in recs  # score 94.1
    assert wk.action_items == [
        "Review pod restart patterns and resource limits",
        "Schedule incident review for availability degradation",
        "Review HPA settings and node autoscaling thresholds",
        "Document critical alert incidents in retrospective",
        "Schedule post-release retrospective meeting",
    ]


def test_a_healthy_week_recommends_nothing_but_the_retrospective():
    _, wk = summarise([day(n) for n in range(1, 8)])
    assert wk.stability_score == pytest.approx(
        0.4 * 100 + 0.4 * 100 + 0.2 * (100 - 5)
    )  # drift 5 % everywhere
    assert not wk.rollback_recommended and wk.rollback_reasons == []
    assert wk.recommendations == ["The release is stable: no action needed beyond routine monitoring."]
    assert wk.action_items == ["Schedule post-release retrospective meeting"]
    assert (wk.availability_trend, wk.latency_trend, wk.resource_trend) == ("stable",) * 3


def test_two_degraded_days_recommend_rollback_with_the_days_named():
    inputs = [day(n, compliant=(0, 0, 1, 1) if n in (2, 6) else (1,) * 4) for n in range(1, 8)]
    _, wk = summarise(inputs)
    assert wk.degraded_days == [2, 6]
    assert wk.rollback_reasons == ["2 days degraded (days 2, 6); rollback at 2 or more"]
    assert any("consider rollback" in r for r in wk.recommendations)
    assert any(a.startswith("Prepare rollback plan from v2.0.0") for a in wk.action_items)


def test_all_zero_drift_costs_nothing_and_is_not_missing():
    _, wk = summarise([day(n, drift=(0.0,) * 4) for n in range(1, 8)])
    assert wk.avg_drift_percent == 0.0
    assert wk.stability_score == pytest.approx(100.0)
    assert not wk.partial and not any("drift" in w for w in wk.warnings)


def test_improvement_is_not_a_bonus():
    # drift -30 % (faster than the baseline) counts as 0 %, so the score cannot exceed 100
    days, wk = summarise([day(n, drift=(-0.3,) * 4) for n in range(1, 8)])
    assert days[0].avg_drift_percent == 0.0
    assert wk.stability_score == pytest.approx(100.0)


def test_drift_penalty_is_capped_at_20_percent():
    _, wk = summarise([day(n, drift=(0.5,) * 4) for n in range(1, 8)])
    assert wk.avg_drift_percent == pytest.approx(50.0)
    assert wk.stability_score == pytest.approx(0.4 * 100 + 0.4 * 100 + 0.2 * (100 - 20))  # 96
    assert wk.rollback_reasons == ["average drift 50.0% exceeds 15%"]


def test_a_week_without_drift_samples_is_partial_not_perfect():
    _, wk = summarise([day(n, drift=None) for n in range(1, 8)])
    assert wk.avg_drift_percent is None
    assert wk.partial
    assert any("no drift samples" in w for w in wk.warnings)


def test_a_week_without_latency_samples_is_partial_not_perfect():
    inputs = [day(n, latency_ok=(1.0,) * 4) for n in range(1, 8)]
    for d in inputs:
        d.latency_compliant = []
        d.p99_latency = []
    _, wk = summarise(inputs)
    assert wk.latency_compliance_percent is None
    assert wk.partial and any("no latency compliance samples" in w for w in wk.warnings)


def test_without_a_latency_slo_p99_samples_give_the_seeds_compliance():
    # the seed's test is p99 < 500 ms, strictly: a p99 of exactly 500 ms is not compliant
    d = day(1, p99=(0.2, 0.5, 0.7, 0.1))
    d.latency_compliant = []
    s = aggregate_day("catalog", d, TH)
    assert s.latency_slo_compliance_percent == pytest.approx(50.0)
    assert s.latency_degraded


def test_an_empty_day_is_no_data_and_left_out():
    inputs = [day(n) for n in range(1, 8)]
    inputs[2] = DayInput(day=3, start=START + 2 * DAY, end=START + 3 * DAY, step=DAY / 4)
    days, wk = summarise(inputs)
    empty = days[2]
    assert empty.data_completeness == "no_data" and empty.actual_samples == 0
    assert empty.completeness_percent == 0.0
    for field in (
        "avg_availability",
        "slo_compliance_percent",
        "latency_slo_compliance_percent",
        "avg_error_rate",
        "avg_p99_latency_ms",
        "avg_drift_percent",
        "daily_score",
    ):
        assert getattr(empty, field) is None, field  # unknown, never 0 or 100
    assert empty.warnings and "no availability samples" in empty.warnings[0]
    # neither degraded nor healthy: the flags are unknown
    assert (empty.availability_degraded, empty.latency_degraded, empty.error_rate_degraded) == (None,) * 3
    assert empty.degraded is None
    assert wk.days_with_data == 6 and wk.days_reported == 7 and wk.partial
    assert 3 not in wk.degraded_days
    assert wk.stability_score == pytest.approx(0.4 * 100 + 0.4 * 100 + 0.2 * 95)  # the six days with data


def test_a_partial_day_is_aggregated_from_what_it_has_and_named():
    d = day(
        2,
        compliant=(1.0, 0.0),
        latency_ok=(1.0, 1.0),
        avail=(0.9999, 0.998),
        errors=(0.0001, 0.002),
        p99=(0.2, 0.3),
        drift=(0.0, 0.0),
        step=DAY / 4,
    )  # two of four expected samples
    s = aggregate_day("checkout", d, TH)
    assert s.data_completeness == "partial"
    assert (s.expected_samples, s.actual_samples, s.completeness_percent) == (4, 2, 50.0)
    assert s.warnings == ["day 2: 2 of 4 expected samples"]
    assert s.slo_compliance_percent == pytest.approx(50.0) and s.availability_degraded


def test_a_single_day_has_a_score_but_no_trend():
    days, wk = summarise([known_bad_week()[3]])
    assert wk.days_reported == 1
    # the bad day alone: 0.4 * 50 + 0.4 * 75 + 0.2 * (100 - 20) (its 25 % drift is capped at 20)
    assert wk.stability_score == pytest.approx(20 + 30 + 16)
    assert (wk.grade, wk.grade_label) == ("D", "Poor")
    assert (wk.availability_trend, wk.latency_trend, wk.resource_trend) == ("unknown",) * 3
    assert any("comprehensive review required" in r for r in wk.recommendations)


@pytest.mark.parametrize(
    ("cpu2", "mem2", "expected"),
    [
        (0.27, 1.06e8, "degrading"),  # CPU -10 % must not hide memory +6 %
        (0.27, 1.00e8, "improving"),  # CPU -10 %, memory flat
        (0.31, 0.90e8, "improving"),  # CPU +3.3 % (within 5 %), memory -10 %
        (0.31, 1.04e8, "stable"),  # both within 5 %
        (0.36, 1.00e8, "degrading"),  # CPU +20 %
    ],
)
def test_resource_trend_takes_the_worst_of_cpu_and_memory(cpu2, mem2, expected):
    inputs = [day(n) if n <= 3 else day(n, cpu=cpu2, memory=mem2) for n in range(1, 8)]
    assert summarise(inputs)[1].resource_trend == expected


def test_objective_and_thresholds_come_from_the_caller():
    # a 99.5 % service: 99.7 % average availability is fine for it and not for a 99.9 % one
    inputs = [day(n, avail=(0.997,) * 4) for n in range(1, 8)]
    assert not summarise(inputs, Thresholds(availability_objective=0.995))[1].rollback_recommended
    strict = summarise(inputs)[1]
    assert strict.rollback_reasons == ["average availability 99.700% is below the 99.9% objective"]


def test_a_partial_day_weighs_by_its_samples_not_as_a_whole_day():
    # day 1 has a single non-compliant sample of 288 expected; days 2-7 are complete and compliant.
    # pooled: 6 x 288 met of 6 x 288 + 1 samples = 99.942 %; a plain mean of days would say 85.7 %
    step = DAY / 288
    one = DayInput(
        day=1,
        start=START,
        end=START + DAY,
        step=step,
        availability=[(START + step, 0.99)],
        error_ratio=[(START + step, 0.01)],
        availability_compliant=[(START + step, 0.0)],
        latency_compliant=[(START + step, 1.0)],
        drift={"p99_latency": [(START + step, 0.0)]},
    )
    full = [
        day(
            n,
            avail=(0.9999,) * 288,
            compliant=(1.0,) * 288,
            latency_ok=(1.0,) * 288,
            errors=(0.0001,) * 288,
            p99=(0.2,) * 288,
            drift=(0.0,) * 288,
        )
        for n in range(2, 8)
    ]
    days, wk = summarise([one, *full])
    assert days[0].data_completeness == "partial" and days[0].actual_samples == 1
    assert wk.availability_compliance_percent == pytest.approx(100 * 6 * 288 / (6 * 288 + 1))
    assert wk.stability_score == pytest.approx(0.4 * 100 * 6 * 288 / (6 * 288 + 1) + 0.4 * 100 + 0.2 * 100)
    # the partial day is still judged on the samples it has, and the week says it is partial
    assert wk.partial and wk.degraded_days == [1]


def test_a_latency_gap_makes_the_day_partial():
    d = day(5, latency_ok=(1.0, 1.0))  # availability complete (4 of 4), latency 2 of 4
    s = aggregate_day("checkout", d, TH)
    assert s.data_completeness == "partial" and s.actual_samples == 2 and s.completeness_percent == 50.0
