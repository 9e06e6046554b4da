"""Evaluate Prometheus rules over past data with Prometheus itself, level by level.

Input: rule groups (any generator's), each rule with the time span it should be evaluated over, and the
URL of a source Prometheus holding the raw history. Level 1 (rules reading raw series only) is evaluated
by the source itself; every later level by a scratch Prometheus (`scratch.py`) that holds the blocks of
the levels before it and reads the raw history from the source through `remote_read`.

Each rule is evaluated the way Prometheus' rule manager evaluates it, with `query_range` at its group's
interval (one query per rule and day; the query promtool's own rule backfill sends), on the grid
`phase + k * interval`. Recorded samples get the rule's labels and name; an evaluation whose result has
two series with the same labels once the rule's labels are applied is an error, and nothing is recorded
at that time (as Prometheus does; `promtool tsdb create-blocks-from rules` keeps one of them silently).
Recorded samples are written as TSDB blocks with `promtool tsdb create-blocks-from openmetrics`; alert
results are fed to the alert state machine (`alertstate.py`).

Known differences from a live Prometheus, both bounded by one evaluation interval:
- written blocks carry no staleness markers; instead the scratch server's lookback delta is one interval
  (less a millisecond) when every rule it evaluates and every recorded series it reads share one interval,
  so a recorded series that stopped is not seen at the next evaluation, as with a staleness marker;
- groups are evaluated on the phase their task gives (default 0: multiples of the interval); live
  Prometheus offsets each group by a hash of its file and name, so there a rule reading another group's
  output sees the value of that group's evaluation up to one interval earlier.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .alertstate import AlertReplay, FiringInterval, alert_labels
from .blockwriter import write_blocks
from .levels import plan
from .promql_names import rename
from .rulefiles import Group, Rule
from .scratch import scratch_prometheus

__all__ = ["Task", "RuleError", "EvalResult", "evaluate", "grid"]

DAY_MS = 86_400_000
BLOCK_MS = 7_200_000
MAX_STEPS = 10_000  # Prometheus refuses more than 11,000 points per series


@dataclass(frozen=True)
class Task:
    """One rule of one group, evaluated at every grid point in [start_ms, end_ms]."""

    group: Group
    rule: Rule
    start_ms: int
    end_ms: int
    phase_ms: int = 0  # evaluation times are phase_ms + k * the group's interval


@dataclass
class RuleError:
    """Evaluations of one rule that failed (Prometheus would have logged each)."""

    rule: str
    group: str
    message: str
    count: int = 0
    first_ms: int = 0
    last_ms: int = 0

    def add(self, t: int) -> None:
        self.first_ms = t if not self.count else min(self.first_ms, t)
        self.last_ms = max(self.last_ms, t)
        self.count += 1


@dataclass
class EvalResult:
    block_dirs: list[Path]
    alerts: dict[int, list[FiringInterval]]  # task index -> firing intervals
    kept: dict[str, list[tuple[dict[str, str], list[tuple[int, float]]]]]  # recorded name -> series
    errors: list[RuleError]
    queries: int = 0
    samples_written: int = 0
    seconds_per_level: dict[int, float] = field(default_factory=dict)


Progress = Callable[[int, int, str], None]
QueryRange = Callable[[str, str, int, int, int], list[tuple[dict[str, str], list[tuple[int, float]]]]]


def grid(start_ms: int, end_ms: int, interval_ms: int, phase_ms: int = 0) -> tuple[int, int]:
    """First and last evaluation time on `phase + k * interval` within [start, end] (first > last: none)."""
    first = start_ms + (phase_ms - start_ms) % interval_ms
    last = end_ms - (end_ms - phase_ms) % interval_ms
    return first, last


def _span(step: int) -> int:
    """Length of the pieces a rule is queried in: whole 2h blocks, at most a day and MAX_STEPS points."""
    return BLOCK_MS * max(1, min(DAY_MS // BLOCK_MS, step * MAX_STEPS // BLOCK_MS))


def _chunks(first: int, last: int, step: int) -> dict[int, tuple[int, int]]:
    """[first, last] on the step grid cut at multiples of `_span(step)`: piece start -> (first, last)."""
    span = _span(step)
    out = {}
    t = first
    while t <= last:
        edge = (t // span + 1) * span  # the next cut
        end = min(last, t + (edge - 1 - t) // step * step)
        out[t // span * span] = (t, end)
        t = end + step
    return out


def _record(
    task: Task, series: list[tuple[dict[str, str], list[tuple[int, float]]]], err: RuleError
) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
    """The samples a recording rule writes (labels without the name): the result's labels, then the rule's;
    nothing at a time where two result series end up with the same labels."""
    out: dict[tuple[tuple[str, str], ...], list[list[tuple[int, float]]]] = {}
    for labels, samples in series:
        final = {k: v for k, v in labels.items() if k != "__name__"}
        final.update(task.rule.labels)
        out.setdefault(tuple(sorted(final.items())), []).append(samples)
    bad: set[int] = set()
    for parts in out.values():
        if len(parts) > 1:
            seen: set[int] = set()
            for samples in parts:
                for t, _ in samples:
                    if t in seen:
                        bad.add(t)
                    seen.add(t)
    for t in sorted(bad):
        err.add(t)
    result = []
    for key, parts in out.items():
        merged = sorted((t, v) for samples in parts for t, v in samples if t not in bad)
        if merged:
            result.append((dict(key), merged))
    return result


def _lookback(tasks: Iterable[Task], read_intervals: Iterable[int]) -> int:
    intervals = {t.group.interval_ms for t in tasks} | set(read_intervals)
    if len(intervals) == 1:
        return max(1, intervals.pop() - 1)
    return max(intervals, default=300_000)


def evaluate(
    tasks: list[Task],
    source_url: str,
    query_range_for: Callable[[str], QueryRange],
    work: Path,
    *,
    rename_to: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
    progress: Progress | None = None,
    scratch_limit_s: float = 3600.0,
) -> EvalResult:
    """Evaluate `tasks` level by level; blocks go under `work/level-N/`.

    `query_range_for(url)` gives a function `(expr, what, first_ms, last_ms, step_ms) -> series` that queries
    the Prometheus at `url` (retries, timeouts: the caller's client). `rename_to` maps recorded names to the
    names they are written and read under (so a source that already records the same names cannot mix in);
    `keep` lists recorded names (original names) whose samples are also returned.
    """
    rename_to = dict(rename_to or {})
    work.mkdir(parents=True, exist_ok=True)
    groups = _groups_of(tasks)
    p = plan(groups)
    keep = set(keep)
    result = EvalResult(block_dirs=[], alerts={}, kept={}, errors=[])
    interval_of = {t.rule.name: t.group.interval_ms for t in tasks if not t.rule.is_alert}
    stages = max([*p.levels.values(), *p.alert_levels.values()], default=0)
    total = sum(_n_queries(t) for t in tasks)
    done = 0
    for level in range(1, stages + 1):
        started = time.monotonic()
        rec = [t for t in tasks if not t.rule.is_alert and p.rule_levels[id(t.rule)] == level]
        alerts = [
            (i, t) for i, t in enumerate(tasks) if t.rule.is_alert and p.alert_levels[id(t.rule)] == level
        ]
        if not rec and not alerts:
            continue
        level_dir = work / f"level-{level}"
        read = {
            rd.name for t in rec + [a for _, a in alerts] for rd in p.reads[id(t.rule)]
        } & interval_of.keys()
        with contextlib.ExitStack() as stack:
            if level == 1:
                url = source_url
            else:
                scratch = stack.enter_context(
                    scratch_prometheus(
                        work / f"scratch-{level}",
                        result.block_dirs,
                        source_url,
                        _lookback([*rec, *(a for _, a in alerts)], (interval_of[n] for n in read)),
                        limit_s=scratch_limit_s,
                    )
                )
                url = scratch.url
            query = query_range_for(url)
            errors: dict[int, RuleError] = {}
            for i, task in enumerate(rec):
                errors[i] = RuleError(
                    task.rule.name,
                    task.group.name,
                    "vector contains metrics with the same labelset after applying rule labels",
                )
            # chunk-major: every rule of the level over one piece of time, then that piece becomes blocks
            pieces = [_task_chunks(t) for t in rec]
            for n, key in enumerate(sorted({k for piece in pieces for k in piece})):
                batch: list[tuple[str, dict[str, str], list[tuple[int, float]]]] = []
                for i, task in enumerate(rec):
                    if key not in pieces[i]:
                        continue
                    first, last = pieces[i][key]
                    name = rename_to.get(task.rule.name, task.rule.name)
                    expr = rename(task.rule.expr, rename_to) if rename_to else task.rule.expr
                    series = query(
                        expr, f"{task.group.name}/{task.rule.name}", first, last, task.group.interval_ms
                    )
                    result.queries += 1
                    done += 1
                    if progress:
                        progress(done, total, f"level {level}: {task.rule.name}")
                    for labels, samples in _record(task, series, errors[i]):
                        batch.append((name, labels, samples))
                        if task.rule.name in keep:
                            result.kept.setdefault(task.rule.name, []).append((labels, samples))
                result.samples_written += write_blocks(batch, work / f"level-{level}-{n}.om", level_dir)
            result.errors += [e for e in errors.values() if e.count]
            for idx, task in alerts:
                replay = AlertReplay(task.rule.for_ms, task.rule.keep_firing_for_ms)
                expr = rename(task.rule.expr, rename_to) if rename_to else task.rule.expr
                for first, last in sorted(_task_chunks(task).values()):
                    series = query(
                        expr, f"{task.group.name}/{task.rule.name}", first, last, task.group.interval_ms
                    )
                    result.queries += 1
                    done += 1
                    if progress:
                        progress(done, total, f"level {level}: alert {task.rule.name}")
                    at: dict[int, list[tuple[tuple[str, str], ...]]] = {}
                    for labels, samples in series:
                        ls = alert_labels(labels, task.rule.labels, task.rule.name)
                        for t, _ in samples:
                            at.setdefault(t, []).append(ls)
                    for t in range(first, last + 1, task.group.interval_ms):
                        replay.step(t, at.get(t, ()))
                result.alerts[idx] = replay.finish()
                if replay.errors:
                    err = RuleError(
                        task.rule.name,
                        task.group.name,
                        "vector contains metrics with the same labelset after applying alert labels",
                    )
                    for t in replay.errors:
                        err.add(t)
                    result.errors.append(err)
        if level_dir.exists():
            result.block_dirs.append(level_dir)
        result.seconds_per_level[level] = time.monotonic() - started
    return result


def _task_chunks(task: Task) -> dict[int, tuple[int, int]]:
    first, last = grid(task.start_ms, task.end_ms, task.group.interval_ms, task.phase_ms)
    return _chunks(first, last, task.group.interval_ms) if first <= last else {}


def _n_queries(task: Task) -> int:
    first, last = grid(task.start_ms, task.end_ms, task.group.interval_ms)
    return len(_chunks(first, last, task.group.interval_ms)) if first <= last else 0


def _groups_of(tasks: list[Task]) -> list[Group]:
    """One group per distinct group, holding the rules of its tasks (a rule may have several spans)."""
    out: dict[int, tuple[Group, list[Rule]]] = {}
    for t in tasks:
        g, rules = out.setdefault(id(t.group), (t.group, []))
        if all(r is not t.rule for r in rules):
            rules.append(t.rule)
    return [g.with_rules(rules) for g, rules in out.values()]


def scratch_workdir(parent: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for one evaluation (blocks, scratch data); removed by its context manager."""
    return tempfile.TemporaryDirectory(prefix="slodrift-eval-", dir=parent)
