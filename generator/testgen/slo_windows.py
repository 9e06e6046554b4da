"""The window test of a service: every block-built window sum, checked at its edges, at any length.

promtool evaluates every rule at every step from time 0, so a 30-day window cannot be reached one
interval at a time (43,200 steps). This test file steps in large odd strides instead, and feeds each
case the slices, 64-slice blocks and open-block sums that the rules would have recorded for a made-up
sequence of per-interval events: nonzero only at both edges of the window and in its middle. The
expected value is the sum of those events inside the window, by definition; every range and offset of
the window rule that moved by one interval would read one slice or block more or less and fail.

The stride is odd so that, over the cases, the check falls at every position relative to the blocks:
one case per window has a block just inside the window's far edge, the other one just outside it.
Inputs are consistent, so where the block rules happen to run at a step they record the same values.
How the slices come from raw counters is the raw test's job.

Every input series is given a 0 at time 0 and at every step of the test (the increase slices at the
step itself, the blocks and open blocks one interval before it, where no rule reads them at a check),
so that every series the checks read, and every window sum they check, exists from the first step
on without a gap. A 30-day window makes promtool's storage compact its head during the test, and
promtool 2.42 (Debian 12's) loses, now and then, the first sample of a series created while the
head is being truncated: the test failed once in CI on a window sum of the 1s-interval variant. A 0
adds nothing to any sum the rules take, and falls on no position a `last_over_time` read of a check
covers.

The same file checks how the blocks and the open block are built, on made-up slices (and the blocks
they make, fed where the rules would have recorded them), just after a 64-slice block: every block
size is recorded there, and the open block holds the newest block of each size, each at the far end
of the range it is read from, with a block one slice older just outside it. A range or offset of a
block rule that moved by one interval reads one slice or block more or less and fails. (Which block
sizes the open block holds at other positions is checked by the raw test.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slodrift.generator.model import Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
    BLOCK_LEVELS,
    BLOCK_SLICES,
    DIRECT_MAX,
    EDGE,
    EVENT,
    PARTIAL,
    TOTAL,
    block_name,
    events_name,
    service_windows,
    sum_name,
)
from slodrift.generator.testgen.series import num, series

CASE_PREFIX = "slodrift-window-case"
MIN_STRIDE = 3
SPAN_PER_EVALUATION = 4320  # test span (in slices) that costs promtool about one more evaluation


@dataclass(frozen=True)
class Case:
    """One window checked at one evaluation number, on made-up events."""

    window: int  # seconds
    slices: int
    at: int  # evaluation number of the check
    events: dict[int, int]  # evaluation number -> events of that interval (0 elsewhere)

    def block_sums(self) -> dict[int, int]:
        """64-slice blocks with events, by the evaluation they are recorded at (the one after they end)."""
        out: dict[int, int] = {}
        for i, v in self.events.items():
            end = -(-i // BLOCK_SLICES) * BLOCK_SLICES  # the block (end - 64, end] holds slice i
            out[end + 1] = out.get(end + 1, 0) + v
        return out

    def partial(self, n: int) -> int:
        """The open block recorded at n: slices after the last 64-slice block, up to n - 2."""
        m = n - 2
        start = m - m % BLOCK_SLICES
        return sum(v for i, v in self.events.items() if start < i <= m)

    def expected(self) -> int:
        return sum(v for i, v in self.events.items() if self.at - self.slices < i <= self.at)


@dataclass(frozen=True)
class BlockCase:
    """Blocks and the open block checked at one evaluation number, just after a 64-slice block (every
    block size is recorded there, and the open block holds the newest block of every size), on made-up
    slices before it."""

    at: int  # evaluation number of the check

    def slices(self) -> dict[int, int]:
        """Distinct events in each of the slices any block read at `at` can hold."""
        return {i: 1 + (i * 7919) % 997 for i in range(self.at - FED_BEFORE, self.at)}

    def block(self, size: int, n: int) -> int:
        """The block of `size` slices ending with slice n - 1 (recorded at n)."""
        return sum(v for i, v in self.slices().items() if n - size <= i < n)

    def blocks(self, size: int) -> dict[int, int]:
        """The newest block of `size` before `at` (recorded at at - size, the far end of the range the
        open block reads it from), and one a slice older (just outside that range; the rules never
        record one there, so an open block that reads it reads too far)."""
        return {n: self.block(size, n) for n in (self.at - size - 1, self.at - size)}

    def partial(self) -> int:
        """The open block recorded at `at`: slices after the last 64-slice block, up to at - 2."""
        m = self.at - 2
        start = m - m % BLOCK_SLICES
        return sum(v for i, v in self.slices().items() if start < i <= m)

    def recorded(self) -> list[int]:
        """Block sizes the rules record at `at` itself (all of them, from the slices)."""
        return [1 << k for k in range(1, BLOCK_LEVELS + 1) if self.at % (1 << k) == 1]


BLOCK_POSITION = 1  # where a block case's check falls in the 64-slice cycle
FED_BEFORE = BLOCK_SLICES + 4  # slices fed before a block case's check


def _events(at: int, slices: int) -> dict[int, int]:
    """Distinct events at the window's near edge, its far edge (just outside it) and its middle."""
    places = [at - k for k in range(EDGE + 1)]
    places += [at - slices - k for k in range(EDGE + 1)]
    mid = at - slices // 2
    places += [mid, mid + 1]
    return {i: 1 + (i * 7919) % 997 for i in places if i >= 1}


def _residues(slices: int) -> tuple[int, int]:
    """Where a check of the window must fall within the 64-slice cycle: a block recorded just inside
    the window's far edge, and one just outside it."""
    return (slices + 2) % BLOCK_SLICES, (slices + 3) % BLOCK_SLICES


def stride_for(needs: list[tuple[int, int]], windows: list[int]) -> int:
    """The stride (in evaluations) that reaches every check in the fewest evaluations: `needs` holds,
    for each check, the earliest evaluation it may fall at and its position in the 64-slice cycle.
    No open block a window case reads may be recomputed (at n + 1 after the window's far edge), and no
    evaluation may fall among the slices a block case feeds.

    At stride S, evaluation k falls at position k * S mod 64, so a check needing position r falls
    first at k = r * S^-1 mod 64 (S odd): only S mod 64 decides how many evaluations the test runs,
    once S is long enough for each check's history to fit before it."""
    best: tuple[float, int] | None = None
    for s in range(1, BLOCK_SLICES, 2):
        inverse = pow(s, -1, BLOCK_SLICES)
        first = [((r * inverse) % BLOCK_SLICES or BLOCK_SLICES, earliest) for earliest, r in needs]
        steps = max(k for k, _ in first)
        stride = max([-(-earliest // k) for k, earliest in first] + [MIN_STRIDE, FED_BEFORE + 1])
        stride += (s - stride) % BLOCK_SLICES
        while any((n + 1) % stride == 0 for n in windows):
            stride += BLOCK_SLICES
        cost = steps + steps * stride / SPAN_PER_EVALUATION
        if best is None or (cost, stride) < best:
            best = (cost, stride)
    assert best is not None
    return int(best[1])


def _first(stride: int, earliest: int, residue: int) -> int:
    """The first evaluation number at the stride, from `earliest` on, at `residue` in the cycle."""
    k = -(-earliest // stride)
    while (k * stride) % BLOCK_SLICES != residue:
        k += 1
    return k * stride


def cases(service: Service, interval: int) -> tuple[int, list[Case], list[BlockCase]]:
    """The stride, two cases per block-built window (a block just inside, one just outside), and the
    block cases."""
    windows = [w // interval for w in service_windows(service) if w // interval > DIRECT_MAX]
    if not windows:
        return 0, [], []
    needs = [(w + 2 * BLOCK_SLICES, r) for w in windows for r in _residues(w)]
    needs.append((FED_BEFORE + 1, BLOCK_POSITION))
    stride = stride_for(needs, windows)
    out = []
    for slices in windows:
        for residue in _residues(slices):
            at = _first(stride, slices + 2 * BLOCK_SLICES, residue)
            out.append(Case(slices * interval, slices, at, _events(at, slices)))
    blocks = [BlockCase(_first(stride, FED_BEFORE + 1, BLOCK_POSITION))]
    return stride, out, blocks


def kept_alive(points: dict[int, int], stride: int, last: int, *, at_step: bool) -> dict[int, int]:
    """`points` with a 0 at time 0 and one at every step up to `last` (at the step itself, or one
    interval before it), where no point is: the series exists from the first step and never goes a
    step without a sample, so promtool's head compaction never deletes it and it is never created
    again while the head is being truncated (see the module's docstring)."""
    out = dict(points)
    out.setdefault(0, 0)
    for step in range(stride, last + 1, stride):
        out.setdefault(step if at_step else step - 1, 0)
    return out


def _values(points: dict[int, int], last: int) -> str:
    """promtool values with samples only at the given evaluation numbers (`_xN` between them)."""
    tokens, pos = [], 0
    for i in sorted(points):
        if i > last:
            break
        if i > pos:
            tokens.append(f"_x{i - pos}")
        tokens.append(num(points[i]))
        pos = i + 1
    return " ".join(tokens) or "_"


def _block_case(
    service: Service, interval: int, stride: int, b: BlockCase
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Inputs (slices, and the blocks of 2 to 32 slices the open block reads; the 64-slice block only
    keeps its series alive, see the module's docstring) and checks of a block case: the open block,
    and every block recorded at the check."""
    ids = {**service.labels, "service": service.name, "slo": f"{CASE_PREFIX}-blocks-{b.at}", EVENT: TOTAL}
    matchers = {k: v for k, v in ids.items() if k not in service.labels}
    inputs = [
        {
            "series": series(events_name(interval), ids),
            "values": _values(kept_alive(b.slices(), stride, b.at, at_step=True), b.at),
        }
    ]
    for k in range(1, BLOCK_LEVELS + 1):
        fed = b.blocks(1 << k) if k < BLOCK_LEVELS else {}
        inputs.append(
            {
                "series": series(block_name(1 << k, interval), ids),
                "values": _values(kept_alive(fed, stride, b.at, at_step=False), b.at),
            }
        )
    checks = [(PARTIAL, b.partial())] + [(block_name(n, interval), b.block(n, b.at)) for n in b.recorded()]
    tests = [
        {
            "expr": series(metric, matchers),
            "eval_time": fd(b.at * interval),
            "exp_samples": [{"labels": series(metric, ids), "value": value}],
        }
        for metric, value in checks
    ]
    return inputs, tests


def window_test_file(
    service: Service, rule_files: list[str], interval: int, eval_order: list[str]
) -> dict[str, Any] | None:
    """The window test file of one service, or None when no window is built from blocks."""
    stride, all_cases, block_cases = cases(service, interval)
    if not all_cases:
        return None
    inputs, tests = [], []
    for b in block_cases:
        inputs_b, tests_b = _block_case(service, interval, stride, b)
        inputs += inputs_b
        tests += tests_b
    for c in all_cases:
        ids = {
            **service.labels,
            "service": service.name,
            "slo": f"{CASE_PREFIX}-{fd(c.window)}-{c.at}",
            EVENT: TOTAL,
        }
        partials = {c.at - 1: c.partial(c.at - 1), c.at - 1 - c.slices: c.partial(c.at - 1 - c.slices)}
        for metric, points, at_step in (
            (events_name(interval), c.events, True),
            (block_name(BLOCK_SLICES, interval), c.block_sums(), False),
            (PARTIAL, {i: v for i, v in partials.items() if i >= 0}, False),
        ):
            kept = kept_alive(points, stride, c.at, at_step=at_step)
            inputs.append({"series": series(metric, ids), "values": _values(kept, c.at)})
        matchers = {k: v for k, v in ids.items() if k not in service.labels}
        tests.append(
            {
                "expr": series(sum_name(c.window), matchers),
                "eval_time": fd(c.at * interval),
                "exp_samples": [{"labels": series(sum_name(c.window), ids), "value": c.expected()}],
            }
        )
    return {
        "rule_files": rule_files,
        "evaluation_interval": fd(stride * interval),
        "group_eval_order": eval_order,
        "tests": [
            {
                "name": f"{service.name}: blocks, the open block, and window sums at their edges",
                "interval": fd(interval),
                "input_series": inputs,
                "promql_expr_test": tests,
            }
        ],
    }
