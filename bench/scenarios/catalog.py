"""The scenarios: synthetic histories with injected incidents, and what an SRE expects of each.

The truth here comes from the SLO and the burn, never from a tool's output. An SLO of objective O over a
window P has an error budget B = 1 - O; a burn rate b (error ratio / B) sustained for a time d consumes
b * d / P of the budget. Following the SRE workbook's multi-window, multi-burn-rate policy, a page is due
when a burn would use 2 % of the budget in an hour or 5 % in six hours, a ticket when it would use 10 % in
a day or three days, nothing otherwise; a total outage pages whatever the traffic. Each incident says which
of those it is (page or ticket) and why; outside incidents every scenario is quiet: any page or ticket
there is false.

Times: the raw history starts at T (a Monday, 2025-11-03T00:00:00Z); steady scenarios are backtested after
LEAD days of history, so every window of every tool (Pyrra's longest, 4d6h51m for 30d, included) is full
when the backtest starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import synth
from tools import SLODef

DAY = 86400
HOUR = 3600
T = 1762128000  # 2025-11-03T00:00:00Z
LEAD = 5 * DAY
TOOLS = ("slodrift", "sloth", "pyrra")


@dataclass(frozen=True)
class Truth:
    """An injected incident and the alert it deserves: `page` or `ticket`. A page belongs to it when it
    starts between `start` and `end` + `grace`; a ticket until `end` + `ticket_grace` (the budget an
    incident burned stays in the ticket windows, 3 days at most, and a ticket then is its consequence, not
    noise). A page where a ticket is due is over-alerting."""

    start: int
    end: int
    expect: str
    why: str
    grace: int = HOUR
    ticket_grace: int = 3 * DAY
    match: tuple[tuple[str, str], ...] = ()  # labels an alert must carry to belong to it (one indicator)


@dataclass
class Scenario:
    name: str
    kind: str
    summary: str
    start: int  # backtest range
    end: int
    services: Callable[[], list[synth.Service]]
    slo: SLODef
    t0: int = T  # raw history
    incidents: list[Truth] = field(default_factory=list)
    mode: str = "steady"  # steady | deploy | deploy_backfill | label_change
    change_at: int | None = None  # deploy or label change time
    slo_after: SLODef | None = None  # label_change: the SLO (labels) after the change
    drift: bool = False  # baseline captured from [start - 1d, start) with `slodrift baseline capture`
    tools: tuple[str, ...] = TOOLS
    quick: bool = False  # also in `make test` (as `quick_variant`)
    # steady and label_change: the rules run since this time (None: since long before the range, every window
    # full); quick variants start them with their short history, before which there is nothing to evaluate
    rules_since: int | None = None

    @property
    def days(self) -> float:
        return (self.end - self.start) / DAY


def pods(
    job: str,
    n: int,
    t0: int,
    t1: int,
    restarts: Callable[[int], tuple[int, ...]] = lambda i: (),
    labels: tuple[tuple[str, str], ...] = (),
    prefix: str = "",
) -> list[synth.Pod]:
    return [synth.Pod(f"{job}-{prefix}{i}", t0, t1, restarts(i), labels) for i in range(n)]


def steady(
    job: str, peak: float, err: Callable, slow: Callable | None = None, n: int = 3, end: int = T + 30 * DAY
) -> Callable[[], list[synth.Service]]:
    """A service on `n` pods for the whole history."""
    median = slow or synth.constant(synth.median_for_slow_share(0.002))
    return lambda: [synth.Service(job, peak, pods(job, n, T, end), err, median)]


NOISE = 0.0002  # 0.2x burn at 99.9 %: well inside the budget


def _noise_week() -> Scenario:
    return Scenario(
        "noise_week",
        "noise",
        "Poisson traffic (50 req/s peak, diurnal) with 0.02 % errors (0.2x burn) for a week",
        T + LEAD,
        T + LEAD + 7 * DAY,
        steady("noise", 50, synth.constant(NOISE), end=T + LEAD + 7 * DAY + HOUR),
        SLODef("noise"),
    )


def _fast_burn() -> Scenario:
    s = T + LEAD + DAY + 14 * HOUR
    return Scenario(
        "fast_burn",
        "burn",
        "10 % errors (100x burn) for 30 minutes on a noisy service",
        T + LEAD,
        T + LEAD + 2 * DAY,
        steady(
            "fastburn", 50, synth.with_windows(NOISE, [(s, s + 1800, 0.10)]), end=T + LEAD + 2 * DAY + HOUR
        ),
        SLODef("fastburn"),
        incidents=[Truth(s, s + 1800, "page", "100x burn for 30m uses 7 % of a 30d budget: page")],
        quick=True,
    )


def _slow_burn() -> Scenario:
    s = T + LEAD + DAY + 6 * HOUR
    return Scenario(
        "slow_burn",
        "burn",
        "0.5 % errors (5x burn) for 24 hours",
        T + LEAD,
        T + LEAD + 4 * DAY,
        steady(
            "slowburn", 50, synth.with_windows(NOISE, [(s, s + DAY, 0.005)]), end=T + LEAD + 4 * DAY + HOUR
        ),
        SLODef("slowburn"),
        incidents=[
            Truth(
                s,
                s + DAY,
                "ticket",
                "5x burn for a day uses 17 % of the budget: ticket; under 6x it never uses 5 % in 6h: "
                "no page",
                grace=6 * HOUR,
            )
        ],
    )


def _low_traffic(outage: bool) -> Scenario:
    s = T + LEAD + DAY + 10 * HOUR
    windows = [(s, s + 2 * HOUR, 1.0)] if outage else []
    job = "lowout" if outage else "lowok"
    days = 3 if outage else 7
    sc = Scenario(
        f"low_traffic_{'outage' if outage else 'healthy'}",
        "low_traffic",
        "0.05 req/s on average (one pod), "
        + ("a total outage for 2 hours" if outage else "healthy: 0.05 % errors"),
        T + LEAD,
        T + LEAD + days * DAY,
        steady(job, 0.08, synth.with_windows(0.0005, windows), n=1, end=T + LEAD + days * DAY + HOUR),
        SLODef(job),
    )
    if outage:
        sc.incidents = [
            Truth(
                s,
                s + 2 * HOUR,
                "page",
                "every request fails for 2h: an outage pages whatever the "
                "traffic (360 failed requests, 2.8x the 30d budget of ~130)",
            )
        ]
        sc.quick = True
    return sc


def _restarts() -> Scenario:
    end = T + LEAD + 7 * DAY

    def services() -> list[synth.Service]:
        out: list[synth.Pod] = []
        # a rollout every day at 09:00: three new pods, the old ones leave a minute later; each pod also
        # restarts in place (a crash) every 3h10m, the pods staggered
        day0 = T
        for d in range((end - T) // DAY + 1):
            t_in = day0 + d * DAY + 9 * HOUR if d else T
            t_out = day0 + (d + 1) * DAY + 9 * HOUR + 60
            out += pods(
                "restarts",
                3,
                t_in,
                min(t_out, end + HOUR),
                prefix=f"r{d}-",
                restarts=lambda i, t=t_in, u=t_out: tuple(range(t + 3600 + i * 2400, u, 11400)),
            )
        return [
            synth.Service(
                "restarts", 50, out, synth.constant(NOISE), synth.constant(synth.median_for_slow_share(0.002))
            )
        ]

    return Scenario(
        "restarts",
        "restarts",
        "noise only; pods crash and restart every 3h10m (counter resets) "
        "and a daily rollout replaces every pod (churn)",
        T + LEAD,
        end,
        services,
        SLODef("restarts"),
        quick=True,
    )


def _label_change() -> Scenario:
    change = T + LEAD + DAY
    burst = change + 20 * 60  # deploys are when incidents happen
    end = T + LEAD + 3 * DAY

    def services() -> list[synth.Service]:
        ps = pods("labels", 3, T, change + 60) + pods(
            "labels", 3, change, end + HOUR, labels=(("version", "v2"),), prefix="v2-"
        )
        return [
            synth.Service(
                "labels",
                50,
                ps,
                synth.with_windows(NOISE, [(burst, burst + 1800, 0.10)]),
                synth.constant(synth.median_for_slow_share(0.002)),
            )
        ]

    return Scenario(
        "label_change",
        "label_change",
        "at day 1 a rollout adds a `version` label to every raw series and the "
        "SLO's service labels change (team payments -> checkout); a fast burn 20 minutes later",
        T + LEAD,
        end,
        services,
        SLODef("labels"),
        mode="label_change",
        change_at=change,
        slo_after=SLODef("labels", team="checkout"),
        incidents=[
            Truth(
                burst,
                burst + 1800,
                "page",
                "100x burn for 30m after the change: page (a label change must not stop evaluation)",
            )
        ],
        quick=True,
    )


def _deploy(backfill: bool) -> Scenario:
    d = T + 14 * DAY
    blip = d + 10 * 60
    return Scenario(
        f"deploy_{'backfill' if backfill else 'no_backfill'}",
        "deploy",
        "rules loaded on two weeks of raw history"
        + (", after `slodrift backfill`" if backfill else "")
        + "; 2 % errors for 10 minutes right after (2.3x burn in 1h: not page- or ticket-worthy)",
        d,
        d + 2 * DAY,
        steady("deploy", 50, synth.with_windows(NOISE, [(blip, blip + 600, 0.02)]), end=d + 2 * DAY + HOUR),
        SLODef("deploy"),
        mode="deploy_backfill" if backfill else "deploy",
        change_at=d,
        quick=not backfill,
    )


def _latency_90() -> Scenario:
    a = T + LEAD + DAY + 8 * HOUR
    b = T + LEAD + 5 * DAY
    slow = synth.median_for_slow_share

    def median(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, slow(0.02))
        out[(t >= a) & (t < a + 6 * HOUR)] = slow(0.80)
        out[(t >= b) & (t < b + DAY)] = slow(0.40)
        return out

    return Scenario(
        "latency_90",
        "latency",
        "a 90 % latency SLO (under 0.5 s, 30d); 2 % of requests slower normally; 80 % "
        "slower for 6 hours, later 40 % for a day",
        T + LEAD,
        T + LEAD + 7 * DAY,
        lambda: [
            synth.Service(
                "latency", 50, pods("latency", 3, T, T + LEAD + 7 * DAY + HOUR), synth.constant(NOISE), median
            )
        ],
        SLODef("latency", kind="latency", objective=90),
        incidents=[
            Truth(a, a + 6 * HOUR, "page", "8x burn for 6h uses 6.7 % of the budget in 6h: page"),
            Truth(
                b,
                b + DAY,
                "ticket",
                "4x burn for a day uses 13 % of the budget: ticket; never 6x for 6h: no page",
                grace=6 * HOUR,
            ),
        ],
        quick=True,
    )


def _window_7d() -> Scenario:
    s = T + LEAD + 2 * DAY + 15 * HOUR
    return Scenario(
        "window_7d",
        "window",
        "an availability SLO over 7 days, on track (0.05 % errors: 0.5x burn) but for one "
        "fast burn (10 % for 20 minutes)",
        T + LEAD,
        T + LEAD + 5 * DAY,
        steady("week", 50, synth.with_windows(0.0005, [(s, s + 1200, 0.10)]), end=T + LEAD + 5 * DAY + HOUR),
        SLODef("week", window_days=7),
        incidents=[
            Truth(
                s,
                s + 1200,
                "page",
                "100x burn for 20m uses 20 % of a 7d budget: page; 0.5x burn "
                "otherwise meets the SLO: never a ticket",
            )
        ],
        quick=True,
    )


def _drift(regressed: bool) -> Scenario:
    release = T + LEAD  # the release: the baseline is the day before
    base = synth.median_for_slow_share(0.002)

    def median(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, base)
        if regressed:
            out[t >= release] = base * 1.3  # every latency 30 % longer: p99 +30 %
        return out

    job = "driftbad" if regressed else "driftok"
    return Scenario(
        f"drift_{'p99_regression' if regressed else 'noisy_unchanged'}",
        "drift",
        (
            "a release whose p99 latency is 30 % higher"
            if regressed
            else "a release with the same behaviour (Poisson noise, diurnal traffic)"
        )
        + "; baseline captured from the day before",
        release,
        release + DAY,
        lambda: [
            synth.Service(job, 50, pods(job, 3, T, release + DAY + HOUR), synth.constant(NOISE), median)
        ],
        SLODef(job, indicators=("p99_latency", "error_ratio", "request_rate")),
        drift=True,
        tools=("slodrift",),
        incidents=[
            Truth(
                release,
                release + DAY,
                "ticket",
                "p99 +30 % is a regression past the 10 % critical "
                "threshold: a warning within 15m, a ticket-routed critical within 30m; a regression is "
                "not an outage: no page. Only p99 drift alerts belong to it",
                match=(("indicator", "p99_latency"),),
            )
        ]
        if regressed
        else [],
        quick=regressed,
    )


def all_scenarios() -> list[Scenario]:
    return [
        _noise_week(),
        _fast_burn(),
        _slow_burn(),
        _low_traffic(True),
        _low_traffic(False),
        _restarts(),
        _label_change(),
        _deploy(False),
        _deploy(True),
        _latency_90(),
        _window_7d(),
        _drift(True),
        _drift(False),
    ]


QUICK_BEFORE = 2 * HOUR  # quick variants start this long before their first incident
QUICK_RANGE = 12 * HOUR


def quick_variant(sc: Scenario) -> Scenario:
    """The `make test` version: slodrift only, the backtest cut to 12 hours from 2 hours before the first
    incident (or the first 12 hours), history from a day and 2 hours before it: every window of the pages
    and of the 1d ticket is covered when the backtest starts; the 3d ticket's is not (it stays quiet here;
    the full suite, with 5 days of history, checks it)."""
    first = min((i.start for i in sc.incidents), default=sc.start + QUICK_BEFORE)
    start = max(sc.start, first - QUICK_BEFORE)
    end = min(sc.end, start + QUICK_RANGE)
    inc = [i for i in sc.incidents if start <= i.start < end]
    q = Scenario(
        sc.name,
        sc.kind,
        sc.summary,
        start,
        end,
        sc.services,
        sc.slo,
        t0=max(sc.t0, start - 1 * DAY - 2 * HOUR),
        incidents=inc,
        mode=sc.mode,
        change_at=sc.change_at,
        slo_after=sc.slo_after,
        drift=sc.drift,
        tools=("slodrift",),
        quick=True,
    )
    if sc.mode.startswith("deploy"):
        q.t0 = sc.change_at - 1 * DAY - 2 * HOUR if sc.change_at else q.t0
    if sc.drift:
        q.t0 = start - DAY - HOUR
    q.rules_since = q.t0
    return q
