"""End to end: Prometheus evaluates the generated rules over an instrumented app, Alertmanager runs the
generated routing, a webhook server in the test plays the receivers. An error burst pages on the
pager receiver with the expected labels; the ticket it inhibits never arrives."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec
from slodrift.generator.writer import write_tree

from tests.servers import FakeApp, Prometheus, free_port, process, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEC = """\
version: 1
release: {name: e2e, version: v1}
defaults: {evaluation_interval: 1s}
services:
  - name: app
    labels: {team: payments}
    selector: {job: app}
    slos:
      - name: availability
        objective: 99
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
        alerting:
          page: {receiver: pager, for: 2s, windows: [{long: 20s, short: 5s, factor: 10}]}
          ticket: {receiver: chat, for: 2s, windows: [{long: 30s, short: 5s, factor: 5}]}
"""


class Webhooks:
    """Collects what Alertmanager posts, by receiver path."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: dict[str, list[dict]] = {}
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hooks.received.setdefault(self.path.strip("/"), []).extend(body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def alerts(self, receiver: str, **labels: str) -> list[dict]:
        return [
            a
            for a in self.received.get(receiver, [])
            if all(a["labels"].get(k) == v for k, v in labels.items())
        ]


@pytest.mark.timeout(240)
def test_error_burst_pages_and_the_inhibited_ticket_stays_quiet(tmp_path: Path):
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "Alertmanager is not installed: run scripts/install.sh"
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(SPEC)
    hooks = Webhooks()
    write_tree(tmp_path / "gen", render([load_spec(spec_file)], f"http://127.0.0.1:{hooks.port}/"))
    am_config = yaml.safe_load((tmp_path / "gen" / "alertmanager" / "alertmanager.yml").read_text())
    am_config["route"]["group_wait"] = "1s"  # only the timings are shortened for the test
    am_config["route"]["group_interval"] = "1s"
    for r in am_config["route"]["routes"]:
        r["group_wait"] = "1s"
    (tmp_path / "am.yml").write_text(yaml.safe_dump(am_config))
    am_port = free_port()
    am_args = [
        binary,
        f"--config.file={tmp_path / 'am.yml'}",
        f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{am_port}",
        "--cluster.listen-address=",
    ]
    app = FakeApp()
    app.error_share = 0.0
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    prom = Prometheus(
        prom_dir,
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in sorted((tmp_path / "gen" / "rules").glob("*.slo*.yml"))],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [
                {"job_name": "app", "static_configs": [{"targets": [f"127.0.0.1:{app.port}"]}]}
            ],
        },
    )
    hooks.thread.start()
    try:
        with (
            app.running(),
            process(am_args, tmp_path / "am.log", f"http://127.0.0.1:{am_port}/-/ready"),
            prom.running(),
        ):
            wait_until(lambda: prom.query('slodrift:sli_error:ratio_rate5s{service="app"}'), 60, "the SLI")
            assert not hooks.received, "nothing may be sent while the app is healthy"
            app.error_share = 0.5  # the burst: half the requests fail
            page = wait_until(
                lambda: hooks.alerts("pager", alertname="SlodriftErrorBudgetBurn", tier="page"),
                120,
                "the page to reach the pager receiver",
            )
            labels = page[0]["labels"]
            assert (
                labels["service"] == "app"
                and labels["slo"] == "availability"
                and labels["team"] == "payments"
            )
            assert labels["severity"] == "critical" and labels["receiver"] == "pager"
            assert page[0]["status"] == "firing"
            # the ticket fires in Prometheus too, but Alertmanager inhibits it: it must not reach chat
            wait_until(
                lambda: any(
                    a["labels"]["alertname"] == "SlodriftErrorBudgetBurn"
                    and a["labels"].get("tier") == "ticket"
                    and a["state"] == "firing"
                    for a in prom.alerts()
                ),
                60,
                "the ticket alert to fire in Prometheus",
            )
            time.sleep(5)
            assert not hooks.alerts("chat", tier="ticket"), "the inhibited ticket was delivered"
    finally:
        hooks.server.shutdown()
        hooks.server.server_close()
