"""The demo's story: two healthy services, a release of checkout that regresses, then recovers.

The services match the bundled spec (`demo.yml`): checkout and catalog, their request counters and
latency histograms. The timings say how long each phase lasts at least; every phase also waits for its
events (the page delivered, the drift alert firing, then both resolved), up to a deadline, so a busy
machine makes the demo slower, never wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from slodrift.demo.service import Behaviour, Route, ServiceSpec

SERVICES = (
    ServiceSpec(
        "checkout",
        40.0,
        (Route("GET", "/cart", 0.6), Route("POST", "/checkout", 0.4)),
        Behaviour(median_s=0.06, sigma=0.55, error_ratio=0.0002),
    ),
    ServiceSpec(
        "catalog",
        60.0,
        (Route("GET", "/products", 0.7), Route("GET", "/search", 0.3)),
        Behaviour(median_s=0.035, sigma=0.5, error_ratio=0.001),
    ),
)
RELEASED = "checkout"  # the service whose new version regresses
# The new version: every request about three times slower (p99 from about 220 ms to 800 ms, 6 % of
# requests over the latency SLO's 500 ms) and 6 % of requests failing (60x the availability budget).
REGRESSED = Behaviour(median_s=0.2, sigma=0.6, error_ratio=0.06)
OLD_VERSION = "v1.0.1"  # the release the baseline is captured from (the spec's version)
NEW_VERSION = "v1.0.2"

# What the demo waits for (the bundled spec's names).
PAGE_RECEIVER = "pager"  # the spec's page receiver
PAGE = {"alertname": "SlodriftErrorBudgetBurn", "service": RELEASED, "slo": "availability", "tier": "page"}
DRIFT = {
    "alertname": "SlodriftIndicatorDrift",
    "service": RELEASED,
    "indicator": "p99_latency",
    "severity": "critical",
}


@dataclass(frozen=True)
class Timing:
    """The spec a mode runs, how long each phase lasts at least, and how long it may wait for its events."""

    spec: str  # the bundled spec (its windows and `for` fit the phases below)
    day_s: float  # one day of the traffic's daily cycle, compressed
    warm_s: float  # traffic before the baseline's first sample: more than the indicators' rate window,
    # whose first values (a window only partly filled) are too noisy for a baseline
    baseline_s: float  # healthy traffic the baseline is captured from (after `warm_s`)
    capture_step: str  # the capture's query_range step
    scoring_s: float  # seconds between the exporter's scoring runs
    min_release_s: float  # the regression lasts at least this long
    settle_s: float  # healthy time shown after everything resolved
    deadline_s: float  # most a phase waits for its events
    html: bool  # the report's and backtest's HTML pages (matplotlib: seconds)


# The full demo (`make demo`): windows of minutes, the page after about a minute of regression.
NORMAL = Timing(
    spec="demo.yml",
    day_s=240,
    warm_s=45,
    baseline_s=60,
    capture_step="5s",
    scoring_s=15,
    min_release_s=60,
    settle_s=10,
    deadline_s=360,
    html=True,
)
# `--fast` (CI): windows of seconds, every phase a few seconds long; no HTML.
FAST = Timing(
    spec="demo-fast.yml",
    day_s=60,
    warm_s=12,
    baseline_s=12,
    capture_step="1s",
    scoring_s=5,
    min_release_s=0,
    settle_s=0,
    deadline_s=120,
    html=False,
)

_WATCH_START = re.compile(r'^(  watch_start: )"[^"\n]*"$', re.MULTILINE)


def spec_text(name: str, watch_start: datetime) -> str:
    """The bundled spec `name` with the watch starting at `watch_start` (UTC)."""
    text = resources.files("slodrift.demo").joinpath(name).read_text(encoding="utf-8")
    stamp = watch_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new, count = _WATCH_START.subn(rf'\g<1>"{stamp}"', text)
    if count != 1:
        raise ValueError(f"{name}: expected one `  watch_start:` line under `release:`")
    return new
