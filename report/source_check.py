"""Is the source Prometheus there, and does it hold the raw history a range needs?

Coverage is read per metric name with one `query_range` of `count(last_over_time(NAME[1h]))` at 1h
steps (which hours have samples), then the first sample's time within the first such hour and the last
sample's time within the last one. The retention the
source runs with (`/api/v1/status/runtimeinfo`) is quoted in messages when Prometheus reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import requests

from .prometheus_api import PrometheusClient
from .timeargs import iso

__all__ = ["Coverage", "coverage", "first_sample", "retention"]

HOUR_MS = 3_600_000
SLACK_MS = 5 * 60_000  # a sample within 5m of an end counts as reaching it (scrape intervals, lookback)


@dataclass(frozen=True)
class Coverage:
    """The first and last raw sample of `name` found within the range asked (None: none at all)."""

    name: str
    first_ms: int | None
    last_ms: int | None

    def missing(self, start_ms: int, end_ms: int) -> list[str]:
        """What is missing, in words; empty when samples reach both ends (within a scrape or two)."""
        if self.first_ms is None or self.last_ms is None:
            return [f"no samples of {self.name} from {iso(start_ms)} to {iso(end_ms)}"]
        out = []
        if self.first_ms > start_ms + SLACK_MS:
            out.append(f"no samples of {self.name} before {iso(self.first_ms)} (asked from {iso(start_ms)})")
        if self.last_ms < end_ms - SLACK_MS:
            out.append(f"no samples of {self.name} after {iso(self.last_ms)} (asked to {iso(end_ms)})")
        return out


def _hours(client: PrometheusClient, name: str, start_ms: int, end_ms: int) -> list[int]:
    """The hour marks (step ends) in [start, end + 1h] with at least one sample of `name` in the hour."""
    first = start_ms - start_ms % HOUR_MS + HOUR_MS
    last = max(first, end_ms - end_ms % HOUR_MS + HOUR_MS)
    res = client.query_range(
        f"count(last_over_time({name}[1h]))", f"{first / 1000:.3f}", f"{last / 1000:.3f}", "3600"
    )
    return sorted(round(t * 1000) for s in res.series for t, v in s.samples if v > 0)


def first_sample(client: PrometheusClient, name: str, start_ms: int, end_ms: int) -> int | None:
    """The timestamp of the first sample of `name` in [start, end], or None: hourly presence first, then
    `timestamp()` (the time of the latest sample) over the first hour found, every 15 s."""
    hours = [h for h in _hours(client, name, start_ms, end_ms) if h - HOUR_MS <= end_ms]
    if not hours:
        return None
    h = hours[0]
    res = client.query_range(
        f"min(timestamp({name}))", f"{max(start_ms, h - HOUR_MS) / 1000:.3f}", f"{h / 1000:.3f}", "15"
    )
    stamps = [round(v * 1000) for s in res.series for _, v in s.samples if v * 1000 >= start_ms]
    return min(stamps) if stamps else None


def coverage(client: PrometheusClient, names: Iterable[str], start_ms: int, end_ms: int) -> list[Coverage]:
    """One `Coverage` per metric name: its first sample, and its last one (to 15 s)."""
    out = []
    for name in sorted(set(names)):
        hours = [h for h in _hours(client, name, start_ms, end_ms) if h - HOUR_MS <= end_ms]
        if not hours:
            out.append(Coverage(name, None, None))
            continue
        first = first_sample(client, name, start_ms, end_ms)
        at = min(hours[-1], end_ms)
        res = client.query(f"max(max_over_time(timestamp({name})[1h:15s]))", f"{at / 1000:.3f}")
        lasts = [round(s.value * 1000) for s in res.series]
        out.append(Coverage(name, first, min(lasts[0], end_ms) if lasts else at))
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
