"""`slodrift backfill`: TSDB blocks of the recorded series slodrift's windows are built from.

What is backfilled is read off the generated rules, not from a list of names: every recorded series that
some rule reads with a range selector or an offset (a window summed over its past values, a block read one
window back), and every recorded series those are computed from, level by level
(`levels.range_read_closure`). Today these are the per-interval slices `slodrift:sli_events:increase<I>`,
the blocks `slodrift:sli_events:block*` and the indicator values the anomaly bands read over a week.

The seam with the live rules: when the rules already run on the source Prometheus, the first time each
group recorded is found and its evaluation phase taken from it; the backfill then stops one interval
before that first live evaluation, on the same grid, so the last backfilled slice ends exactly where the
first live slice begins. When they do not run yet, the backfill uses multiples of the interval and the
seam may double count or miss less than one interval's events (see the README).

Nothing half-written is left in OUT: blocks are made in a hidden directory next to it, which is renamed
to OUT at the end, and removed whatever happens.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .levels import plan, range_read_closure, restrict
from .prometheus_api import PrometheusClient
from .querying import range_querier
from .ruleeval import Progress, Task, evaluate
from .rulefiles import Group
from .source_check import SLACK_MS, coverage, first_sample, retention
from .timeargs import iso

__all__ = ["BackfillInputError", "BackfillResult", "backfill", "prepare_out"]

HOUR_MS = 3_600_000


class BackfillInputError(ValueError):
    """The arguments cannot give a correct backfill (exit 2); the message says why and what to do."""


@dataclass
class BackfillResult:
    out: Path
    names: list[str]
    blocks: int
    samples: int
    start_ms: int
    end_ms: int
    notes: list[str] = field(default_factory=list)
    queries: int = 0
    seconds_per_level: dict[int, float] = field(default_factory=dict)


def refuse_future(end_ms: int, now_ms: int | None = None) -> None:
    """--to must not be in the future: samples written ahead of the rules are read by every window."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if end_ms > now + 60_000:
        raise BackfillInputError(f"--to {iso(end_ms)} is in the future; use --to {iso(now)} or earlier")


def prepare_out(out: Path) -> None:
    """OUT must not exist or be empty, and not be a symlink: blocks are never mixed into a directory that
    holds something, nor written through a link."""
    if out.is_symlink():
        raise BackfillInputError(f"{out}: is a symlink; give a new directory")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackfillInputError(f"{out}: exists and is not an empty directory; give a new directory")


def check_arguments(start_ms: int, end_ms: int, out: Path) -> None:
    """The range and OUT of a backfill or a correction pass, before any query."""
    if end_ms <= start_ms:
        raise BackfillInputError(f"--to {iso(end_ms)} is not after --from {iso(start_ms)}")
    refuse_future(end_ms)
    prepare_out(out)


def source_client(
    source_url: str, client_factory: Callable[[str], PrometheusClient] | None
) -> PrometheusClient:
    return (client_factory or (lambda u: PrometheusClient(u, read_timeout=120.0, max_retries=2)))(source_url)


def publish_blocks(block_dirs: list[Path], work: Path, out: Path) -> int:
    """Move the blocks in `block_dirs` into OUT (new or empty) in one rename; returns how many."""
    stage = work / "out"
    stage.mkdir()
    blocks = 0
    for d in block_dirs:
        for b in sorted(d.iterdir()) if d.is_dir() else []:
            if (b / "meta.json").exists():
                b.rename(stage / b.name)
                blocks += 1
    if out.exists():
        out.rmdir()  # empty, checked before any work
    stage.rename(out)
    return blocks


def backfill(
    groups: list[Group],
    source_url: str,
    start_ms: int,
    end_ms: int,
    out: Path,
    progress: Progress | None = None,
    client_factory: Callable[[str], PrometheusClient] | None = None,
) -> BackfillResult:
    """Backfill the range-read closure of `groups` over [start, end] into `out` (see the module text)."""
    check_arguments(start_ms, end_ms, out)
    names = range_read_closure(groups)
    if not names:
        raise BackfillInputError(
            "no recorded series is read over a window by these rules: nothing to backfill"
        )
    chosen = restrict(groups, names, alerts=False)
    p = plan(chosen)
    client = source_client(source_url, client_factory)
    notes: list[str] = []
    try:
        client.query("vector(1)")  # unreachable: PrometheusUnavailableError, exit 1 at the CLI
        raw = {rd.name for g in chosen for r in g.rules for rd in p.reads[id(r)]} - set(p.levels)
        kept = retention(source_url)
        for cov in coverage(client, raw, start_ms, end_ms):
            missing = cov.missing(start_ms, end_ms)
            if missing and (cov.first_ms is None or cov.first_ms > start_ms + SLACK_MS):
                hint = f" (the source keeps {kept})" if kept else ""
                since = f"; use --from {iso(cov.first_ms)} or later" if cov.first_ms else ""
                raise BackfillInputError(f"range longer than the source's data{hint}: {missing[0]}{since}")
            notes += [f"warning: {m}" for m in missing]
        tasks: list[Task] = []
        end_of: dict[str, int] = {}
        for g in chosen:
            live = [
                t
                for t in (
                    first_sample(client, r.name, start_ms - p.lead_ms.get(r.name, 0), end_ms + HOUR_MS)
                    for r in g.rules
                )
                if t is not None
            ]
            phase, g_end = 0, end_ms
            if not live:
                notes.append(
                    f"warning: group {g.name}: its rules do not run on this Prometheus yet, so the backfill "
                    "evaluates on multiples of the interval; Prometheus will evaluate them at a phase of its "
                    "own, and the windows then read the backfilled open blocks one window back at the wrong "
                    "time (too many events, until each window slides past the seam). Load the rules first "
                    "and backfill up to where they started (README, `slodrift backfill`, steps 1-2)"
                )
            if live:
                first_live = min(live)
                if first_live <= start_ms:
                    raise BackfillInputError(
                        f"group {g.name}: the source already records these series since {iso(first_live)}, "
                        f"before --from {iso(start_ms)}: nothing to backfill there; use --to {iso(first_live)} "
                        "and an earlier --from"
                    )
                phase = first_live % g.interval_ms
                g_end = min(end_ms, first_live - g.interval_ms)
                notes.append(
                    f"group {g.name}: the rules record on this Prometheus since {iso(first_live)}; "
                    f"backfilled up to {iso(g_end)} on the same evaluation grid (no gap, no overlap)"
                )
            for r in g.rules:
                end_of[r.name] = g_end
                tasks.append(Task(g, r, start_ms - p.lead_ms.get(r.name, 0), g_end, phase))
    finally:
        client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.slodrift-backfill-", dir=out.parent))
    try:
        res = evaluate(tasks, source_url, range_querier(), work, progress=progress)
        blocks = publish_blocks(res.block_dirs, work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in res.errors:
        notes.append(
            f"warning: rule {e.rule} (group {e.group}) failed at {e.count} evaluation(s) from "
            f"{iso(e.first_ms)} to {iso(e.last_ms)}: {e.message}"
        )
    return BackfillResult(
        out=out,
        names=sorted(names),
        blocks=blocks,
        samples=res.samples_written,
        start_ms=start_ms,
        end_ms=max(end_of.values()),
        notes=notes,
        queries=res.queries,
        seconds_per_level=res.seconds_per_level,
    )
