"""The demo's servers: a real Prometheus, Alertmanager and slodrift exporter on 127.0.0.1, free ports.

Their configuration files are written into the demo's directory, where the user can read them:
Prometheus loads the generated rules and scrapes the synthetic services and the exporter; Alertmanager
runs the generated routing with only its timings shortened (a demo cannot wait 30 s per group).
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from slodrift.demo.procs import Children, DemoError, wait_ready
from slodrift.generator import yaml_out

READY_TIMEOUT = 90.0  # seconds a server gets to answer on a busy machine
# Alertmanager's timings for the demo: notify a new group after 1 s, send its changes every 2 s.
AM_TIMINGS = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def binary(*names: str) -> str:
    """The first of `names` found on PATH; a missing one is a broken install."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise DemoError(f"{names[0]} is not installed: run `make demo` (or scripts/install.sh) first")


@dataclass(frozen=True)
class Layout:
    """Where the demo keeps everything, under one directory."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def generated(self) -> Path:
        return self.root / "generated"

    @property
    def spec(self) -> Path:
        return self.root / "spec.yml"

    @property
    def baseline(self) -> Path:
        return self.root / "baseline.json"

    @property
    def notifications(self) -> Path:
        return self.root / "notifications.jsonl"

    @property
    def processes(self) -> Path:
        return self.root / "processes.log"

    def make(self) -> None:
        """Create the directories."""
        for d in (self.root, self.logs, self.root / "data"):
            d.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Ports:
    """One free port per server."""

    prometheus: int
    alertmanager: int
    exporter: int
    webhook: int
    services: dict[str, int]

    @classmethod
    def pick(cls, jobs: list[str]) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port(), {job: free_port() for job in jobs})

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"


def prometheus_config(layout: Layout, ports: Ports, interval: str) -> dict[str, Any]:
    """Scrape every second; load the generated rules; send alerts to the demo's Alertmanager."""
    jobs = [
        {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        for job, port in ports.services.items()
    ]
    jobs.append({"job_name": "slodrift", "static_configs": [{"targets": [f"127.0.0.1:{ports.exporter}"]}]})
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": interval},
        "rule_files": [str(layout.generated / "rules" / "*.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]}]
        },
        "scrape_configs": jobs,
    }


def shorten_timings(route: dict[str, Any]) -> None:
    """Alertmanager's group timings on the route and every child route set to `AM_TIMINGS`."""
    for key, value in AM_TIMINGS.items():
        if key in route or key != "repeat_interval":
            route[key] = value
    for child in route.get("routes", []):
        shorten_timings(child)


def alertmanager_config(generated: Path) -> dict[str, Any]:
    """The generated Alertmanager configuration with the demo's timings; routes, receivers and
    inhibitions as generated."""
    doc = yaml.safe_load((generated / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "route" not in doc:
        raise DemoError(f"{generated / 'alertmanager' / 'alertmanager.yml'}: no route")
    doc["route"]["repeat_interval"] = AM_TIMINGS["repeat_interval"]
    shorten_timings(doc["route"])
    return doc


def alertmanager_config_text(generated: Path) -> str:
    """`alertmanager_config` as YAML, written like every other generated file (`yaml_out`)."""
    return yaml_out.dump(
        alertmanager_config(generated),
        "The generated Alertmanager configuration with the demo's short timings (slodrift demo).",
    )


class Stack:
    """Starts the servers; every one is registered with `children`, which stops them."""

    def __init__(self, layout: Layout, ports: Ports, children: Children) -> None:
        self.layout = layout
        self.ports = ports
        self.children = children

    @property
    def prometheus_url(self) -> str:
        return self.ports.url(self.ports.prometheus)

    @property
    def alertmanager_url(self) -> str:
        return self.ports.url(self.ports.alertmanager)

    @property
    def exporter_url(self) -> str:
        return self.ports.url(self.ports.exporter)

    def start_alertmanager(self) -> None:
        config = self.layout.root / "alertmanager.yml"
        config.write_text(alertmanager_config_text(self.layout.generated))
        log = self.layout.logs / "alertmanager.log"
        args = [
            binary("prometheus-alertmanager", "alertmanager"),
            f"--config.file={config}",
            f"--storage.path={self.layout.root / 'data' / 'alertmanager'}",
            f"--web.listen-address=127.0.0.1:{self.ports.alertmanager}",
            f"--web.external-url={self.alertmanager_url}",  # links in notifications; no hostname
            "--cluster.listen-address=",  # one instance: no gossip port
        ]
        proc = self.children.start("alertmanager", args, log)
        wait_ready(f"{self.alertmanager_url}/-/ready", proc, "alertmanager", log, READY_TIMEOUT)

    def start_prometheus(self, interval: str) -> None:
        config = self.layout.root / "prometheus.yml"
        config.write_text(json.dumps(prometheus_config(self.layout, self.ports, interval), indent=2))
        log = self.layout.logs / "prometheus.log"
        args = [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.layout.root / 'data' / 'prometheus'}",
            f"--web.listen-address=127.0.0.1:{self.ports.prometheus}",
            f"--web.external-url={self.prometheus_url}",  # alerts' generatorURL; no hostname
        ]
        proc = self.children.start("prometheus", args, log)
        wait_ready(f"{self.prometheus_url}/-/ready", proc, "prometheus", log, READY_TIMEOUT)

    def start_exporter(self, scoring_interval: float) -> None:
        """The exporter: the baseline, and stability scores read back from Prometheus every so often."""
        log = self.layout.logs / "exporter.log"
        args = [
            sys.executable,
            "-m",
            "slodrift",
            "serve",
            f"--config.file={self.layout.spec}",
            f"--baseline.file={self.layout.baseline}",
            f"--web.listen-address=127.0.0.1:{self.ports.exporter}",
            f"--scoring.prometheus-url={self.prometheus_url}",
            f"--scoring.interval={scoring_interval:g}",
        ]
        proc = self.children.start("slodrift serve", args, log)
        wait_ready(f"{self.exporter_url}/-/healthy", proc, "slodrift serve", log, READY_TIMEOUT)
