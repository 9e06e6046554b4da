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
        requests = GaugeMetricFamily(
            "slodrift_baseline_requests",
            "Requests per second behind a ratio or latency baseline, where known.",
            labels=["service", "indicator"],
        )
        hourly = [
            GaugeMetricFamily(
                "slodrift_baseline_profile",
                "Release baseline of an indicator over one UTC hour of day (hour h: h:00-h:59), in base units.",
                labels=["service", "indicator", "unit", "hour"],
            ),
            GaugeMetricFamily(
                "slodrift_baseline_profile_stddev",
                "Standard deviation of the indicator over one UTC hour of day of the baseline window.",
                labels=["service", "indicator", "unit", "hour"],
            ),
            GaugeMetricFamily(
                "slodrift_baseline_profile_samples",
                "Independent samples behind one hour of day of the profile.",
                labels=["service", "indicator", "hour"],
            ),
            GaugeMetricFamily(
                "slodrift_baseline_profile_requests",
                "Requests per second behind one hour of day of a ratio or latency profile.",
                labels=["service", "indicator", "hour"],
            ),
        ]
        any_profile = False
        for (service, indicator), v in sorted(snap.baseline.values.items()):
            unit = v.unit or ""
            base.add_metric([service, indicator, unit], v.value)
            if v.stddev is not None:
                std.add_metric([service, indicator, unit], v.stddev)
            if v.samples is not None:
                samples.add_metric([service, indicator], v.samples)
            if v.requests is not None:
                requests.add_metric([service, indicator], v.requests)
            for p in v.profile:
                any_profile = True
                hour = str(p.hour)
                hourly[0].add_metric([service, indicator, unit, hour], p.value)
                if p.stddev is not None:
                    hourly[1].add_metric([service, indicator, unit, hour], p.stddev)
                if p.samples is not None:
                    hourly[2].add_metric([service, indicator, hour], p.samples)
                if p.requests is not None:
                    hourly[3].add_metric([service, indicator, hour], p.requests)
        yield base
        yield std
        yield samples
        yield requests
        yield from hourly
        if any_profile:
            # The hour of each profile point as a value, so rules can weigh the points around now.
            hours = GaugeMetricFamily(
                "slodrift_baseline_profile_hour",
                "The UTC hour of day each profile point describes, as a value (for the drift rules' interpolation).",
                labels=["hour"],
            )
            for h in range(24):
                hours.add_metric([str(h)], h)
            yield hours
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
