"""VictoriaMetrics compatibility: vmalert loads and evaluates the rules generated from examples/checkout.yml.

A single-node VictoriaMetrics on 127.0.0.1 gets 40 minutes of counters at known rates through its
import API (timestamps from 30 minutes ago to 10 minutes ahead, so the series stay current while the
test runs); vmalert evaluates the generated rule files against it and writes recorded series back
with remote write. vmalert 1.79 (Debian's) has no `-notifier.blackhole` and refuses alerting rules
without a notifier, so a small loopback HTTP server stands in for Alertmanager.

vmalert reads earlier rules of a group through the datasource (not from local storage, as Prometheus
does), so each level of recorded series appears one evaluation later: with the generated 1m groups the
5m error ratio (level 2, from the per-interval events) is readable after two evaluations, hence the
generous deadline below.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.helpers import EXAMPLE, run_cli
from tests.servers import free_port, http_get, process, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE_OK, RATE_5XX = 9.9, 0.1  # checkout requests/s by code: error ratio 0.01
RATE_FAST, RATE_ALL = 9.8, 10.0  # requests/s under 0.5 s and in all: latency error ratio 0.02
STEP = 15


def _binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed: run scripts/install.sh (Debian package victoria-metrics)")
    return path


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    # vmalert 1.79 (Debian's) predates keep_firing_for (vmalert 1.90): the spec turns it off, as the
    # README tells users of older engines to do.
    spec = tmp_path / "checkout.yml"
    text = EXAMPLE.read_text()
    assert text.rstrip().splitlines()[-1].startswith("  ") and "\ndrift:\n" in text
    # Every level of the rules' chain (slices, window sums, ratios) reaches vmalert one evaluation late:
    # a 15s interval (the imported samples' step) keeps the four levels within a minute.
    assert "evaluation_interval: 1m" in text
    text = text.replace("evaluation_interval: 1m", "evaluation_interval: 15s")
    spec.write_text(text.rstrip() + "\n  keep_firing_for: 0s\n")
    out = tmp_path / "generated"
    r = run_cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out / "rules"


@pytest.fixture
def victoria_metrics(tmp_path: Path) -> Iterator[str]:
    """Single-node VictoriaMetrics, loopback only, temporary storage; stopped whatever happens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        _binary("victoria-metrics"),
        f"-storageDataPath={tmp_path / 'vm-data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-retentionPeriod=1",
        "-search.latencyOffset=1s",
    ]  # default 30s hides the newest samples from queries
    with process(args, tmp_path / "victoria-metrics.log", f"{url}/health", timeout=30):
        yield url


@pytest.fixture
def notifier() -> Iterator[str]:
    """A stand-in Alertmanager that accepts every notification (vmalert 1.79 requires one)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _import_samples(vm: str, now: int) -> None:
    """Counters growing linearly at the rates above, in Prometheus text format with explicit timestamps."""
    lines = []
    start = now - 1800
    for t in range(start, now + 600, STEP):
        el = t - start
        ms = t * 1000
        lines += [
            f'http_requests_total{{job="checkout",code="200"}} {RATE_OK * el:.3f} {ms}',
            f'http_requests_total{{job="checkout",code="500"}} {RATE_5XX * el:.3f} {ms}',
            f'http_request_duration_seconds_bucket{{job="checkout",le="0.5"}} {RATE_FAST * el:.3f} {ms}',
            f'http_request_duration_seconds_bucket{{job="checkout",le="+Inf"}} {RATE_ALL * el:.3f} {ms}',
            f'http_request_duration_seconds_count{{job="checkout"}} {RATE_ALL * el:.3f} {ms}',
        ]
    req = urllib.request.Request(
        f"{vm}/api/v1/import/prometheus", data="\n".join(lines).encode(), method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 204
    http_get(f"{vm}/internal/force_flush")


def _query(vm: str, expr: str) -> list[dict]:
    status, body = http_get(f"{vm}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    doc = json.loads(body)
    assert status == 200 and doc["status"] == "success", body
    return doc["data"]["result"]


def _rule_count(files: list[Path]) -> int:
    return sum(len(g["rules"]) for f in files for g in yaml.safe_load(f.read_text())["groups"])


def test_vmalert_dry_run_accepts_every_rule(rules_dir: Path, tmp_path: Path):
    files = sorted(rules_dir.glob("*.yml"))
    assert files, "no rule files generated"
    vmalert = _binary("vmalert")
    # -dryRun parses every file, checks each expression with MetricsQL and each template.
    r = subprocess.run(
        [vmalert, "-dryRun", f"-rule={rules_dir}/*.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # The check is not vacuous: a broken expression fails it.
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n- name: bad\n  rules:\n  - record: x:y:z\n    expr: sum(rate(foo[5m])\n")
    r = subprocess.run(
        [vmalert, "-dryRun", f"-rule={bad}"], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode != 0


def test_vmalert_evaluates_rules_into_victoriametrics(
    rules_dir: Path, victoria_metrics: str, notifier: str, tmp_path: Path
):
    vm = victoria_metrics
    _import_samples(vm, int(time.time()))
    assert _query(vm, 'sum(rate(http_requests_total{job="checkout"}[5m]))'), "samples not visible"
    files = sorted(rules_dir.glob("*.yml"))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    args = [
        _binary("vmalert"),
        f"-rule={rules_dir}/*.yml",
        f"-datasource.url={vm}",
        f"-remoteWrite.url={vm}",
        "-remoteWrite.flushInterval=1s",
        "-evaluationInterval=5s",
        f"-notifier.url={notifier}",
        f"-httpListenAddr=127.0.0.1:{port}",
    ]
    with process(args, tmp_path / "vmalert.log", f"{api}/-/healthy", timeout=30):
        rules = [
            r for g in json.loads(http_get(f"{api}/api/v1/rules")[1])["data"]["groups"] for r in g["rules"]
        ]
        assert len(rules) == _rule_count(files)

        sel = '{service="checkout",slo="availability",window="5m"}'
        ratio = wait_until(
            lambda: _query(vm, f"slodrift:sli_error:ratio_rate5m{sel}"),
            200,
            "vmalert to record slodrift:sli_error:ratio_rate5m",
            interval=2,
        )
        assert len(ratio) == 1 and ratio[0]["metric"]["team"] == "payments"
        assert float(ratio[0]["value"][1]) == pytest.approx(RATE_5XX / (RATE_OK + RATE_5XX), rel=1e-6)
        # the raw reads: events of the last (15s) evaluation interval
        per_interval = 'slodrift:sli_events:increase15s{service="checkout",slo="availability",event="%s"}'
        (errors,) = _query(vm, per_interval % "error")
        (total,) = _query(vm, per_interval % "total")
        assert float(errors["value"][1]) == pytest.approx(RATE_5XX * STEP, rel=1e-6)
        assert float(total["value"][1]) == pytest.approx((RATE_OK + RATE_5XX) * STEP, rel=1e-6)
        latency = wait_until(
            lambda: _query(vm, 'slodrift:sli_error:ratio_rate5m{service="checkout",slo="latency"}'),
            90,
            "the latency SLI",
            interval=2,
        )
        assert float(latency[0]["value"][1]) == pytest.approx(1 - RATE_FAST / RATE_ALL, rel=1e-6)

        # Every rule evaluated at least once by now, and none failed (a MetricsQL incompatibility would
        # show here as lastError even where -dryRun passed).
        def evaluated() -> list[dict]:
            groups = json.loads(http_get(f"{api}/api/v1/rules")[1])["data"]["groups"]
            got = [r for g in groups for r in g["rules"]]
            return got if all(not r["lastEvaluation"].startswith("0001") for r in got) else []

        rules = wait_until(evaluated, 90, "every rule to be evaluated once", interval=2)
        failed = [(r["name"], r["lastError"]) for r in rules if r.get("lastError") or r.get("health") != "ok"]
        assert not failed, failed
    logged = [line for line in (tmp_path / "vmalert.log").read_text().splitlines() if "\terror\t" in line]
    assert not logged, "\n".join(logged[:20])
