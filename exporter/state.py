"""The exporter's loaded configuration, swapped whole on reload so a bad file never half-applies.

A reload loads and validates the spec and the baseline into a new immutable snapshot; only a snapshot
that passed every check replaces the current one. A failed reload keeps serving the last good
snapshot and records why, for the log and for the `slodrift_config_*` gauges.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slodrift.generator.model import Spec
from slodrift.generator.spec import SpecError, load_spec
from slodrift.report.baseline import Baseline, BaselineError, load_baseline

log = logging.getLogger("slodrift.exporter")


@dataclass(frozen=True)
class Snapshot:
    """One consistent pair of spec and baseline, with when it was loaded."""

    spec: Spec
    baseline: Baseline
    loaded_at: float


@dataclass
class ReloadStatus:
    """What the last reload did; published as gauges so a broken file is visible in Prometheus."""

    last_successful: bool = True
    last_success_ts: float = 0.0
    last_attempt_ts: float = 0.0
    reloads: int = 0
    failures: int = 0
    last_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ConfigError(Exception):
    """The spec or baseline could not be loaded; the message names file, path and problem."""


def load_snapshot(spec_path: Path, baseline_path: Path, service: str | None = None) -> Snapshot:
    """Load and cross-check spec and baseline; raise ConfigError with every problem found."""
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise ConfigError(str(exc)) from None
    known = {s.name: {i.name for i in s.indicators} for s in spec.services}
    try:
        baseline = load_baseline(baseline_path, known=known, service=service)
    except BaselineError as exc:
        raise ConfigError(str(exc)) from None
    return Snapshot(spec, baseline, time.time())


class StateHolder:
    """Holds the current snapshot; reloads are serialised, reads are lock-free reference reads."""

    def __init__(self, spec_path: Path, baseline_path: Path, service: str | None = None) -> None:
        self.spec_path = spec_path
        self.baseline_path = baseline_path
        self.service = service
        self.status = ReloadStatus()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.version = 0  # bumped by every reload attempt and score update: what /metrics caches on

    def bump(self) -> None:
        """Note a change that /metrics must show (a new snapshot, reload status or scores)."""
        self.version += 1

    @property
    def snapshot(self) -> Snapshot | None:
        """The last good snapshot (None only before the first successful load)."""
        return self._snapshot

    def reload(self) -> bool:
        """Try to load new files; keep the old snapshot on any failure. Returns success."""
        try:
            return self._reload()
        finally:
            self.bump()

    def _reload(self) -> bool:
        with self._lock:
            self.status.last_attempt_ts = time.time()
            self.status.reloads += 1
            try:
                snap = load_snapshot(self.spec_path, self.baseline_path, self.service)
            except ConfigError as exc:
                self.status.last_successful = False
                self.status.failures += 1
                self.status.last_error = str(exc)
                kept = "keeping the last good configuration" if self._snapshot else "no configuration loaded"
                log.error("reload failed (%s): %s", kept, exc)
                return False
            except OSError as exc:  # e.g. a file deleted between checks
                self.status.last_successful = False
                self.status.failures += 1
                self.status.last_error = f"{exc.filename}: {exc.strerror}"
                log.error("reload failed, keeping the last good configuration: %s", self.status.last_error)
                return False
            self._snapshot = snap
            self.status.last_successful = True
            self.status.last_success_ts = snap.loaded_at
            self.status.last_error = ""
            n = len(snap.baseline.values)
            log.info(
                "loaded %s and %s: %d baseline value(s), sha256 %s",
                self.spec_path,
                self.baseline_path,
                n,
                snap.baseline.sha256[:12],
            )
            return True
