"""`slodrift demo`: the whole loop, live, on 127.0.0.1.

Synthetic services with Poisson traffic, the generated rules in a real Prometheus, the generated
routing in a real Alertmanager, a webhook playing the receivers, a baseline captured from the first
minute, the exporter publishing it; then a release of checkout regresses (p99 latency, errors) and
recovers; the stability report and a backtest of the same minutes at the end. Everything it starts is
stopped on completion, on Ctrl-C and on SIGTERM, whatever happened.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

from slodrift.demo import scenario as sc
from slodrift.demo.live import Live
from slodrift.demo.procs import Children, DemoError, group_alive
from slodrift.demo.service import SyntheticService, Traffic
from slodrift.demo.stack import Layout, Ports, Stack
from slodrift.demo.steps import Command, Result, Steps, stamp
from slodrift.demo.view import Links
from slodrift.demo.watch import indicators_of, page_pairs
from slodrift.demo.webhook import Receivers
from slodrift.generator.spec import SpecError, load_spec
from slodrift.report.prometheus_api import PrometheusClient

from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK

DAY = 86400


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: stop like Ctrl-C does."""


@dataclass
class Milestones:
    """When each step of the story happened (Unix time), written to summary.json."""

    times: dict[str, float | None] = field(default_factory=dict)

    def mark(self, name: str, at: float | None = None) -> None:
        self.times.setdefault(name, at if at is not None else time.time())

    def write(self, path: Path, **extra: object) -> None:
        doc = {"milestones": {k: (stamp(v) if v else None) for k, v in self.times.items()}, **extra}
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def ignore_stop_signals() -> None:
    """From now on Ctrl-C, SIGTERM and SIGHUP are ignored: nothing may cut the cleanup short (a closed
    terminal sends SIGHUP more than once; a second Ctrl-C is common). SIGKILL still stops the demo."""
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)


@contextmanager
def stop_signals() -> Iterator[None]:
    """The first Ctrl-C, SIGTERM or SIGHUP raises `KeyboardInterrupt` or `Interrupted` in the main
    thread while the demo runs; every later one is ignored while it stops everything."""

    def handler(signum: int, frame: FrameType | None) -> None:
        ignore_stop_signals()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def workdir(given: Path | None) -> Path:
    """The demo's directory: new or empty (an old Prometheus data directory would mix two runs)."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="slodrift-demo-"))
    if given.exists() and (not given.is_dir() or any(given.iterdir())):
        raise ValueError(f"--workdir {given}: must be a new or empty directory")
    given.mkdir(parents=True, exist_ok=True)
    return given.resolve()


def run(out: TextIO, tty: bool, fast: bool, given: Path | None, seed: int | None) -> int:
    """The demo; its exit code (0: every step of the story happened)."""
    try:
        root = workdir(given)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with stop_signals():
        return Demo(out, tty, sc.FAST if fast else sc.NORMAL, Layout(root), random.Random(seed)).run()


class Demo:
    """One run: the stack, the story, the reports."""

    def __init__(self, out: TextIO, tty: bool, timing: sc.Timing, layout: Layout, rng: random.Random) -> None:
        self.timing = timing
        self.layout = layout
        layout.make()
        self.started = time.time()
        self.children = Children(layout.processes)
        self.steps = Steps(layout, self.children)
        self.ports = Ports.pick([s.job for s in sc.SERVICES])
        self.services = [SyntheticService(s, self.ports.services[s.job], rng) for s in sc.SERVICES]
        self.receivers = Receivers(self.ports.webhook, layout.notifications)
        self.traffic = Traffic(self.services, time.monotonic, timing.day_s)
        self.stack = Stack(layout, self.ports, self.children)
        links = Links(
            self.stack.prometheus_url, self.stack.alertmanager_url, self.stack.exporter_url, str(layout.root)
        )
        self.live = Live(out, tty, links, self.receivers, self.started)
        self.milestones = Milestones()
        self.reports: list[Result] = []

    def run(self) -> int:
        code = EXIT_FAILED
        try:
            code = self.story()
        except (KeyboardInterrupt, Interrupted) as exc:
            self.live.say(f"\ninterrupted ({str(exc) or 'Ctrl-C'}): stopping everything")
            code = EXIT_INTERRUPTED
        except DemoError as exc:
            self.live.say(f"\nerror: {exc}")
        finally:
            left = self.stop()
            self.milestones.write(
                self.layout.root / "summary.json",
                exit_code=code,
                processes_left=left,
                fast=self.timing == sc.FAST,
            )
            self.live.say(self.closing(code, left))
        return code

    # -- the story -------------------------------------------------------------------------------

    def story(self) -> int:
        live, t = self.live, self.timing
        self.layout.spec.write_text(
            sc.spec_text(t.spec, datetime.fromtimestamp(self.started, UTC)), encoding="utf-8"
        )
        try:
            spec = load_spec(self.layout.spec)
        except SpecError as exc:
            raise DemoError(f"{self.layout.spec}: {exc}") from None
        live.say(f"slodrift demo: everything goes under {self.layout.root}/")
        self.command(self.steps.generate(self.receivers.url))
        self.receivers.start()
        self.traffic.start()
        self.stack.start_alertmanager()
        self.stack.start_prometheus(f"{spec.evaluation_interval}s")
        rules_start = time.time()
        self.milestones.mark("started", self.started)
        live.say("\n".join(["", "open while it runs:", *live.links.lines(), ""]))
        client = PrometheusClient(self.stack.prometheus_url, read_timeout=5.0, max_retries=0)
        live.watch(client, page_pairs(spec), indicators_of(spec))
        live.set_phase(
            f"warm-up: healthy traffic; the baseline is captured after {t.warm_s + t.baseline_s:g}s"
        )
        live.wait(lambda: False, 0, t.warm_s + t.baseline_s)
        self.command(
            self.steps.capture(self.stack.prometheus_url, rules_start + t.warm_s, time.time(), t.capture_step)
        )
        self.milestones.mark("baseline_captured")
        self.stack.start_exporter(t.scoring_s)
        live.event(f"exporter serves the baseline: {self.stack.exporter_url}/metrics")
        drift_seen = self.missed(
            live.wait(lambda: self.drift_recorded(), 0, t.deadline_s), "no drift recorded for the baseline"
        )
        live.set_phase("warm-up: waiting for the page windows to be 90 % covered by evaluations")
        self.missed(live.wait(lambda: self.covered(), 0, t.deadline_s), "page windows not covered")
        release = time.time()
        self.milestones.mark("release", release)
        self.regress(True)
        live.set_phase(f"release {sc.NEW_VERSION} of {sc.RELEASED}: p99 latency regresses, errors burst")
        fired = self.missed(
            live.wait(
                self.all_of(lambda: self.page("firing", release), lambda: self.drift("firing", release)),
                t.min_release_s,
                t.deadline_s,
            ),
            "the page at the pager and the critical drift alert firing",
        )
        recovery = time.time()
        self.milestones.mark("recovery", recovery)
        self.regress(False)
        live.set_phase(f"rollback: {sc.RELEASED} back on {sc.OLD_VERSION}; waiting for the alerts to resolve")
        resolved = self.missed(
            live.wait(
                self.all_of(
                    lambda: self.page("resolved", recovery), lambda: self.drift("resolved", recovery)
                ),
                0,
                t.deadline_s,
            ),
            "the page resolved at the pager and the drift alert resolved",
        )
        live.wait(lambda: True, t.settle_s, t.settle_s)
        live.set_phase("reports")
        incident = f"{stamp(release)}..{stamp(recovery)}@{sc.RELEASED}/availability"
        self.write_reports(time.time(), rules_start, incident)
        story_ok = drift_seen and fired and resolved
        return EXIT_OK if story_ok and all(r.ok for r in self.reports) else EXIT_FAILED

    def missed(self, happened: bool, what: str) -> bool:
        """Say so when a phase's events did not all happen by its deadline (the story goes on)."""
        if not happened:
            self.live.event(f"NOT SEEN within {self.timing.deadline_s:g}s: {what} (see summary.json)")
        return happened

    def regress(self, on: bool) -> None:
        for s in self.services:
            if s.spec.job == sc.RELEASED:
                s.behaviour = sc.REGRESSED if on else s.spec.normal

    def command(self, *commands: Command, must: bool = True) -> list[Result]:
        """Run slodrift commands side by side, show each and its last lines; a failure stops the demo
        when `must`."""
        for c in commands:
            self.live.event(f"$ {c.shown}")
        results = self.steps.run(*commands)
        for result in results:
            self.live.event(f"{result.log.stem} ended with exit code {result.code}:")
            for line in result.tail:
                self.live.event(f"  {line}")
            if must and not result.ok:
                raise DemoError(f"`{result.shown}` failed with exit code {result.code} (log: {result.log})")
        return results

    def write_reports(self, now: float, rules_start: float, incident: str) -> None:
        """The stability report of the day that ends now, and a backtest of the demo's minutes."""
        report_spec = self.layout.root / "report-spec.yml"
        report_spec.write_text(
            sc.spec_text(self.timing.spec, datetime.fromtimestamp(int(now) - DAY, UTC)), encoding="utf-8"
        )
        self.live.event("report-spec.yml: the spec with the watch starting a day ago, so day 1 ends now")
        self.reports = self.command(
            self.steps.report(report_spec, self.stack.prometheus_url, int(now), self.timing.html),
            self.steps.backtest(self.stack.prometheus_url, rules_start, now, incident, self.timing.html),
            must=False,
        )
        for result in self.reports:
            if result.ok:
                self.milestones.mark(result.log.stem)

    # -- conditions ----------------------------------------------------------------------------

    def page(self, status: str, since: float) -> bool:
        """Whether the pager receiver got the page of the released service in `status` at `since` or
        later (the time it arrived is kept as a milestone)."""
        got = [
            n
            for n in self.receivers.notifications()
            if n.received >= since
            and n.receiver == sc.PAGE_RECEIVER
            and n.status == status
            and all(n.labels.get(k) == v for k, v in sc.PAGE.items())
        ]
        if got:
            self.milestones.mark(f"page_{status}_notified", got[0].received)
        return bool(got)

    def drift(self, state: str, since: float) -> bool:
        """Whether the released service's critical drift alert went to `state` at `since` or later."""
        labels = {k: v for k, v in sc.DRIFT.items() if k != "alertname"}
        at = self.live.alerts.first(sc.DRIFT["alertname"], state, since, **labels)
        if at is not None:
            self.milestones.mark(f"drift_{state}", at)
        return at is not None

    def all_of(self, *conditions: Callable[[], bool]) -> Callable[[], bool]:
        """A condition that checks every one of `conditions` each time (each marks its milestone)."""
        return lambda: all([c() for c in conditions])

    def drift_recorded(self) -> bool:
        snap = self.live.snapshot
        return bool(snap and any(d.service == sc.RELEASED and d.drift is not None for d in snap.drifts))

    def covered(self) -> bool:
        snap = self.live.snapshot
        rows = [r for r in (snap.slos if snap else []) if r.pair.service == sc.RELEASED]
        return bool(rows) and all(r.coverage >= 1 for r in rows)

    # -- the end -------------------------------------------------------------------------------

    def stop(self) -> list[int]:
        """Stop everything; the PIDs of any process group still alive (none, normally)."""
        ignore_stop_signals()  # `stop_signals` puts the old handlers back when the demo returns
        self.traffic.stop()
        self.receivers.stop()
        self.children.stop_all()
        self.milestones.mark("stopped")
        return [p.pid for _, p in self.children.procs if group_alive(p.pid)]

    def closing(self, code: int, left: list[int]) -> str:
        root = self.layout.root
        lines = [
            "",
            f"slodrift demo: {'done' if code == EXIT_OK else 'stopped'} after "
            f"{time.time() - self.started:.0f}s; "
            + ("every process it started has stopped" if not left else f"STILL RUNNING: {left}"),
        ]
        for name, at in sorted(self.milestones.times.items(), key=lambda kv: kv[1] or 0):
            lines.append(f"  {name:<24} {stamp(at) if at else '-'}")
        html = ", .html" if self.timing.html else ""
        files = [
            ("spec.yml", "the spec; generated/ holds its rules and Alertmanager routing"),
            ("baseline.json", "the baseline `slodrift baseline capture` took"),
            ("notifications.jsonl", "every notification the webhook receivers got"),
            ("report/", f"the stability report: weekly_summary.md{html}, .json"),
            ("backtest/", f"the backtest of the same minutes: backtest.md{html}, .json"),
            ("logs/", "every program's output"),
            ("processes.log", "the PID of every process it started (all stopped)"),
        ]
        lines.append("files:")
        lines += [
            f"  {f'{root}/{name}':<{len(str(root)) + 22}} "
            + (what if (Path(root) / name).exists() else "(not written: the demo stopped before it)")
            for name, what in files
        ]
        return "\n".join(lines)
