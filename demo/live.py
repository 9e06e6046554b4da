"""The demo's live loop: once a second, read Prometheus and the receivers, note what changed, draw.

`wait` runs that loop until a condition holds (for at least a minimum time) or a deadline passes, so
every phase of the scenario waits for events, not for fixed times.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from slodrift.demo import view
from slodrift.demo.watch import Alerts, Pair, Snapshot, fetch
from slodrift.demo.webhook import Receivers
from slodrift.report.prometheus_api import PrometheusClient

STATUS_EVERY = 15.0  # seconds between status lines when the output is not a terminal
CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear the screen


class Live:
    """What the user sees, and what the scenario's conditions read."""

    def __init__(
        self,
        out: TextIO,
        tty: bool,
        links: view.Links,
        receivers: Receivers,
        started: float,
    ) -> None:
        self.out = out
        self.tty = tty
        self.links = links
        self.receivers = receivers
        self.started = started
        self.phase = "starting"
        self.events: list[str] = []
        self.alerts = Alerts()
        self.snapshot: Snapshot | None = None
        self.client: PrometheusClient | None = None
        self.pairs: list[Pair] = []
        self.indicators: list[tuple[str, str, str]] = []
        self._notified = 0
        self._last_status = 0.0
        self.gone = False  # the output failed (a closed terminal): nothing more is written

    def watch(
        self, client: PrometheusClient, pairs: list[Pair], indicators: list[tuple[str, str, str]]
    ) -> None:
        """Start reading Prometheus (once it runs)."""
        self.client, self.pairs, self.indicators = client, pairs, indicators

    def say(self, text: str) -> None:
        """A line outside the live view (before it starts, after it ends)."""
        self.write(text + "\n")

    def write(self, text: str) -> None:
        """Output that never fails: a terminal that went away (its window closed) must not stop the
        demo from stopping everything it started."""
        if self.gone:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):
            self.gone = True

    def event(self, text: str, at: float | None = None) -> None:
        """Something happened: kept for the view, printed at once when not on a terminal."""
        line = f"{view.clock(at or time.time())}  {text}"
        self.events.append(line)
        if not self.tty:
            self.say(line)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.event(f"== {phase}")

    def tick(self) -> None:
        """Read, note transitions and notifications, draw."""
        now = time.time()
        if self.client is not None:
            self.snapshot = fetch(self.client, now, self.pairs, self.indicators)
            for t in self.alerts.update(self.snapshot):
                self.event(view.transition_line(t), t.at)
        got = self.receivers.notifications()
        for n in got[self._notified :]:
            self.event(view.notification_line(n), n.received)
        self._notified = len(got)
        if self.tty:
            title = f"slodrift demo  {view.elapsed(now - self.started)}  {self.phase}   (Ctrl-C stops it)"
            lines = view.screen(title, self.links, self.snapshot, got, self.events)
            self.write(CLEAR + "\n".join(lines) + "\n")
        elif now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.say(f"{view.clock(now)}  {view.status_line(now - self.started, self.phase, self.snapshot)}")

    def wait(self, done: Callable[[], bool], min_s: float, deadline_s: float) -> bool:
        """Tick once a second until `done()` holds and `min_s` have passed; False after `deadline_s`."""
        start = time.monotonic()
        while True:
            tick_start = time.monotonic()
            self.tick()
            waited = time.monotonic() - start
            if waited >= min_s and done():
                return True
            if waited >= deadline_s:
                return False
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick_start)))


def is_tty(out: TextIO) -> bool:
    """Whether `out` is a terminal that can be redrawn."""
    return out.isatty() and sys.platform != "win32"
