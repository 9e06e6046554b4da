"""SLO alerts: one burn-rate alert per window pair, the absent and no-data alerts, the group limit.

A pair fires when both of its windows burn faster than its factor, the long window holds at least
`min_error_events` errors (a handful of errors at low traffic is no page; a total outage of a quiet
service is), optionally `min_request_rate`, and both windows are covered: at least 90 % of their
intervals have data, so a window recorded for six minutes never stands in for six hours. The alert's
value is the long window's burn rate; its `long_window` and `short_window` labels say which pair fired
(a fast burn: 1h/5m; a slow one: 3d/6h), and Alertmanager groups the pairs of one SLO together.
"""

from __future__ import annotations

from decimal import Decimal

from slodrift.generator import promql
from slodrift.generator.model import SLO, AlertTier, BurnWindow, Service
from slodrift.generator.promql import Expr
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_names import (
    ABSENT_ALERT,
    BURN_ALERT,
    ERROR,
    EVENT,
    GROUP_LIMIT_ALERT,
    INFO,
    INTERVAL,
    NO_DATA_ALERT,
    RATE_WINDOW,
    TOTAL,
    covered_count,
    events_name,
    ratio_name,
    slo_labels,
    slo_matchers,
    sum_name,
    threshold,
)
from slodrift.generator.rules.types import Alerting

ABSENT_FOR = 300  # targets gone or down this long, and no SLI series: page (within 10 minutes)
GROUP_LIMIT_FOR = 900


def with_labels(expr: str, service: Service, slo: SLO, names: list[str]) -> str:
    """`expr` with the SLO's labels `names` copied from its info series onto every output series, so
    annotation templates (`{{ $labels.team }}`) see them: Prometheus renders annotations from the
    expression's own labels, before the rule's labels are added."""
    if not names:
        return expr
    info = promql.selector(INFO, slo_matchers(service, slo))
    return f"(\n{expr}\n)\n* on () group_left ({', '.join(names)})\n{info}"


def guards_apply(slo: SLO) -> bool:
    """Traffic guards need events; a ratio-only SLI has none (each evaluation weighs 1), so its burn
    alerts have no guard at all."""
    return slo.sli.kind != "error_ratio"


def burn_expr(service: Service, slo: SLO, bw: BurnWindow, interval: int) -> str:
    """The condition of one window pair; its value is the long window's burn rate.

    Operands are matched `ignoring` the labels that tell windows and events apart, so series that
    differ in anything else (a group, or a test case) never pair up.
    """
    sel = slo_matchers(service, slo)
    budget = promql.number(slo.error_budget)
    t = threshold(slo, bw.factor)
    lines = [
        f"sum without (window) ({promql.selector(ratio_name(bw.long), sel)}) / {budget} > {promql.number(bw.factor)}",
        f"and ignoring (window)\n{promql.selector(ratio_name(bw.short), sel)} > {t}",
    ]
    if guards_apply(slo) and slo.min_error_events > 0:
        errors = promql.selector(sum_name(bw.long), {**sel, EVENT: ERROR})
        lines.append(f"and ignoring ({EVENT})\n{errors} >= {promql.number(slo.min_error_events)}")
    if guards_apply(slo) and slo.min_request_rate > 0:
        total = promql.selector(sum_name(bw.long), {**sel, EVENT: TOTAL})
        lines.append(
            f"and ignoring ({EVENT})\n{total} / {promql.number(bw.long)} >= {promql.number(slo.min_request_rate)}"
        )
    # Coverage is the SLO's, not the group's: a group first seen mid-window had no events before, which
    # is known (zero), not missing, so it pages on its own errors as soon as the rules have covered the
    # window (the error guard still asks for enough of them).
    away = ", ".join((EVENT, *slo.group_by))
    for window in (bw.long, bw.short):
        intervals = promql.selector(sum_name(window), {**sel, EVENT: INTERVAL})
        if slo.group_by:
            intervals = f"max without ({away}) ({intervals})"
        lines.append(f"and ignoring ({away})\n{intervals} >= {covered_count(window, interval)}")
    return "\n".join(lines)


def _pct(ratio: Decimal) -> str:
    """`99.9%` for 0.999: exact, as the ratio is a Decimal from the spec."""
    return promql.number(ratio * 100) + "%"


def _group_text(slo: SLO) -> str:
    """` (route {{ $labels.route }})`: which group burns, for a grouped SLO."""
    if not slo.group_by:
        return ""
    return " (" + ", ".join(f"{g} {{{{ $labels.{g} }}}}" for g in slo.group_by) + ")"


def burn_annotations(service: Service, slo: SLO, tier: AlertTier, bw: BurnWindow) -> dict[str, str]:
    """Default annotations with the current burn rate; spec values are inserted as literal text."""
    lit = promql.template_literal
    long, short = fd(bw.long), fd(bw.short)
    out = {
        "summary": lit(
            f"{service.name} {slo.name}: error budget burning too fast ({tier.name}, {long}/{short})"
        )
        + _group_text(slo),
        "description": lit(
            f"The {slo.name} SLO of {service.name} ({_pct(slo.objective)} over {fd(slo.window)})"
        )
        + _group_text(slo)
        + ' is burning its error budget at {{ $value | printf "%.1f" }}x over the last '
        + lit(
            f"{long}, and faster than {promql.number(bw.factor)}x over the last {short} too "
            f"(alert threshold {promql.number(bw.factor)}x: {_pct(bw.factor * slo.error_budget)} errors)."
        ),
    }
    out.update(slo.annotations)
    out.update(tier.annotations)
    return out


def burn_rules(service: Service, slo: SLO, interval: int) -> list[Alerting]:
    """One alert per window pair of every tier."""
    lit = promql.template_literal
    rules = []
    for tier in slo.tiers:
        for bw in tier.windows:
            labels = {
                **{k: lit(v) for k, v in tier.labels.items()},
                **{k: lit(v) for k, v in slo_labels(service, slo).items()},
                "severity": tier.severity,
                "tier": tier.name,
                "long_window": fd(bw.long),
                "short_window": fd(bw.short),
            }
            if tier.receiver:
                labels["receiver"] = tier.receiver
            rules.append(
                Alerting(
                    BURN_ALERT,
                    Expr(
                        with_labels(
                            burn_expr(service, slo, bw, interval),
                            service,
                            slo,
                            [k for k in slo.labels if k not in service.labels],
                        )
                    ),
                    labels,
                    burn_annotations(service, slo, tier, bw),
                    for_seconds=tier.for_seconds,
                )
            )
    return rules


def raw_total(slo: SLO) -> promql.Selector | None:
    """The raw counter whose absence means the SLI's targets are gone (selector SLIs only)."""
    sli = slo.sli
    if sli.kind == "events":
        return sli.total
    if sli.kind == "latency":
        assert sli.histogram is not None
        return promql.Selector(sli.histogram + "_count", sli.latency_matchers)
    return None


def _absent(service: Service, slo: SLO, interval: int) -> str:
    """The SLI's total has no series (raw counters for selector SLIs, the recorded total otherwise)."""
    raw = raw_total(slo)
    if raw is not None:
        return f"absent({raw.render()})"
    return f"absent({promql.selector(events_name(interval), {**slo_matchers(service, slo), EVENT: TOTAL})})"


def _targets_up(service: Service) -> str | None:
    """Some target of the service is up: `up` with the service's selector. None when the service has
    no selector, so an idle service cannot be told from a vanished one."""
    if not service.selector:
        return None
    up = promql.Selector("up", service.selector).render()
    return f"count({up} == 1) > 0"


def absent_rules(service: Service, slo: SLO, interval: int) -> list[Alerting]:
    """SlodriftSLIAbsent (critical): the SLI's series are gone and no target of the service is up.
    SlodriftSLINoData (the spec's no-data severity): no 5m ratio for a while, with targets up (an idle
    service whose counters do not exist yet, or a query that selects nothing)."""
    lit = promql.template_literal
    labels = {k: lit(v) for k, v in slo_labels(service, slo).items()}
    page = next((t for t in slo.tiers if t.name == "page"), None)
    up = _targets_up(service)
    gone = _absent(service, slo, interval) + (f"\nunless on ()\n{up}" if up else "")
    carried = [*slo.labels, "service", "slo"]
    rules = [
        Alerting(
            ABSENT_ALERT,
            Expr(with_labels(gone, service, slo, carried)),
            {
                **labels,
                "severity": page.severity if page else "critical",
                **({"receiver": page.receiver} if page and page.receiver else {}),
            },
            {
                "summary": lit(f"{service.name} {slo.name}: the SLI's series are gone"),
                "description": lit(
                    f"The {slo.name} SLO of {service.name} has no series to read"
                    + (", and no target of the service is up" if up else "")
                    + ": the targets are down or gone, so its burn alerts cannot fire."
                ),
                **slo.annotations,
            },
            for_seconds=ABSENT_FOR,
        )
    ]
    if slo.no_data:
        rate5m = promql.selector(ratio_name(RATE_WINDOW), slo_matchers(service, slo))
        window = fd(slo.no_data.for_seconds)
        # ... once the rules have run that long (their info series existed a window ago): rules just
        # loaded have recorded nothing yet, which is not the SLI having no data.
        running = f"{promql.selector(INFO, slo_matchers(service, slo))} offset {window}"
        expr = with_labels(
            f"absent_over_time({rate5m}[{window}])\nand on ()\n{running}\nunless on () (\n{gone}\n)",
            service,
            slo,
            [k for k in slo.labels if k not in ("service", "slo")],
        )
        rules.append(
            Alerting(
                NO_DATA_ALERT,
                Expr(expr),
                {**labels, "severity": slo.no_data.severity},
                {
                    "summary": lit(f"{service.name} {slo.name}: the SLI has no data"),
                    "description": lit(
                        f"No error ratio has been recorded for the {slo.name} SLO of {service.name} for "
                        f"{fd(slo.no_data.for_seconds)} while its targets are up: its metrics do not exist "
                        "yet (an idle service) or the SLI selects nothing, so burn-rate alerts cannot fire."
                    ),
                    **slo.annotations,
                },
            )
        )
    return rules


def group_limit_rule(service: Service, slo: SLO, interval: int) -> Alerting:
    """A grouped SLO at its `max_groups`: the least busy groups beyond it are not evaluated."""
    lit = promql.template_literal
    total = promql.selector(events_name(interval), {**slo_matchers(service, slo), EVENT: TOTAL})
    return Alerting(
        GROUP_LIMIT_ALERT,
        Expr(f"count({total}) >= {slo.max_groups}"),
        {**{k: lit(v) for k, v in slo_labels(service, slo).items()}, "severity": "warning"},
        {
            "summary": lit(f"{service.name} {slo.name}: {slo.max_groups} groups, the limit"),
            "description": lit(
                f"The {slo.name} SLO of {service.name} is grouped by {', '.join(slo.group_by)} and has reached "
                f"max_groups ({slo.max_groups}): groups beyond it, the least busy in each interval, are not "
                "evaluated. Raise max_groups or group by fewer values."
            ),
        },
        for_seconds=GROUP_LIMIT_FOR,
    )


def alert_rules(service: Service, slo: SLO, interval: int) -> list[Alerting]:
    """Every alert of one SLO."""
    rules: list[Alerting] = [*burn_rules(service, slo, interval), *absent_rules(service, slo, interval)]
    if slo.group_by:
        rules.append(group_limit_rule(service, slo, interval))
    return rules
