"""Reports from a synthetic, fully known week (no Prometheus): JSON validated against the shipped
schemas (and refused when invalid), the Markdown sections and numbers of the seed's sample report,
and the PARTIAL banner (the HTML page: tests/test_report_html.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from slodrift.generator.spec import load_spec_text
from slodrift.report import signals as sig
from slodrift.report import stability
from slodrift.report import writers as rpt

from slodrift.schemas import load_schema
from tests import week

START = datetime(2025, 11, 22, tzinfo=UTC)
AT = datetime(2025, 11, 29, 0, 30, tzinfo=UTC)
STEP = 3600  # 24 evaluations a day keeps the arithmetic readable
T0 = START.timestamp()
BAD_DAY = 4


def samples(fn) -> list[tuple[float, float]]:
    """One sample per step over the week, stamped at the end of its step; fn(day, hour) -> value."""
    out = []
    for i in range(1, 7 * 24 + 1):
        t = T0 + i * STEP
        n, hour = (i - 1) // 24 + 1, (i - 1) % 24
        out.append((t, fn(n, hour)))
    return out


def bad(n: int, hour: int) -> bool:
    return n == BAD_DAY and 6 <= hour < 18  # 12 bad hours on day 4


def fetched(drop_catalog_day: int | None = None) -> sig.Signals:
    """checkout: healthy but for 12 hours of day 4; catalog: healthy all week (no latency SLO)."""
    co = {
        "availability": samples(lambda n, h: 0.99 if bad(n, h) else 0.9999),
        "error_ratio": samples(lambda n, h: 0.01 if bad(n, h) else 0.0001),
        "availability_compliant": samples(lambda n, h: 0.0 if bad(n, h) else 1.0),
        "latency_compliant": samples(lambda n, h: 0.0 if bad(n, h) else 1.0),
        "p95_latency": samples(lambda n, h: 0.6 if bad(n, h) else 0.15),
        "p99_latency": samples(lambda n, h: 0.8 if bad(n, h) else 0.2),
        "cpu": samples(lambda n, h: 0.3),
        "memory": samples(lambda n, h: 300e6),
        "drift:p99_latency": samples(lambda n, h: 0.6 if bad(n, h) else 0.02),
    }
    ca = {
        "availability": samples(lambda n, h: 0.999),
        "error_ratio": samples(lambda n, h: 0.001),
        "availability_compliant": samples(lambda n, h: 1.0),
        "p99_latency": samples(lambda n, h: 0.1),
        "cpu": samples(lambda n, h: 0.1),
        "drift:cpu": samples(lambda n, h: 0.0),
    }
    if drop_catalog_day:
        lo, hi = T0 + (drop_catalog_day - 1) * 86400, T0 + drop_catalog_day * 86400
        ca = {k: [(t, v) for t, v in s if not lo < t <= hi] for k, s in ca.items()}
    alerts = {"checkout": {T0 + BAD_DAY * 86400: {"critical": 2, "warning": 1}}}
    return sig.Signals(T0, T0 + 7 * 86400, STEP, {"checkout": co, "catalog": ca}, alerts, [], 10)


def build(drop_catalog_day: int | None = None) -> stability.Report:
    spec = load_spec_text("week.yml", week.SPEC.encode())
    return stability.build(spec, fetched(drop_catalog_day), START, AT, STEP)


@pytest.fixture(scope="module")
def report() -> stability.Report:
    return build()


# checkout by hand: availability and latency compliance 100 % on six days, 12/24 = 50 % on day 4;
# drift 2 % a day, day 4 (12 x 2 % + 12 x 60 %) / 24 = 31 %
AVAIL_C = (6 * 100 + 50) / 7
DRIFT = (6 * 2 + 31) / 7
SCORE = 0.4 * AVAIL_C + 0.4 * AVAIL_C + 0.2 * (100 - DRIFT)  # 74.286 + 18.771 = 93.057


def test_weekly_json_is_valid_and_has_the_hand_computed_numbers(report):
    doc = rpt.weekly_json(report)
    jsonschema.validate(doc, load_schema("slodrift.report", "weekly_summary.schema.json"))
    co, ca = doc["services"]["checkout"], doc["services"]["catalog"]
    assert co["availability_compliance_percent"] == pytest.approx(AVAIL_C)
    assert co["latency_compliance_percent"] == pytest.approx(AVAIL_C)
    assert co["avg_drift_percent"] == pytest.approx(DRIFT)
    assert co["stability_score"] == pytest.approx(SCORE) and co["grade"] == "A"
    assert co["degraded_days"] == [BAD_DAY] and co["total_critical_alerts"] == 2
    # average availability (6 x 99.99 + (12 x 99.99 + 12 x 99) / 24) / 7 = 99.919 % >= 99.9 %: no rollback
    assert co["avg_availability"] == pytest.approx((6 * 99.99 + 99.495) / 7)
    assert co["rollback_recommended"] is False and co["rollback_reasons"] == []
    # catalog has no latency SLO: the seed's p99 < 500 ms check, met all week
    assert ca["latency_compliance_percent"] == 100.0 and ca["stability_score"] == pytest.approx(100.0)
    assert doc["partial"] is False and doc["_metadata"]["data_completeness"] == "complete"
    assert doc["_metadata"]["expected_samples"] == doc["_metadata"]["actual_samples"] == 2 * 7 * 24
    assert doc["method"]["timezone"] == "UTC" and doc["method"]["step_seconds"] == STEP
    assert "no_data" in doc["method"]["no_data_handling"]


def test_daily_json_is_valid_and_flags_the_bad_day(report):
    schema = load_schema("slodrift.report", "daily_summary.schema.json")
    for n in range(1, 8):
        doc = rpt.daily_json(report, n)
        jsonschema.validate(doc, schema)
        assert doc["day_number"] == n and set(doc["services"]) == {"checkout", "catalog"}
        assert doc["services"]["checkout"]["degraded"] is (n == BAD_DAY)
    d4 = rpt.daily_json(report, BAD_DAY)["services"]["checkout"]
    assert d4["slo_compliance_percent"] == 50.0 and d4["latency_slo_compliance_percent"] == 50.0
    assert d4["avg_p99_latency_ms"] == pytest.approx((12 * 200 + 12 * 800) / 24)  # 500 ms
    assert d4["avg_error_rate"] == pytest.approx((12 * 0.01 + 12 * 1.0) / 24)  # 0.505 %
    assert d4["critical_alerts"] == 2 and d4["snapshot_count"] == 24
    assert d4["start_time"] == "2025-11-25T00:00:00Z" and d4["end_time"] == "2025-11-26T00:00:00Z"


def test_an_invalid_document_is_refused(report):
    wk = report.weeks["checkout"]
    saved = wk.availability_trend
    wk.availability_trend = "sideways"  # not a trend the schema knows
    try:
        with pytest.raises(jsonschema.ValidationError):
            rpt.weekly_json(report)
    finally:
        wk.availability_trend = saved
    day = report.days["checkout"][0]
    saved_pct = day.slo_compliance_percent
    day.slo_compliance_percent = 140.0  # a percentage cannot exceed 100
    try:
        with pytest.raises(jsonschema.ValidationError):
            rpt.daily_json(report, 1)
    finally:
        day.slo_compliance_percent = saved_pct


def test_markdown_has_the_seeds_sections_and_numbers(report):
    md = rpt.weekly_markdown(report)
    sections = [
        "# 7-Day Post-Release Stability Summary",
        "## checkout",
        "## catalog",
        "### Executive Summary",
        "### Key Metrics",
        "### Trends",
        "### Daily Breakdown",
        "### Recommendations",
        "### Action Items",
        "## Method",
    ]
    positions = [md.index(s) for s in sections[:1] + sections[3:9]]
    assert positions == sorted(positions), "sections out of the seed's order"
    for s in sections:
        assert s in md, s
    checkout = md[md.index("## checkout") : md.index("## catalog")]
    assert f"**Stability Score:** {SCORE:.1f}/100" in checkout
    assert "**Overall Grade:** A (Excellent)" in checkout
    assert "| Metric | Value | Target | Status |" in checkout
    assert f"| Availability | {(6 * 99.99 + 99.495) / 7:.3f}% | ≥99.9% | PASS |" in checkout
    assert "| Critical Alerts | 2 | ≤5 | PASS |" in checkout
    assert "| Days Degraded | 1 | <2 | PASS |" in checkout
    rows = [line for line in checkout.splitlines() if re.match(r"\| \d \|", line)]
    assert len(rows) == 7
    # the seed's columns (availability, error rate, P99, drift, SLO compliance, degraded) and the data status
    assert rows[BAD_DAY - 1].startswith(
        "| 4 | 99.495% | 0.505% | 50.0% | 50.0% | 500ms | 31.0% | 2 | yes | complete"
    )
    assert "- [ ] Schedule post-release retrospective meeting" in checkout
    assert re.search(r"^1\. ", checkout, re.M)  # recommendations are a numbered list
    method = md[md.index("## Method") :]
    assert "UTC" in method and "Missing data:" in method and f"every {STEP}s" in method
    assert "PARTIAL" not in md


def test_a_missing_day_makes_every_report_partial(tmp_path: Path):
    partial = build(drop_catalog_day=6)
    assert partial.partial
    md = rpt.weekly_markdown(partial)
    assert "> **PARTIAL REPORT**" in md
    assert md.index("PARTIAL REPORT") < md.index("## checkout")  # the banner comes before any number
    assert "day 6: no availability samples" in md
    doc = rpt.weekly_json(partial)
    ca = doc["services"]["catalog"]
    assert doc["partial"] is True and ca["days_with_data"] == 6 and ca["partial"] is True
    assert doc["_metadata"]["actual_samples"] == 2 * 7 * 24 - 24
    day6 = rpt.daily_json(partial, 6)["services"]["catalog"]
    assert day6["data_completeness"] == "no_data" and day6["slo_compliance_percent"] is None
    assert day6["degraded"] is None and day6["availability_degraded"] is None  # unknown, not healthy
    catalog = md[md.index("## catalog") : md.index("## Method")]
    assert "| 6 | n/a | n/a | n/a | n/a | n/a | n/a | 0 | n/a | no_data (0%) |" in catalog


@pytest.mark.slow
def test_write_reports_writes_every_file_and_nothing_else(report, tmp_path: Path):
    written = rpt.write_reports(tmp_path, report)
    names = sorted(p.name for p in written)
    expected = sorted(
        [f"day_{n:02d}_summary.json" for n in range(1, 8)]
        + ["weekly_summary.json", "weekly_summary.md", "weekly_summary.html"]
    )
    assert names == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no temporary files left behind
    doc = json.loads((tmp_path / "weekly_summary.json").read_text())
    jsonschema.validate(doc, load_schema("slodrift.report", "weekly_summary.schema.json"))
    assert doc["services"]["checkout"]["stability_score"] == pytest.approx(SCORE)
    assert (tmp_path / "weekly_summary.md").read_text() == rpt.weekly_markdown(report)
