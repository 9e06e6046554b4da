"""Reports when Prometheus is down, slow or gives partial data: bounded retries, then a report marked
partial with warnings naming what is missing; never a crash, never a silently good score."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from slodrift.generator.spec import load_spec_text
from slodrift.report import stability
from slodrift.report.prometheus_api import PrometheusClient
from slodrift.report.writers import weekly_markdown, write_reports

from tests import week
from tests.fake_prometheus import FakePrometheus, Reply, failure, success
from tests.helpers import run_cli
from tests.servers import free_port

AT = datetime(2025, 11, 29, 0, 30, tzinfo=UTC)


@pytest.fixture
def prom():
    server = FakePrometheus()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def matrix(seen, value: float) -> Reply:
    start, end, step = float(seen.params["start"]), float(seen.params["end"]), float(seen.params["step"])
    n = int((end - start) // step) + 1
    values = [[start + i * step, str(value)] for i in range(n)]
    return success("matrix", [{"metric": {"service": s}, "values": values} for s in ("checkout", "catalog")])


def router(seen) -> Reply:
    q = seen.params.get("query", "")
    if "drift_ratio" in q:
        return failure(503, "unavailable", "overloaded")
    if "ALERTS" in q:
        return Reply(200, "{not json", {"Content-Type": "application/json"})
    if "latency_compliant" in q or 'compliance="latency"' in q:
        return success("matrix", [])  # partial: no latency series at all
    if "bool5m" in q:
        return matrix(seen, 1.0)
    return matrix(seen, 0.25)


@pytest.mark.slow
def test_partial_data_gives_a_partial_report_not_a_crash(prom, tmp_path: Path):
    prom.router = router
    spec = load_spec_text("week.yml", week.SPEC.encode())
    client = PrometheusClient(prom.url, max_retries=2, sleep=lambda s: None)
    report = stability.run(spec, client, AT, 3600)
    assert report.partial
    text = " ".join(report.warnings)
    assert "signal drift" in text and "alerts" in text
    co = report.weeks["checkout"]
    assert co.availability_compliance_percent == 100.0
    assert co.avg_drift_percent is None  # unknown, not zero
    paths = write_reports(tmp_path, report, with_html=False)
    assert {p.name for p in paths} >= {"weekly_summary.json", "weekly_summary.md", "day_01_summary.json"}
    doc = json.loads((tmp_path / "weekly_summary.json").read_text())
    assert doc["partial"] is True and doc["_metadata"]["data_completeness"] == "partial"
    assert any("drift" in w for w in doc["_metadata"]["warnings"])
    assert "PARTIAL REPORT" in weekly_markdown(report)
    # bounded: 3 attempts for the drift signal, 1 for the malformed JSON
    drift_calls = [
        s for s in prom.queries() if "drift_ratio" in parse_qs(f"q={s.params.get('query', '')}")["q"][0]
    ]
    assert len(drift_calls) == 3


@pytest.mark.slow
def test_dead_prometheus_writes_a_partial_report_and_exits_1(tmp_path: Path):
    spec = tmp_path / "week.yml"
    spec.write_text(week.SPEC)
    r = run_cli(
        "report",
        str(spec),
        "--prometheus-url",
        f"http://127.0.0.1:{free_port()}",
        "--at",
        "2025-11-29T00:30:00Z",
        "--out",
        str(tmp_path / "out"),
        "--no-html",
        "--timeout",
        "1",
        "--max-retries",
        "1",
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "no data at all" in r.stderr and "warning: signal" in r.stderr
    doc = json.loads((tmp_path / "out" / "weekly_summary.json").read_text())
    assert doc["partial"] is True
    assert (
        doc["services"]["checkout"]["stability_score"] is None
        and doc["services"]["checkout"]["grade"] == "N/A"
    )


@pytest.mark.slow
def test_report_before_the_first_day_ends(tmp_path: Path):
    spec = tmp_path / "week.yml"
    spec.write_text(week.SPEC)
    r = run_cli(
        "report",
        str(spec),
        "--prometheus-url",
        f"http://127.0.0.1:{free_port()}",
        "--at",
        "2025-11-22T06:00:00Z",
        "--out",
        str(tmp_path / "out"),
    )
    assert r.returncode == 1 and "no finished day" in r.stderr
