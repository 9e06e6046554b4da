"""The demo's terminal view: pure functions from what was seen to lines of text.

On a terminal the whole screen is redrawn every second (`screen`); otherwise (a pipe, CI) each event
is printed once as it happens and a one-line status every so often (`status_line`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from slodrift.demo.watch import Alert, DriftRow, SloRow, Snapshot, Transition
from slodrift.demo.webhook import Notification
from slodrift.generator.promql import format_duration as fd

EVENTS_SHOWN = 12


@dataclass(frozen=True)
class Links:
    """Where the user can look while the demo runs."""

    prometheus: str
    alertmanager: str
    exporter: str
    workdir: str

    def lines(self) -> list[str]:
        return [
            f"  Prometheus    {self.prometheus}/graph   alerts: {self.prometheus}/alerts",
            f"  Alertmanager  {self.alertmanager}/#/alerts",
            f"  exporter      {self.exporter}/   (metrics: {self.exporter}/metrics)",
            f"  files         {self.workdir}/",
        ]


def clock(t: float) -> str:
    """Wall-clock time of an event, UTC (the time Prometheus and the reports use)."""
    return time.strftime("%H:%M:%S", time.gmtime(t))


def elapsed(seconds: float) -> str:
    """t+MM:SS."""
    s = max(0, int(seconds))
    return f"t+{s // 60:02d}:{s % 60:02d}"


def amount(value: float | None, unit: str) -> str:
    """A value in its unit, short."""
    if value is None:
        return "-"
    if unit == "seconds":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "ratio":
        return f"{value * 100:.3g} %"
    return f"{value:.3g}"


def burn(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def slo_line(row: SloRow) -> str:
    p = row.pair
    name = f"{p.service}/{p.slo}"
    return (
        f"  {name:<24} {fd(p.long):>4} {burn(row.burn_long):>7}  {fd(p.short):>4} {burn(row.burn_short):>7}"
        f"   {p.factor:g}x{'':<5} {row.coverage * 100:5.0f} %"
    )


def drift_line(row: DriftRow) -> str:
    drift = "-" if row.drift is None else f"{row.drift * 100:+.1f} %"
    z = "-" if row.zscore is None else f"{row.zscore:.1f}"
    name = f"{row.service} {row.indicator}"
    return f"  {name:<24} {amount(row.value, row.unit):>10} {amount(row.expected, row.unit):>10} {drift:>9} {z:>7}"


def describe(alert: Alert) -> str:
    """An alert in a few words: name, service and what of it, tier or severity."""
    who = alert.label("service")
    what = alert.label("slo") or alert.label("indicator")
    if what:
        who = f"{who}/{what}" if alert.label("slo") else f"{who} {what}"
    extra = alert.label("severity")
    if alert.label("tier") and alert.name == "SlodriftErrorBudgetBurn":
        extra = f"{alert.label('tier')} {alert.label('long_window')}/{alert.label('short_window')}"
    return f"{alert.name} {who} ({extra})" if extra else f"{alert.name} {who}"


def transition_line(t: Transition) -> str:
    return f"alert {t.new.upper() if t.new == 'firing' else t.new:<8} {describe(t.alert)}"


def notification_line(n: Notification) -> str:
    labels = n.labels
    alert = Alert(n.alertname, n.status, tuple(sorted(labels.items())))
    return f"-> {n.receiver:<6} {n.status.upper():<8} {describe(alert)}"


def receivers_line(got: list[Notification]) -> str:
    counts = Counter((n.receiver, n.status) for n in got)
    receivers = sorted({n.receiver for n in got})
    if not receivers:
        return "  (none yet)"
    return "  " + "   ".join(
        f"{r}: {counts[(r, 'firing')]} firing, {counts[(r, 'resolved')]} resolved" for r in receivers
    )


def screen(
    title: str,
    links: Links,
    snap: Snapshot | None,
    got: list[Notification],
    events: list[str],
) -> list[str]:
    """The full screen."""
    lines = [title, *links.lines()]
    lines.append("")
    lines.append(
        f"  {'burn rate (page tier)':<24} {'long':>12}  {'short':>12}   alert at   long window covered"
    )
    if snap is not None and snap.error:
        lines.append(f"  Prometheus did not answer: {snap.error}")
    for row in snap.slos if snap else []:
        lines.append(slo_line(row))
    lines.append("")
    lines.append(f"  {'drift from the baseline':<24} {'now':>10} {'baseline':>10} {'drift':>9} {'z':>7}")
    for d in snap.drifts if snap else []:
        lines.append(drift_line(d))
    lines.append("")
    lines.append("  alerts in Prometheus")
    alerts = snap.alerts if snap else []
    for a in alerts:
        lines.append(f"    {a.state.upper() if a.state == 'firing' else a.state:<8} {describe(a)}")
    if not alerts:
        lines.append("    (none)")
    lines.append("")
    lines.append("  notifications at the webhook receivers")
    lines.append(receivers_line(got))
    lines.append("")
    lines.append("  events")
    lines += [f"    {e}" for e in events[-EVENTS_SHOWN:]]
    return lines


def status_line(elapsed_s: float, phase: str, snap: Snapshot | None) -> str:
    """One line for a log: the phase, the first SLO's burn and the first indicator's drift."""
    parts = [f"{elapsed(elapsed_s)} {phase}"]
    if snap is not None and snap.error:
        parts.append(f"Prometheus: {snap.error}")
    elif snap is not None:
        for row in snap.slos[:1]:
            parts.append(
                f"{row.pair.service}/{row.pair.slo} burn {burn(row.burn_long)} over {fd(row.pair.long)}"
            )
        for dr in snap.drifts[:1]:
            drift = "-" if dr.drift is None else f"{dr.drift * 100:+.1f} %"
            parts.append(f"{dr.service} {dr.indicator} {amount(dr.value, dr.unit)} (drift {drift})")
        firing = sum(a.state == "firing" for a in snap.alerts)
        parts.append(f"{firing} alert(s) firing")
    return "; ".join(parts)
