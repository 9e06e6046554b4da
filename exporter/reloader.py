"""The one thread that reloads: SIGHUP and `POST /-/reload` only ask it to.

- A storm of requests coalesces: a request made while a reload runs is served by the next one.
- Reloads are rate-limited (`min_interval` between starts), so a flood of SIGHUPs or broken files
  costs at most one validation per interval.
- Nothing kills the thread: `StateHolder.reload` turns every failure into a failed reload, and a last
  guard here logs anything that still escapes and carries on.
- `wait(ticket)` lets an HTTP reload answer with the outcome of a reload that started after it asked.
"""

from __future__ import annotations

import logging
import threading
import time

from slodrift.exporter.state import StateHolder

log = logging.getLogger("slodrift.exporter")

DEFAULT_MIN_INTERVAL = 1.0


class Reloader:
    """Serialises, coalesces and rate-limits reloads of one `StateHolder`."""

    def __init__(self, state: StateHolder, min_interval: float = DEFAULT_MIN_INTERVAL) -> None:
        self.state = state
        self.min_interval = min_interval
        self._cond = threading.Condition()
        self._requested = 0  # tickets handed out
        self._started = 0  # the highest ticket a reload has started for
        self._done = 0  # the highest ticket whose reload has finished
        self._last_ok: bool | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def request(self) -> int:
        """Ask for a reload; returns a ticket for `wait`. Safe from a signal handler (a short lock)."""
        with self._cond:
            self._requested += 1
            self._cond.notify_all()
            return self._requested

    def wait(self, ticket: int, timeout: float) -> bool | None:
        """The outcome of the reload that served `ticket`, or None if it did not finish in time."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._done >= ticket or self._stopping, timeout):
                return None
            return self._last_ok if self._done >= ticket else None

    def start(self) -> threading.Thread:
        """Run the worker thread (a daemon: it never holds the process open)."""
        self._thread = threading.Thread(target=self._run, name="reloader", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Let the worker finish its current reload and exit."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        last_start = float("-inf")
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._requested > self._started or self._stopping)
                if self._stopping:
                    return
                # rate limit: wait out the interval since the last start (a stop ends the wait)
                pause = last_start + self.min_interval - time.monotonic()
                if pause > 0 and self._cond.wait_for(lambda: self._stopping, pause):
                    return
                ticket = self._requested  # every request made so far is served by this reload
                self._started = ticket
            last_start = time.monotonic()
            try:
                ok: bool | None = self.state.reload()
            except Exception:  # StateHolder.reload catches everything; this is the last guard
                log.exception("reload raised; counted as failed, the reloader carries on")
                ok = False
            with self._cond:
                self._done = ticket
                self._last_ok = ok
                self._cond.notify_all()
