"""The vocabulary of the SLO rules: series names, label sets, windows and the ranges that read them.

How the SLO math is built (the modules next to this one each build one layer):

1. `slo_reads`: per SLO and evaluation, the events of the last evaluation interval, read once from the
   raw counters (`slodrift:sli_events:increase1m`, with `event` = `error`, `total`, and `interval`,
   which is 1 for every interval that has data). Consecutive slices tile time, so sums of them are
   exact.
2. `slo_windows`, shared by every SLO of a service:
   - blocks: at every 2nd, 4th, ..., 64th evaluation, the sum of the last 2, 4, ..., 64 slices
     (`slodrift:sli_events:block2m` ... `block64m`, recorded only then: sparse series that tile time);
   - the open block (`block_partial`): the slices since the last 64-slice block ended, as a sum of at
     most one block of each smaller size;
   - window sums (`sum5m` ... `sum30d`): the 64-slice blocks inside the window, plus the open block
     now, minus the open block one window ago, plus three exact edge corrections. Exact like a sum of
     every slice, at about a sixtieth of the samples read;
   - error ratios per window and the 1h burn rate.
   Every rule that reads a recorded series of an earlier evaluation reads it with `offset`, so an
   evaluator that sees a rule's output one evaluation late (vmalert) gets the same blocks.
   Every aggregation is `sum by` the SLO's identity labels (and its group labels): slices recorded
   under old static labels stay inside the windows after a label change and are summed, never a
   duplicate series.
3. `slo_period`: per SLO, objective, budget, compliance, and the SLO-window figures, recorded only
   when the window is covered.
4. `slo_alerts`: multi-window, multi-burn-rate alerts per window pair, gated on coverage and on a
   minimum number of errors; the absent and no-data alerts.

Windows count `interval` events too, so a window that is not yet covered (rules just loaded, a group
just appeared) is known as such and never acts as complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from slodrift.generator import promql
from slodrift.generator.model import SLO, Service
from slodrift.generator.promql import format_duration as fd

RATE_WINDOW = 300  # seconds; the shortest window, read by the page tier, compliance and no-data
CURRENT_BURN_WINDOW = 3600
STANDARD_WINDOWS = (1800, 3600, 7200, 21600, 86400, 259200)
LOOKBACK = "5m"  # how far before an interval a counter's last sample is looked for (a scrape gap it bridges)
BLOCK_LEVELS = 6  # blocks of 2, 4, ..., 64 slices
BLOCK_SLICES = 1 << BLOCK_LEVELS
DIRECT_MAX = 8  # windows of at most this many slices sum the slices directly (cheaper than blocks)
EDGE = 3  # slices at each edge of a window summed directly (the blocks' lag behind the newest slice)
COVERED = Decimal("0.9")  # share of a window's intervals with data before it counts as complete

EVENT = "event"  # the label that tells the three event series apart
ERROR, TOTAL, INTERVAL = "error", "total", "interval"
PART = "slodrift_part"  # a label used inside one expression only, to keep `or` branches apart

PARTIAL = "slodrift:sli_events:block_partial"
OBJECTIVE = "slodrift:slo_objective:ratio"
BUDGET = "slodrift:slo_error_budget:ratio"
BUDGET_REMAINING = "slodrift:slo_error_budget_remaining:ratio"
PERIOD_COVERAGE = "slodrift:slo_period_coverage:ratio"
INFO = "slodrift:slo:info"
COMPLIANT = "slodrift:slo_compliant:bool5m"
BURN_ALERT = "SlodriftErrorBudgetBurn"
NO_DATA_ALERT = "SlodriftSLINoData"
ABSENT_ALERT = "SlodriftSLIAbsent"
GROUP_LIMIT_ALERT = "SlodriftSLOGroupLimit"


def events_name(interval: int) -> str:
    """The events of one evaluation interval (the only read of the raw counters)."""
    return f"slodrift:sli_events:increase{fd(interval)}"


def raw_events_name(interval: int) -> str:
    """The total counters' events of one evaluation interval, by whether they match each matcher the
    error selector adds: the one raw read of an SLO whose errors are its total plus matchers."""
    return f"slodrift:sli_events_raw:increase{fd(interval)}"


def block_name(slices: int, interval: int) -> str:
    """Sparse series: the sum of `slices` slices, recorded once every `slices` evaluations."""
    return f"slodrift:sli_events:block{fd(slices * interval)}"


def sum_name(window: int) -> str:
    """Events over `window` seconds."""
    return f"slodrift:sli_events:sum{fd(window)}"


def ratio_name(window: int) -> str:
    """Recorded error ratio over `window` seconds."""
    return f"slodrift:sli_error:ratio_rate{fd(window)}"


def burn_name(window: int) -> str:
    """Recorded burn rate (error ratio / budget) over `window` seconds."""
    return f"slodrift:slo_burn:rate{fd(window)}"


def span(seconds: float) -> str:
    """Seconds (whole or half) as a PromQL duration: `59m30s`, `4m59s500ms` at a 1s interval."""
    whole = int(seconds)
    ms = round((seconds - whole) * 1000)
    if whole == 0:
        return f"{ms}ms"
    return fd(whole) + (f"{ms}ms" if ms else "")


def slices_range(slices: int, interval: int) -> str:
    """A range that holds exactly `slices` consecutive slices ending at the evaluation it is read at.

    Slices are recorded on the evaluation grid, so a range of whole intervals would hold one slice too
    many on Prometheus 2 (closed ranges) and the right number on 3 (left-open). Half an interval
    shorter holds the right number on both and stays clear of every slice's timestamp.
    """
    return span(slices * interval - interval / 2)


def window_range(window: int, interval: int) -> str:
    """`slices_range` of a window given in seconds."""
    return slices_range(window // interval, interval)


def covered_count(window: int, interval: int) -> int:
    """The number of interval events a window needs to count as covered (at least one)."""
    return max(1, math.floor(COVERED * (window // interval)))


def identity(service: Service) -> tuple[str, ...]:
    """The labels that tell one SLO (and one group of it) from another in the shared window rules."""
    groups = sorted({g for slo in service.slos for g in slo.group_by})
    return ("service", "slo", *groups)


def slo_identity(slo: SLO) -> tuple[str, ...]:
    """The labels one SLO's series are matched on: its identity and its own group labels."""
    return ("service", "slo", *slo.group_by)


def by(labels: Iterable[str]) -> str:
    """`by (a, b)`; `by ()` when empty."""
    return f"by ({', '.join(labels)})"


def on(labels: Iterable[str]) -> str:
    """`on (a, b)`; `on ()` when empty."""
    return f"on ({', '.join(labels)})"


def service_matchers(service: Service) -> dict[str, str]:
    """Matchers of every recorded series of a service."""
    return {"service": service.name}


def slo_matchers(service: Service, slo: SLO) -> dict[str, str]:
    """Matchers that select exactly this SLO's recorded series."""
    return {"service": service.name, "slo": slo.name}


def static_labels(service: Service) -> dict[str, str]:
    """Labels every shared series of a service carries (user labels of the service)."""
    return dict(service.labels)


def slo_labels(service: Service, slo: SLO) -> dict[str, str]:
    """Labels of an SLO's own rules and alerts: user labels first, then slodrift's own."""
    return {**slo.labels, "service": service.name, "slo": slo.name}


def compliance_kind(slo: SLO) -> str:
    """Which stability input an SLO feeds: latency SLOs the latency score, every other the availability one."""
    return "latency" if slo.sli.kind == "latency" else "availability"


def slo_windows(slo: SLO) -> set[int]:
    """Windows one SLO reads: the standard ones up to its SLO window, every alert window and the SLO
    window itself."""
    windows = {w for w in STANDARD_WINDOWS if w <= slo.window}
    for tier in slo.tiers:
        for bw in tier.windows:
            windows.update((bw.long, bw.short))
    windows.update((slo.window, CURRENT_BURN_WINDOW, RATE_WINDOW))
    return windows


def service_windows(service: Service) -> list[int]:
    """Windows recorded for a service: every window any of its SLOs reads."""
    out: set[int] = set()
    for slo in service.slos:
        out |= slo_windows(slo)
    return sorted(out)


def threshold(slo: SLO, factor: Decimal) -> str:
    """Error-ratio threshold of a burn factor, exact (14.4 x 0.001 = 0.0144)."""
    return promql.number(factor * slo.error_budget)
