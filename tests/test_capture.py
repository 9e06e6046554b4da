"""`slodrift baseline capture` against a real Prometheus serving backfilled release-day history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slodrift.report.baseline import load_baseline

from tests.helpers import run_cli
from tests.history import backfill, write_openmetrics
from tests.servers import Prometheus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEC = """\
version: 1
release: {name: checkout, version: v1.0.1}
services:
  - name: checkout
    selector: {job: checkout}
    indicators:
      availability: {}
      error_ratio: {}
      p99_latency: {}
      request_rate: {}
      cpu: {}
      memory: {}
"""
START = 1763683200  # 2025-11-21T00:00:00Z
HOURS = 3
STEP = 15


def release_day() -> list:
    job = {"job": "checkout", "instance": "a:8080"}
    ok, bad, cpu = 200.0, 0.5, 0.35  # per second
    buckets = {"0.1": 0.0, "0.25": 1.0, "0.5": 1.0, "+Inf": 1.0}  # every request takes 100-250 ms
    series = [
        ("up", job, lambda t: 1.0),
        ("http_requests_total", {**job, "code": "200"}, lambda t: ok * (t - START)),
        ("http_requests_total", {**job, "code": "500"}, lambda t: bad * (t - START)),
        ("process_cpu_seconds_total", job, lambda t: cpu * (t - START)),
        ("process_resident_memory_bytes", job, lambda t: 268435456.0),
        ("other_service_up", {"job": "catalog"}, lambda t: 0.0),
        ("http_request_duration_seconds_count", job, lambda t: (ok + bad) * (t - START)),
    ]
    for le, share in buckets.items():
        series.append(
            (
                "http_request_duration_seconds_bucket",
                {**job, "le": le},
                lambda t, s=share: (ok + bad) * s * (t - START),
            )
        )
    return series


@pytest.mark.timeout(240)
def test_capture_computes_the_release_day_baseline(promtool, tmp_path: Path):
    om = tmp_path / "history.om"
    write_openmetrics(om, release_day(), START, START + HOURS * 3600, STEP)
    backfill(promtool, om, tmp_path / "prom" / "data")
    spec = tmp_path / "spec.yml"
    spec.write_text(SPEC)
    prom = Prometheus(tmp_path / "prom", {"global": {"scrape_interval": "15s"}})
    out = tmp_path / "baseline.json"
    frm, to = "2025-11-21T00:30:00Z", "2025-11-21T02:30:00Z"
    with prom.running("--storage.tsdb.retention.time=100y"):
        r = run_cli(
            "baseline",
            "capture",
            str(spec),
            "--prometheus-url",
            prom.url,
            "--from",
            frm,
            "--to",
            to,
            "--step",
            "1m",
            "--out",
            str(out),
        )
    assert r.returncode == 0, r.stdout + r.stderr
    b = load_baseline(out)
    v = {ind: x for (svc, ind), x in b.values.items() if svc == "checkout"}
    # availability is the success ratio of the requests
    assert (
        v["availability"].value == pytest.approx(200 / 200.5, rel=1e-9) and v["availability"].unit == "ratio"
    )
    assert v["error_ratio"].value == pytest.approx(0.5 / 200.5, rel=1e-9)
    assert v["request_rate"].value == pytest.approx(200.5, rel=1e-9)
    assert v["cpu"].value == pytest.approx(0.35, rel=1e-9) and v["cpu"].unit == "cores"
    assert v["memory"].value == 268435456.0 and v["memory"].unit == "bytes"
    # histogram_quantile interpolates inside (0.1, 0.25]: 0.1 + 0.99 * 0.15
    assert v["p99_latency"].value == pytest.approx(0.2485, rel=1e-9) and v["p99_latency"].unit == "seconds"
    # 121 values a minute apart, each over 5 minutes: 24 independent samples
    assert v["cpu"].samples == 24 and v["cpu"].stddev == pytest.approx(0.0, abs=1e-9)
    # the profile: 00:30-00:59 (30 values), 01:00-01:59 (60), 02:00-02:30 (31), at the same rates
    assert [(p.hour, p.samples) for p in v["error_ratio"].profile] == [(0, 6), (1, 12), (2, 6)]
    for p in v["error_ratio"].profile:
        assert p.value == pytest.approx(0.5 / 200.5, rel=1e-9) and p.requests == pytest.approx(
            200.5, rel=1e-9
        )
    assert v["error_ratio"].requests == pytest.approx(200.5, rel=1e-9)
    assert v["p99_latency"].requests == pytest.approx(200.5, rel=1e-9)
    assert v["cpu"].requests is None and len(v["cpu"].profile) == 3
    assert b.release_name == "checkout" and b.release_version == "v1.0.1"
    digest = (tmp_path / "baseline.json.sha256").read_text().split()[0]
    assert digest == b.sha256
    assert json.loads(out.read_text())["services"]["checkout"]["indicators"]["cpu"]["unit"] == "cores"


def test_capture_against_a_dead_prometheus_fails_cleanly(tmp_path: Path):
    spec = tmp_path / "spec.yml"
    spec.write_text(SPEC)
    from tests.servers import free_port

    r = run_cli(
        "baseline",
        "capture",
        str(spec),
        "--prometheus-url",
        f"http://127.0.0.1:{free_port()}",
        "--from",
        "2025-11-21T00:00:00Z",
        "--to",
        "2025-11-21T01:00:00Z",
        "--timeout",
        "1",
        "--out",
        str(tmp_path / "b.json"),
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr and "127.0.0.1" in r.stderr
    assert not (tmp_path / "b.json").exists()
