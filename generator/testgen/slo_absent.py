"""The absent and no-data test of a service: its targets go quiet, then vanish.

Each SLO's total counter (or, for a query SLI, its recorded total) has samples for the first five
minutes only; the service's `up` series reads 1 until the no-data alerts have fired (minute 33 with
the default 15m `for`), then vanishes. With a selector on the
service, that is first an idle service whose targets are up (no data: the no-data alert, not a page),
then one whose targets are gone (SlodriftSLIAbsent, critical). Without one, slodrift cannot tell idle
from gone, and SlodriftSLIAbsent fires once the series are gone. Edges depend on Prometheus' 5-minute
lookback, so the checks sit minutes away from every edge.
"""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator import promql
from slodrift.generator.matching import labels_matching
from slodrift.generator.model import SLO, Service
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules.slo_alerts import ABSENT_FOR, absent_rules, raw_total
from slodrift.generator.rules.slo_names import (
    ABSENT_ALERT,
    EVENT,
    NO_DATA_ALERT,
    RATE_WINDOW,
    TOTAL,
    events_name,
)
from slodrift.generator.testgen.series import MAX_STEPS, series
from slodrift.generator.testgen.templates import render_template

QUIET_AT = 300  # seconds: the last sample of every SLI series
IDLE_CHECK = 1200  # seconds: idle, the targets up; neither alert may fire
LOOKBACK = 300
MARGIN = 150  # seconds between a check and any edge, beyond one evaluation interval


def _query_metrics(slo: SLO) -> set[str]:
    text = " ".join(q for q in (slo.sli.error_query, slo.sli.total_query, slo.sli.error_ratio_query) if q)
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text))


def fed_slos(service: Service) -> list[SLO]:
    """SLOs fed in this test: selector SLIs (their raw total), and query SLIs whose queries read none
    of those counters (their recorded total; the rules would otherwise record one from the counters)."""
    raw = [s for s in service.slos if raw_total(s) is not None]
    metrics = {r.metric for s in raw for r in [raw_total(s)] if r is not None}
    return raw + [s for s in service.slos if raw_total(s) is None and not _query_metrics(s) & metrics]


def _ceil(seconds: float, interval: int) -> int:
    return -(-int(seconds) // interval) * interval


def _no_data_from(slo: SLO, interval: int) -> float:
    """When the SLO's no-data alert starts firing (its `for` after the 5m ratio is gone)."""
    assert slo.no_data is not None
    if slo.sli.kind == "error_ratio":
        ratio_until = 0.0  # the ratio query selects nothing here: no 5m ratio ever
    else:
        ratio_until = _ratio_until(slo, interval)
    return ratio_until + slo.no_data.for_seconds


def _ratio_until(slo: SLO, interval: int) -> float:
    """When the SLO's 5m ratio ends: its last slice, plus what the 5m window holds after it. A raw read
    records a slice of 0 while the counters' sample of one interval earlier is within Prometheus'
    5m lookback (the counters had data before, none in the interval)."""
    raw = raw_total(slo) is not None
    slices_until = QUIET_AT + (LOOKBACK + interval if raw else 0)
    return slices_until + RATE_WINDOW_RANGE(interval)


def timeline(slos: list[SLO], interval: int) -> tuple[int, list[int]]:
    """When `up` vanishes, and the checks (idle, no data, gone), in seconds: `up` stays until every
    no-data alert has fired and been checked, so the test is no longer than its slowest `for`."""
    after = MARGIN + interval + 1  # a check this long after the edge it follows
    starts = [_no_data_from(s, interval) for s in slos if s.no_data]
    idle_check = _ceil(IDLE_CHECK, interval)
    # just after the 5m ratio has been gone for 5 minutes: a no-data window of 5m would fire here
    raw = [_ratio_until(s, interval) + RATE_WINDOW for s in slos if s.no_data and s.sli.kind != "error_ratio"]
    short_check = _ceil(max(raw) + 1, interval) if raw else idle_check
    no_data_check = _ceil(
        max([idle_check + after, short_check + after, *[t + after for t in starts]]), interval
    )
    gone_at = _ceil(no_data_check + max(0, after + interval - LOOKBACK), interval)
    gone_check = _ceil(gone_at + LOOKBACK + ABSENT_FOR + after, interval)
    return gone_at, sorted({idle_check, short_check, no_data_check, gone_check})


def _phases(service: Service, slo: SLO, interval: int, gone_at: int) -> dict[str, tuple[float, float]]:
    """When each alert of the SLO is active: (from, to) in seconds, edges approximate to a lookback."""
    absent_from = QUIET_AT + LOOKBACK  # the total has no sample in the last five minutes
    gone_from = max(absent_from, gone_at + LOOKBACK) if service.selector else absent_from
    out: dict[str, tuple[float, float]] = {ABSENT_ALERT: (gone_from + ABSENT_FOR, float("inf"))}
    if slo.no_data:
        out[NO_DATA_ALERT] = (_no_data_from(slo, interval), gone_from)
    return out


def RATE_WINDOW_RANGE(interval: int) -> float:  # noqa: N802 - a derived constant
    """How long the 5m window holds a slice after the last one."""
    return 300 - interval / 2


def _safe(check: int, phases: list[tuple[float, float]], interval: int) -> bool:
    return all(
        abs(check - edge) > MARGIN + interval for a, b in phases for edge in (a, b) if edge != float("inf")
    )


class AbsentTest:
    """The absent and no-data test group of one service."""

    def __init__(self, service: Service, interval: int) -> None:
        self.service = service
        self.interval = interval
        self.slos = fed_slos(service)
        self.gone_at, self.checks = timeline(self.slos, interval)

    def inputs(self) -> list[dict[str, str]]:
        i = self.interval
        quiet = QUIET_AT // i
        out = []
        for slo in self.slos:
            raw = raw_total(slo)
            if raw is not None:
                labels = labels_matching(raw)
                out.append({"series": series(raw.metric, labels), "values": f"0+60x{quiet}"})
                if slo.sli.kind == "latency":  # every request fast: the SLI reads 0, not nothing
                    assert slo.sli.histogram is not None and slo.sli.threshold is not None
                    bucket = {**labels, "le": promql.number(slo.sli.threshold)}
                    out.append(
                        {"series": series(slo.sli.histogram + "_bucket", bucket), "values": f"0+60x{quiet}"}
                    )
            else:
                labels = {**self.service.labels, "service": self.service.name, "slo": slo.name, EVENT: TOTAL}
                out.append({"series": series(events_name(i), labels), "values": f"60+0x{quiet}"})
        if self.service.selector:
            up = {m.label: m.value for m in self.service.selector}
            out.append({"series": series("up", up), "values": f"1+0x{self.gone_at // i}"})
        return out

    def expected(self, slo: SLO, alertname: str) -> dict[str, Any]:
        """Labels: what `absent()` derives from equality matchers, then the rule's labels (the SLO's
        labels, service and slo, severity, receiver); annotations rendered with them."""
        raw = raw_total(slo)
        if alertname == ABSENT_ALERT:
            sel = (
                raw
                if raw is not None
                else promql.parse_selector(
                    promql.selector(
                        events_name(self.interval),
                        {"service": self.service.name, "slo": slo.name, EVENT: TOTAL},
                    )
                )
            )
            base = {m.label: m.value for m in sel.matchers if m.op == "="}
        else:
            base = {"service": self.service.name, "slo": slo.name}
        page = next((t for t in slo.tiers if t.name == "page"), None)
        labels = {**base, **slo.labels, "service": self.service.name, "slo": slo.name}
        if alertname == ABSENT_ALERT:
            labels["severity"] = page.severity if page else "critical"
            if page and page.receiver:
                labels["receiver"] = page.receiver
        else:
            assert slo.no_data is not None
            labels["severity"] = slo.no_data.severity
        rule = next(r for r in absent_rules(self.service, slo, self.interval) if r.alert == alertname)
        labels = {k: v for k, v in labels.items() if v != ""}  # Prometheus drops a label with no value
        return {
            "exp_labels": labels,
            # the value of both alerts is 1 (absent(), times the info series)
            "exp_annotations": {k: render_template(v, labels, 1.0) for k, v in rule.annotations.items()},
        }

    def group(self) -> dict[str, Any] | None:
        if not self.slos or max(self.checks) // self.interval > MAX_STEPS:
            return None  # at a short interval this timeline (set by Prometheus' 5m lookback) is too long
        phases = {slo.name: _phases(self.service, slo, self.interval, self.gone_at) for slo in self.slos}
        edges = [p for ph in phases.values() for p in ph.values()]
        tests = []
        for check in self.checks:
            if not _safe(check, edges, self.interval):
                continue
            for alertname in (ABSENT_ALERT, NO_DATA_ALERT):
                alerts = [
                    self.expected(slo, alertname)
                    for slo in self.slos
                    if alertname in phases[slo.name]
                    and phases[slo.name][alertname][0] <= check < phases[slo.name][alertname][1]
                ]
                tests.append({"eval_time": fd(check), "alertname": alertname, "exp_alerts": alerts})
        if not tests:
            return None
        return {
            "name": f"{self.service.name}: the SLIs go quiet, then the targets vanish",
            "interval": fd(self.interval),
            "input_series": self.inputs(),
            "alert_rule_test": tests,
        }


def absent_group(service: Service, interval: int) -> dict[str, Any] | None:
    """The absent and no-data test group of one service, or None when none of its SLOs can be fed."""
    return AbsentTest(service, interval).group()
