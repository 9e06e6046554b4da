"""SLO recording and alerting rules: pure functions from the model to rule-group dictionaries.

Raw counters are read once per SLO and evaluation: the error and request events of the last evaluation
interval, as the difference of each counter's last sample now and one interval ago. Consecutive
evaluations share their edges, so the recorded slices tile time: summed over a window they count every
counter increment exactly once, whatever the scrape interval and its phase against the evaluations.
Every window, 5m included, is then the ratio of the sums of those two recorded series, which is exact
(an average of ratios, or overlapping 5m rates summed, is not), traffic-weighted, and costs the same
however many raw series the service has.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import SLO, AlertTier, Service
from slodrift.generator.promql import Expr  # re-exported until callers import it from promql
from slodrift.generator.promql import format_duration as fd

RATE_WINDOW = 300  # seconds; the shortest window, read by the page tier, compliance and no-data
CURRENT_BURN_WINDOW = 3600
STANDARD_WINDOWS = (1800, 3600, 7200, 21600, 86400, 259200)
LOOKBACK = "5m"  # how far back a counter's last sample is looked for: Prometheus' default lookback delta
OBJECTIVE = "slodrift:slo_objective:ratio"
BUDGET = "slodrift:slo_error_budget:ratio"
BUDGET_REMAINING = "slodrift:slo_error_budget_remaining:ratio"
INFO = "slodrift:slo:info"
COMPLIANT = "slodrift:slo_compliant:bool5m"
BURN_ALERT = "SlodriftErrorBudgetBurn"
NO_DATA_ALERT = "SlodriftSLINoData"


def errors_name(interval: int) -> str:
    """Recorded error events of one evaluation interval (the only read of the raw error counters)."""
    return f"slodrift:sli_errors:increase{fd(interval)}"


def requests_name(interval: int) -> str:
    """Recorded request events of one evaluation interval (the only read of the raw request counters)."""
    return f"slodrift:sli_requests:increase{fd(interval)}"


def range_seconds(window: int, interval: int) -> float:
    """The range that holds exactly `window / interval` slices at an evaluation.

    Slices are recorded on the evaluation grid, so a range of the full window would hold one slice too
    many on Prometheus 2 (closed ranges) and the right number on 3 (left-open). Half an interval shorter
    holds the right number on both, and stays clear of every slice's timestamp. A whole or half number of
    seconds, so exact as a float.
    """
    return window - interval / 2


@functools.lru_cache(maxsize=4096)
def window_range(window: int, interval: int) -> str:
    """`range_seconds` as a PromQL duration (`59m30s`; `4m59s500ms` at a 1s interval)."""
    r = range_seconds(window, interval)
    whole = int(r)
    ms = round((r - whole) * 1000)
    return fd(whole) + (f"{ms}ms" if ms else "")


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
    windows.add(RATE_WINDOW)
    return sorted(windows)


def increase_expr(sel: promql.Selector, interval: int) -> str:
    """Increments of the selected counters during the last evaluation interval, summed.

    Each counter's last sample now minus its last sample one interval ago: summed over consecutive
    evaluations this telescopes, so nothing is counted twice or missed. `last_over_time` looks past the
    staleness marker of a failed scrape, so the increments across a short gap are counted when the
    scrape succeeds again, as `rate()` would count them. A counter that went down was reset: its value
    now is what it counted since. A counter without a sample one interval ago (a new series) adds
    nothing yet, as with `rate()`: counting its whole value would count, say, a freshly scraped
    target's lifetime of requests in one interval.
    """
    now = f"last_over_time({sel.render()}[{LOOKBACK}])"
    before = f"last_over_time({sel.render()}[{LOOKBACK}] offset {fd(interval)})"
    return f"sum(\n  ({now} - {before}) >= 0\n  or\n  ({now} and {before})\n)"


def sli_exprs(slo: SLO, interval: int) -> tuple[str, str]:
    """The two raw reads of an SLO: error events and all events of the last evaluation interval.

    Selector-based SLIs (events, latency) are exact. Query-based ones can only be read as given, as 5m
    rates: times the interval, they are the classic approximation (exact in the long run, not at every
    edge).
    """
    sli = slo.sli
    w = fd(RATE_WINDOW)
    per_interval = promql.number(interval)
    if sli.kind == "events":
        assert sli.errors is not None and sli.total is not None
        return increase_expr(sli.errors, interval), increase_expr(sli.total, interval)
    if sli.kind == "event_queries":
        assert sli.error_query is not None and sli.total_query is not None
        return (
            f"sum({sli.error_query.replace('{{window}}', w)}) * {per_interval}",
            f"sum({sli.total_query.replace('{{window}}', w)}) * {per_interval}",
        )
    if sli.kind == "latency":
        assert sli.histogram is not None and sli.threshold is not None
        count = promql.Selector(sli.histogram + "_count", sli.latency_matchers)
        good = promql.Selector(
            sli.histogram + "_bucket", (*sli.latency_matchers, promql.le_matcher(sli.threshold))
        )
        total = increase_expr(count, interval)
        return f"{total}\n-\n{increase_expr(good, interval)}", total
    if sli.kind == "error_ratio":
        # Only a ratio is known, so each evaluation weighs 1: longer windows average the ratio.
        assert sli.error_ratio_query is not None
        q = sli.error_ratio_query.replace("{{window}}", w)
        return f"avg({q})", f"clamp(count({q}), 1, 1)"
    raise ValueError(f"unknown SLI kind {sli.kind!r}")


def ratio_expr(slo: SLO, errors: str, requests: str, rng: str) -> str:
    """Errors over requests in a range. A service with requests but no error series at all (one that
    has not failed since it started: `code="500"` appears with the first 500) has an error ratio of 0,
    not no data; a service without request series has no data."""
    num = f"sum_over_time({errors}[{rng}])"
    den = f"sum_over_time({requests}[{rng}])"
    if slo.sli.kind in ("events", "event_queries"):
        num = f"(\n  {num}\n  or\n  0 * {den}\n)"
    return f"{num}\n/\n{den}"


def recording_rules(service: Service, slo: SLO, interval: int) -> list[dict[str, Any]]:
    """All recording rules of one SLO, in evaluation order (each reads only rules above it)."""
    labels = slo_labels(service, slo)
    sel = slo_matchers(service, slo)
    budget = promql.number(slo.error_budget)
    errors_expr, total_expr = sli_exprs(slo, interval)
    errors, requests = errors_name(interval), requests_name(interval)
    rules: list[dict[str, Any]] = [
        {"record": errors, "expr": Expr(errors_expr), "labels": {**labels, "window": fd(interval)}},
        {"record": requests, "expr": Expr(total_expr), "labels": {**labels, "window": fd(interval)}},
    ]
    for window in ratio_windows(slo):
        w = window_range(window, interval)
        rules.append(
            {
                "record": ratio_name(window),
                "expr": Expr(
                    ratio_expr(slo, promql.selector(errors, sel), promql.selector(requests, sel), w)
                ),
                "labels": {**labels, "window": fd(window)},
            }
        )
        if window == RATE_WINDOW:
            # Per-interval stability input: 1 when the 5m SLI meets the objective, 0 when not, nothing
            # when idle (0/0): the scores average it over days, and an idle interval is neither good nor bad.
            rules.append(
                {
                    "record": COMPLIANT,
                    "expr": Expr(
                        f"{promql.selector(ratio_name(RATE_WINDOW), sel)} <= bool {budget}\n"
                        f"unless\n{promql.selector(ratio_name(RATE_WINDOW), sel)} != "
                        f"{promql.selector(ratio_name(RATE_WINDOW), sel)}"
                    ),
                    "labels": {**labels, "window": fd(RATE_WINDOW), "compliance": compliance_kind(slo)},
                }
            )
    period = fd(slo.window)
    rules += [
        {
            "record": OBJECTIVE,
            "expr": Expr(f"vector({promql.number(slo.objective)})"),
            "labels": {**labels, "window": period},
        },
        {"record": BUDGET, "expr": Expr(f"vector({budget})"), "labels": {**labels, "window": period}},
        {
            "record": burn_name(CURRENT_BURN_WINDOW),
            "expr": Expr(f"{promql.selector(ratio_name(CURRENT_BURN_WINDOW), sel)} / {budget}"),
            "labels": {**labels, "window": fd(CURRENT_BURN_WINDOW)},
        },
    ]
    if slo.window != CURRENT_BURN_WINDOW:
        rules.append(
            {
                "record": burn_name(slo.window),
                "expr": Expr(f"{promql.selector(ratio_name(slo.window), sel)} / {budget}"),
                "labels": {**labels, "window": period},
            }
        )
    rules += [
        {
            "record": BUDGET_REMAINING,
            "expr": Expr(f"1 - {promql.selector(ratio_name(slo.window), sel)} / {budget}"),
            "labels": {**labels, "window": period},
        },
        {
            "record": INFO,
            "expr": Expr("vector(1)"),
            "labels": {
                **labels,
                "window": period,
                "objective": promql.number(slo.objective),
                "sli_kind": slo.sli.kind,
            },
        },
    ]
    return rules


def threshold(slo: SLO, factor: Decimal) -> str:
    """Error-ratio threshold of a burn factor, exact (14.4 x 0.001 = 0.0144)."""
    return promql.number(factor * slo.error_budget)


def burn_alert_expr(service: Service, slo: SLO, tier: AlertTier, interval: int) -> str:
    """Multi-window, multi-burn-rate condition of one tier, with the minimum-traffic guard.

    The guard is the average request rate over the long window while the SLI had data: the mean of
    the recorded per-interval requests, divided by the interval.
    """
    sel = slo_matchers(service, slo)
    branches = []
    for bw in tier.windows:
        t = threshold(slo, bw.factor)
        cond = (
            f"  (\n    {promql.selector(ratio_name(bw.long), sel)} > {t}\n"
            f"    and ignoring (window)\n    {promql.selector(ratio_name(bw.short), sel)} > {t}\n"
        )
        if slo.min_request_rate > 0:
            cond += (
                f"    and ignoring (window)\n    avg_over_time({promql.selector(requests_name(interval), sel)}"
                f"[{window_range(bw.long, interval)}]) / {promql.number(interval)}"
                f" >= {promql.number(slo.min_request_rate)}\n"
            )
        branches.append(cond + "  )")
    return "max without (window) (\n" + "\n  or\n".join(branches) + "\n)"


def _pct(ratio: Decimal) -> str:
    return promql.number(ratio * 100) + "%"


def burn_annotations(service: Service, slo: SLO, tier: AlertTier) -> dict[str, str]:
    """Default annotations; spec values are inserted as literal text, never as template code."""
    pairs = ", ".join(
        f"{promql.number(bw.factor)}x over {fd(bw.long)} and {fd(bw.short)}" for bw in tier.windows
    )
    lit = promql.template_literal
    out = {
        "summary": lit(f"{service.name} {slo.name}: error budget burning too fast ({tier.name})"),
        "description": lit(
            f"The {slo.name} SLO of {service.name} ({_pct(slo.objective)} over {fd(slo.window)}) is consuming "
            f"its error budget at {pairs} the sustainable rate."
        ),
    }
    out.update(slo.annotations)
    out.update(tier.annotations)
    return out


def alert_rules(service: Service, slo: SLO, interval: int) -> list[dict[str, Any]]:
    """Burn-rate alerts per tier and the no-data alert of one SLO."""
    lit = promql.template_literal
    rules: list[dict[str, Any]] = []
    for tier in slo.tiers:
        if not tier.windows:
            continue
        rule: dict[str, Any] = {
            "alert": BURN_ALERT,
            "expr": Expr(burn_alert_expr(service, slo, tier, interval)),
        }
        if tier.for_seconds:
            rule["for"] = fd(tier.for_seconds)
        # service and slo are on the series already; repeating them keeps rules distinct for promtool's lint.
        rule["labels"] = {
            **{k: lit(v) for k, v in tier.labels.items()},
            "service": service.name,
            "slo": slo.name,
            "severity": tier.severity,
            "tier": tier.name,
        }
        if tier.receiver:
            rule["labels"]["receiver"] = tier.receiver
        rule["annotations"] = burn_annotations(service, slo, tier)
        rules.append(rule)
    if slo.no_data:
        rules.append(no_data_rule(service, slo))
    return rules


def no_data_rule(service: Service, slo: SLO) -> dict[str, Any]:
    """The alert that says an SLO's 5m ratio has not been recorded for its no-data window."""
    assert slo.no_data is not None
    lit = promql.template_literal
    sel = slo_matchers(service, slo)
    return {
        "alert": NO_DATA_ALERT,
        "expr": Expr(
            f"absent_over_time({promql.selector(ratio_name(RATE_WINDOW), sel)}[{fd(slo.no_data.for_seconds)}])"
        ),
        "labels": {
            **{k: lit(v) for k, v in slo.labels.items()},
            "service": service.name,
            "slo": slo.name,
            "severity": slo.no_data.severity,
        },
        "annotations": {
            "summary": lit(f"{service.name} {slo.name}: the SLI has no data"),
            "description": lit(
                f"No error ratio has been recorded for the {slo.name} SLO of {service.name} for "
                f"{fd(slo.no_data.for_seconds)}: its metrics are missing or the SLI query matches nothing, "
                "so burn-rate alerts cannot fire."
            ),
            **slo.annotations,
        },
    }


def group_names(service: Service) -> list[str]:
    """Names of the SLO rule groups of a service, in evaluation order (recordings, then alerts)."""
    alerts = any(slo.no_data or any(t.windows for t in slo.tiers) for slo in service.slos)
    return [f"slodrift-slo-{service.name}", *([f"slodrift-slo-alerts-{service.name}"] if alerts else [])]


def slo_groups(service: Service, interval: int) -> list[dict[str, Any]]:
    """The SLO rule groups of one service: recordings first, then the alerts that read them."""
    recordings: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for slo in service.slos:
        recordings.extend(recording_rules(service, slo, interval))
        alerts.extend(alert_rules(service, slo, interval))
    names = group_names(service)
    groups = [{"name": names[0], "interval": fd(interval), "rules": recordings}]
    if alerts:
        groups.append({"name": names[1], "interval": fd(interval), "rules": alerts})
    return groups
