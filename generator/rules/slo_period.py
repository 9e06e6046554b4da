"""Per-SLO series: objective, budget, metadata, the stability input, and the SLO-window figures.

Budget remaining and the SLO-window burn are recorded only while the SLO window is covered (at least
90 % of its intervals have data); `slodrift:slo_period_coverage:ratio` says how much is, so a dashboard
shows "warming up, 12 %" instead of a budget computed from six minutes as if from thirty days.
"""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.model import SLO, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
    BUDGET,
    BUDGET_REMAINING,
    COMPLIANT,
    CURRENT_BURN_WINDOW,
    EVENT,
    INFO,
    INTERVAL,
    OBJECTIVE,
    PERIOD_COVERAGE,
    RATE_WINDOW,
    burn_name,
    compliance_kind,
    covered_count,
    on,
    ratio_name,
    slo_identity,
    slo_labels,
    slo_matchers,
    sum_name,
)
from slodrift.generator.rules.types import Recording


def constant_rules(service: Service, slo: SLO) -> list[Recording]:
    """Objective, budget and the info series: constants, first in the group (later rules join them)."""
    labels = {**slo_labels(service, slo), "window": fd(slo.window)}
    return [
        Recording(OBJECTIVE, Expr(f"vector({promql.number(slo.objective)})"), labels),
        Recording(BUDGET, Expr(f"vector({promql.number(slo.error_budget)})"), labels),
        Recording(
            INFO,
            Expr("vector(1)"),
            {
                **labels,
                "objective": promql.number(slo.objective),
                "sli_kind": slo.sli.kind,
                **({"group_by": ",".join(slo.group_by)} if slo.group_by else {}),
            },
        ),
    ]


def period_rules(service: Service, slo: SLO, interval: int) -> list[Recording]:
    """Compliance (per 5m), then coverage, budget remaining and burn over the SLO window."""
    sel = slo_matchers(service, slo)
    labels = slo_labels(service, slo)
    budget = promql.number(slo.error_budget)
    match = on(slo_identity(slo))
    rate5m = promql.selector(ratio_name(RATE_WINDOW), sel)
    period_ratio = promql.selector(ratio_name(slo.window), sel)
    intervals = promql.selector(sum_name(slo.window), {**sel, EVENT: INTERVAL})
    covered = promql.number(covered_count(slo.window, interval))
    needed = promql.number(slo.window // interval)
    period = {**labels, "window": fd(slo.window)}
    rules = [
        # Per-interval stability input: 1 when the 5m SLI meets the objective, 0 when not, nothing when
        # idle (0/0): the scores average it over days, and an idle interval is neither good nor bad.
        Recording(
            COMPLIANT,
            Expr(f"{rate5m} <= bool {budget}\nunless\n{rate5m} != {rate5m}"),
            {**labels, "window": fd(RATE_WINDOW), "compliance": compliance_kind(slo)},
        ),
        Recording(
            PERIOD_COVERAGE, Expr(f"clamp_max(sum without ({EVENT}) ({intervals}) / {needed}, 1)"), period
        ),
        Recording(
            BUDGET_REMAINING,
            Expr(f"1 - {period_ratio} / {budget}\nand {match}\n{intervals} >= {covered}"),
            period,
        ),
    ]
    if slo.window != CURRENT_BURN_WINDOW:  # the shared rules record the 1h burn already
        rules.append(
            Recording(
                burn_name(slo.window),
                Expr(f"{period_ratio} / {budget}\nand {match}\n{intervals} >= {covered}"),
                period,
            )
        )
    return rules
