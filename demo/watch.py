"""What the demo reads back from Prometheus each second: burn rates, drift and alert states.

One instant query fetches every series the view shows (the recorded series the generated rules wrote
and `ALERTS`); `Alerts` turns consecutive snapshots into transitions (pending, firing, resolved).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slodrift.generator.model import Spec
from slodrift.generator.rules import drift_names as d
from slodrift.generator.rules import slo_names as n
from slodrift.report.prometheus_api import PrometheusClient, PrometheusError, Series

ALERTS = "ALERTS"


@dataclass(frozen=True)
class Pair:
    """The page tier's window pair of one SLO: what the view shows its burn over."""

    service: str
    slo: str
    long: int
    short: int
    factor: float
    covered: int  # interval events the long window needs before the alert may use it


def indicators_of(spec: Spec) -> list[tuple[str, str, str]]:
    """(service, indicator, unit) of every indicator the spec watches."""
    return [(s.name, i.name, i.unit) for s in spec.services for i in s.indicators]


def page_pairs(spec: Spec) -> list[Pair]:
    """The first window pair of each SLO's page tier (the ticket tier's when it has no page tier)."""
    out = []
    for service in spec.services:
        for slo in service.slos:
            tiers = sorted(slo.tiers, key=lambda t: t.name != "page")
            if tiers and tiers[0].windows:
                w = tiers[0].windows[0]
                out.append(
                    Pair(
                        service.name,
                        slo.name,
                        w.long,
                        w.short,
                        float(w.factor),
                        n.covered_count(w.long, spec.evaluation_interval),
                    )
                )
    return out


@dataclass(frozen=True)
class SloRow:
    """Burn rates of one SLO over its page windows, and how far the long window is covered."""

    pair: Pair
    burn_long: float | None
    burn_short: float | None
    coverage: float  # 0..1 of the share the alert needs


@dataclass(frozen=True)
class DriftRow:
    """One indicator against its baseline."""

    service: str
    indicator: str
    unit: str
    value: float | None
    expected: float | None
    drift: float | None
    zscore: float | None


@dataclass(frozen=True)
class Alert:
    """One alert as Prometheus holds it now."""

    name: str
    state: str  # pending | firing
    labels: tuple[tuple[str, str], ...]  # without alertname and alertstate

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")


@dataclass(frozen=True)
class Snapshot:
    """Everything the view shows at one moment; `error` when Prometheus did not answer."""

    at: float
    slos: list[SloRow] = field(default_factory=list)
    drifts: list[DriftRow] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    error: str | None = None


def names(pairs: list[Pair]) -> list[str]:
    """Every series name one snapshot reads."""
    windows = sorted({w for p in pairs for w in (p.long, p.short)})
    return [
        *(n.ratio_name(w) for w in windows),
        *sorted({n.sum_name(p.long) for p in pairs}),
        n.BUDGET,
        d.VALUE,
        d.EXPECTED,
        d.DRIFT,
        d.DRIFT_Z,
        ALERTS,
    ]


def query(pairs: list[Pair]) -> str:
    """One selector for all of them."""
    return '{__name__=~"' + "|".join(names(pairs)) + '"}'


def _index(series: list[Series]) -> dict[str, list[Series]]:
    out: dict[str, list[Series]] = {}
    for s in series:
        out.setdefault(s.labels.get("__name__", ""), []).append(s)
    return out


def _value(found: dict[str, list[Series]], name: str, **labels: str) -> float | None:
    for s in found.get(name, []):
        if all(s.labels.get(k) == v for k, v in labels.items()) and s.samples:
            return s.value
    return None


def build(
    at: float, pairs: list[Pair], indicators: list[tuple[str, str, str]], series: list[Series]
) -> Snapshot:
    """A snapshot from the series of one query."""
    found = _index(series)
    slos = []
    for p in pairs:
        who = {"service": p.service, "slo": p.slo}
        budget = _value(found, n.BUDGET, **who)
        ratios = [_value(found, n.ratio_name(w), **who) for w in (p.long, p.short)]
        burns = [r / budget if r is not None and budget else None for r in ratios]
        covered = _value(found, n.sum_name(p.long), **who, event=n.INTERVAL) or 0.0
        slos.append(SloRow(p, burns[0], burns[1], min(1.0, covered / p.covered)))
    drifts = []
    for service, indicator, unit in indicators:
        who = {"service": service, "indicator": indicator}
        drifts.append(
            DriftRow(
                service,
                indicator,
                unit,
                _value(found, d.VALUE, **who),
                _value(found, d.EXPECTED, **who),
                _value(found, d.DRIFT, **who),
                _value(found, d.DRIFT_Z, **who),
            )
        )
    alerts = sorted(
        (
            Alert(
                s.labels.get("alertname", ""),
                s.labels.get("alertstate", ""),
                tuple(
                    sorted(
                        (k, v)
                        for k, v in s.labels.items()
                        if k not in ("__name__", "alertname", "alertstate")
                    )
                ),
            )
            for s in found.get(ALERTS, [])
        ),
        key=lambda a: (a.name, a.labels),
    )
    return Snapshot(at, slos, drifts, alerts)


def fetch(
    client: PrometheusClient, at: float, pairs: list[Pair], indicators: list[tuple[str, str, str]]
) -> Snapshot:
    """Query Prometheus once; a failure is a snapshot with `error`, never an exception."""
    try:
        result = client.query(query(pairs))
    except PrometheusError as exc:
        return Snapshot(at, error=str(exc)[:200])
    return build(at, pairs, indicators, result.series)


@dataclass(frozen=True)
class Transition:
    """An alert changed state: `new` is pending, firing, or resolved (gone after firing)."""

    at: float
    alert: Alert
    old: str  # "" when it was not there
    new: str  # pending | firing | resolved | cleared (gone without ever firing)


@dataclass
class Alerts:
    """Alert states across snapshots, and every transition seen."""

    current: dict[tuple[str, tuple[tuple[str, str], ...]], Alert] = field(default_factory=dict)
    fired: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)
    transitions: list[Transition] = field(default_factory=list)

    def update(self, snap: Snapshot) -> list[Transition]:
        """The transitions between the last snapshot and this one (none when Prometheus failed)."""
        if snap.error is not None:
            return []
        now = {(a.name, a.labels): a for a in snap.alerts}
        out = []
        for key, alert in now.items():
            old = self.current.get(key)
            if old is None or old.state != alert.state:
                out.append(Transition(snap.at, alert, old.state if old else "", alert.state))
            if alert.state == "firing":
                self.fired.add(key)
        for key, alert in self.current.items():
            if key not in now:
                out.append(
                    Transition(snap.at, alert, alert.state, "resolved" if key in self.fired else "cleared")
                )
                self.fired.discard(key)
        self.current = now
        self.transitions += out
        return out

    def first(self, name: str, new: str, since: float, **labels: str) -> float | None:
        """When an alert `name` with these labels first went to state `new` at `since` or later."""
        for t in self.transitions:
            if (
                t.at >= since
                and t.alert.name == name
                and t.new == new
                and all(t.alert.label(k) == v for k, v in labels.items())
            ):
                return t.at
        return None
