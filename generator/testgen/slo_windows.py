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
How the slices, blocks and open blocks come from raw counters is the raw test's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slodrift.generator.model import Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
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
STRIDES_PER_WINDOW = 40  # steps to reach the longest window (then up to 64 more for the block position)


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


def _events(at: int, slices: int) -> dict[int, int]:
    """Distinct events at the window's near edge, its far edge (just outside it) and its middle."""
    places = [at - k for k in range(EDGE + 1)]
    places += [at - slices - k for k in range(EDGE + 1)]
    mid = at - slices // 2
    places += [mid, mid + 1]
    return {i: 1 + (i * 7919) % 997 for i in places if i >= 1}


def stride_for(windows: list[int]) -> int:
    """An odd stride (in evaluations) at which no open block the cases read is ever recomputed."""
    longest = max(windows)
    stride = max(MIN_STRIDE, longest // STRIDES_PER_WINDOW) | 1
    while any((n + 1) % stride == 0 for n in windows):
        stride += 2
    return stride


def cases(service: Service, interval: int) -> tuple[int, list[Case]]:
    """The stride and two cases per block-built window (a block just inside, one just outside)."""
    windows = [w // interval for w in service_windows(service) if w // interval > DIRECT_MAX]
    if not windows:
        return 0, []
    stride = stride_for(windows)
    out = []
    for slices in windows:
        for residue in ((slices + 2) % BLOCK_SLICES, (slices + 3) % BLOCK_SLICES):
            k = -(-(slices + 2 * BLOCK_SLICES) // stride)
            while (k * stride) % BLOCK_SLICES != residue:
                k += 1
            at = k * stride
            out.append(Case(slices * interval, slices, at, _events(at, slices)))
    return stride, out


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


def window_test_file(
    service: Service, rule_file: str, interval: int, eval_order: list[str]
) -> dict[str, Any] | None:
    """The window test file of one service, or None when no window is built from blocks."""
    stride, all_cases = cases(service, interval)
    if not all_cases:
        return None
    inputs, tests = [], []
    for c in all_cases:
        ids = {
            **service.labels,
            "service": service.name,
            "slo": f"{CASE_PREFIX}-{fd(c.window)}-{c.at}",
            EVENT: TOTAL,
        }
        partials = {c.at - 1: c.partial(c.at - 1), c.at - 1 - c.slices: c.partial(c.at - 1 - c.slices)}
        for metric, points in (
            (events_name(interval), c.events),
            (block_name(BLOCK_SLICES, interval), c.block_sums()),
            (PARTIAL, {i: v for i, v in partials.items() if i >= 0}),
        ):
            inputs.append({"series": series(metric, ids), "values": _values(points, c.at)})
        matchers = {k: v for k, v in ids.items() if k not in service.labels}
        tests.append(
            {
                "expr": series(sum_name(c.window), matchers),
                "eval_time": fd(c.at * interval),
                "exp_samples": [{"labels": series(sum_name(c.window), ids), "value": c.expected()}],
            }
        )
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(stride * interval),
        "group_eval_order": eval_order,
        "tests": [
            {
                "name": f"{service.name}: window sums from blocks, at their edges",
                "interval": fd(interval),
                "input_series": inputs,
                "promql_expr_test": tests,
            }
        ],
    }
