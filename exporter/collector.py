"""A custom Collector: every scrape reads the current snapshot, so values are never stale globals.

Nothing here queries Prometheus or touches disk; scoring (when enabled) runs on its own schedule and
only hands its latest results over, so a scrape costs a few dictionary reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from slodrift.exporter.state import StateHolder


class SlodriftCollector(Collector):
    """Publishes baseline, watch window, reload status and (if present) stability scores."""

    def __init__(self, state: StateHolder, extra: Callable[[], list[Metric]] | None = None) -> None:
        self.state = state
        self.extra = extra

    def describe(self) -> list[Any]:
        # Returning nothing makes the registry skip collect() at registration; families vary per reload.
        return []

    def collect(self) -> Iterator[Metric]:
        """Build fresh metric families from the current snapshot."""
        snap = self.state.snapshot
        status = self.state.status
        yield GaugeMetricFamily(
            "slodrift_config_last_reload_successful",
            "Whether the last reload of spec and baseline succeeded (1) or not (0).",
            value=1 if status.last_successful else 0,
        )
        yield GaugeMetricFamily(
            "slodrift_config_last_reload_success_timestamp_seconds",
            "When the spec and baseline were last loaded successfully.",
            value=status.last_success_ts,
        )
        reloads = CounterMetricFamily(
            "slodrift_config_reloads", "Reload attempts, successful or not.", value=status.reloads
        )
        yield reloads
        yield CounterMetricFamily(
            "slodrift_config_reload_failures",
            "Reloads that failed and kept the old state.",
            value=status.failures,
        )
        if snap is None:
            return
        base = GaugeMetricFamily(
            "slodrift_baseline",
            "Release baseline of an indicator, in base units (seconds, ratios, bytes, cores).",
            labels=["service", "indicator", "unit"],
        )
        std = GaugeMetricFamily(
            "slodrift_baseline_stddev",
            "Standard deviation of the indicator over the baseline window, where known.",
            labels=["service", "indicator", "unit"],
        )
        samples = GaugeMetricFamily(
            "slodrift_baseline_samples",
            "Samples behind the baseline value, where known.",
            labels=["service", "indicator"],
        )
        for (service, indicator), v in sorted(snap.baseline.values.items()):
            unit = v.unit or ""
            base.add_metric([service, indicator, unit], v.value)
            if v.stddev is not None:
                std.add_metric([service, indicator, unit], v.stddev)
            if v.samples is not None:
                samples.add_metric([service, indicator], v.samples)
        yield base
        yield std
        yield samples
        b = snap.baseline
        info = InfoMetricFamily(
            "slodrift_baseline",
            "The release baseline file being served.",
            labels=["release", "version", "captured_at", "source", "sha256"],
        )
        info.add_metric(
            [
                b.release_name or snap.spec.release.name,
                b.release_version or snap.spec.release.version,
                b.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ") if b.captured_at else "",
                b.source or "",
                b.sha256,
            ],
            {},
        )
        yield info
        rel = snap.spec.release
        if rel.watch_start is not None:
            yield GaugeMetricFamily(
                "slodrift_watch_start_timestamp_seconds",
                "Start of the post-release watch window.",
                value=rel.watch_start.timestamp(),
            )
        yield GaugeMetricFamily(
            "slodrift_watch_duration_seconds",
            "Length of the post-release watch window.",
            value=rel.watch_days * 86400,
        )
        if self.extra is not None:
            yield from self.extra()
