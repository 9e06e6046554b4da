"""promtool unit tests for the SLO rules, with expected values computed here, not copied from a run.

Three kinds of test group per service:
- recordings: raw counters at constant rates chosen so every intermediate value is exact in binary
  floating point on Prometheus 2 and 3 alike; asserts the per-interval increases, the 5m ratio and the
  SLO metadata.
- windows: the recorded per-interval series given directly as input (integers, with a burst), so each
  window's value is the exact ratio of sums. A sample exactly at a range's left edge is left out, which
  makes the result the same whether the range is closed (Prometheus 2) or left-open (Prometheus 3).
- alerts: for every tier, inputs that make it fire and inputs 1 % under its lowest threshold that keep
  it quiet; the minimum-traffic guard; the no-data alert firing and quiet.
- comparisons: every window comparison and traffic guard of every burn pair, 2 % over (alert active)
  and 2 % under (quiet) its limit with everything else of the tier decided by wide margins, so a
  threshold, window or guard that is off by 5 % anywhere fails a test; and the no-data window, from
  the last sample, 2 minutes either side of the first firing evaluation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from itertools import product
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import SLI, SLO, AlertTier, BurnWindow, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo import (
    BUDGET,
    BUDGET_REMAINING,
    BURN_ALERT,
    COMPLIANT,
    CURRENT_BURN_WINDOW,
    INFO,
    NO_DATA_ALERT,
    OBJECTIVE,
    RATE_WINDOW,
    burn_annotations,
    burn_name,
    compliance_kind,
    errors_name,
    group_names,
    range_seconds,
    ratio_name,
    ratio_windows,
    requests_name,
    slo_labels,
    window_range,
)
from slodrift.generator.testgen.labels import labels_matching, satisfies, selects
from slodrift.generator.testgen.series import STEP, labelset, num, series
from slodrift.generator.testgen.templates import render_template

WINDOW_TEST_END = 360  # minutes; long enough to cut 30m..6h windows at a known sample


_MEMO_LIMIT = 65536


def _by_identity(memo: dict[tuple[int, ...], Any], objs: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()` (a fact of the values of `objs`) memoised by the identity of `objs`: for facts asked
    again and again of one model object, where hashing the frozen dataclasses (field by field, every
    time) would be the cost. Each entry holds its objects, so their ids cannot be reused while it is
    there."""
    key = tuple(map(id, objs))
    hit = memo.get(key)
    if hit is not None and hit[0] == objs:  # the same objects (tuple equality looks at identity first)
        return hit[1]
    value = compute()
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = (objs, value)
    return value


RESTART_AT = 7  # minute at which `restart` counters are reset


def _counter(
    metric: str, labels: dict[str, str], per_second: float, minutes: int, restart: bool = False
) -> dict[str, str]:
    """A counter at a constant rate from 0, or (`restart`) one that had counted long before its first
    scrape and is reset at RESTART_AT to half a step's increments: the two edges of a raw read."""
    d = per_second * STEP
    if not restart:
        return {"series": series(metric, labels), "values": f"0+{num(d)}x{minutes}"}
    return {
        "series": series(metric, labels),
        "values": f"{num(d * 1000)}+{num(d)}x{RESTART_AT - 1} {num(d / 2)}+{num(d)}x{minutes - RESTART_AT}",
    }


def raw_inputs_supported(slo: SLO) -> bool:
    """Raw counters can be synthesised for selector-based SLIs; query-based ones get recorded inputs."""
    return slo.sli.kind in ("events", "latency")


def raw_series(slo: SLO, errors_per_s: float, total_per_s: float) -> list[tuple[str, dict[str, str], float]]:
    """(metric, labels, rate) of raw counters that the SLI's selectors read as `errors_per_s` of `total_per_s`."""
    sli = slo.sli
    if sli.kind == "latency":
        assert sli.histogram and sli.threshold is not None
        labels = {m.label: m.value for m in sli.latency_matchers}
        le = promql.number(sli.threshold)
        return [
            (sli.histogram + "_count", labels, total_per_s),
            (sli.histogram + "_bucket", {**labels, "le": le}, total_per_s - errors_per_s),
            (sli.histogram + "_bucket", {**labels, "le": "+Inf"}, total_per_s),
        ]
    assert sli.errors is not None and sli.total is not None
    bad, good, bad_in_total = _by_identity(_EVENT_LABELS, (sli,), lambda: _event_labels(sli))
    return [
        (sli.errors.metric, dict(bad), errors_per_s),
        (sli.total.metric, dict(good), total_per_s - errors_per_s if bad_in_total else total_per_s),
    ]


def _event_labels(sli: SLI) -> tuple[dict[str, str], dict[str, str], bool]:
    """Labels of an error series, of a good one, and whether the total selector reads the error one."""
    assert sli.errors is not None and sli.total is not None
    bad = labels_matching(sli.errors)
    bad_in_total = sli.errors.metric == sli.total.metric and selects(sli.total, bad)
    return bad, labels_matching(sli.total, avoid=sli.errors), bad_in_total


_EVENT_LABELS: dict[tuple[int, ...], Any] = {}  # asked for every scenario of every SLO


def raw_inputs(
    slo: SLO, errors_per_s: float, total_per_s: float, minutes: int, restart: bool = False
) -> list[dict[str, str]]:
    """Raw counters at constant rates that the SLI's selectors read as `errors_per_s` of `total_per_s`."""
    return [
        _counter(metric, labels, rate, minutes, restart)
        for metric, labels, rate in raw_series(slo, errors_per_s, total_per_s)
    ]


def _reads_sli(sli: SLI, metric: str, labels: dict[str, str]) -> bool:
    """Whether an SLI could read the raw series `metric{labels}` (conservative for queries)."""
    if sli.kind == "events":
        return any(
            sel is not None and sel.metric == metric and selects(sel, labels)
            for sel in (sli.errors, sli.total)
        )
    if sli.kind == "latency":
        assert sli.histogram is not None
        if metric not in (sli.histogram + "_count", sli.histogram + "_bucket"):
            return False
        return all(satisfies(labels.get(m.label, ""), m) for m in sli.latency_matchers)
    text = " ".join(q for q in (sli.error_query, sli.total_query, sli.error_ratio_query) if q)
    return re.search(rf"(?<![a-zA-Z0-9_:]){re.escape(metric)}(?![a-zA-Z0-9_:])", text) is not None


def raw_inputs_ok(service: Service, slo: SLO) -> bool:
    """Raw inputs only when no other SLO of the service reads them: otherwise one SLO's test data would
    feed another's rules and the expectations (computed per SLO) would not hold."""
    return _by_identity(
        _RAW_OK_SEEN,
        (service, slo),
        lambda: _raw_ok(slo.sli, tuple(other.sli for other in service.slos if other is not slo)),
    )


_RAW_OK_SEEN: dict[tuple[int, ...], Any] = {}  # asked for every scenario of every SLO


@functools.lru_cache(maxsize=4096)
def _raw_ok(sli: SLI, others: tuple[SLI, ...]) -> bool:
    probe = SLO(
        name="probe",
        objective=Decimal("0.5"),
        window=60,
        sli=sli,
        tiers=(),
        no_data=None,
        min_request_rate=Decimal(0),
    )
    if not raw_inputs_supported(probe):
        return False
    series = [(metric, labels) for metric, labels, _ in raw_series(probe, 1.0, 2.0)]
    return not any(_reads_sli(other, metric, labels) for other in others for metric, labels in series)


def raw_slice_seconds(interval: int) -> int:
    """Seconds of raw increments in one recorded slice under test: inputs come every STEP, so a slice
    (last sample now minus last sample one interval ago) spans the interval rounded up to whole STEPs."""
    return STEP * -(-interval // STEP)


def reads(end: int, rng: float, positions: list[int]) -> frozenset[int]:
    """Sample minutes a range of `rng` seconds reads at minute `end` (a sample on its edge is avoided)."""
    return frozenset(p for p in positions if p <= end and (end - p) * STEP < rng)


def series_values(xs: list[float | None]) -> str:
    """Samples in promtool's notation, one per STEP: runs of missing ones (None) as `_xN` (N samples),
    runs of three or more equal ones as `v+0xN` (N + 1 samples)."""
    out: list[str] = []
    i, n = 0, len(xs)
    while i < n:
        x = xs[i]
        j = i + 1
        while j < n and xs[j] == x and (xs[j] is None) == (x is None):
            j += 1
        k = j - i
        if x is None:
            out.append("_" if k == 1 else f"_x{k}")
        elif k >= 3:
            out.append(f"{num(x)}+0x{k - 1}")
        else:
            out.extend([num(x)] * k)
        i = j
    return " ".join(out)


def recorded_inputs(
    service: Service,
    slo: SLO,
    interval: int,
    errors: list[float | None] | str,
    totals: list[float | None] | str,
    extra: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """The two recorded per-interval series given sample by sample (None = missing) or as rendered
    `series_values`, bypassing the raw reads; values are events per interval.

    `extra` labels make an independent copy of the SLO's series: every rule keeps them apart, so
    several cases can share one test group's evaluation steps.
    """
    labels = {**slo_labels(service, slo), "window": fd(interval), **(extra or {})}
    return [
        {
            "series": series(errors_name(interval), labels),
            "values": errors if isinstance(errors, str) else series_values(errors),
        },
        {
            "series": series(requests_name(interval), labels),
            "values": totals if isinstance(totals, str) else series_values(totals),
        },
    ]


def constant_inputs(
    service: Service, slo: SLO, interval: int, ratio: float, rate: float, minutes: int
) -> list[dict[str, str]]:
    """Inputs with a constant error ratio that the rules read as `rate` requests per second (the
    traffic guard's view), raw where possible."""
    if raw_inputs_ok(service, slo):
        per_s = rate * interval / raw_slice_seconds(interval)
        return raw_inputs(slo, ratio * per_s, per_s, minutes)
    n = rate * interval
    return recorded_inputs(service, slo, interval, [ratio * n] * (minutes + 1), [n] * (minutes + 1))


# ---------------------------------------------------------------- expected values


def _sample(metric: str, labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"labels": series(metric, labels), "value": value}


def _expr_test(
    metric: str, labels: dict[str, str], matchers: dict[str, str], value: float, at_min: int
) -> dict[str, Any]:
    return {
        "expr": promql.selector(metric, matchers),
        "eval_time": f"{at_min}m",
        "exp_samples": [_sample(metric, labels, value)],
    }


def _close_test(
    metric: str, labels: dict[str, str], matchers: dict[str, str], value: float, at_min: int
) -> dict[str, Any]:
    """Assert a value to 1e-9 relative: rate() rounds differently across Prometheus versions."""
    tol = promql.number(Decimal(repr(abs(value))) * Decimal("1e-9") + Decimal("1e-15"))
    return {
        "expr": f"abs({promql.selector(metric, matchers)} - {num(value)}) <= bool {tol}",
        "eval_time": f"{at_min}m",
        "exp_samples": [{"labels": labelset(labels), "value": 1}],
    }


def recordings_group(service: Service, interval: int) -> dict[str, Any]:
    """Raw counters at known rates; asserts the raw reads, the 5m ratio and the metadata series.

    The counters had counted long before their first scrape, which must add nothing (a new target's
    lifetime is not one interval's events), and are reset at RESTART_AT, which must count what they
    counted since.
    """
    # The error ratio stays under half of every alert threshold, so nothing fires. Checked once the reset
    # has left every slice the 5m ratio reads.
    total, at = 10.0, max(10, RESTART_AT + 1 + raw_slice_seconds(interval) // STEP)
    # ... and under every objective's budget, so the compliance input reads 1 (met) for all SLOs.
    lowest = min(
        [x for slo in service.slos for t in slo.tiers for x in _thresholds(slo, t)]
        + [slo.error_budget for slo in service.slos],
        default=Decimal(1),
    )
    errors = total * float(lowest) / 4
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for slo in service.slos:
        labels = slo_labels(service, slo)
        sel = {"service": service.name, "slo": slo.name}
        budget = float(slo.error_budget)
        if raw_inputs_ok(service, slo):
            inputs += raw_inputs(slo, errors, total, at + 5, restart=True)
            per_slice = {**labels, "window": fd(interval)}
            w5 = {**labels, "window": fd(RATE_WINDOW)}
            tests += [
                *(
                    {"expr": promql.selector(name, sel), "eval_time": "0m", "exp_samples": []}
                    for name in (errors_name(interval), requests_name(interval))
                ),
                _close_test(errors_name(interval), per_slice, sel, errors * STEP / 2, RESTART_AT),
                _close_test(requests_name(interval), per_slice, sel, total * STEP / 2, RESTART_AT),
                _close_test(errors_name(interval), per_slice, sel, errors * raw_slice_seconds(interval), at),
                _close_test(requests_name(interval), per_slice, sel, total * raw_slice_seconds(interval), at),
                _close_test(ratio_name(RATE_WINDOW), w5, sel, errors / total, at),
                _expr_test(
                    COMPLIANT,
                    {**w5, "compliance": compliance_kind(slo)},
                    sel,
                    1.0 if errors / total <= float(slo.error_budget) else 0.0,
                    at,
                ),
            ]
        period = {**labels, "window": fd(slo.window)}
        tests += [
            _expr_test(OBJECTIVE, period, sel, float(slo.objective), at),
            _expr_test(BUDGET, period, sel, budget, at),
            _expr_test(
                INFO,
                {**period, "objective": promql.number(slo.objective), "sli_kind": slo.sli.kind},
                sel,
                1.0,
                at,
            ),
        ]
    alerts = [{"eval_time": f"{at}m", "alertname": BURN_ALERT, "exp_alerts": []}]
    if any(slo.no_data and raw_inputs_ok(service, slo) for slo in service.slos):
        expected = [
            no_data_alert(service, slo, interval)
            for slo in service.slos
            if slo.no_data and not raw_inputs_ok(service, slo)
        ]
        alerts.append({"eval_time": f"{at}m", "alertname": NO_DATA_ALERT, "exp_alerts": expected})
    return {
        "name": f"{service.name}: raw reads, 5m ratio and metadata",
        "interval": fd(STEP),
        "input_series": inputs,
        "promql_expr_test": tests,
        "alert_rule_test": alerts,
    }


def no_error_series_group(service: Service, interval: int) -> dict[str, Any] | None:
    """Requests but no error series at all (no 5xx since the service started): ratio 0, not no data."""
    slos = [slo for slo in service.slos if slo.sli.kind == "events" and raw_inputs_ok(service, slo)]
    if not slos:
        return None
    at = 10
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for slo in slos:
        assert slo.sli.errors is not None
        inputs += [
            _counter(metric, labels, rate, at + 5)
            for metric, labels, rate in raw_series(slo, 0.0, 10.0)
            if not (metric == slo.sli.errors.metric and selects(slo.sli.errors, labels))
        ]
        sel = {"service": service.name, "slo": slo.name}
        labels = slo_labels(service, slo)
        for w in ratio_windows(slo):
            tests.append(_expr_test(ratio_name(w), {**labels, "window": fd(w)}, sel, 0.0, at))
    # the other SLOs of the service have no inputs here, so only their no-data alerts fire
    no_data = [
        no_data_alert(service, other, interval)
        for other in service.slos
        if other.no_data and other not in slos
    ]
    alerts = [{"eval_time": f"{at}m", "alertname": BURN_ALERT, "exp_alerts": []}]
    if any(slo.no_data for slo in slos):
        alerts.append({"eval_time": f"{at}m", "alertname": NO_DATA_ALERT, "exp_alerts": no_data})
    return {
        "name": f"{service.name}: requests without any error series read as an error ratio of 0",
        "interval": fd(STEP),
        "input_series": inputs,
        "promql_expr_test": tests,
        "alert_rule_test": alerts,
    }


def window_pattern(
    minutes: int,
    gaps: set[int],
    seed: int,
    failed: set[int] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[float | None], list[float | None]]:
    """Integer events per interval with a quiet night, a busy day and an error burst; `gaps` are missing,
    every request of the `failed` minutes fails. Levels change every 10 minutes, so the inputs stay short
    in promtool's notation (`4+0x9`) while every window still sums a different mix."""
    errors: list[float | None] = []
    totals: list[float | None] = []
    for i in range(minutes + 1):
        busy = 40 if (i // 90) % 2 else 4
        block = i // 10
        t = busy + (block * 7 + seed) % 11
        e = (block * 3 + seed) % 4 // 3
        if 200 <= i < 215:
            e = t // 2  # the burst: half the requests fail for 15 minutes
        if i in failed:
            e = t
        errors.append(None if i in gaps else float(e))
        totals.append(None if i in gaps else float(t))
    return errors, totals


def _edge(end: int, rng: float) -> int | None:
    """The sample minute exactly on a range's left edge at `end` (read by Prometheus 2, not by 3)."""
    return end - int(rng // STEP) if rng % STEP == 0 else None


@dataclass(frozen=True)
class WindowCase:
    """The window test's inputs of one SLO and the values they must give."""

    error_values: str
    total_values: str
    ratios: dict[int, float]  # window -> ratio at WINDOW_TEST_END
    compliance_ratios: dict[int, float]  # minute -> 5m ratio there


WINDOW_BURST = 210  # a minute inside the error burst of `window_pattern`


@functools.lru_cache(maxsize=1024)
def window_case(windows: tuple[int, ...], interval: int, seed: int) -> WindowCase:
    """Inputs and expected values for a set of windows (shared by every SLO with the same windows)."""
    end = WINDOW_TEST_END
    gaps = {
        e
        for w in windows
        for at in (end, WINDOW_BURST)
        if (e := _edge(at, range_seconds(w, interval))) is not None and e >= 0
    }
    # Just outside each range, on the window's own edge: all requests fail there, so a range one
    # slice too long (the full window on Prometheus 2) gives a visibly different ratio.
    outside = {end - w // STEP for w in windows if w // STEP <= end} - gaps
    errors, totals = window_pattern(end, gaps, seed=seed, failed=outside)

    def ratio(at: int, w: int) -> float:
        lo = max(
            0, at + 1 + int(range_seconds(w, interval) // -STEP)
        )  # minutes p with (at - p) * STEP < range
        return sum(x for x in errors[lo : at + 1] if x is not None) / sum(
            x for x in totals[lo : at + 1] if x is not None
        )

    return WindowCase(
        series_values(errors),
        series_values(totals),
        {w: ratio(end, w) for w in windows},
        {at: ratio(at, RATE_WINDOW) for at in (end, WINDOW_BURST)},
    )


def windows_group(service: Service, interval: int) -> dict[str, Any]:
    """Recorded slices as input; asserts every window's ratio, the burn rates and budget remaining."""
    end = WINDOW_TEST_END
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for n, slo in enumerate(service.slos):
        case = window_case(tuple(ratio_windows(slo)), interval, n)
        inputs += recorded_inputs(service, slo, interval, case.error_values, case.total_values)
        labels = slo_labels(service, slo)
        # `case=""`: the burn comparison cases share this group, on copies of the series with a case label.
        sel = {"service": service.name, "slo": slo.name, _case_label(slo): ""}
        budget = float(slo.error_budget)
        ratios = case.ratios
        for w, value in ratios.items():
            tests.append(_expr_test(ratio_name(w), {**labels, "window": fd(w)}, sel, value, end))
        tests.append(
            _expr_test(
                burn_name(CURRENT_BURN_WINDOW),
                {**labels, "window": fd(CURRENT_BURN_WINDOW)},
                sel,
                ratios[CURRENT_BURN_WINDOW] / budget,
                end,
            )
        )
        if slo.window != CURRENT_BURN_WINDOW:
            tests.append(
                _expr_test(
                    burn_name(slo.window),
                    {**labels, "window": fd(slo.window)},
                    sel,
                    ratios[slo.window] / budget,
                    end,
                )
            )
        tests.append(
            _expr_test(
                BUDGET_REMAINING,
                {**labels, "window": fd(slo.window)},
                sel,
                1 - ratios[slo.window] / budget,
                end,
            )
        )
        # compliance: met at the end, missed in the middle of the error burst
        for at_min, value in case.compliance_ratios.items():
            tests.append(
                _expr_test(
                    COMPLIANT,
                    {**labels, "window": fd(RATE_WINDOW), "compliance": compliance_kind(slo)},
                    sel,
                    1.0 if value <= budget else 0.0,
                    at_min,
                )
            )
    return {
        "name": f"{service.name}: windows are exact ratios of sums",
        "interval": fd(STEP),
        "input_series": inputs,
        "promql_expr_test": tests,
    }


# ---------------------------------------------------------------- alerts


def _alert(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {k: render_template(v, labels) for k, v in annotations.items()},
    }


def burn_alert(service: Service, slo: SLO, tier: AlertTier) -> dict[str, Any]:
    """The alert a tier raises: series labels, then the rule's own labels on top."""
    labels = {**slo_labels(service, slo), **tier.labels, "severity": tier.severity, "tier": tier.name}
    if tier.receiver:
        labels["receiver"] = tier.receiver
    return _alert(labels, burn_annotations(service, slo, tier))


def no_data_alert(service: Service, slo: SLO, interval: int) -> dict[str, Any]:
    """The no-data alert: labels from the absent() matchers plus the rule's labels."""
    from slodrift.generator.rules.slo import no_data_rule

    rule = no_data_rule(service, slo)
    labels = {
        **{k: render_template(v, {}) for k, v in rule["labels"].items()},
        "service": service.name,
        "slo": slo.name,
    }
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
        out.append(
            Scenario("quiet below the minimum request rate", fire_ratio, float(slo.min_request_rate) / 2, ())
        )
    return out


def alert_groups(service: Service, interval: int) -> list[dict[str, Any]]:
    """One test group per SLO scenario, plus the no-data alert firing when nothing is scraped."""
    groups = []
    for slo in service.slos:
        longest_for = max((t.for_seconds for t in slo.tiers), default=0) // 60
        at = 1 + longest_for + 5
        for sc in scenarios(slo):
            groups.append(
                {
                    "name": f"{service.name}/{slo.name}: {sc.name} (error ratio {sc.ratio:.6g}, {sc.rate:g} req/s)",
                    "interval": fd(STEP),
                    "input_series": constant_inputs(service, slo, interval, sc.ratio, sc.rate, at),
                    "alert_rule_test": [
                        {
                            "eval_time": f"{at}m",
                            "alertname": BURN_ALERT,
                            "exp_alerts": [burn_alert(service, slo, t) for t in sc.firing],
                        }
                    ],
                }
            )
    with_no_data = [slo for slo in service.slos if slo.no_data]
    if with_no_data:
        at = max(slo.no_data.for_seconds for slo in with_no_data if slo.no_data) // 60 + 1
        groups.append(
            {
                "name": f"{service.name}: no data fires {NO_DATA_ALERT} for every SLO",
                "interval": fd(STEP),
                "input_series": [],
                "alert_rule_test": [
                    {
                        "eval_time": f"{at}m",
                        "alertname": NO_DATA_ALERT,
                        "exp_alerts": [no_data_alert(service, slo, interval) for slo in with_no_data],
                    },
                    {"eval_time": f"{at}m", "alertname": BURN_ALERT, "exp_alerts": []},
                ],
            }
        )
    return groups


# ---------------------------------------------------------------- every comparison of a burn alert, pinned
#
# A tier is `(long > T and short > T and traffic >= min) or (...)`. With a constant error ratio only the
# lowest-threshold pair decides, so a wrong threshold elsewhere goes unnoticed. Here every comparison gets
# its own inputs: the compared value 2 % over (alert active) and 2 % under (alert quiet) its limit, the
# rest of its pair well over, every other pair of the tier well under. A 5 % mutation of any comparison
# then flips exactly one expected outcome.
#
# The inputs are sparse: one sample (weighted by its traffic) per band between two range edges, placed
# strictly inside the band, so no sample sits on a range's edge and closed (Prometheus 2) and left-open
# (Prometheus 3) ranges read the same samples. Few samples keep promtool fast; each case's series carry a
# case label, so all cases share the evaluation steps of one test group.

NEAR_OVER = Fraction(102, 100)
NEAR_UNDER = Fraction(98, 100)
WELL_OVER = Fraction(5, 4)  # target of the conditions that must hold whatever the tested one does
WELL_UNDER = Fraction(4, 5)
ROBUST = Fraction(11, 10)  # verified margin of those conditions: more than a 5 % mutation can move
NEAR_BAND = Fraction(1, 100)  # the tested value must end within 1 % of its 1.02x / 0.98x target
LIGHT = 1000  # older segments may carry this much less traffic per sample than the newest
CASE_LABEL = "slodrift_case"
NO_DATA_STOP = 10  # minute of the last sample in the no-data window test
NO_DATA_MARGIN = 120  # seconds either side of the computed first firing evaluation


@dataclass(frozen=True)
class Comparison:
    """One comparison of a burn tier: a window of one pair (or its traffic guard) at `near` x its limit."""

    tier: AlertTier
    pair: BurnWindow
    side: str  # "long", "short" or "guard"
    near: Fraction

    @property
    def active(self) -> bool:
        """The alert condition holds exactly when the compared value is over its limit."""
        return self.near > 1

    def title(self) -> str:
        """Human-readable and unique within an SLO; also the case label's value."""
        what = {
            "long": fd(self.pair.long),
            "short": fd(self.pair.short),
            "guard": f"traffic {fd(self.pair.long)}",
        }[self.side]
        return (
            f"{self.tier.name} {promql.number(self.pair.factor)}x {fd(self.pair.long)}/{fd(self.pair.short)}: "
            f"{what} at {float(self.near):g}x"
        )


def comparisons(slo: SLO) -> list[Comparison]:
    """Every comparison of every tier, each from both sides; guards only when the SLO has one."""
    sides = ("long", "short", "guard") if slo.min_request_rate > 0 else ("long", "short")
    return [
        Comparison(tier, bw, side, near)
        for tier in slo.tiers
        for bw in tier.windows
        for side in sides
        for near in (NEAR_OVER, NEAR_UNDER)
    ]


@dataclass(frozen=True)
class Profile:
    """Recorded per-interval inputs of one case (None = no sample) up to the evaluation minute `end`."""

    end: int
    errors: list[float | None]
    totals: list[float | None]
    ratios: dict[int, Fraction]  # error ratio per window (seconds), an exact ratio of sums
    traffic: dict[
        int, Fraction
    ]  # the guard's request rate (mean requests per interval / interval) per long window

    @functools.cached_property
    def error_values(self) -> str:
        """`errors` rendered once: profiles are shared by every SLO of a shape."""
        return series_values(self.errors)

    @functools.cached_property
    def total_values(self) -> str:
        """`totals` rendered once."""
        return series_values(self.totals)


def _positions(end: int, ranges: set[float]) -> list[int] | None:
    """Sample minutes: `end`, and the latest minute strictly inside each band between range edges.

    Latest, because until a band's sample arrives the windows that need it read nothing or little, so the
    alerts stay inactive for most of the evaluation steps; active alerts expand their templates at every
    step, which is most of what these cases cost promtool.
    """
    edges = sorted({end * STEP - r for r in ranges}, reverse=True)  # seconds, newest first
    positions = {end}
    newer = end * STEP
    for edge in edges:
        p = int(-(-newer // STEP)) - 1
        if p * STEP > edge and p >= 0:
            positions.add(p)
        newer = edge
    if any(p * STEP in edges for p in positions):
        return None
    return sorted(positions)


def _round(x: Fraction, digits: int, mode: str) -> Fraction:
    """`x` to `digits` significant digits, so the YAML shows short numbers that are exact in Python."""
    if x == 0:
        return x
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = digits, mode
        return Fraction(Decimal(x.numerator) / Decimal(x.denominator))


def _as_float(x: Fraction) -> float:
    return float(Decimal(x.numerator) / Decimal(x.denominator))


def _build(
    layers: list[tuple[frozenset[int], Fraction]], base: Fraction
) -> tuple[dict[int, Fraction], dict[int, Fraction]] | None:
    """Per-sample errors and requests giving each nested sample set its cumulative error ratio.

    Inside out, each new segment gets just enough traffic for its errors to move the cumulative ratio to
    the target with a segment ratio in [0, 1]; None when that is impossible. Only the innermost segment
    gets `base` per sample: older ones may be light (an old burst is then a few requests that all
    failed), which keeps the traffic guard, and so the alert, quiet while only they are in the windows.
    """
    errors: dict[int, Fraction] = {}
    totals: dict[int, Fraction] = {}
    seen: frozenset[int] = frozenset()
    sum_e = sum_t = Fraction(0)
    for samples, value in layers:
        segment = sorted(samples - seen)
        if not segment:
            return None
        need = base * len(segment) / (1 if not seen else LIGHT)
        if value < 1:
            need = max(need, (value * sum_t - sum_e) / (1 - value))
        elif sum_e < sum_t:
            return None
        if value > 0:
            need = max(need, sum_e / value - sum_t)
        elif sum_e > 0:
            return None
        per_sample = _round(need / len(segment), 2, ROUND_CEILING)  # rounding up keeps 0 <= e <= n
        n = per_sample * len(segment)
        e = value * (sum_t + n) - sum_e
        for i in segment:
            totals[i], errors[i] = per_sample, e / len(segment)
        sum_e, sum_t, seen = sum_e + e, sum_t + n, samples
    return errors, totals


def _solve(slo: SLO, cmp: Comparison, end: int, interval: int) -> Profile | None:
    """The profile ending at minute `end` with the least traffic that isolates `cmp`, or None.

    A profile depends only on the SLO's shape (budget, traffic guard, every tier's windows and factors),
    and most SLOs of a large spec share a few shapes (99.9 % over 30d with the default tiers, say), so the
    exact search runs once per shape and comparison.
    """
    *key, _ = _pin_key(slo, cmp, interval)
    return _solve_shape(*key, end, interval)


Shape = tuple[Decimal, Decimal, tuple[tuple[BurnWindow, ...], ...]]


def shape_of(slo: SLO) -> Shape:
    """What a comparison profile depends on: budget, traffic guard, every tier's windows and factors.

    One object per distinct shape (and per SLO, memoised by identity), so that the memo lookups keyed
    by it compare by identity instead of field by field."""

    def intern() -> Shape:
        shape = (slo.error_budget, slo.min_request_rate, tuple(t.windows for t in slo.tiers))
        return _SHAPES.setdefault(shape, shape)

    return _by_identity(_SHAPE_OF, (slo,), intern)


_SHAPES: dict[Shape, Shape] = {}
_SHAPE_OF: dict[tuple[int, ...], Any] = {}


def _canonical_pair(slo: SLO, shape: Shape, index: int, pair: BurnWindow) -> BurnWindow:
    """The shape's own copy of one of the SLO's burn windows (equal, and identical across SLOs)."""
    windows = slo.tiers[index].windows
    return shape[2][index][next(k for k, w in enumerate(windows) if w is pair)]


SolveKey = tuple[
    Shape, int, BurnWindow, str, Fraction, int, int
]  # shape, tier, pair, side, near, end, interval
PinKey = tuple[Shape, int, BurnWindow, str, Fraction, int]  # the same without the end
_SOLVED: dict[SolveKey, Profile | None] = {}
_PINNED: dict[PinKey, Profile | None] = {}


def _solve_shape(
    shape: Shape, index: int, pair: BurnWindow, side: str, near: Fraction, end: int, interval: int
) -> Profile | None:
    """`_solve` on a stand-in SLO with nothing but the shape (a pure function, so safe to memoise)."""
    key = (shape, index, pair, side, near, end, interval)
    if key in _SOLVED:
        return _SOLVED[key]
    profile = _solve_stand_in(shape, index, pair, side, near, end, interval)
    if len(_SOLVED) < _MEMO_LIMIT:
        _SOLVED[key] = profile
    return profile


def _solve_stand_in(
    shape: Shape, index: int, pair: BurnWindow, side: str, near: Fraction, end: int, interval: int
) -> Profile | None:
    budget, min_rate, tiers = shape
    slo = SLO(
        name="shape",
        objective=1 - budget,
        window=max(w.long for ws in tiers for w in ws),
        sli=SLI(kind="events"),
        min_request_rate=min_rate,
        no_data=None,
        tiers=tuple(AlertTier(f"tier{i}", "", None, 0, ws) for i, ws in enumerate(tiers)),
    )
    return _search(slo, Comparison(slo.tiers[index], pair, side, near), end, interval)


def _search(slo: SLO, cmp: Comparison, end: int, interval: int) -> Profile | None:
    tier, bw = cmp.tier, cmp.pair
    windows = {w for p in tier.windows for w in (p.long, p.short)}
    positions = _positions(end, {range_seconds(w, interval) for w in windows})
    if positions is None:
        return None
    samples = {w: reads(end, range_seconds(w, interval), positions) for w in windows}
    t = Fraction(bw.factor * slo.error_budget)
    base = Fraction(max(Decimal(10), slo.min_request_rate * 10)) * interval  # events per sample
    over = (min(WELL_OVER * t, Fraction(1)), Fraction(1))
    fixed: dict[int, list[tuple[Fraction, Fraction]]] = {w: [] for w in windows}
    if cmp.side == "guard":
        fixed[bw.long].append(over)
        fixed[bw.short].append(over)
    else:
        tested, other = (bw.long, bw.short) if cmp.side == "long" else (bw.short, bw.long)
        if cmp.near * t > 1:
            return None
        fixed[tested].append((cmp.near * t, cmp.near * t))
        fixed[other].append(over)
    others = [p for p in tier.windows if p is not bw]
    best: tuple[Fraction, Profile] | None = None
    for quiet in product(*[(p.long, p.short) for p in others]):  # which window keeps each other pair quiet
        bounds = {w: list(b) for w, b in fixed.items()}
        for p, w in zip(others, quiet, strict=True):
            bounds[w].append((Fraction(0), WELL_UNDER * Fraction(p.factor * slo.error_budget)))
        layers: dict[frozenset[int], tuple[Fraction, Fraction]] = {}
        for w, bs in bounds.items():  # windows reading the same samples must agree
            lo, hi = layers.get(samples[w], (Fraction(0), Fraction(1)))
            for b_lo, b_hi in bs:
                lo, hi = max(lo, b_lo), min(hi, b_hi)
            layers[samples[w]] = (lo, hi)
        if any(lo > hi for lo, hi in layers.values()):
            continue
        order = sorted(layers, key=len)
        points = {x for lo, hi in layers.values() for x in (lo, hi)}
        options = [sorted({min(max(x, layers[s][0]), layers[s][1]) for x in points}) for s in order]
        for values in product(*options):
            built = _build(list(zip(order, values, strict=True)), base)
            if built is None:
                continue
            profile = _finish(slo, cmp, end, positions, samples, *built, interval=interval)
            if profile is None:
                continue
            cost = (
                _active_steps(slo, profile, interval),
                max(Fraction(x) for x in profile.totals if x is not None),
            )
            if best is None or cost < best[0]:
                best = (cost, profile)
    return best[1] if best else None


def _active_steps(slo: SLO, profile: Profile, interval: int) -> int:
    """How many (tier, evaluation step) pairs have a burn alert active before the profile's end.

    An active alert expands its labels and annotations at every step, which is most of what the cases
    cost promtool, so among the profiles that pin a comparison the least active is chosen. Approximate
    (floats): it only ranks profiles, the verification above stays exact.
    """
    samples = [
        (p, e, t)
        for p, (e, t) in enumerate(zip(profile.errors, profile.totals, strict=True))
        if e is not None and t is not None
    ]
    events = {0}
    windows = {w for tier in slo.tiers for bw in tier.windows for w in (bw.long, bw.short)}
    ranges = {w: range_seconds(w, interval) for w in windows}
    for p, _, _ in samples:
        events.add(p)
        events.update(p - int(-r // STEP) for r in ranges.values())
    guard = float(slo.min_request_rate)

    def read(t: int, window: int) -> tuple[float, float, int] | None:
        recent = [x for x in samples if x[0] <= t and (t - x[0]) * STEP < ranges[window]]
        if not recent:
            return None
        return sum(x[1] for x in recent), sum(x[2] for x in recent), len(recent)

    def active(t: int, tier: AlertTier) -> bool:
        for bw in tier.windows:
            long, short = read(t, bw.long), read(t, bw.short)
            if long is None or short is None or not long[1] or not short[1]:
                continue
            limit = float(bw.factor * slo.error_budget)
            guard_ok = guard == 0 or long[1] / long[2] / interval >= guard
            if long[0] / long[1] > limit and short[0] / short[1] > limit and guard_ok:
                return True
        return False

    times = sorted(t for t in events if 0 <= t < profile.end) + [profile.end]
    return sum(
        (b - a) * sum(active(a, tier) for tier in slo.tiers) for a, b in zip(times, times[1:], strict=False)
    )


def _finish(
    slo: SLO,
    cmp: Comparison,
    end: int,
    positions: list[int],
    samples: dict[int, frozenset[int]],
    errors: dict[int, Fraction],
    totals: dict[int, Fraction],
    interval: int,
) -> Profile | None:
    """Scale for a guard case, round to short numbers, then check the rounded inputs exactly."""
    for p in positions:  # a sample no window reads (none with the positions above): no traffic, no errors
        errors.setdefault(p, Fraction(0))
        totals.setdefault(p, Fraction(0))
    guard = Fraction(slo.min_request_rate)
    long_samples = {p.long: reads(end, range_seconds(p.long, interval), positions) for p in cmp.tier.windows}
    s = long_samples[cmp.pair.long]
    average = sum(totals[i] for i in s) / len(s)  # requests per interval
    # Ratios do not change when all traffic does: put the guard of the pair where the case needs it, so
    # light old segments stay under it (see _build). Without a guard, 10 req/s reads better than 1e-5.
    rate = (cmp.near if cmp.side == "guard" else WELL_OVER) * guard if guard else Fraction(10)
    scale = rate * interval / average
    errors = {i: x * scale for i, x in errors.items()}
    totals = {i: x * scale for i, x in totals.items()}
    t_r = {i: _round(x, 6, ROUND_HALF_EVEN) for i, x in totals.items()}
    e_r = {i: min(_round(x, 6, ROUND_HALF_EVEN), t_r[i]) for i, x in errors.items()}
    e_f: list[float | None] = [_as_float(e_r[i]) if i in e_r else None for i in range(end + 1)]
    t_f: list[float | None] = [_as_float(t_r[i]) if i in t_r else None for i in range(end + 1)]
    ratios = {}
    for w, s in samples.items():
        total = sum(t_r[i] for i in s)
        if total <= 0:
            return None
        ratios[w] = sum(e_r[i] for i in s) / total
    traffic = {w: sum((t_r[i] for i in s), Fraction(0)) / len(s) / interval for w, s in long_samples.items()}
    profile = Profile(end, e_f, t_f, ratios, traffic)
    return profile if _verify(slo, cmp, profile) else None


def _verify(slo: SLO, cmp: Comparison, profile: Profile) -> bool:
    """The rules' own condition on the exact ratios gives the intended state, with margins everywhere."""
    guard = Fraction(slo.min_request_rate)
    thresholds = [(p, Fraction(p.factor * slo.error_budget)) for p in cmp.tier.windows]
    r, traffic = profile.ratios, profile.traffic
    active = any(
        r[p.long] > t and r[p.short] > t and (guard == 0 or traffic[p.long] >= guard) for p, t in thresholds
    )
    if active != cmp.active:
        return False
    t = Fraction(cmp.pair.factor * slo.error_budget)
    values = {"long": r[cmp.pair.long] / t, "short": r[cmp.pair.short] / t}
    if guard > 0:
        values["guard"] = traffic[cmp.pair.long] / guard
    if abs(values.pop(cmp.side) - cmp.near) > NEAR_BAND or any(v < ROBUST for v in values.values()):
        return False
    return all(min(r[p.long], r[p.short]) * ROBUST <= t for p, t in thresholds if p is not cmp.pair)


def _candidate_ends(windows: tuple[BurnWindow, ...]) -> list[int]:
    """Evaluation minutes worth trying: one step past each window, so it differs from the longer ones."""
    return sorted({-(-w // STEP) + 1 for p in windows for w in (p.long, p.short)})


def pinned_profile(slo: SLO, cmp: Comparison, interval: int) -> Profile | None:
    """The earliest feasible profile for `cmp` (evaluation steps cost promtool time), or None."""
    return _pinned_shape(*_pin_key(slo, cmp, interval))


def _pinned_shape(
    shape: Shape, index: int, pair: BurnWindow, side: str, near: Fraction, interval: int
) -> Profile | None:
    key = (shape, index, pair, side, near, interval)
    if key in _PINNED:
        return _PINNED[key]
    found = None
    for end in _candidate_ends(shape[2][index]):
        found = _solve_shape(shape, index, pair, side, near, end, interval)
        if found is not None:
            break
    if len(_PINNED) < _MEMO_LIMIT:
        _PINNED[key] = found
    return found


def eval_order(service: Service, interval: int) -> list[str]:
    """Recordings before alerts at every step, as listed in the rule file.

    Without it promtool orders groups at random, and alerts then read either this step's or the last
    step's ratios: harmless for constant inputs, flaky for profiles that change at the evaluation step.
    """
    return group_names(service)


def _alert_state_test(alertname: str, matchers: dict[str, str], active: bool, at: str) -> dict[str, Any]:
    """1 when the alert is pending or firing at `at`, else 0: the `for:` duration does not matter."""
    return {
        "expr": f"count({promql.selector('ALERTS', {'alertname': alertname, **matchers})}) or vector(0)",
        "eval_time": at,
        "exp_samples": [{"labels": "{}", "value": 1 if active else 0}],
    }


def _case_label(slo: SLO) -> str:
    """A label name no series of the SLO already has."""
    taken = set(slo.labels) | {k for t in slo.tiers for k in t.labels}
    name = CASE_LABEL
    while name in taken:
        name += "_"
    return name


def _pin_key(slo: SLO, cmp: Comparison, interval: int) -> PinKey:
    index = next(i for i, t in enumerate(slo.tiers) if t is cmp.tier)
    shape = shape_of(slo)
    return shape, index, _canonical_pair(slo, shape, index, cmp.pair), cmp.side, cmp.near, interval


def _pinned_cases(service: Service, interval: int) -> list[tuple[SLO, Comparison, PinKey]]:
    """The comparisons a service's test file pins: every one of the first SLO of each shape."""
    first: set[Shape] = set()
    cases = []
    for slo in service.slos:
        shape = shape_of(slo)
        if shape in first:
            continue
        first.add(shape)
        cases += [(slo, cmp, _pin_key(slo, cmp, interval)) for cmp in comparisons(slo)]
    return cases


def _placement_rounds(ends: list[int]) -> list[list[tuple[int, int]]]:
    """Where each pinned case goes, as rounds of (case, group end): a case joins the longest group
    still open unless it fits one at least four times shorter, which the next round opens."""
    rounds = []
    pending = list(range(len(ends)))
    target = max([WINDOW_TEST_END, *ends])
    while pending:
        rounds.append([(i, target) for i in pending if ends[i] * 4 > target])
        pending = [i for i in pending if ends[i] * 4 <= target]
        target = max((ends[i] for i in pending), default=0)
    return rounds


def _one_per_kind(services: list[tuple[Service, int]]) -> list[tuple[Service, int]]:
    """The first service of each sequence of SLO shapes (and interval): services of the same shapes
    pin the same comparisons and place them the same way."""
    kinds: dict[tuple[tuple[Shape, ...], int], tuple[Service, int]] = {}
    for service, interval in services:
        kinds.setdefault((tuple(shape_of(slo) for slo in service.slos), interval), (service, interval))
    return list(kinds.values())


def pinned_keys(services: list[tuple[Service, int]]) -> list[PinKey]:
    """The comparison profiles the test files of these services need and are not solved yet."""
    keys: dict[PinKey, None] = {}
    for service, interval in _one_per_kind(services):
        for _, _, key in _pinned_cases(service, interval):
            if key not in _PINNED:
                keys[key] = None
    return list(keys)


def placement_keys(services: list[tuple[Service, int]]) -> list[SolveKey]:
    """The profiles solved again to end where their group ends (after `pinned_keys` are solved)."""
    keys: dict[SolveKey, None] = {}
    for service, interval in _one_per_kind(services):
        found = [
            (key, p)
            for _, _, key in _pinned_cases(service, interval)
            if (p := _pinned_shape(*key)) is not None
        ]
        for round_ in _placement_rounds([p.end for _, p in found]):
            for i, target in round_:
                key, profile = found[i]
                if profile.end != target and (*key[:5], target, key[5]) not in _SOLVED:
                    keys[(*key[:5], target, key[5])] = None
    return list(keys)


def solve_pinned_one(key: PinKey) -> Profile | None:
    """Solve one comparison profile (pure: any process can, and the result seeds another's memo)."""
    return _pinned_shape(*key)


def solve_placement_one(key: SolveKey) -> Profile | None:
    """Solve one profile at a given end (pure, like `solve_pinned_one`)."""
    return _solve_shape(*key)


def seed_profiles(pinned: dict[PinKey, Profile | None], solved: dict[SolveKey, Profile | None]) -> None:
    """Remember profiles solved elsewhere (by `solve_pinned_one` and `solve_placement_one` in a worker)."""
    _PINNED.update(pinned)
    _SOLVED.update(solved)


def comparison_groups(service: Service, windows: dict[str, Any], interval: int) -> list[dict[str, Any]]:
    """Test groups pinning every burn comparison, the cases sharing as few groups as possible.

    Each evaluation step of a group costs promtool time whatever the inputs, so a case joins the longest
    group (the window-ratio group, which runs for hours anyway) unless it can be placed in a group at
    least four times shorter; it is then solved again to end where that group ends.

    The matrix is pinned once per SLO shape (budget, traffic guard, tiers): SLOs of one shape differ only
    in their labels, which their own firing and quiet scenarios check, so repeating the matrix for each
    would test the same thresholds again at the cost of a promtool run per SLO.
    """
    found: list[tuple[SLO, Comparison, Profile]] = []
    skipped: list[str] = []
    first: dict[Shape, SLO] = {}
    shared: list[str] = []
    for slo in service.slos:
        shape = shape_of(slo)
        if shape in first:
            shared.append(f"{slo.name} as {first[shape].name}")
        else:
            first[shape] = slo
    for slo, cmp, key in _pinned_cases(service, interval):
        profile = _pinned_shape(*key)
        if profile is None:
            skipped.append(f"{slo.name} {cmp.title()}")
        else:
            found.append((slo, cmp, profile))
    by_end: dict[int, tuple[list[dict[str, str]], list[dict[str, Any]]]] = {}
    for round_ in _placement_rounds([p.end for _, _, p in found]):
        for i, target in round_:
            slo, cmp, profile = found[i]
            placed = profile if profile.end == target else _solve(slo, cmp, target, interval)
            profile = placed or profile  # not feasible there after all: a group at its own end
            inputs, tests = by_end.setdefault(profile.end, ([], []))
            case = {_case_label(slo): cmp.title()}
            inputs += recorded_inputs(
                service, slo, interval, profile.error_values, profile.total_values, extra=case
            )
            matchers = {"service": service.name, "slo": slo.name, "tier": cmp.tier.name, **case}
            tests.append(_alert_state_test(BURN_ALERT, matchers, cmp.active, fd(profile.end * STEP)))
    title = "every burn comparison 2% over and under its limit"
    groups = []
    for end, (inputs, tests) in sorted(by_end.items()):
        if end >= WINDOW_TEST_END:
            windows["name"] += f"; {title} at {fd(end * STEP)}"
            windows["input_series"] += inputs
            windows["promql_expr_test"] += tests
        else:
            groups.append(
                {
                    "name": f"{service.name}: {title} at {fd(end * STEP)}",
                    "interval": fd(STEP),
                    "input_series": inputs,
                    "promql_expr_test": tests,
                }
            )
    if skipped:
        note = "; not pinned (infeasible with error ratios in [0, 1]): " + ", ".join(skipped)
        (groups[0] if groups else windows)["name"] += note
    if shared and any(slo.tiers for slo in service.slos):
        windows["name"] += "; same budget, guard and tiers, so pinned once: " + ", ".join(shared)
    return groups


def no_data_window_group(service: Service, interval: int) -> dict[str, Any] | None:
    """Data that stops: each no-data alert stays quiet until its window has passed, then fires.

    The 5m ratio keeps recording while its range still holds the last slice (up to and including the
    range's length on Prometheus 2, strictly less on 3); the alert then waits for its window, also
    closed on 2 and left-open on 3. Quiet 2 minutes before the earlier, firing 2 minutes after the later.
    """
    slos = [slo for slo in service.slos if slo.no_data]
    if not slos:
        return None
    rng = range_seconds(RATE_WINDOW, interval)
    last_v3 = NO_DATA_STOP + int(-(-rng // STEP)) - 1  # minute of the last recorded 5m ratio
    last_v2 = NO_DATA_STOP + int(rng // STEP)
    inputs: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []
    for slo in slos:
        assert slo.no_data is not None
        n = float(max(Decimal(10), slo.min_request_rate * 10)) * interval
        inputs += recorded_inputs(
            service, slo, interval, [0.0] * (NO_DATA_STOP + 1), [n] * (NO_DATA_STOP + 1)
        )
        earliest = last_v3 * STEP + slo.no_data.for_seconds
        latest = last_v2 * STEP + slo.no_data.for_seconds + STEP
        matchers = {"service": service.name, "slo": slo.name}
        tests += [
            _alert_state_test(NO_DATA_ALERT, matchers, False, fd(earliest - NO_DATA_MARGIN)),
            _alert_state_test(NO_DATA_ALERT, matchers, True, fd(latest + NO_DATA_MARGIN)),
        ]
    return {
        "name": f"{service.name}: {NO_DATA_ALERT} waits for its window after the last sample at "
        f"{NO_DATA_STOP}m (+{window_range(RATE_WINDOW, interval)} of 5m ratio)",
        "interval": fd(STEP),
        "input_series": inputs,
        "promql_expr_test": tests,
    }


def slo_test_file(service: Service, rule_file: str, interval: int) -> dict[str, Any]:
    """The promtool test file of one service's SLO rules; `rule_file` is relative to the test file."""
    windows = windows_group(service, interval)
    return {
        "rule_files": [rule_file],
        "evaluation_interval": fd(STEP),
        "group_eval_order": eval_order(service, interval),
        "tests": [
            recordings_group(service, interval),
            *([g] if (g := no_error_series_group(service, interval)) else []),
            windows,
            *alert_groups(service, interval),
            *comparison_groups(service, windows, interval),
            *([g] if (g := no_data_window_group(service, interval)) else []),
        ],
    }
