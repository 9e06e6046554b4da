"""`slodrift backtest`: what the rules would have fired on past data, evaluated by Prometheus itself.

A backtest replays one or more *deployments* of rules over [start, end]:

- a deployment with `loaded_ms=None` has been running long before `start` (the steady state: the
  question "what would these rules have done last month"): each recorded series starts early enough that
  every window its readers take is full at `start` (`levels.plan`), and alerts start early enough for
  `for` and `keep_firing_for`;
- a deployment loaded at `loaded_ms` starts from nothing at that time, as rules do when Prometheus loads
  them (windows build up from the first evaluation); with `backfilled=True` the recorded series the
  windows read (`levels.range_read_closure`) exist from before, as after `slodrift backfill`;
- a deployment ends at `until_ms` when the next one replaces it (a spec change: new labels, new rules);
  the recorded series of the old one stay in the windows of the new one, as in Prometheus.

Only what the alerts read (and the series asked for in `keep`) is evaluated. Recorded names are
evaluated under a private prefix, so a source Prometheus that already records the same names (the live
rules) never mixes into the replay. Firing intervals come from Prometheus' alert state machine replayed
in Python (`alertstate.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .levels import needed, plan, range_read_closure, restrict
from .prometheus_api import PrometheusClient
from .promql_names import reads
from .querying import range_querier
from .ruleeval import EvalResult, Progress, RuleError, Task, evaluate
from .rulefiles import Group
from .source_check import coverage, retention

__all__ = ["Deployment", "Firing", "Replay", "replay", "PREFIX"]

PREFIX = "backtest__"  # recorded names are evaluated as PREFIX + name


@dataclass(frozen=True)
class Deployment:
    groups: list[Group]
    loaded_ms: int | None = None  # None: loaded long before the range
    backfilled: bool = False
    until_ms: int | None = None  # replaced at this time (None: runs to the end)
    name: str = ""


@dataclass(frozen=True)
class Firing:
    """One alert instance firing from `start_ms` to `end_ms` (None: still firing at the end)."""

    alertname: str
    labels: dict[str, str]
    start_ms: int
    end_ms: int | None
    deployment: int


@dataclass
class Replay:
    firings: list[Firing]
    kept: dict[str, list[tuple[dict[str, str], list[tuple[int, float]]]]]
    errors: list[RuleError]
    warnings: list[str]
    queries: int = 0
    samples: int = 0
    seconds_per_level: dict[int, float] = field(default_factory=dict)
    recording_rules: int = 0
    alert_rules: int = 0


def _warmup_ms(groups: Iterable[Group]) -> int:
    return max(
        (r.for_ms + r.keep_firing_for_ms + g.interval_ms for g in groups for r in g.rules if r.is_alert),
        default=0,
    )


def tasks_for(
    deployments: list[Deployment], start_ms: int, end_ms: int, keep: Iterable[str] = ()
) -> tuple[list[Task], list[int]]:
    """The evaluation spans of every rule that matters (see the module text), and each one's deployment."""
    tasks: list[Task] = []
    owners: list[int] = []
    keep = set(keep)
    for i, d in enumerate(deployments):
        # the next deployment evaluates from until_ms on: this one up to just before it
        until = min(end_ms, d.until_ms - 1 if d.until_ms is not None else end_ms)
        warm = _warmup_ms(d.groups)
        alert_reads = {rd.name for g in d.groups for r in g.rules if r.is_alert for rd in reads(r.expr)}
        chosen = restrict(d.groups, needed(d.groups, alert_reads | keep), alerts=True)
        p = plan(chosen, alert_warmup_ms=warm)  # leads from what is evaluated, not from every reader
        backfilled = range_read_closure(d.groups) if d.backfilled else set()
        for g in chosen:
            for r in g.rules:
                if r.is_alert:
                    first = start_ms - warm if d.loaded_ms is None else max(d.loaded_ms, start_ms - warm)
                elif d.loaded_ms is None:
                    first = start_ms - p.lead_ms.get(r.name, 0)
                elif r.name in backfilled:
                    first = min(d.loaded_ms, start_ms) - p.lead_ms.get(r.name, 0)
                else:
                    first = d.loaded_ms
                if first <= until:
                    tasks.append(Task(g, r, first, until))
                    owners.append(i)
    return tasks, owners


def replay(
    deployments: list[Deployment],
    source_url: str,
    start_ms: int,
    end_ms: int,
    work: Path,
    keep: Iterable[str] = (),
    progress: Progress | None = None,
) -> Replay:
    """Evaluate the deployments over [start, end] (PrometheusError when the source fails)."""
    keep = set(keep)
    tasks, owners = tasks_for(deployments, start_ms, end_ms, keep)
    recorded = {t.rule.name for t in tasks if not t.rule.is_alert}
    warnings = _coverage_warnings(tasks, source_url, recorded)
    clients: list[PrometheusClient] = []
    try:
        res: EvalResult = evaluate(
            tasks,
            source_url,
            range_querier(clients=clients),
            work,
            rename_to={n: PREFIX + n for n in recorded},
            keep=keep,
            progress=progress,
        )
    finally:
        for c in clients:
            c.close()
    firings = []
    for idx, intervals in res.alerts.items():
        task, dep = tasks[idx], owners[idx]
        for iv in intervals:
            if iv.end_ms is not None and iv.end_ms <= start_ms:
                continue
            firings.append(Firing(task.rule.name, iv.labels, iv.start_ms, iv.end_ms, dep))
    firings.sort(key=lambda f: (f.start_ms, f.alertname, sorted(f.labels.items())))
    return Replay(
        firings=firings,
        kept=res.kept,
        errors=res.errors,
        warnings=warnings,
        queries=res.queries,
        samples=res.samples_written,
        seconds_per_level=res.seconds_per_level,
        recording_rules=len({id(t.rule) for t in tasks if not t.rule.is_alert}),
        alert_rules=len({id(t.rule) for t in tasks if t.rule.is_alert}),
    )


def _coverage_warnings(tasks: list[Task], source_url: str, recorded: set[str]) -> list[str]:
    """What raw history the evaluation needs and the source lacks (a warning each, never an error)."""
    need: dict[str, int] = {}
    for t in tasks:
        for rd in reads(t.rule.expr):
            if rd.name not in recorded:
                need[rd.name] = min(need.get(rd.name, t.start_ms), t.start_ms - rd.back_ms)
    if not need:
        return []
    end = max(t.end_ms for t in tasks)
    client = PrometheusClient(source_url, read_timeout=120.0, max_retries=2)
    out = []
    try:
        kept = retention(source_url)
        for name in sorted(need):
            for cov in coverage(client, [name], need[name], end):
                for m in cov.missing(need[name], end):
                    what = (
                        "rules reading it see nothing (is it scraped?)"
                        if cov.first_ms is None
                        else "windows reaching over the gap are incomplete"
                    )
                    out.append(
                        f"{m}: {what}" + (f" (the source keeps {kept})" if kept and cov.first_ms else "")
                    )
    finally:
        client.close()
    return out
