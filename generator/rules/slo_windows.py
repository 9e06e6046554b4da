"""Window sums, error ratios and the current burn rate of every SLO of a service, from its slices.

A slice is recorded at every evaluation n; write f(n) for its events. With B the blocks of 64 slices
that end at evaluations whose number is a multiple of 64, and P(n) the sum of the slices after the last
such block up to n - 2 (`block_partial`, recorded at n as a sum of at most one block of each smaller
size: the binary digits of their count), the events of the W-slice window ending at n are

    sum(f, n-W < i <= n) = sum(B ending in (n-3-W, n-3]) + P(n-1) - P(n-1-W)
                           + sum(f, n-3 < i <= n) - sum(f, n-3-W < i <= n-W)

which is exact: the blocks tile the slices, P telescopes at both ends, and the last two terms move the
window from n-3 to n. Every part is missing rather than wrong when it predates the rules (the window
then holds what was recorded, and its `interval` count says how much that is).

Evaluations are numbered by `floor(time() / interval)`, the same on every Prometheus and every backfill
step, so blocks recorded live and blocks backfilled line up. A block of 2^j slices is recorded at the
evaluation after it ends (number ≡ 1 mod 2^j), from the slices read with `offset` one interval; the
open block reads the blocks one interval later still, and the windows read the blocks and the open
block of earlier evaluations only. So an evaluator that sees rules of the same evaluation one
evaluation late (vmalert) computes the same blocks; only its newest slice lags, as with any window.
"""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.model import Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
    BLOCK_LEVELS,
    BLOCK_SLICES,
    BUDGET,
    CURRENT_BURN_WINDOW,
    DIRECT_MAX,
    EDGE,
    ERROR,
    EVENT,
    INTERVAL,
    PART,
    PARTIAL,
    TOTAL,
    block_name,
    burn_name,
    by,
    events_name,
    identity,
    ratio_name,
    service_matchers,
    service_windows,
    slices_range,
    span,
    sum_name,
    window_range,
)
from slodrift.generator.rules.types import Recording


def _evaluation_number(interval: int, shift: int = 0) -> str:
    """The number of the evaluation `shift` intervals before this one, as a one-element vector."""
    t = "vector(time())" if not shift else f"(vector(time()) - {promql.number(shift * interval)})"
    return f"floor({t} / {promql.number(interval)})"


def _part(expr: str, name: str) -> str:
    """One term of a sum whose missing terms count as 0: `sum by (...) (a or b or c)` with each term
    kept apart by a label of its own."""
    return f'label_replace({expr}, "{PART}", "{name}", "", "")'


def block_rule(service: Service, level: int, interval: int) -> Recording:
    """Blocks of 2^level slices, recorded at the evaluation after each one ends."""
    size = 1 << level
    src = promql.selector(events_name(interval), service_matchers(service))
    ids = by((*identity(service), EVENT))
    expr = (
        f"sum {ids} (sum_over_time({src}[{slices_range(size, interval)}] offset {fd(interval)}))\n"
        f"and on () ({_evaluation_number(interval)} % {size} == 1)"
    )
    return Recording(block_name(size, interval), Expr(expr), dict(service.labels))


def partial_rule(service: Service, interval: int) -> Recording:
    """P(n): the slices after the last 64-slice block up to n - 2, as one block of each size whose bit
    is set in their count (f(n - 2) itself for the lowest bit)."""
    sel = service_matchers(service)
    count = _evaluation_number(interval, shift=2)
    terms = []
    for level in range(BLOCK_LEVELS):
        size = 1 << level
        bit = f"scalar(floor({count} / {size}) % 2)"
        if level == 0:
            src = promql.selector(events_name(interval), sel)
            read = f"sum_over_time({src}[{span(interval / 2)}] offset {fd(2 * interval)})"
        else:
            src = promql.selector(block_name(size, interval), sel)
            read = f"sum_over_time({src}[{slices_range(size, interval)}] offset {fd(interval)})"
        terms.append(_part(f"{read} * {bit}", str(level)))
    expr = f"sum {by((*identity(service), EVENT))} (\n  " + "\n  or\n  ".join(terms) + "\n)"
    return Recording(PARTIAL, Expr(expr), dict(service.labels))


def sum_expr(service: Service, window: int, interval: int) -> str:
    """The events of every SLO of the service over `window` (see the module's formula)."""
    sel = service_matchers(service)
    events = promql.selector(events_name(interval), sel)
    ids = by((*identity(service), EVENT))
    slices = window // interval
    if slices <= DIRECT_MAX:
        return f"sum {ids} (sum_over_time({events}[{window_range(window, interval)}]))"
    blocks = promql.selector(block_name(BLOCK_SLICES, interval), sel)
    partial = promql.selector(PARTIAL, sel)
    half = span(interval / 2)
    edge = slices_range(EDGE, interval)
    terms = [
        _part(
            f"sum_over_time({blocks}[{slices_range(slices, interval)}] offset {fd(2 * interval)})", "blocks"
        ),
        _part(f"last_over_time({partial}[{half}] offset {fd(interval)})", "open"),
        _part(f"-last_over_time({partial}[{half}] offset {fd((slices + 1) * interval)})", "open_before"),
        _part(f"sum_over_time({events}[{edge}])", "newest"),
        _part(f"-sum_over_time({events}[{edge}] offset {fd(window)})", "oldest"),
    ]
    return f"sum {ids} (\n  " + "\n  or\n  ".join(terms) + "\n)"


def window_rules(service: Service, interval: int) -> list[Recording]:
    """Blocks, the open block, then per window its events and error ratio; then the current burn."""
    rules: list[Recording] = [block_rule(service, level, interval) for level in range(1, BLOCK_LEVELS + 1)]
    rules.append(partial_rule(service, interval))
    static = dict(service.labels)
    sel = service_matchers(service)
    for window in service_windows(service):
        rules.append(Recording(sum_name(window), Expr(sum_expr(service, window, interval)), static))
        errors = promql.selector(sum_name(window), {**sel, EVENT: ERROR})
        total = promql.selector(sum_name(window), {**sel, EVENT: TOTAL})
        intervals = promql.selector(sum_name(window), {**sel, EVENT: INTERVAL})
        # No ratio for a window without a single interval of data (its block-built sum lingers, at 0,
        # until the slices it read leave it): no data is no data, not 0/0.
        rules.append(
            Recording(
                ratio_name(window),
                Expr(f"{errors}\n/ ignoring ({EVENT})\n{total}\nand ignoring ({EVENT})\n{intervals} > 0"),
                {**static, "window": fd(window)},
            )
        )
    budget = promql.selector(BUDGET, sel)
    rules.append(
        Recording(
            burn_name(CURRENT_BURN_WINDOW),
            Expr(
                f"{promql.selector(ratio_name(CURRENT_BURN_WINDOW), sel)}\n/ on (service, slo) group_left ()\n{budget}"
            ),
            {**static, "window": fd(CURRENT_BURN_WINDOW)},
        )
    )
    return rules
