"""The typed model every renderer reads: plain, frozen data with every value already parsed.

Durations are whole seconds, objectives and factors are `Decimal` ratios (so 99.9 % gives a budget of
exactly 0.001), selectors are parsed. Renderers never see raw YAML, so each value is checked once, in
the `spec` package, with the file and YAML path at hand for the error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from slodrift.generator.promql import Matcher, Selector


@dataclass(frozen=True)
class BurnWindow:
    """One window pair of a multi-window burn-rate alert; `factor` is already scaled to the SLO window."""

    long: int
    short: int
    factor: Decimal


@dataclass(frozen=True)
class AlertTier:
    """A burn-rate alert tier (page or ticket): who gets it, how fast, on which windows."""

    name: str
    severity: str
    receiver: str | None
    for_seconds: int
    windows: tuple[BurnWindow, ...]
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoDataAlert:
    """Fires when an SLI has produced no series for `for_seconds`, so a broken query is never silence."""

    for_seconds: int
    severity: str


@dataclass(frozen=True)
class SLI:
    """How bad and total events are counted.

    kind is `events` (errors/total selectors), `event_queries` (queries with `{{window}}`), `latency`
    (histogram with a threshold bucket) or `error_ratio` (a query that already yields a ratio).
    """

    kind: str
    errors: Selector | None = None
    total: Selector | None = None
    error_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None
    histogram: str | None = None
    threshold: Decimal | None = None
    latency_matchers: tuple[Matcher, ...] = ()


@dataclass(frozen=True)
class SLO:
    """One objective of a service, with its alerting already resolved against the defaults."""

    name: str
    objective: Decimal
    window: int
    sli: SLI
    tiers: tuple[AlertTier, ...]
    no_data: NoDataAlert | None
    min_request_rate: Decimal
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    description: str = ""
    # Label names the objective holds for separately (one SLO per route, cluster...); empty: one SLO.
    group_by: tuple[str, ...] = ()  # labels of the raw series the SLO is evaluated per value of
    max_groups: int = 100  # at most this many groups are recorded per evaluation (the busiest)
    min_error_events: Decimal = Decimal(10)  # burn alerts need this many errors in the long window

    @property
    def error_budget(self) -> Decimal:
        """The allowed error ratio; exact because the objective is a Decimal."""
        return 1 - self.objective


@dataclass(frozen=True)
class Service:
    """A service: its identity labels, the matchers that scope its queries, and its SLOs."""

    name: str
    labels: dict[str, str]
    selector: tuple[Matcher, ...]
    slos: tuple[SLO, ...]
    description: str = ""
    indicators: tuple[Indicator, ...] = ()
    anomaly: Anomaly | None = None


@dataclass(frozen=True)
class Release:
    """The release being watched; the watch window anchors day numbers in the reports."""

    name: str
    version: str
    watch_start: datetime | None
    watch_days: int


@dataclass(frozen=True)
class Spec:
    """A whole validated spec file."""

    path: str
    version: int
    release: Release
    evaluation_interval: int
    services: tuple[Service, ...]
    drift: DriftSettings | None = None
    warnings: tuple[str, ...] = ()  # what the loader adapted, e.g. a default burn pair that could never fire


@dataclass(frozen=True)
class Indicator:
    """A signal compared with the release baseline; `query` is complete PromQL returning one series.

    A drift alert needs a change that is big (past the category's threshold, relative to the baseline),
    real (past `min_change` in the indicator's unit, and `z_threshold` standard deviations of noise,
    modelled by `noise`), and measured on enough traffic (`min_requests` per rate window of
    `traffic_query`, for ratios and latencies).
    """

    name: str
    kind: str
    query: str
    unit: str
    direction: str  # higher_is_worse | lower_is_worse | either
    category: str
    regression: Decimal | None = None
    floor: Decimal | None = None  # smallest baseline used as the relative drift's denominator
    # Per group (cross-region): record the indicator per value of this label too (one label; `split_by`
    # is the spec's deprecated name for it), each group compared with the `primary` one.
    group_by: tuple[str, ...] = ()
    primary: str | None = None  # the group the others are compared with
    group_query: str = ""  # the same query, aggregated by the group label too
    traffic_query: str = ""  # requests per second behind a ratio or latency ("" when none)
    noise: str = "spread"  # binomial | poisson | quantile | spread (see indicators.NOISE_MODELS)
    min_change: Decimal = Decimal(0)  # absolute floor of a change that matters, in `unit`
    min_requests: Decimal | None = None  # fewest requests per rate window for the value to be judged
    page: bool | None = None  # critical drift pages (True), tickets (False), or the category decides
    labels: dict[str, str] = field(default_factory=dict)  # added to the indicator's alerts
    annotations: dict[str, str] = field(default_factory=dict)  # added to its alerts (runbook_url too)
    sources: tuple[tuple[str, Selector], ...] = ()  # raw series a built-in kind reads, by role
    quantile: Decimal | None = None  # latency kinds: the quantile computed

    @property
    def group_label(self) -> str | None:
        """The label the indicator is grouped by (one at most), or None."""
        return self.group_by[0] if self.group_by else None


@dataclass(frozen=True)
class DriftThresholds:
    """Drift (a signed share, positive = worse) at which a category warns and goes critical; `page`
    sends the category's critical alerts to the page receiver instead of the ticket receiver."""

    category: str
    warning: Decimal | None
    critical: Decimal | None
    page: bool = False


@dataclass(frozen=True)
class Anomaly:
    """z-score bands over a recorded history; warning-only by design.

    `seasonality` none compares with the whole window; daily or weekly with the hour around the same
    time of each day or week in the window.
    """

    indicators: tuple[str, ...]
    z_threshold: Decimal
    window: int
    seasonality: str
    for_seconds: int


@dataclass(frozen=True)
class DriftSettings:
    """Spec-wide drift thresholds and timings; `z_threshold` is the significance a change needs,
    `keep_firing_for_seconds` the hysteresis of drift alerts (0: none)."""

    thresholds: dict[str, DriftThresholds]
    for_seconds: int
    regression_for_seconds: int
    baseline_missing_for_seconds: int
    z_threshold: Decimal = Decimal(3)
    keep_firing_for_seconds: int = 600
