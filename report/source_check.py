"""Is the source Prometheus there, and does it hold the raw history a range needs?

Coverage is read per metric name with one `query_range` of `count(last_over_time(NAME[1h]))` at 1h
steps: the first and last hour with samples say what is missing at either end. The retention the
source runs with (`/api/v1/status/runtimeinfo`) is quoted in messages when Prometheus reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import requests

from .prometheus_api import PrometheusClient
from .timeargs import iso

__all__ = ["Coverage", "coverage", "retention"]

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Coverage:
    """Where raw samples of `name` were found within the range asked (hour resolution)."""

    name: str
    first_ms: int | None  # first hour (end of the hour window) with a sample; None: none at all
    last_ms: int | None

    def missing(self, start_ms: int, end_ms: int) -> list[str]:
        """What is missing, in words; empty when the whole range is covered."""
        if self.first_ms is None or self.last_ms is None:
            return [f"no samples of {self.name} from {iso(start_ms)} to {iso(end_ms)}"]
        out = []
        if self.first_ms - HOUR_MS > start_ms:
            out.append(
                f"no samples of {self.name} before {iso(self.first_ms - HOUR_MS)} "
                f"(asked from {iso(start_ms)})"
            )
        if self.last_ms + HOUR_MS < end_ms:
            out.append(f"no samples of {self.name} after {iso(self.last_ms)} (asked to {iso(end_ms)})")
        return out


def coverage(client: PrometheusClient, names: Iterable[str], start_ms: int, end_ms: int) -> list[Coverage]:
    """One `Coverage` per metric name, found at 1h resolution."""
    out = []
    first = start_ms - start_ms % HOUR_MS + HOUR_MS
    last = max(first, end_ms - end_ms % HOUR_MS)
    for name in sorted(set(names)):
        res = client.query_range(
            f"count(last_over_time({name}[1h]))", f"{first / 1000:.3f}", f"{last / 1000:.3f}", "3600"
        )
        times = sorted(round(t * 1000) for s in res.series for t, v in s.samples if v > 0)
        out.append(Coverage(name, times[0] if times else None, times[-1] if times else None))
    return out


def retention(url: str, timeout_s: float = 10.0) -> str | None:
    """The source's storage retention as it reports it (e.g. "15d"), or None when it does not say."""
    try:
        r = requests.get(url.rstrip("/") + "/api/v1/status/runtimeinfo", timeout=timeout_s)
        data = r.json().get("data") or {}
        value = data.get("storageRetention")
        return str(value) if value else None
    except (requests.RequestException, ValueError, AttributeError):
        return None
