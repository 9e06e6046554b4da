"""The exporter's scoring schedule: a background thread computes the stability scores every interval
from what Prometheus recorded and hands the results to the collector; scrapes never query Prometheus."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from slodrift.exporter.state import StateHolder
from slodrift.report import stability
from slodrift.report.prometheus_api import PrometheusClient

log = logging.getLogger("slodrift.exporter")
TREND_VALUES = {"improving": 1, "stable": 0, "degrading": -1}


class Scorer:
    """Runs `stability.run` on a schedule and keeps the last results as metric families."""

    def __init__(self, state: StateHolder, prometheus_url: str, interval: float, step: int = 300) -> None:
        self.state = state
        self.client = PrometheusClient(prometheus_url)
        self.interval = interval
        self.step = step
        self._families: list[Metric] = []
        self._last_success = 0.0
        self._last_duration = 0.0
        self._last_ok = False
        self._runs = 0

    def run_once(self, at: datetime | None = None) -> bool:
        """One scoring run; a failure keeps the previous scores and is visible in the gauges."""
        snap = self.state.snapshot
        if snap is None:
            return False
        started = time.monotonic()
        try:
            report = stability.run(snap.spec, self.client, at or datetime.now(UTC), self.step)
            self._families = self._render(report)
            self._last_ok = not report.warnings
            self._last_success = time.time()
        except Exception as exc:  # a scoring bug must not take the baseline down with it
            log.error("scoring run failed, keeping the previous scores: %s", exc)
            self._last_ok = False
        finally:
            self._last_duration = time.monotonic() - started
            self._runs += 1
            self.state.bump()
        return self._last_ok

    def _render(self, report: stability.Report) -> list[Metric]:
        score = GaugeMetricFamily(
            "slodrift_stability_score_ratio",
            "Stability score (0-1): 0.4 availability compliance + 0.4 latency compliance + "
            "0.2 (1 - min(drift, 0.2)); window 1d is the last finished day.",
            labels=["service", "window"],
        )
        rollback = GaugeMetricFamily(
            "slodrift_rollback_recommended",
            "1 when the seed's rollback criteria are met over the watch so far.",
            labels=["service"],
        )
        degraded = GaugeMetricFamily(
            "slodrift_days_degraded", "Days of the watch with a degradation flag.", labels=["service"]
        )
        trend = GaugeMetricFamily(
            "slodrift_trend",
            "First half of the watch against the second: 1 improving, 0 stable, -1 degrading.",
            labels=["service", "signal"],
        )
        partial = GaugeMetricFamily(
            "slodrift_stability_partial",
            "1 when the last scores were built from incomplete data.",
            labels=["service"],
        )
        for name, wk in report.weeks.items():
            days = report.days[name]
            if wk.stability_score is not None:
                score.add_metric([name, f"{len(days)}d"], wk.stability_score / 100)
            if days and days[-1].daily_score is not None:
                score.add_metric([name, "1d"], days[-1].daily_score / 100)
            rollback.add_metric([name], 1 if wk.rollback_recommended else 0)
            degraded.add_metric([name], wk.days_with_degradation)
            for sig_name, value in (
                ("availability", wk.availability_trend),
                ("latency", wk.latency_trend),
                ("resource", wk.resource_trend),
            ):
                if value in TREND_VALUES:
                    trend.add_metric([name, sig_name], TREND_VALUES[value])
            partial.add_metric([name], 1 if wk.partial else 0)
        return [score, rollback, degraded, trend, partial]

    def metrics(self) -> list[Metric]:
        """The last scores plus what scoring cost, for the collector."""
        stats = self.client.stats()
        return [
            *self._families,
            GaugeMetricFamily(
                "slodrift_scoring_last_run_successful",
                "Whether the last scoring run had all its data.",
                value=1 if self._last_ok else 0,
            ),
            GaugeMetricFamily(
                "slodrift_scoring_last_success_timestamp_seconds",
                "When scores were last computed.",
                value=self._last_success,
            ),
            GaugeMetricFamily(
                "slodrift_scoring_last_duration_seconds",
                "How long the last scoring run took.",
                value=self._last_duration,
            ),
            GaugeMetricFamily(
                "slodrift_prometheus_queries",
                "Queries sent to Prometheus by scoring (counter).",
                value=stats["queries"],
            ),
            GaugeMetricFamily(
                "slodrift_prometheus_query_seconds",
                "Seconds spent in Prometheus queries (counter).",
                value=stats["seconds"],
            ),
        ]

    def start(self, stop: threading.Event) -> threading.Thread:
        """Score now, then every interval until `stop` is set."""

        def loop() -> None:
            while not stop.is_set():
                self.run_once()
                stop.wait(self.interval)

        t = threading.Thread(target=loop, name="scoring", daemon=True)
        t.start()
        return t
