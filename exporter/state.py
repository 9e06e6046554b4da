"""The exporter's loaded configuration, swapped whole on reload so a bad file never half-applies.

A reload loads and validates the spec and the baseline into a new immutable snapshot; only a snapshot
that passed every check replaces the current one. A failed reload keeps serving the last good
snapshot and records why, for the log and for the `slodrift_config_*` gauges. *Any* failure counts:
a validation error, a file that vanished, or an exception nobody foresaw (it is logged with its
traceback, and the reload is reported as failed; the caller never sees it).

The reload status is an immutable record replaced whole, and the version that tells the page renderer
something changed is bumped under a lock, so readers on other threads never see half an update.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slodrift.generator.model import Spec
from slodrift.generator.spec import SpecError, load_spec
from slodrift.report.baseline import Baseline, BaselineError, load_baseline

from slodrift.issues import MAX_PRINTED

log = logging.getLogger("slodrift.exporter")

MAX_ERROR_CHARS = 8000  # of the error kept for the log, /-/reload and the landing page


@dataclass(frozen=True)
class Snapshot:
    """One consistent pair of spec and baseline, with when it was loaded."""

    spec: Spec
    baseline: Baseline
    loaded_at: float


@dataclass(frozen=True)
class ReloadStatus:
    """What the last reload did; published as gauges so a broken file is visible in Prometheus."""

    last_successful: bool = True
    last_success_ts: float = 0.0
    last_attempt_ts: float = 0.0
    reloads: int = 0
    failures: int = 0
    last_error: str = ""


class ConfigError(Exception):
    """The spec or baseline could not be loaded; the message names file, path and problem."""


def _issues_text(exc: SpecError | BaselineError) -> str:
    shown = [str(i) for i in exc.issues[:MAX_PRINTED]]
    if len(exc.issues) > MAX_PRINTED:
        shown.append(f"... and {len(exc.issues) - MAX_PRINTED} more")
    return "\n".join(shown)


def load_snapshot(spec_path: Path, baseline_path: Path, service: str | None = None) -> Snapshot:
    """Load and cross-check spec and baseline; raise ConfigError with every problem found."""
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise ConfigError(_issues_text(exc)) from None
    known = {s.name: {i.name for i in s.indicators} for s in spec.services}
    try:
        baseline = load_baseline(baseline_path, known=known, service=service)
    except BaselineError as exc:
        raise ConfigError(_issues_text(exc)) from None
    return Snapshot(spec, baseline, time.time())


Loader = Callable[[Path, Path, "str | None"], Snapshot]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "... (cut)"


class StateHolder:
    """Holds the current snapshot; reloads are serialised, reads are lock-free reference reads.

    `loader` does the loading and validating (by default in this process; the server hands it a
    `ProcessLoader`, so validation never competes with scrapes for this interpreter's lock).
    `on_change` callbacks run after every version bump (the page renderer listens).
    """

    def __init__(
        self, spec_path: Path, baseline_path: Path, service: str | None = None, loader: Loader | None = None
    ) -> None:
        self.spec_path = spec_path
        self.baseline_path = baseline_path
        self.service = service
        self.loader: Loader = loader or load_snapshot
        self._status = ReloadStatus()
        self._reload_lock = threading.Lock()
        self._version_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._version = 0
        self._listeners: list[Callable[[], None]] = []

    @property
    def status(self) -> ReloadStatus:
        """The status after the last reload attempt (an immutable record)."""
        return self._status

    @property
    def snapshot(self) -> Snapshot | None:
        """The last good snapshot (None only before the first successful load)."""
        return self._snapshot

    @property
    def version(self) -> int:
        """Bumped by every reload attempt and score update: what the rendered page follows."""
        return self._version

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from whatever thread changed the state) after every bump."""
        self._listeners.append(callback)

    def bump(self) -> None:
        """Note a change that /metrics must show (a new snapshot, reload status or scores)."""
        with self._version_lock:
            self._version += 1
        for callback in list(self._listeners):
            callback()

    def reload(self) -> bool:
        """Try to load new files; keep the old snapshot on any failure. Returns success; never raises
        (a KeyboardInterrupt or SystemExit excepted)."""
        try:
            with self._reload_lock:
                return self._reload()
        finally:
            self.bump()

    def _reload(self) -> bool:
        attempt = time.time()
        try:
            snap = self.loader(self.spec_path, self.baseline_path, self.service)
        except ConfigError as exc:
            return self._failed(attempt, str(exc))
        except OSError as exc:  # e.g. a file deleted between checks
            return self._failed(attempt, f"{exc.filename or self.baseline_path}: {exc.strerror or exc}")
        except Exception as exc:  # a bug or a resource limit: still a failed reload, never a dead thread
            log.exception("unexpected error while reloading")
            return self._failed(attempt, f"unexpected error while reloading: {type(exc).__name__}: {exc}")
        self._snapshot = snap
        self._status = ReloadStatus(
            last_successful=True,
            last_success_ts=snap.loaded_at,
            last_attempt_ts=attempt,
            reloads=self._status.reloads + 1,
            failures=self._status.failures,
            last_error="",
        )
        log.info(
            "loaded %s and %s: %d baseline value(s), sha256 %s",
            self.spec_path,
            self.baseline_path,
            len(snap.baseline.values),
            snap.baseline.sha256[:12],
        )
        return True

    def _failed(self, attempt: float, error: str) -> bool:
        error = _shorten(error)
        self._status = dataclasses.replace(
            self._status,
            last_successful=False,
            last_attempt_ts=attempt,
            reloads=self._status.reloads + 1,
            failures=self._status.failures + 1,
            last_error=error,
        )
        kept = "keeping the last good configuration" if self._snapshot else "no configuration loaded"
        log.error("reload failed (%s): %s", kept, error)
        return False
