"""The exporter as a user runs it: endpoints, reloads that keep the last good state, start-up errors."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE, run_cli
from tests.servers import free_port, http_get, http_post, process, slodrift_serve, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOOD = {
    "version": 1,
    "release": {"name": "checkout", "version": "v1.0.1"},
    "captured_at": "2025-11-21T18:00:00Z",
    "services": {
        "checkout": {
            "indicators": {
                "p99_latency": {"value": 0.2458, "unit": "seconds", "stddev": 0.01, "samples": 288},
                "cpu": {"value": 0.352, "unit": "cores"},
            }
        },
        "catalog": {"indicators": {"cache_hit_ratio": {"value": 0.975, "unit": "ratio"}}},
    },
}


def metric_lines(body: bytes, name: str) -> list[str]:
    return [
        line
        for line in body.decode().splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    ]


@pytest.fixture
def exporter(tmp_path: Path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(GOOD))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process(
        slodrift_serve(EXAMPLE, baseline, port, "--web.enable-lifecycle"),
        tmp_path / "exporter.log",
        f"{url}/-/healthy",
    ) as proc:
        yield url, baseline, proc, tmp_path / "exporter.log"


def test_endpoints_serve_the_baseline(exporter):
    url, _, _, _ = exporter
    status, body = http_get(f"{url}/metrics")
    assert status == 200
    assert (
        'slodrift_baseline{indicator="p99_latency",service="checkout",unit="seconds"} 0.2458' in body.decode()
    )
    assert (
        'slodrift_baseline_stddev{indicator="p99_latency",service="checkout",unit="seconds"} 0.01'
        in body.decode()
    )
    assert metric_lines(body, "slodrift_config_last_reload_successful") == [
        "slodrift_config_last_reload_successful 1.0"
    ]
    info = metric_lines(body, "slodrift_baseline_info")[0]
    assert 'release="checkout"' in info and 'version="v1.0.1"' in info and "sha256=" in info
    assert metric_lines(body, "slodrift_watch_start_timestamp_seconds") == [
        "slodrift_watch_start_timestamp_seconds 1.7637696e+09"
    ]
    assert http_get(f"{url}/-/healthy")[0] == 200 and http_get(f"{url}/-/ready")[0] == 200
    status, page = http_get(f"{url}/")
    assert status == 200 and b"p99_latency" in page and b"/metrics" in page
    assert http_get(f"{url}/nope")[0] == 404
    assert http_get(f"{url}/-/reload")[0] == 405


@pytest.mark.parametrize(
    "bad",
    [
        "not json {",
        json.dumps(
            {
                **GOOD,
                "services": {"checkout": {"indicators": {"p99_latency": {"value": -1, "unit": "seconds"}}}},
            }
        ),
        json.dumps({**GOOD, "services": {"nosuch": {"indicators": {"cpu": {"value": 1}}}}}),
        json.dumps({**GOOD, "services": {"checkout": {"indicators": {"cpu": {"value": "high"}}}}}),
        "",
    ],
    ids=["not-json", "negative-latency", "unknown-service", "wrong-type", "truncated"],
)
def test_bad_reload_keeps_the_last_good_state(exporter, bad):
    url, baseline, _, _ = exporter
    baseline.write_text(bad)
    status, body = http_post(f"{url}/-/reload")
    assert status == 500 and b"still serving the last good configuration" in body
    assert b"baseline.json" in body
    status, metrics = http_get(f"{url}/metrics")
    assert (
        'slodrift_baseline{indicator="p99_latency",service="checkout",unit="seconds"} 0.2458'
        in metrics.decode()
    )
    assert metric_lines(metrics, "slodrift_config_last_reload_successful") == [
        "slodrift_config_last_reload_successful 0.0"
    ]
    assert metric_lines(metrics, "slodrift_config_reload_failures_total") == [
        "slodrift_config_reload_failures_total 1.0"
    ]


def test_deleted_baseline_keeps_state_and_sighup_reloads(exporter):
    url, baseline, proc, log = exporter
    baseline.unlink()
    assert http_post(f"{url}/-/reload")[0] == 500
    assert b"0.2458" in http_get(f"{url}/metrics")[1]
    new = json.loads(json.dumps(GOOD))
    new["services"]["checkout"]["indicators"]["p99_latency"]["value"] = 0.3
    baseline.write_text(json.dumps(new))
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: b'unit="seconds"} 0.3\n' in http_get(f"{url}/metrics")[1], 10, "SIGHUP reload")
    body = http_get(f"{url}/metrics")[1]
    assert metric_lines(body, "slodrift_config_last_reload_successful") == [
        "slodrift_config_last_reload_successful 1.0"
    ]
    assert "reload failed" in log.read_text()


def test_start_with_bad_baseline_exits_2(tmp_path: Path):
    bad = tmp_path / "baseline.json"
    bad.write_text(
        json.dumps(
            {**GOOD, "services": {"checkout": {"indicators": {"p99_latency": {"value": float("nan")}}}}}
        )
    )
    r = run_cli(
        "serve",
        f"--config.file={EXAMPLE}",
        f"--baseline.file={bad}",
        f"--web.listen-address=127.0.0.1:{free_port()}",
    )
    assert r.returncode == 2, r.stderr
    assert "baseline.json" in r.stderr and "p99_latency" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("serve", f"--config.file={EXAMPLE}", f"--baseline.file={bad}", "--web.listen-address=nope")
    assert r.returncode == 2 and "web.listen-address" in r.stderr


def test_tls(tmp_path: Path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(GOOD))
    port = free_port()
    args = slodrift_serve(EXAMPLE, baseline, port, f"--web.tls-cert-file={cert}", f"--web.tls-key-file={key}")
    ctx = ssl.create_default_context(cafile=str(cert))

    def get() -> bytes:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/metrics", context=ctx, timeout=2) as r:
            return r.read()

    with process(args, tmp_path / "tls.log"):
        body = wait_until(get, 20, "the TLS endpoint")
        assert b"slodrift_baseline{" in body


def test_the_hourly_profile_is_published_with_its_hours(tmp_path: Path):
    doc = json.loads(json.dumps(GOOD))
    doc["services"]["checkout"]["indicators"]["p99_latency"].update(
        requests=182.4,
        profile=[
            {"hour": 0, "value": 0.21, "stddev": 0.006, "samples": 12, "requests": 73.0},
            {"hour": 13, "value": 0.3},
        ],
    )
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(doc))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process(slodrift_serve(EXAMPLE, baseline, port), tmp_path / "exporter.log", f"{url}/-/healthy"):
        status, body = http_get(f"{url}/metrics")
    assert status == 200
    text = body.decode()
    p99 = 'indicator="p99_latency",service="checkout"'
    assert f"slodrift_baseline_requests{{{p99}}} 182.4" in text
    assert f'slodrift_baseline_profile{{hour="0",{p99},unit="seconds"}} 0.21' in text
    assert f'slodrift_baseline_profile{{hour="13",{p99},unit="seconds"}} 0.3' in text
    assert f'slodrift_baseline_profile_stddev{{hour="0",{p99},unit="seconds"}} 0.006' in text
    assert f'slodrift_baseline_profile_samples{{hour="0",{p99}}} 12.0' in text
    assert f'slodrift_baseline_profile_requests{{hour="0",{p99}}} 73.0' in text
    assert not metric_lines(body, "slodrift_baseline_profile_stddev") or 'hour="13"' not in "".join(
        metric_lines(body, "slodrift_baseline_profile_stddev")
    )
    hours = metric_lines(body, "slodrift_baseline_profile_hour")
    assert sorted(hours) == sorted(f'slodrift_baseline_profile_hour{{hour="{h}"}} {h}.0' for h in range(24))


def test_no_profile_no_hours(exporter):
    url, _, _, _ = exporter
    _, body = http_get(f"{url}/metrics")
    assert not metric_lines(body, "slodrift_baseline_profile_hour")
    assert not metric_lines(body, "slodrift_baseline_profile")
