"""Scoring against hand-computed expectations from the seed's formulas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slodrift.report.scoring import grade, weekly_summary
from slodrift.report.scoring_day import DayInput, Thresholds, aggregate_day, day_number, stability_score

START = datetime(2025, 11, 22, tzinfo=UTC)
TH = Thresholds()  # 99.9 %, 500 ms, 0.1 %, drift over 10 %


def series(values: list[float], day: int = 1) -> list[tuple[float, float]]:
    base = START.timestamp() + (day - 1) * 86400
    step = 86400 / len(values)
    return [(base + (i + 1) * step, v) for i, v in enumerate(values)]


def day_input(
    day: int,
    compliant: list[float],
    latency_ok: list[float] | None = None,
    avail: float = 0.9999,
    p99: float = 0.2,
    cpu: float = 0.3,
    drift: float = 0.0,
    critical: int = 0,
) -> DayInput:
    n = len(compliant)
    return DayInput(
        day=day,
        start=START.timestamp() + (day - 1) * 86400,
        end=START.timestamp() + day * 86400,
        step=86400 / n,
        availability=series([avail] * n, day),
        error_ratio=series([1 - avail] * n, day),
        availability_compliant=series(compliant, day),
        latency_compliant=series(latency_ok if latency_ok is not None else [1.0] * n, day),
        p95_latency=series([p99 * 0.8] * n, day),
        p99_latency=series([p99] * n, day),
        cpu=series([cpu] * n, day),
        memory=series([1e8] * n, day),
        drift={"cpu": series([drift] * n, day)},
        alerts={"critical": critical} if critical else {},
    )


def test_score_formula_and_cap():
    assert stability_score(100, 100, 0) == 100
    # 0.4 * 50 + 0.4 * 100 + 0.2 * (100 - min(25, 20)) = 20 + 40 + 16
    assert stability_score(50, 100, 25) == pytest.approx(76.0)
    assert stability_score(90, 80, 5) == pytest.approx(36 + 32 + 19)
    assert stability_score(None, 100, 0) is None
    assert stability_score(80, None, 0) == pytest.approx(0.4 * 80 + 0.4 * 80 + 20)


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (80, "B"),
        (70, "C"),
        (60, "D"),
        (59.9, "F"),
        (0, "F"),
        (None, "N/A"),
    ],
)
def test_grades(score, letter):
    assert grade(score)[0] == letter


def test_day_number_counts_from_the_watch_start_in_utc():
    t0 = START.timestamp()
    assert day_number(START, t0 + 1) == 1
    assert day_number(START, t0 + 86400) == 1  # a sample at midnight closes the day before
    assert day_number(START, t0 + 86401) == 2
    assert day_number(START, datetime(2025, 11, 28, 12, tzinfo=UTC)) == 7


def test_aggregate_day_by_hand():
    inp = DayInput(day=3, start=START.timestamp() + 2 * 86400, end=START.timestamp() + 3 * 86400, step=21600)
    inp.availability = series([0.9999, 0.9995, 0.998, 0.9999], 3)
    inp.availability_compliant = series([1, 1, 0, 1], 3)
    inp.latency_compliant = series([1, 1, 1, 1], 3)
    inp.error_ratio = series([0.0001, 0.0005, 0.002, 0.0001], 3)
    inp.p99_latency = series([0.2, 0.3, 0.4, 0.1], 3)
    inp.drift = {"cpu": series([0.05, 0.25, -0.1, 0.0], 3), "memory": series([0.0, 0.0, 0.0, 0.0], 3)}
    inp.alerts = {"critical": 2, "warning": 3}
    d = aggregate_day("svc", inp, TH)
    assert d.slo_compliance_percent == pytest.approx(75.0)
    assert d.latency_slo_compliance_percent == pytest.approx(100.0)
    assert d.avg_availability == pytest.approx((0.9999 + 0.9995 + 0.998 + 0.9999) / 4 * 100)
    assert d.min_availability == pytest.approx(99.8)
    assert d.avg_error_rate == pytest.approx(0.0675)  # 0.000675 as percent
    assert d.avg_p99_latency_ms == pytest.approx(250.0) and d.max_p99_latency_ms == pytest.approx(400.0)
    # drift: positive part only; cpu mean(0.05, 0.25, 0, 0) = 7.5 %, memory 0 % -> 3.75 % average
    assert d.drift_by_indicator["cpu"] == {
        "avg_percent": pytest.approx(7.5),
        "max_percent": pytest.approx(25.0),
    }
    assert d.avg_drift_percent == pytest.approx(3.75) and d.max_drift_percent == pytest.approx(25.0)
    assert d.indicators_over_threshold == ["cpu"]
    assert d.availability_degraded and not d.latency_degraded and not d.error_rate_degraded
    assert d.critical_alerts == 2 and d.warning_alerts == 3
    assert d.data_completeness == "complete" and d.completeness_percent == 100.0
    assert d.daily_score == pytest.approx(0.4 * 75 + 0.4 * 100 + 0.2 * (100 - 3.75))


def test_partial_and_empty_days_are_never_scored_as_good():
    half = day_input(1, [1.0, 1.0])
    half.step = 86400 / 4  # four expected, two present
    d = aggregate_day("svc", half, TH)
    assert d.data_completeness == "partial" and d.completeness_percent == 50.0 and d.warnings
    empty = aggregate_day(
        "svc", DayInput(day=2, start=START.timestamp() + 86400, end=START.timestamp() + 172800, step=300), TH
    )
    assert empty.data_completeness == "no_data" and empty.slo_compliance_percent is None
    assert empty.daily_score is None and not empty.degraded
    week = weekly_summary("svc", [aggregate_day("svc", day_input(1, [1.0] * 4), TH), empty], TH)
    assert week.days_with_data == 1 and week.partial and week.stability_score == pytest.approx(100.0)
    assert any("day 2" in w for w in week.warnings)
    assert weekly_summary("svc", [], TH).stability_score is None


def test_week_with_one_bad_day():
    days = []
    for n in range(1, 8):
        if n == 4:  # the bad day: SLOs met half the time, 3 critical alerts
            days.append(
                aggregate_day("svc", day_input(n, [1, 0, 0, 1], [1, 1, 0, 0], avail=0.99, critical=3), TH)
            )
        else:
            days.append(aggregate_day("svc", day_input(n, [1, 1, 1, 1], avail=0.9999), TH))
    wk = weekly_summary("svc", days, TH, "shop", "v2")
    avail_c = (6 * 100 + 50) / 7
    lat_c = (6 * 100 + 50) / 7
    assert wk.availability_compliance_percent == pytest.approx(avail_c)
    assert wk.stability_score == pytest.approx(0.4 * avail_c + 0.4 * lat_c + 0.2 * 100)
    assert wk.grade == "A"
    assert wk.days_with_degradation == 1 and wk.degraded_days == [4]
    # average availability (6 x 99.99 + 99) / 7 = 99.849 % < 99.9 % -> rollback, and only for that reason
    assert wk.avg_availability == pytest.approx((6 * 99.99 + 99) / 7)
    assert wk.rollback_recommended and len(wk.rollback_reasons) == 1
    assert "availability" in wk.rollback_reasons[0]
    assert wk.total_critical_alerts == 3
    assert wk.availability_trend == "stable" and wk.latency_trend == "stable"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (dict(p99=0.100), dict(p99=0.120), ("degrading", None)),
        (dict(p99=0.120), dict(p99=0.100), ("improving", None)),
        (dict(p99=0.100), dict(p99=0.105), ("stable", None)),
        (dict(cpu=0.30), dict(cpu=0.33), (None, "degrading")),
        (dict(cpu=0.30), dict(cpu=0.31), (None, "stable")),
        (dict(avail=0.999), dict(avail=0.990), (None, None)),
    ],
)
def test_trends_compare_the_first_half_with_the_second(first, second, expected):
    days = [
        aggregate_day("svc", day_input(n, [1.0] * 4, **(first if n <= 3 else second)), TH)
        for n in range(1, 8)
    ]
    wk = weekly_summary("svc", days, TH)
    if expected[0]:
        assert wk.latency_trend == expected[0]
    if expected[1]:
        assert wk.resource_trend == expected[1]
    if "avail" in first:
        assert wk.availability_trend == "degrading"  # 99.9 % -> 99.0 % is more than 0.5 points


def test_rollback_criteria_each_alone():
    def week(**kw):
        return weekly_summary(
            "svc", [aggregate_day("svc", day_input(n, [1.0] * 4, **kw), TH) for n in range(1, 8)], TH
        )

    assert not week().rollback_recommended
    drifting = week(drift=0.16)
    assert drifting.rollback_recommended and any("drift" in r for r in drifting.rollback_reasons)
    assert week(drift=0.14).rollback_recommended is False
    alerts = weekly_summary(
        "svc", [aggregate_day("svc", day_input(n, [1.0] * 4, critical=1), TH) for n in range(1, 8)], TH
    )
    assert alerts.total_critical_alerts == 7 and any("critical" in r for r in alerts.rollback_reasons)
    two_bad = weekly_summary(
        "svc",
        [
            aggregate_day("svc", day_input(n, [0.0] * 4 if n in (2, 5) else [1.0] * 4), TH)
            for n in range(1, 8)
        ],
        TH,
    )
    assert any("2 days degraded" in r for r in two_bad.rollback_reasons)
