"""promtool unit tests for the SLO rules, with expected values computed here, not copied from a run.

Three kinds of test group per service:
- recordings: raw counters at constant rates chosen so every intermediate value is exact in binary
  floating point on Prometheus 2 and 3 alike; asserts the 5m rates, the 5m ratio and the SLO metadata.
- windows: the recorded 5m series given directly as input (integers, with a burst), so each longer
  window's value is the exact ratio of sums. The sample at each window's left edge is left out, which
  makes the result the same whether the range is closed (Prometheus 2) or left-open (Prometheus 3).
- alerts: for every tier, inputs that make it fire and inputs 1 % under its lowest threshold that keep
  it quiet; the minimum-traffic guard; the no-data alert firing and quiet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from re import _constants as sre_constants  # noqa: I001 (the public sre_* modules are deprecated)
from re import _parser as sre_parse
from typing import Any

from generator import promql
from generator.model import SLO, AlertTier, Service
from generator.promql import format_duration as fd
from generator.slo_rules import (
    BUDGET,
    BUDGET_REMAINING,
    BURN_ALERT,
    CURRENT_BURN_WINDOW,
    ERRORS,
    INFO,
    NO_DATA_ALERT,
    OBJECTIVE,
    RATE_WINDOW,
    REQUESTS,
    burn_annotations,
    burn_name,
    ratio_name,
    ratio_windows,
    slo_labels,
)

STEP = 60  # seconds between input samples and rule evaluations in every generated test
WINDOW_TEST_END = 360  # minutes; long enough to cut 30m..6h windows at a known sample
NEGATIVE_CANDIDATES = ("200", "ok", "x", "0", "GET", "none", "slodrift_other")


class SynthesisError(ValueError):
    """The generator cannot build input series for a selector; the message says which and why."""


# ---------------------------------------------------------------- label values that satisfy matchers


def _regex_example(pattern: str) -> str | None:
    """A short string fully matching `pattern`, or None when the regex is beyond this small walker."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None

    def walk(items: Any) -> str:
        out = []
        for op, av in items:
            if op is sre_constants.LITERAL:
                out.append(chr(av))
            elif op is sre_constants.ANY:
                out.append("0")
            elif op is sre_constants.IN:
                ch = None
                for iop, iav in av:
                    if iop is sre_constants.LITERAL:
                        ch = chr(iav)
                    elif iop is sre_constants.RANGE:
                        ch = chr(iav[0])
                    elif iop is sre_constants.CATEGORY:
                        ch = "0" if iav is sre_constants.CATEGORY_DIGIT else "a"
                    if ch is not None:
                        break
                if ch is None:
                    raise ValueError
                out.append(ch)
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                lo, _hi, sub = av
                out.append(walk(sub) * max(lo, 1 if lo == 0 else lo))
            elif op is sre_constants.SUBPATTERN:
                out.append(walk(av[-1]))
            elif op is sre_constants.BRANCH:
                out.append(walk(av[1][0]))
            elif op in (sre_constants.AT,):
                continue
            else:
                raise ValueError
        return "".join(out)

    try:
        return walk(parsed)
    except (ValueError, TypeError):
        return None


def _satisfies(value: str, m: promql.Matcher) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = re.fullmatch(m.value, value, re.S) is not None
    return hit if m.op == "=~" else not hit


def _value_for(label: str, matchers: list[promql.Matcher]) -> str | None:
    """A value of `label` that satisfies all of `matchers` (all on that label)."""
    candidates = [m.value for m in matchers if m.op == "="]
    candidates += [x for m in matchers if m.op == "=~" for x in [_regex_example(m.value)] if x is not None]
    candidates += list(NEGATIVE_CANDIDATES)
    for c in candidates:
        if all(_satisfies(c, m) for m in matchers):
            return c
    return None


def labels_matching(sel: promql.Selector, avoid: promql.Selector | None = None) -> dict[str, str]:
    """Concrete labels selected by `sel` and, when `avoid` is given, not selected by `avoid`."""
    by_label: dict[str, list[promql.Matcher]] = {}
    for m in sel.matchers:
        by_label.setdefault(m.label, []).append(m)
    labels: dict[str, str] = {}
    for label, ms in by_label.items():
        v = _value_for(label, ms)
        if v is None:
            raise SynthesisError(f"cannot find a value of {label!r} matching {sel.render()}")
        if v != "":
            labels[label] = v
    if avoid is None or avoid.metric != sel.metric or not _selects(avoid, labels):
        return labels
    for m in avoid.matchers:  # flip one label the avoided selector depends on
        ms = by_label.get(m.label, []) + [promql.Matcher(m.label, {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[m.op], m.value)]
        v = _value_for(m.label, ms)
        if v is not None:
            flipped = {**labels, m.label: v}
            if v == "":
                flipped.pop(m.label)
            if not _selects(avoid, flipped):
                return flipped
    raise SynthesisError(f"cannot build a series selected by {sel.render()} but not by {avoid.render()}")


def _selects(sel: promql.Selector, labels: dict[str, str]) -> bool:
    return all(_satisfies(labels.get(m.label, ""), m) for m in sel.matchers)


# ---------------------------------------------------------------- input series


def _series(metric: str, labels: dict[str, str]) -> str:
    return promql.Selector(metric, promql.equality_matchers(labels)).render()


def _labelset(labels: dict[str, str]) -> str:
    """`{a="b",...}`: a label set without a metric name, escaped like a selector."""
    return "{" + ",".join(m.render() for m in promql.equality_matchers(labels)) + "}"


def _num(x: float) -> str:
    """Input values in promtool's expanding notation; repr keeps every bit."""
    return repr(float(x)) if x != int(x) else str(int(x))


def _counter(metric: str, labels: dict[str, str], per_second: float, minutes: int) -> dict[str, str]:
    return {"series": _series(metric, labels), "values": f"0+{_num(per_second * STEP)}x{minutes}"}


def raw_inputs_supported(slo: SLO) -> bool:
    """Raw counters can be synthesised for selector-based SLIs; query-based ones get recorded inputs."""
    return slo.sli.kind in ("events", "latency")


def raw_inputs(slo: SLO, errors_per_s: float, total_per_s: float, minutes: int) -> list[dict[str, str]]:
    """Raw counters at constant rates that the SLI's selectors read as `errors_per_s` of `total_per_s`."""
    sli = slo.sli
    if sli.kind == "latency":
        assert sli.histogram and sli.threshold is not None
        labels = {m.label: m.value for m in sli.latency_matchers}
        le = promql.number(sli.threshold)
        return [
            _counter(sli.histogram + "_count", labels, total_per_s, minutes),
            _counter(sli.histogram + "_bucket", {**labels, "le": le}, total_per_s - errors_per_s, minutes),
            _counter(sli.histogram + "_bucket", {**labels, "le": "+Inf"}, total_per_s, minutes),
        ]
    assert sli.errors is not None and sli.total is not None
    bad = labels_matching(sli.errors)
    bad_in_total = sli.errors.metric == sli.total.metric and _selects(sli.total, bad)
    good = labels_matching(sli.total, avoid=sli.errors)
    out = [_counter(sli.errors.metric, bad, errors_per_s, minutes)]
    out.append(_counter(sli.total.metric, good, total_per_s - errors_per_s if bad_in_total else total_per_s, minutes))
    return out


def recorded_inputs(service: Service, slo: SLO, errors: list[float | None], totals: list[float | None]) -> list[dict[str, str]]:
    """The two recorded 5m series given sample by sample (None = missing), bypassing the raw reads."""
    labels = {**slo_labels(service, slo), "window": fd(RATE_WINDOW)}

    def values(xs: list[float | None]) -> str:
        return " ".join("_" if x is None else _num(x) for x in xs)

    return [{"series": _series(ERRORS, labels), "values": values(errors)},
            {"series": _series(REQUESTS, labels), "values": values(totals)}]


def constant_inputs(service: Service, slo: SLO, ratio: float, total_per_s: float, minutes: int) -> list[dict[str, str]]:
    """Inputs with a constant error ratio, raw where possible."""
    if raw_inputs_supported(slo):
        return raw_inputs(slo, ratio * total_per_s, total_per_s, minutes)
    return recorded_inputs(service, slo, [ratio * total_per_s] * (minutes + 1), [total_per_s] * (minutes + 1))


# ---------------------------------------------------------------- expected values


def _sample(metric: str, labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"labels": _series(metric, labels), "value": value}


def _expr_test(metric: str, labels: dict[str, str], matchers: dict[str, str], value: float, at_min: int) -> dict[str, Any]:
    return {"expr": promql.selector(metric, matchers), "eval_time": f"{at_min}m",
            "exp_samples": [_sample(metric, labels, value)]}


def _close_test(metric: str, labels: dict[str, str], matchers: dict[str, str], value: float,
                at_min: int) -> dict[str, Any]:
    """Assert a value to 1e-9 relative: rate() rounds differently across Prometheus versions."""
    tol = promql.number(Decimal(repr(abs(value))) * Decimal("1e-9") + Decimal("1e-15"))
    return {"expr": f"abs({promql.selector(metric, matchers)} - {_num(value)}) <= bool {tol}",
            "eval_time": f"{at_min}m", "exp_samples": [{"labels": _labelset(labels), "value": 1}]}


def recordings_group(service: Service) -> dict[str, Any]:
    """Raw counters at known rates; asserts the raw reads, the 5m ratio and the metadata series."""
    # The error ratio stays under half of every alert threshold, so nothing fires.
    total, at = 10.0, 10
    lowest = min((x for slo in service.slos for t in slo.tiers for x in _thresholds(slo, t)), default=Decimal(1))
    errors = total * float(lowest) / 4
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for slo in service.slos:
        labels = slo_labels(service, slo)
        sel = {"service": service.name, "slo": slo.name}
        budget = float(slo.error_budget)
        if raw_inputs_supported(slo):
            inputs += raw_inputs(slo, errors, total, at + 5)
            w5 = {**labels, "window": fd(RATE_WINDOW)}
            tests += [
                _close_test(ERRORS, w5, sel, errors, at),
                _close_test(REQUESTS, w5, sel, total, at),
                _close_test(ratio_name(RATE_WINDOW), w5, sel, errors / total, at),
            ]
        period = {**labels, "window": fd(slo.window)}
        tests += [
            _expr_test(OBJECTIVE, period, sel, float(slo.objective), at),
            _expr_test(BUDGET, period, sel, budget, at),
            _expr_test(INFO, {**period, "objective": promql.number(slo.objective), "sli_kind": slo.sli.kind},
                       sel, 1.0, at),
        ]
    alerts = [{"eval_time": f"{at}m", "alertname": BURN_ALERT, "exp_alerts": []}]
    if any(slo.no_data and raw_inputs_supported(slo) for slo in service.slos):
        expected = [no_data_alert(service, slo) for slo in service.slos if slo.no_data and not raw_inputs_supported(slo)]
        alerts.append({"eval_time": f"{at}m", "alertname": NO_DATA_ALERT, "exp_alerts": expected})
    return {"name": f"{service.name}: raw reads, 5m ratio and metadata", "interval": fd(STEP),
            "input_series": inputs, "promql_expr_test": tests, "alert_rule_test": alerts}


def window_pattern(minutes: int, gaps: set[int], seed: int) -> tuple[list[float | None], list[float | None]]:
    """Integer 5m rates with a quiet night, a busy day and an error burst; `gaps` minutes are missing."""
    errors: list[float | None] = []
    totals: list[float | None] = []
    for i in range(minutes + 1):
        busy = 40 if (i // 90) % 2 else 4
        t = busy + (i * 7 + seed) % 11
        e = (i * 3 + seed) % 4 // 3
        if 200 <= i < 215:
            e = t // 2  # the burst: half the requests fail for 15 minutes
        errors.append(None if i in gaps else float(e))
        totals.append(None if i in gaps else float(t))
    return errors, totals


def windows_group(service: Service) -> dict[str, Any]:
    """Recorded 5m series as input; asserts every window's ratio, the burn rates and budget remaining."""
    end = WINDOW_TEST_END
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for n, slo in enumerate(service.slos):
        windows = ratio_windows(slo)
        gaps = {end - w // 60 for w in windows if w // 60 <= end}
        errors, totals = window_pattern(end, gaps, seed=n)
        inputs += recorded_inputs(service, slo, errors, totals)
        labels = slo_labels(service, slo)
        sel = {"service": service.name, "slo": slo.name}
        budget = float(slo.error_budget)
        ratios: dict[int, float] = {}
        last_e, last_t = errors[end], totals[end]
        assert last_e is not None and last_t is not None
        ratios[RATE_WINDOW] = last_e / last_t
        for w in windows:
            lo = end - w // 60  # samples strictly after the left edge
            es = [x for i, x in enumerate(errors) if i > lo and x is not None]
            ts = [x for i, x in enumerate(totals) if i > lo and x is not None]
            ratios[w] = sum(es) / sum(ts)
        for w, value in ratios.items():
            tests.append(_expr_test(ratio_name(w), {**labels, "window": fd(w)}, sel, value, end))
        tests.append(_expr_test(burn_name(CURRENT_BURN_WINDOW), {**labels, "window": fd(CURRENT_BURN_WINDOW)}, sel,
                                ratios[CURRENT_BURN_WINDOW] / budget, end))
        if slo.window != CURRENT_BURN_WINDOW:
            tests.append(_expr_test(burn_name(slo.window), {**labels, "window": fd(slo.window)}, sel,
                                    ratios[slo.window] / budget, end))
        tests.append(_expr_test(BUDGET_REMAINING, {**labels, "window": fd(slo.window)}, sel,
                                1 - ratios[slo.window] / budget, end))
    return {"name": f"{service.name}: long windows are exact ratios of sums", "interval": fd(STEP),
            "input_series": inputs, "promql_expr_test": tests}


# ---------------------------------------------------------------- alerts


def render_template(text: str, labels: dict[str, str]) -> str:
    """Expand the only template actions slodrift allows, the way Prometheus will."""

    def action(m: re.Match[str]) -> str:
        body = m.group(1).strip()
        if body == '"{{"':
            return "{{"
        ref = re.fullmatch(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", body)
        if not ref:
            raise ValueError(f"unsupported template action in {text!r}")
        return labels.get(ref.group(1), "")

    return re.sub(r"\{\{(.*?)\}\}", action, text, flags=re.S)


def _alert(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {"exp_labels": labels, "exp_annotations": {k: render_template(v, labels) for k, v in annotations.items()}}


def burn_alert(service: Service, slo: SLO, tier: AlertTier) -> dict[str, Any]:
    """The alert a tier raises: series labels, then the rule's own labels on top."""
    labels = {**slo_labels(service, slo), **tier.labels, "severity": tier.severity, "tier": tier.name}
    if tier.receiver:
        labels["receiver"] = tier.receiver
    return _alert(labels, burn_annotations(service, slo, tier))


def no_data_alert(service: Service, slo: SLO) -> dict[str, Any]:
    """The no-data alert: labels from the absent() matchers plus the rule's labels."""
    from generator.slo_rules import alert_rules

    rule = next(r for r in alert_rules(service, slo) if r["alert"] == NO_DATA_ALERT)
    labels = {**{k: render_template(v, {}) for k, v in rule["labels"].items()},
              "service": service.name, "slo": slo.name}
    return _alert(labels, rule["annotations"])


@dataclass(frozen=True)
class Scenario:
    """Constant error ratio and traffic for one SLO, and which tiers must fire."""

    name: str
    ratio: float
    rate: float
    firing: tuple[AlertTier, ...]


def _thresholds(slo: SLO, tier: AlertTier) -> list[Decimal]:
    return [bw.factor * slo.error_budget for bw in tier.windows]


def scenarios(slo: SLO) -> list[Scenario]:
    """Fire everything; 1 % under each tier's lowest threshold; too little traffic to page."""
    tiers = [t for t in slo.tiers if t.windows]
    if not tiers:
        return []
    top = max(max(_thresholds(slo, t)) for t in tiers)
    fire_ratio = float(min(top * 2, (top + 1) / 2))
    rate = max(10.0, float(slo.min_request_rate) * 10)
    out = [Scenario("every tier fires", fire_ratio, rate, tuple(tiers))]
    for tier in tiers:
        r = float(min(_thresholds(slo, tier)) * Decimal("0.99"))
        firing = tuple(t for t in tiers if any(float(x) < r for x in _thresholds(slo, t)))
        out.append(Scenario(f"{tier.name} quiet 1% under its lowest threshold", r, rate, firing))
    if slo.min_request_rate > 0:
        out.append(Scenario("quiet below the minimum request rate", fire_ratio, float(slo.min_request_rate) / 2, ()))
    return out


def alert_groups(service: Service) -> list[dict[str, Any]]:
    """One test group per SLO scenario, plus the no-data alert firing when nothing is scraped."""
    groups = []
    for slo in service.slos:
        longest_for = max((t.for_seconds for t in slo.tiers), default=0) // 60
        at = 1 + longest_for + 5
        for sc in scenarios(slo):
            groups.append({
                "name": f"{service.name}/{slo.name}: {sc.name} (error ratio {sc.ratio:.6g}, {sc.rate:g} req/s)",
                "interval": fd(STEP),
                "input_series": constant_inputs(service, slo, sc.ratio, sc.rate, at),
                "alert_rule_test": [{
                    "eval_time": f"{at}m", "alertname": BURN_ALERT,
                    "exp_alerts": [burn_alert(service, slo, t) for t in sc.firing],
                }],
            })
    with_no_data = [slo for slo in service.slos if slo.no_data]
    if with_no_data:
        at = max(slo.no_data.for_seconds for slo in with_no_data if slo.no_data) // 60 + 1
        groups.append({
            "name": f"{service.name}: no data fires {NO_DATA_ALERT} for every SLO",
            "interval": fd(STEP),
            "input_series": [],
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": NO_DATA_ALERT,
                 "exp_alerts": [no_data_alert(service, slo) for slo in with_no_data]},
                {"eval_time": f"{at}m", "alertname": BURN_ALERT, "exp_alerts": []},
            ],
        })
    return groups


def slo_test_file(service: Service, rule_file: str) -> dict[str, Any]:
    """The promtool test file of one service's SLO rules; `rule_file` is relative to the test file."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(STEP),
        "tests": [recordings_group(service), windows_group(service), *alert_groups(service)],
    }
