"""`slodrift demo --fast` end to end, as CI and a user run it: a real Prometheus, Alertmanager and exporter
on 127.0.0.1, the release that regresses and recovers, the reports, and nothing left running.

The evidence is read from outside the demo's own view: the notifications Alertmanager posted to the
webhook (notifications.jsonl), the report files, /proc and the servers' ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The fast demo takes about a minute on a quiet machine, and a phase waits for its events (up to
# 120 s each), so a loaded machine makes it slower, never wrong; this only stops a hung run.
RUN_TIMEOUT = 280


def demo(workdir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "slodrift", "demo", "--fast", "--plain", "--workdir", str(workdir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )


def started(workdir: Path) -> list[tuple[int, str]]:
    """(pid, name) of every process the demo started, from its processes.log."""
    lines = (workdir / "processes.log").read_text(encoding="utf-8").splitlines()
    return [(int(pid), name) for pid, name in (line.split(" ", 1) for line in lines)]


def alive(pid: int) -> bool:
    """Whether `pid` runs (not a zombie) or any process is in the group it led (each child has its own)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and (int(entry) == pid or int(fields[2]) == pid):
            return True
    return False


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def ports(workdir: Path) -> list[int]:
    """Every port the demo's servers used: Prometheus (its flag), its scrape targets, Alertmanager."""
    config = yaml.safe_load((workdir / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]]
    targets += config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    return [int(t.rsplit(":", 1)[1]) for t in targets]


def assert_nothing_left(workdir: Path, servers: set[str]) -> None:
    procs = started(workdir)
    assert servers <= {name for _, name in procs}
    deadline = time.monotonic() + 5  # the demo already waited for each group; this is only a margin
    while time.monotonic() < deadline and any(alive(pid) for pid, _ in procs):
        time.sleep(0.2)
    assert [(pid, name) for pid, name in procs if alive(pid)] == []
    assert [p for p in ports(workdir) if listening(p)] == []


def notifications(workdir: Path) -> list[dict[str, Any]]:
    path = workdir / "notifications.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_fast_demo_pages_drifts_recovers_reports_and_stops_everything(tmp_path):
    workdir = tmp_path / "demo"
    proc = demo(workdir, "--seed", "7")
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()  # SIGKILL: its servers are then left for the checks below to report
            proc.wait()
    assert proc.returncode == 0, out[-4000:]

    got = notifications(workdir)

    def seen(receiver: str, status: str, **labels: str) -> bool:
        return any(
            n["receiver"] == receiver
            and n["status"] == status
            and all(n["labels"].get(k) == v for k, v in labels.items())
            for n in got
        )

    page = {
        "alertname": "SlodriftErrorBudgetBurn",
        "service": "checkout",
        "slo": "availability",
        "tier": "page",
    }
    assert seen("pager", "firing", **page), got
    drift = {"alertname": "SlodriftIndicatorDrift", "service": "checkout", "indicator": "p99_latency"}
    # critical drift is a ticket (drift is a release regression, not an outage): the chat receiver
    assert seen("chat", "firing", severity="critical", **drift), got
    assert seen("chat", "resolved", severity="critical", **drift), got
    # the healthy service never paged
    assert not any(n["labels"].get("service") == "catalog" and n["receiver"] == "pager" for n in got)

    weekly = json.loads((workdir / "report" / "weekly_summary.json").read_text(encoding="utf-8"))
    assert "checkout" in json.dumps(weekly) and "catalog" in json.dumps(weekly)
    assert (workdir / "report" / "weekly_summary.md").stat().st_size > 0
    backtest = json.loads((workdir / "backtest" / "backtest.json").read_text(encoding="utf-8"))
    # the backtest of the same minutes replays the rules over the raw history: it pages on the release too
    (incident,) = backtest["incidents"]
    assert any(d["owner"] == "checkout/availability" and d["first_page"] for d in incident["detections"])
    assert (workdir / "baseline.json").is_file()
    for name in ("report", "backtest", "notifications.jsonl", "logs"):
        assert str(workdir / name) in out  # printed where the files are

    assert_nothing_left(workdir, {"prometheus", "alertmanager", "slodrift serve"})


def test_ctrl_c_stops_every_process_even_when_the_terminal_then_closes(tmp_path):
    """Ctrl-C, then the SIGHUP of a closing terminal during the cleanup: the cleanup goes on to the end."""
    workdir = tmp_path / "demo"
    proc = demo(workdir)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until the servers run (the URLs are printed then)
            if "open while it runs" in line:
                break
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out[-4000:]
    assert "interrupted" in out
    assert_nothing_left(workdir, {"prometheus", "alertmanager"})
