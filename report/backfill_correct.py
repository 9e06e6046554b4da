"""`slodrift backfill --correct`: correction series for the blocks the live rules recorded short.

When the rules run before the backfilled slices are in Prometheus, the blocks (`block2..64` slices) and
open blocks (`block_partial`) they record meanwhile are sums over slices that were not there yet, and a
recorded sample is never recomputed: a short 64-slice block stays in every window for the whole SLO
window, and an open block recorded short is read again one window later (`offset <window>`).

Every reader of those series sums over the SLO's identity labels (`sum by (service, slo, ..., event)`,
in the open-block and window rules), so a series with the same labels plus `slodrift_correction="1"` is
added in. This pass takes every evaluation in [--from, --to] (the times the slices were recorded at), the
block and open-block samples recorded then (corrections of earlier passes included; none recorded counts
as 0: a block whose slices were all missing was not recorded at all), computes what each should have been
from the slices now stored, and writes the difference, where there is one, at the same timestamp:

- a block of N slices at evaluation n: its own rule's expression at that time (it reads the slices only);
- the open block at evaluation n: the slices since the last 64-slice boundary, the `(n - 2) mod 64` of
  them up to n - 2, summed directly (its rule reads the smaller blocks, which may be short too).

Once the corrections of the smaller blocks are in, the open blocks the rules record read them and are
exact; those recorded between this pass's --to and the moment its blocks load are not, so a second pass
(a few minutes after the first one's blocks are in) corrects them, and a third one finds nothing left.
Nothing half-written is left in OUT, as for `slodrift backfill`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .backfill import BackfillInputError, check_arguments, publish_blocks, source_client
from .blockwriter import write_blocks
from .prometheus_api import PrometheusClient
from .rulefiles import Group, Rule
from .timeargs import iso

__all__ = ["CORRECTION_LABEL", "CorrectionResult", "correct"]

CORRECTION_LABEL = "slodrift_correction"
BLOCK_PREFIX = "slodrift:sli_events:block"
PARTIAL = "slodrift:sli_events:block_partial"
CYCLE = 64  # slices of the largest block: the open block holds the slices since the last such boundary

_BY = re.compile(r"^\s*sum by \(([^)]*)\)")
_SLICES = re.compile(r"sum_over_time\((slodrift:sli_events:increase[0-9a-z]+)(\{[^}]*\})?\[")
_GATE = re.compile(r"% (\d+) == 1\)")


@dataclass
class CorrectionResult:
    out: Path
    samples: int
    blocks: int
    corrected: dict[str, int]  # record name -> samples corrected
    checked: int  # recorded samples compared
    start_ms: int
    end_ms: int
    notes: list[str] = field(default_factory=list)
    queries: int = 0


@dataclass(frozen=True)
class _BlockRule:
    group: Group
    rule: Rule
    by: tuple[str, ...]
    slices: str  # the slices' selector, e.g. slodrift:sli_events:increase1m{service="x"}
    matchers: str  # `{...}` of that selector ("" when none)

    @property
    def interval_ms(self) -> int:
        return self.group.interval_ms

    def stored_selector(self) -> str:
        return f"{self.rule.name}{self.matchers}"

    def expected_expr(self, n: int) -> str | None:
        """What the sample recorded at evaluation n should be, from the slices (None: 0 by definition)."""
        if self.rule.name != PARTIAL:
            return self.rule.expr
        k = (n - 2) % CYCLE
        if k == 0:
            return None
        i = self.interval_ms
        by = ", ".join(self.by)
        return f"sum by ({by}) (sum_over_time({self.slices}[{k * i - i // 2}ms] offset {2 * i}ms))"


def _block_rules(groups: list[Group]) -> list[_BlockRule]:
    out = []
    for g in groups:
        for r in g.rules:
            if r.is_alert or not r.name.startswith(BLOCK_PREFIX):
                continue
            by, sl = _BY.match(r.expr), _SLICES.search(r.expr)
            if by is None or sl is None or (r.name != PARTIAL and not _GATE.search(r.expr)):
                raise BackfillInputError(
                    f"rule {r.name} (group {g.name}, {g.source}) is not a block rule as slodrift generates "
                    "it: regenerate the rules with this version of slodrift"
                )
            names = tuple(x.strip() for x in by.group(1).split(",") if x.strip())
            out.append(_BlockRule(g, r, names, sl.group(1) + (sl.group(2) or ""), sl.group(2) or ""))
    return out


def _key(labels: dict[str, str], by: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(labels.get(k, "") for k in by)


def _grid(client: PrometheusClient, slices: str, start_ms: int, end_ms: int) -> list[int]:
    """The evaluations of the slices' group in (start, end]: every time a slice was recorded (the rules
    record one at every evaluation, and the backfill on the same grid)."""
    times = {
        round(t * 1000) for s in client.samples(slices, start_ms - 1, end_ms).series for t, _ in s.samples
    }
    return sorted(times)


def _require_backfilled(
    client: PrometheusClient, br: _BlockRule, grid: list[int], start_ms: int, end_ms: int
) -> None:
    """Refuse to say "nothing to correct" when there is nothing to compare: no slice in the range, or
    none in the 64 intervals before it (the backfilled slices are not loaded yet)."""
    if not grid:
        raise BackfillInputError(
            f"no slices ({br.slices}) from {iso(start_ms)} to {iso(end_ms)}: are the rules loaded, and is "
            "--from at or before the time `slodrift backfill` printed as their start?"
        )
    before = CYCLE * br.interval_ms
    if not client.samples(br.slices, grid[0] - before - 1, grid[0] - 1).series:
        raise BackfillInputError(
            f"no slices ({br.slices}) in the {CYCLE} intervals before {iso(grid[0])}: the backfilled blocks "
            "are not loaded yet (copy them in and wait until Prometheus has them, README `slodrift "
            "backfill` step 3), or --from is before the backfilled range"
        )


def _corrections(
    client: PrometheusClient, br: _BlockRule, grid: list[int], start_ms: int, end_ms: int
) -> tuple[list[tuple[dict[str, str], list[tuple[int, float]]]], int]:
    """For one block rule: the correction series (labels, [(t, difference)]) and how many evaluations
    were compared. A block the rules did not record at all (every slice it sums was missing then)
    counts as 0, so its whole value is written."""
    recorded: dict[tuple[str, ...], dict[int, float]] = {}
    for s in client.samples(br.stored_selector(), start_ms - 1, end_ms).series:
        points = recorded.setdefault(_key(s.labels, br.by), {})
        for t, v in s.samples:
            t_ms = round(t * 1000)
            points[t_ms] = points.get(t_ms, 0.0) + v
    i = br.interval_ms
    gate = _GATE.search(br.rule.expr)
    size = int(gate.group(1)) if gate and br.rule.name != PARTIAL else 1
    times = [t for t in grid if (t // i) % size == (1 % size)]
    by_cycle: dict[int, list[int]] = {}
    for t in times:
        by_cycle.setdefault((t // i) % CYCLE, []).append(t)
    expected: dict[tuple[str, ...], dict[int, float]] = {}
    labels_of: dict[tuple[str, ...], dict[str, str]] = {}
    step_ms = CYCLE * i
    for cycle_times in by_cycle.values():
        expr = br.expected_expr(cycle_times[0] // i)
        if expr is None:  # a 64-slice boundary: the open block is empty
            for key, points in recorded.items():
                for t in cycle_times:
                    if t in points:
                        expected.setdefault(key, {})[t] = 0.0
            continue
        for first, last in _runs(cycle_times, step_ms):
            for s in client.query_range(expr, first / 1000, last / 1000, step_ms / 1000).series:
                key = _key(s.labels, br.by)
                labels_of.setdefault(key, {k: v for k, v in s.labels.items() if k != "__name__"})
                for t, v in s.samples:
                    expected.setdefault(key, {})[round(t * 1000)] = v
    out = []
    checked = 0
    for key, want in sorted(expected.items()):
        have = recorded.get(key, {})
        fixes = []
        for t, v in sorted(want.items()):
            checked += 1
            if v != have.get(t, 0.0):
                fixes.append((t, v - have.get(t, 0.0)))
        if fixes and key in labels_of:
            out.append(({**labels_of[key], **br.rule.labels, CORRECTION_LABEL: "1"}, fixes))
        elif fixes:  # an open block at a boundary recorded nonzero: labels from what was recorded
            out.append(
                ({**dict(zip(br.by, key, strict=True)), **br.rule.labels, CORRECTION_LABEL: "1"}, fixes)
            )
    return out, checked


def _runs(times: list[int], step_ms: int) -> list[tuple[int, int]]:
    """Consecutive stretches of `times` spaced exactly `step_ms` apart (a gap: evaluations were missed)."""
    runs: list[tuple[int, int]] = []
    for t in times:
        if runs and t - runs[-1][1] == step_ms:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


def correct(
    groups: list[Group],
    source_url: str,
    start_ms: int,
    end_ms: int,
    out: Path,
    client_factory: Callable[[str], PrometheusClient] | None = None,
) -> CorrectionResult:
    """Correction series for the block samples recorded in [start, end] (see the module text)."""
    check_arguments(start_ms, end_ms, out)
    rules = _block_rules(groups)
    if not rules:
        raise BackfillInputError("these rules record no blocks: nothing to correct")
    client = source_client(source_url, client_factory)
    series: list[tuple[str, dict[str, str], list[tuple[int, float]]]] = []
    corrected: dict[str, int] = {}
    checked = 0
    notes: list[str] = []
    try:
        client.query("vector(1)")  # unreachable: PrometheusUnavailableError, exit 1 at the CLI
        grids: dict[str, list[int]] = {}
        for br in rules:
            if br.slices not in grids:
                grids[br.slices] = _grid(client, br.slices, start_ms, end_ms)
                _require_backfilled(client, br, grids[br.slices], start_ms, end_ms)
            fixes_of, n_checked = _corrections(client, br, grids[br.slices], start_ms, end_ms)
            checked += n_checked
            for labels, fixes in fixes_of:
                corrected[br.rule.name] = corrected.get(br.rule.name, 0) + len(fixes)
                series.append((br.rule.name, labels, fixes))
        queries = int(client.stats().get("queries", 0))
    finally:
        client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.slodrift-correct-", dir=out.parent))
    try:
        samples = write_blocks(series, work / "corrections.om", work / "blocks")
        blocks = publish_blocks([work / "blocks"], work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not samples:
        notes.append("no block or open block differs from its slices in that range: nothing to correct")
    return CorrectionResult(
        out=out,
        samples=samples,
        blocks=blocks,
        corrected=corrected,
        checked=checked,
        start_ms=start_ms,
        end_ms=end_ms,
        notes=notes,
        queries=queries,
    )
