"""The baseline model: what a loaded or captured baseline is, its units, and the issues found in one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from slodrift.issues import InputError, Issue, Path_, format_path

FORMAT_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
UNITS = ("seconds", "ratio", "bytes", "cores", "requests_per_second", "count")
NON_NEGATIVE_UNITS = frozenset({"seconds", "ratio", "bytes", "cores", "requests_per_second"})

# Names whose unit is known without being written (the built-in indicator kinds of the spec).
_IMPLIED_UNITS = {
    "availability": "ratio",
    "targets_up": "ratio",
    "error_ratio": "ratio",
    "cache_hit_ratio": "ratio",
    "cpu": "cores",
    "memory": "bytes",
    "db_latency": "seconds",
    "request_rate": "requests_per_second",
}
_QUANTILE_LATENCY_RE = re.compile(r"^p[0-9]+(?:\.[0-9]+)?_latency$")


@dataclass(frozen=True)
class Window:
    """The time range a baseline summarises (start before end, both timezone-aware)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ProfilePoint:
    """An indicator over one UTC hour of day of the baseline window (hour h: h:00 to h:59)."""

    hour: int
    value: float
    stddev: float | None = None
    samples: int | None = None
    requests: float | None = None


@dataclass(frozen=True)
class IndicatorBaseline:
    """One indicator's release-day value, in base units.

    `stddev` and `samples` (independent samples behind the value) say how far the indicator wanders
    by itself; `requests` is the traffic (requests per second) behind a ratio or latency value;
    `profile` is the same per UTC hour of day, so a drift is judged against the same time of day.
    """

    value: float
    unit: str | None = None
    stddev: float | None = None
    samples: int | None = None
    requests: float | None = None
    profile: tuple[ProfilePoint, ...] = ()


@dataclass(frozen=True)
class Baseline:
    """A loaded or captured baseline.

    `sha256` is of the bytes it was loaded from (or, for a captured one, of its canonical dump), so
    the exporter can publish which file it serves and a reload can tell whether anything changed.
    `warnings` are Prometheus' warnings from a capture (possibly partial data); they are not saved.
    """

    release_name: str
    release_version: str | None
    captured_at: datetime | None
    window: Window | None
    source: str | None
    values: dict[tuple[str, str], IndicatorBaseline] = field(hash=False)
    sha256: str = ""
    file: str | None = None
    format: str = "slodrift"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def services(self) -> list[str]:
        """Service names, sorted."""
        return sorted({service for service, _ in self.values})

    def indicators(self, service: str) -> dict[str, IndicatorBaseline]:
        """The indicators of one service (empty if it has none)."""
        return {ind: b for (svc, ind), b in sorted(self.values.items()) if svc == service}


BaselineIssue = Issue


class BaselineError(InputError):
    """A baseline could not be loaded, captured or written; `issues` lists every problem found."""


def implied_unit(indicator: str) -> str | None:
    """The unit a well-known indicator name implies, so hand-written files need not repeat it."""
    if indicator in _IMPLIED_UNITS:
        return _IMPLIED_UNITS[indicator]
    if _QUANTILE_LATENCY_RE.fullmatch(indicator):
        return "seconds"
    return None


class IssueSink(Protocol):
    def __call__(self, path: Path_, message: str) -> None: ...


class Issues:
    """Collects issues for one file so all are reported in one go."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[BaselineIssue] = []

    def __call__(self, path: Path_, message: str) -> None:
        self.items.append(Issue(self.file, format_path(path), None, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise BaselineError(self.items)
