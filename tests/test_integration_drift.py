"""End to end with real programs: Prometheus loads the generated drift rules, scrapes the exporter and
an instrumented app; raised latency drives the drift alert pending then firing; a stopped exporter
raises the baseline-missing alert."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec
from slodrift.generator.writer import write_tree

from tests.servers import FakeApp, Prometheus, free_port, http_get, process, slodrift_serve, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEC = """\
version: 1
release: {name: itest, version: v1.2.3, watch_start: "2025-11-22T00:00:00Z"}
defaults: {evaluation_interval: 1s}
services:
  - name: app
    labels: {team: "it\\"s a \\\\test"}
    selector: {job: app}
    slos:
      - name: availability
        objective: 99
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
        alerting: {ticket: false, page: {windows: [{long: 2m, short: 1m, factor: 10}], for: 2s}}
    indicators:
      p99_latency: {}
      error_ratio: {}
drift: {for: 3s, baseline_missing_for: 3s}
"""

# prometheus-client's default buckets put 50 ms observations in (25 ms, 50 ms]; p99 interpolates to 49.75 ms.
BASELINE = {
    "version": 1,
    "release": {"name": "itest", "version": "v1.2.3"},
    "captured_at": "2025-11-21T18:00:00Z",
    "services": {
        "app": {
            "indicators": {
                "p99_latency": {"value": 0.04975, "unit": "seconds"},
                "error_ratio": {"value": 0.01, "unit": "ratio"},
            }
        }
    },
}


def alert_states(prom: Prometheus, name: str, **labels: str) -> set[str]:
    return {
        a["state"]
        for a in prom.alerts()
        if a["labels"]["alertname"] == name and all(a["labels"].get(k) == v for k, v in labels.items())
    }


@pytest.mark.timeout(180)
def test_drift_alert_fires_and_missing_baseline_is_noticed(tmp_path: Path):
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(SPEC)
    baseline_file = tmp_path / "baseline.json"
    baseline_file.write_text(json.dumps(BASELINE))
    write_tree(tmp_path / "gen", render([load_spec(spec_file)]))
    exporter_port = free_port()
    app = FakeApp()
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted((tmp_path / "gen" / "rules").glob("*.yml"))],
        "scrape_configs": [
            {"job_name": "app", "static_configs": [{"targets": [f"127.0.0.1:{app.port}"]}]},
            {"job_name": "slodrift", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]},
        ],
    }
    prom = Prometheus(prom_dir, config)
    exporter_cmd = slodrift_serve(spec_file, baseline_file, exporter_port)
    exporter_url = f"http://127.0.0.1:{exporter_port}"
    with (
        app.running(),
        prom.running(),
        process(exporter_cmd, tmp_path / "exporter.log", f"{exporter_url}/-/healthy") as exporter,
    ):
        # the exporter serves the baseline; Prometheus scrapes it and every rule evaluates cleanly
        status, body = http_get(f"{exporter_url}/metrics")
        assert status == 200
        assert b'slodrift_baseline{indicator="p99_latency",service="app",unit="seconds"} 0.04975' in body
        wait_until(
            lambda: prom.query('slodrift:indicator:drift_ratio{indicator="p99_latency"}'),
            30,
            "the p99 drift to be recorded",
        )
        bad = [r for r in prom.rule_health() if r[1] == "err"]
        assert not bad, bad
        drift = float(prom.query('slodrift:indicator:drift_ratio{indicator="p99_latency"}')[0]["value"][1])
        assert abs(drift) < 0.01, f"healthy app drifts {drift}"
        team = prom.query('slodrift:indicator:value{indicator="p99_latency"}')[0]["metric"]["team"]
        assert team == 'it"s a \\test'
        assert not alert_states(prom, "SlodriftIndicatorDrift")

        # latency goes from 50 ms to 400 ms: drift far past both thresholds, pending, then firing
        app.latency_s = 0.4
        seen = set()

        def firing() -> bool:
            seen.update(
                alert_states(prom, "SlodriftIndicatorDrift", indicator="p99_latency", severity="critical")
            )
            return "firing" in seen

        wait_until(firing, 60, "the p99 drift alert to fire", interval=0.1)
        assert "pending" in seen, "the alert never showed as pending before firing"
        assert alert_states(prom, "SlodriftIndicatorDrift", indicator="p99_latency", severity="warning")
        assert not alert_states(prom, "SlodriftBaselineMissing")

        # the exporter stops: the baseline goes stale and the blind spot is itself an alert
        exporter.terminate()
        exporter.wait(10)
        wait_until(
            lambda: "firing" in alert_states(prom, "SlodriftBaselineMissing", service="app"),
            60,
            "the baseline-missing alert to fire",
        )
        assert not prom.query('slodrift:indicator:drift_ratio{indicator="p99_latency"}')
        time.sleep(0)  # keep the servers up until here
