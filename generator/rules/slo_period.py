"""Per-SLO series: objective, budget, metadata, the stability input, and the SLO-window figures.

Budget remaining and the SLO-window burn are recorded only while the SLO window is covered (at least
90 % of its intervals have data); `slodrift:slo_period_coverage:ratio` says how much is, so a dashboard
shows "warming up, 12 %" instead of a budget computed from six minutes as if from thirty days.

The SLO-window figures of SLOs that share every parameter of their rule (SLO window, labels, compliance
kind) are one rule per series name and service (`shared_period_rules`), which reads every SLO's series at
once and divides by each SLO's recorded budget (the same number as the literal a rule per SLO would
divide by): one rule instead of one per SLO records the same series, at a fraction of the selectors (a
rule evaluation costs about what its selectors read, so this is what the generated tests and Prometheus
pay). The join on the budget also keeps SLOs that are no longer in the spec, whose 30-day sums linger,
out of the output, as a rule per SLO would.
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
    identity,
    on,
    ratio_name,
    service_matchers,
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


def _shared(service: Service, key: object, keys: dict[str, object]) -> bool:
    """Whether every SLO of the service has this rule key (then one rule covers them all)."""
    return all(k == key for k in keys.values()) and len(keys) == len(service.slos)


def shared_period_rules(service: Service, interval: int) -> list[Recording]:
    """The period rules of every SLO of the service: one rule per series name where two or more SLOs
    share its parameters (every SLO of the service; for compliance, every SLO of one compliance kind), a
    rule per SLO otherwise (also for a single SLO, where the joins would cost more than they save)."""
    svc = service_matchers(service)
    budget = promql.selector(BUDGET, svc)
    join = f"/ {on(('service', 'slo'))} group_left ()\n{budget}"
    match = on(identity(service))
    rules: list[Recording] = []
    per_slo = {slo.name: period_rules(service, slo, interval) for slo in service.slos}
    shared: set[str] = set()  # series names recorded by one rule for every SLO

    # compliance: one rule per compliance kind whose SLOs share their labels
    kinds = {compliance_kind(slo) for slo in service.slos}
    for kind in sorted(kinds):
        slos = [slo for slo in service.slos if compliance_kind(slo) == kind]
        if len(slos) < 2 or len({tuple(slo.labels.items()) for slo in slos}) != 1:
            continue  # a rule of its own is cheaper for one SLO; one per SLO when labels differ
        rate5m = promql.selector(ratio_name(RATE_WINDOW), svc)
        op = "=" if kind == "latency" else "!="
        info = promql.selector(INFO, svc, (promql.Matcher("sli_kind", op, "latency"),))
        rules.append(
            Recording(
                COMPLIANT,
                Expr(
                    f"(\n{rate5m}\n<= bool {on(('service', 'slo'))} group_left ()\n{budget}\n)\n"
                    f"and {on(('service', 'slo'))}\n{info}\nunless\n{rate5m} != {rate5m}"
                ),
                {**slos[0].labels, "service": service.name, "window": fd(RATE_WINDOW), "compliance": kind},
            )
        )
        shared |= {f"{COMPLIANT}/{slo.name}" for slo in slos}

    # coverage, budget remaining, SLO-window burn: one rule each when every SLO has the same window
    # and labels
    keys: dict[str, object] = {slo.name: (slo.window, tuple(slo.labels.items())) for slo in service.slos}
    first = service.slos[0]
    if len(service.slos) > 1 and _shared(service, keys[first.name], keys):
        window = first.window
        period = {**first.labels, "service": service.name, "window": fd(window)}
        period_ratio = promql.selector(ratio_name(window), svc)
        intervals = promql.selector(sum_name(window), {**svc, EVENT: INTERVAL})
        covered = promql.number(covered_count(window, interval))
        needed = promql.number(window // interval)
        rules.append(
            Recording(
                PERIOD_COVERAGE,
                Expr(
                    f"clamp_max(sum without ({EVENT}) ({intervals}) / {needed}, 1)\n"
                    f"and {on(('service', 'slo'))}\n{budget}"
                ),
                period,
            )
        )
        rules.append(
            Recording(
                BUDGET_REMAINING,
                Expr(f"1 - {period_ratio}\n{join}\nand {match}\n{intervals} >= {covered}"),
                period,
            )
        )
        if window != CURRENT_BURN_WINDOW:
            rules.append(
                Recording(
                    burn_name(window),
                    Expr(f"{period_ratio}\n{join}\nand {match}\n{intervals} >= {covered}"),
                    period,
                )
            )
        shared |= {
            f"{name}/{slo.name}"
            for name in (PERIOD_COVERAGE, BUDGET_REMAINING, burn_name(window))
            for slo in service.slos
        }

    for slo in service.slos:
        rules.extend(r for r in per_slo[slo.name] if f"{r.record}/{slo.name}" not in shared)
    return rules
