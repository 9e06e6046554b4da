"""The real slodrift commands the demo runs, each as a user would type it, in its own process group.

Every command is shown before it runs (`slodrift ...`), its output goes to `logs/<name>.log`, and its
last lines are returned for the user to read.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from slodrift.demo.procs import Children
from slodrift.demo.stack import Layout

TIMEOUT = 600.0  # seconds any one command may take on a busy machine


def stamp(t: float) -> str:
    """Unix time as RFC 3339 UTC, whole seconds."""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Command:
    """A slodrift command line: its name (for the log) and its arguments after `slodrift`."""

    name: str
    args: tuple[str, ...]

    @property
    def shown(self) -> str:
        return "slodrift " + " ".join(shlex.quote(a) for a in self.args)


def command(name: str, *args: str) -> Command:
    return Command(name, args)


@dataclass(frozen=True)
class Result:
    """How a command ended: its exit code, its command line as shown, and its output's last lines."""

    code: int
    shown: str
    tail: list[str]
    log: Path

    @property
    def ok(self) -> bool:
        return self.code == 0


class Steps:
    """Runs `python -m slodrift ...` for the demo."""

    def __init__(self, layout: Layout, children: Children) -> None:
        self.layout = layout
        self.children = children

    def run(self, *commands: Command, tail: int = 6) -> list[Result]:
        """Run the commands side by side (they read, they do not depend on each other)."""
        logs = [self.layout.logs / f"{c.name}.log" for c in commands]
        jobs = [
            (f"slodrift {c.name}", [sys.executable, "-m", "slodrift", *c.args], log)
            for c, log in zip(commands, logs, strict=True)
        ]
        codes = self.children.run(jobs, TIMEOUT)
        results = []
        for c, log, code in zip(commands, logs, codes, strict=True):
            lines = [
                ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()
            ]
            results.append(Result(code, c.shown, lines[-tail:], log))
        return results

    def generate(self, webhook_url: str) -> Command:
        return command(
            "generate",
            "generate",
            str(self.layout.spec),
            "--out",
            str(self.layout.generated),
            "--alertmanager-webhook-base",
            webhook_url,
        )

    def capture(self, prometheus: str, start: float, end: float, step: str) -> Command:
        return command(
            "capture",
            "baseline",
            "capture",
            str(self.layout.spec),
            "--prometheus-url",
            prometheus,
            "--from",
            stamp(start),
            "--to",
            stamp(end),
            "--step",
            step,
            "--out",
            str(self.layout.baseline),
        )

    def report(self, spec: Path, prometheus: str, at: float, html: bool) -> Command:
        return command(
            "report",
            "report",
            str(spec),
            "--prometheus-url",
            prometheus,
            "--out",
            str(self.layout.root / "report"),
            "--at",
            stamp(at),
            "--step",
            "10",  # a day at 10 s is 8,640 points, under Prometheus' 11,000 per series
            *([] if html else ["--no-html"]),
        )

    def backtest(self, prometheus: str, start: float, end: float, incident: str, html: bool) -> Command:
        return command(
            "backtest",
            "backtest",
            str(self.layout.spec),
            "--prometheus-url",
            prometheus,
            "--from",
            stamp(start),
            "--to",
            stamp(end),
            "--deployed-at",
            stamp(start),
            "--incident",
            incident,
            "--out",
            str(self.layout.root / "backtest"),
            *([] if html else ["--no-html"]),
        )
