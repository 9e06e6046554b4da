"""SLO recording and alerting rules: pure functions from the model to rule-group dictionaries.

Raw counters are read once per SLO, as 5m error and request rates. Every longer window is the ratio of
the sums of those two recorded series over the window, which is traffic-weighted (a busy hour counts
more than a quiet one, as it should) and costs the same however many raw series the service has.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from generator import promql
from generator.model import SLO, AlertTier, Service
from generator.promql import format_duration as fd

RATE_WINDOW = 300  # seconds; the only window that reads raw counters
CURRENT_BURN_WINDOW = 3600
STANDARD_WINDOWS = (1800, 3600, 7200, 21600, 86400, 259200)

ERRORS = "slodrift:sli_errors:rate5m"
REQUESTS = "slodrift:sli_requests:rate5m"
OBJECTIVE = "slodrift:slo_objective:ratio"
BUDGET = "slodrift:slo_error_budget:ratio"
BUDGET_REMAINING = "slodrift:slo_error_budget_remaining:ratio"
INFO = "slodrift:slo:info"
COMPLIANT = "slodrift:slo_compliant:bool5m"
BURN_ALERT = "SlodriftErrorBudgetBurn"
NO_DATA_ALERT = "SlodriftSLINoData"


class Expr(str):
    """A PromQL expression; the YAML writer prints multi-line ones as literal blocks for review."""


def ratio_name(window: int) -> str:
    """Recorded error ratio over `window` seconds."""
    return f"slodrift:sli_error:ratio_rate{fd(window)}"


def burn_name(window: int) -> str:
    """Recorded burn rate (error ratio / budget) over `window` seconds."""
    return f"slodrift:slo_burn:rate{fd(window)}"


def slo_labels(service: Service, slo: SLO) -> dict[str, str]:
    """Identity labels of every series of one SLO: user labels first, then slodrift's own."""
    return {**slo.labels, "service": service.name, "slo": slo.name}


def slo_matchers(service: Service, slo: SLO) -> dict[str, str]:
    """Matchers that select exactly this SLO's recorded series."""
    return {"service": service.name, "slo": slo.name}


def compliance_kind(slo: SLO) -> str:
    """Which stability input an SLO feeds: latency SLOs the latency score, every other the availability one."""
    return "latency" if slo.sli.kind == "latency" else "availability"


def ratio_windows(slo: SLO) -> list[int]:
    """Windows recorded beyond 5m: the standard set, every alert window and the SLO window."""
    windows = {w for w in STANDARD_WINDOWS if w <= slo.window}
    for tier in slo.tiers:
        for bw in tier.windows:
            windows.update((bw.long, bw.short))
    windows.add(slo.window)
    windows.add(CURRENT_BURN_WINDOW)
    windows.discard(RATE_WINDOW)
    return sorted(windows)


def _rate(sel: promql.Selector) -> str:
    return f"sum(rate({sel.render()}[{fd(RATE_WINDOW)}]))"


def sli_exprs(slo: SLO) -> tuple[str, str]:
    """The two raw reads of an SLO: error events per second and all events per second, over 5m."""
    sli = slo.sli
    w = fd(RATE_WINDOW)
    if sli.kind == "events":
        assert sli.errors is not None and sli.total is not None
        return _rate(sli.errors), _rate(sli.total)
    if sli.kind == "event_queries":
        assert sli.error_query is not None and sli.total_query is not None
        return (f"sum({sli.error_query.replace('{{window}}', w)})",
                f"sum({sli.total_query.replace('{{window}}', w)})")
    if sli.kind == "latency":
        assert sli.histogram is not None and sli.threshold is not None
        count = promql.Selector(sli.histogram + "_count", sli.latency_matchers)
        good = promql.Selector(sli.histogram + "_bucket", (*sli.latency_matchers, promql.le_matcher(sli.threshold)))
        total = _rate(count)
        return f"{total} - {_rate(good)}", total
    if sli.kind == "error_ratio":
        # Only a ratio is known, so each evaluation weighs 1: longer windows average the ratio.
        assert sli.error_ratio_query is not None
        q = sli.error_ratio_query.replace("{{window}}", w)
        return f"avg({q})", f"clamp(count({q}), 1, 1)"
    raise ValueError(f"unknown SLI kind {sli.kind!r}")


def recording_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """All recording rules of one SLO, in evaluation order (each reads only rules above it)."""
    labels = slo_labels(service, slo)
    sel = slo_matchers(service, slo)
    budget = promql.number(slo.error_budget)
    errors_expr, total_expr = sli_exprs(slo)
    w5 = fd(RATE_WINDOW)
    rules: list[dict[str, Any]] = [
        {"record": ERRORS, "expr": Expr(errors_expr), "labels": {**labels, "window": w5}},
        {"record": REQUESTS, "expr": Expr(total_expr), "labels": {**labels, "window": w5}},
        {"record": ratio_name(RATE_WINDOW),
         "expr": Expr(f"{promql.selector(ERRORS, sel)} / {promql.selector(REQUESTS, sel)}"),
         "labels": {**labels, "window": w5}},
        # Per-interval stability input: 1 when the 5m SLI meets the objective, 0 when not, nothing when
        # idle (0/0): the scores average it over days, and an idle interval is neither good nor bad.
        {"record": COMPLIANT,
         "expr": Expr(f"{promql.selector(ratio_name(RATE_WINDOW), sel)} <= bool {budget}\n"
                      f"unless\n{promql.selector(ratio_name(RATE_WINDOW), sel)} != "
                      f"{promql.selector(ratio_name(RATE_WINDOW), sel)}"),
         "labels": {**labels, "window": w5, "compliance": compliance_kind(slo)}},
    ]
    for window in ratio_windows(slo):
        w = fd(window)
        rules.append({
            "record": ratio_name(window),
            "expr": Expr(f"sum_over_time({promql.selector(ERRORS, sel)}[{w}])\n/\n"
                         f"sum_over_time({promql.selector(REQUESTS, sel)}[{w}])"),
            "labels": {**labels, "window": w},
        })
    period = fd(slo.window)
    rules += [
        {"record": OBJECTIVE, "expr": Expr(f"vector({promql.number(slo.objective)})"),
         "labels": {**labels, "window": period}},
        {"record": BUDGET, "expr": Expr(f"vector({budget})"), "labels": {**labels, "window": period}},
        {"record": burn_name(CURRENT_BURN_WINDOW),
         "expr": Expr(f"{promql.selector(ratio_name(CURRENT_BURN_WINDOW), sel)} / {budget}"),
         "labels": {**labels, "window": fd(CURRENT_BURN_WINDOW)}},
    ]
    if slo.window != CURRENT_BURN_WINDOW:
        rules.append({"record": burn_name(slo.window),
                      "expr": Expr(f"{promql.selector(ratio_name(slo.window), sel)} / {budget}"),
                      "labels": {**labels, "window": period}})
    rules += [
        {"record": BUDGET_REMAINING,
         "expr": Expr(f"1 - {promql.selector(ratio_name(slo.window), sel)} / {budget}"),
         "labels": {**labels, "window": period}},
        {"record": INFO, "expr": Expr("vector(1)"),
         "labels": {**labels, "window": period, "objective": promql.number(slo.objective),
                    "sli_kind": slo.sli.kind}},
    ]
    return rules


def threshold(slo: SLO, factor: Decimal) -> str:
    """Error-ratio threshold of a burn factor, exact (14.4 x 0.001 = 0.0144)."""
    return promql.number(factor * slo.error_budget)


def burn_alert_expr(service: Service, slo: SLO, tier: AlertTier) -> str:
    """Multi-window, multi-burn-rate condition of one tier, with the minimum-traffic guard."""
    sel = slo_matchers(service, slo)
    branches = []
    for bw in tier.windows:
        t = threshold(slo, bw.factor)
        cond = (f"  (\n    {promql.selector(ratio_name(bw.long), sel)} > {t}\n"
                f"    and ignoring (window)\n    {promql.selector(ratio_name(bw.short), sel)} > {t}\n")
        if slo.min_request_rate > 0:
            cond += (f"    and ignoring (window)\n    avg_over_time({promql.selector(REQUESTS, sel)}[{fd(bw.long)}])"
                     f" >= {promql.number(slo.min_request_rate)}\n")
        branches.append(cond + "  )")
    return "max without (window) (\n" + "\n  or\n".join(branches) + "\n)"


def _pct(ratio: Decimal) -> str:
    return promql.number(ratio * 100) + "%"


def burn_annotations(service: Service, slo: SLO, tier: AlertTier) -> dict[str, str]:
    """Default annotations; spec values are inserted as literal text, never as template code."""
    pairs = ", ".join(f"{promql.number(bw.factor)}x over {fd(bw.long)} and {fd(bw.short)}" for bw in tier.windows)
    lit = promql.template_literal
    out = {
        "summary": lit(f"{service.name} {slo.name}: error budget burning too fast ({tier.name})"),
        "description": lit(
            f"The {slo.name} SLO of {service.name} ({_pct(slo.objective)} over {fd(slo.window)}) is consuming "
            f"its error budget at {pairs} the sustainable rate."),
    }
    out.update(slo.annotations)
    out.update(tier.annotations)
    return out


def alert_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Burn-rate alerts per tier and the no-data alert of one SLO."""
    lit = promql.template_literal
    rules: list[dict[str, Any]] = []
    for tier in slo.tiers:
        if not tier.windows:
            continue
        rule: dict[str, Any] = {"alert": BURN_ALERT, "expr": Expr(burn_alert_expr(service, slo, tier))}
        if tier.for_seconds:
            rule["for"] = fd(tier.for_seconds)
        # service and slo are on the series already; repeating them keeps rules distinct for promtool's lint.
        rule["labels"] = {**{k: lit(v) for k, v in tier.labels.items()}, "service": service.name, "slo": slo.name,
                          "severity": tier.severity, "tier": tier.name}
        if tier.receiver:
            rule["labels"]["receiver"] = tier.receiver
        rule["annotations"] = burn_annotations(service, slo, tier)
        rules.append(rule)
    if slo.no_data:
        sel = slo_matchers(service, slo)
        rules.append({
            "alert": NO_DATA_ALERT,
            "expr": Expr(f"absent_over_time({promql.selector(ratio_name(RATE_WINDOW), sel)}[{fd(slo.no_data.for_seconds)}])"),
            "labels": {**{k: lit(v) for k, v in slo.labels.items()}, "service": service.name, "slo": slo.name,
                       "severity": slo.no_data.severity},
            "annotations": {
                "summary": lit(f"{service.name} {slo.name}: the SLI has no data"),
                "description": lit(
                    f"No error ratio has been recorded for the {slo.name} SLO of {service.name} for "
                    f"{fd(slo.no_data.for_seconds)}: its metrics are missing or the SLI query matches nothing, "
                    "so burn-rate alerts cannot fire."),
                **slo.annotations,
            },
        })
    return rules


def slo_groups(service: Service, interval: int) -> list[dict[str, Any]]:
    """The SLO rule groups of one service: recordings first, then the alerts that read them."""
    recordings: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for slo in service.slos:
        recordings.extend(recording_rules(service, slo))
        alerts.extend(alert_rules(service, slo))
    groups = [{"name": f"slodrift-slo-{service.name}", "interval": fd(interval), "rules": recordings}]
    if alerts:
        groups.append({"name": f"slodrift-slo-alerts-{service.name}", "interval": fd(interval), "rules": alerts})
    return groups
