"""The same SLO as rules of the three tools: slodrift (generated from a spec, on its defaults), Sloth and
Pyrra (their generated examples in `shared/anchors/`, adapted by text substitution as `bench/common.py`
adapts them for the cost benchmark, then carried over to the scenario's job, objective, window and SLI).

- Sloth: `getting-started.yml` (an events SLI, 30d). The SLI rules are rewritten with Sloth's own template
  for events SLIs, `(ERROR_QUERY)\\n/\\n(TOTAL_QUERY)` with the window put in; objective and budget are written
  as Sloth writes them (`vector(O/100)`, `(F * (100-O)/100)`). For a window other than 30d, the period
  rule, `time_period` and the burn factors follow the period as a Sloth AlertWindows spec copying the
  default budget percentages (2 %, 5 % in 1h, 6h; 10 %, 10 % in 1d, 3d) would give: factor = percent x
  period / long window. Groups carry no interval: Prometheus' default, 1m.
- Pyrra: `ratio_http_errors.rules.yaml` / `latency_http.rules.yaml` (28d). Pyrra derives its burn windows,
  `for` durations and the increase group's interval from the SLO window (`slo/rules.go`, `Windows()`:
  1h, 5m, 2m for 28d, scaled by window/28d and rounded to the minute; factors 14, 7, 2, 1); they are
  recomputed for the scenario's window (the cost benchmark keeps the 28d ones; here they matter).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402  (bench/common.py: anchors, the base adaptation)

DAY = 86400


@dataclass(frozen=True)
class SLODef:
    """One SLO of one scenario, as all three tools get it."""

    job: str
    kind: str = "availability"  # availability | latency
    objective: float = 99.9  # percent
    window_days: int = 30
    threshold: float = 0.5  # latency: seconds, a bucket bound
    team: str = "payments"  # a service label (slodrift) / owner (Sloth): what a label change changes
    indicators: tuple[str, ...] = ()  # slodrift drift indicators (drift scenarios)

    @property
    def name(self) -> str:
        return self.kind


def _dur(seconds: int) -> str:
    """Prometheus duration text, shortest form (2h, 1h30m, 45s)."""
    out = []
    for unit, size in (("d", DAY), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            n, seconds = divmod(seconds, size)
            out.append(f"{n}{unit}")
    return "".join(out) or "0s"


# ---------------------------------------------------------------- slodrift


def slodrift_spec(slo: SLODef) -> str:
    """A spec on slodrift's defaults for this SLO (plus drift indicators when the scenario has them)."""
    if slo.kind == "availability":
        sli = "{errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}"
    else:
        sli = f"{{latency: {{histogram: http_request_duration_seconds, threshold: {slo.threshold}}}}}"
    lines = [
        "version: 1",
        'release: {name: scenario, version: v2, watch_start: "2025-11-22T00:00:00Z", watch_days: 7}',
        "defaults:",
        f"  slo_window: {slo.window_days}d",
        "  evaluation_interval: 1m",
        "  alerting: {page: {receiver: pager}, ticket: {receiver: chat}}",
        "services:",
        f"  - name: {slo.job}",
        f"    labels: {{team: {slo.team}}}",
        f"    selector: {{job: {slo.job}}}",
        "    slos:",
        f"      - name: {slo.name}",
        f"        objective: {slo.objective:g}",
        f"        sli: {sli}",
    ]
    if slo.indicators:
        lines.append("    indicators:")
        lines += [f"      {i}: {{}}" for i in slo.indicators]
        lines += [
            "drift:",
            "  performance: {warning: 5%, critical: 10%}",
            "  behaviour: {warning: 10%, critical: 20%}",
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Sloth

_SLOTH_PCT = {"1h": 2.0, "6h": 5.0, "1d": 10.0, "3d": 10.0}  # Sloth's default budget consumed per long window
_SLOTH_LONG_S = {"1h": 3600, "6h": 6 * 3600, "1d": DAY, "3d": 3 * DAY}


def _sloth_queries(slo: SLODef, w: str) -> tuple[str, str]:
    sel = f'job="{slo.job}"'
    if slo.kind == "availability":
        return (
            f'sum(rate(http_requests_total{{{sel},code=~"5.."}}[{w}]))',
            f"sum(rate(http_requests_total{{{sel}}}[{w}]))",
        )
    total = f"sum(rate(http_request_duration_seconds_count{{{sel}}}[{w}]))"
    good = f'sum(rate(http_request_duration_seconds_bucket{{{sel},le="{slo.threshold}"}}[{w}]))'
    return f"{total} - {good}", total


def sloth_doc(slo: SLODef) -> dict[str, Any]:
    """Sloth's generated rules for this SLO (see the module text)."""
    text = (common.ANCHORS / "sloth" / "getting-started.yml").read_text()
    text = text.replace("owner: myteam", f"owner: {slo.team}")
    period = f"{slo.window_days}d"
    objective, budget = slo.objective / 100, (100 - slo.objective) / 100
    text = text.replace("0.9990000000000001", repr(objective)).replace("0.0009999999999999432", repr(budget))
    text = text.replace('sloth_objective: "99.9"', f'sloth_objective: "{slo.objective:g}"')
    if period != "30d":
        text = text.replace("ratio_rate30d", f"ratio_rate{period}").replace("[30d]", f"[{period}]")
        text = text.replace("sloth_window: 30d", f"sloth_window: {period}").replace(
            "vector(30)", f"vector({slo.window_days})"
        )
        # burn factors: percent of the budget x period / long window (30d: 14.4, 6, 3, 1); each `(F * ` is
        # written once per window pair, on both of its windows
        for long, default in (("1h", "14.4"), ("6h", "6"), ("1d", "3"), ("3d", "1")):
            f = _SLOTH_PCT[long] / 100 * slo.window_days * DAY / _SLOTH_LONG_S[long]
            text = text.replace(f"({default} * ", f"({f:.6g} * ")
    doc = yaml.safe_load(text)
    for g in doc["groups"]:
        for r in g["rules"]:
            m = re.fullmatch(r"slo:sli_error:ratio_rate(\w+)", str(r.get("record", "")))
            if m and m.group(1) != period:
                err, tot = _sloth_queries(slo, m.group(1))
                r["expr"] = f"({err})\n/\n({tot})\n"
    return doc


# ---------------------------------------------------------------- Pyrra


@dataclass(frozen=True)
class PyrraWindow:
    severity: str
    for_s: int
    long_s: int
    short_s: int
    factor: int


def _round_minute(seconds: float) -> int:
    """Go's Duration.Round(time.Minute): to the nearest minute, halves away from zero."""
    return int((seconds + 30) // 60 * 60)


def pyrra_windows(window_s: int) -> list[PyrraWindow]:
    """`Windows(sloWindow)` of Pyrra's slo/rules.go."""
    w = window_s
    return [
        PyrraWindow(
            "critical",
            _round_minute(w / (28 * 24 * 30)),
            _round_minute(w / (28 * 24)),
            _round_minute(w / (28 * 24 * 12)),
            14,
        ),
        PyrraWindow(
            "critical",
            _round_minute(w / (28 * 24 * 4)),
            _round_minute(w / (28 * 4)),
            _round_minute(w / (28 * 24 * 2)),
            7,
        ),
        PyrraWindow(
            "warning", _round_minute(w / (28 * 24)), _round_minute(w / 28), _round_minute(w / (28 * 12)), 2
        ),
        PyrraWindow(
            "warning", _round_minute(w / (28 * 8)), _round_minute(w / 7), _round_minute(w / (28 * 4)), 1
        ),
    ]


def _pyrra_interval(window_s: int) -> int:
    """`RecordingRuleWindow()`: 30s per started week of the window, plus 30s."""
    return (window_s // (7 * DAY) + 1) * 30


def pyrra_doc(slo: SLODef) -> dict[str, Any]:
    """Pyrra's generated rules for this SLO, built on the anchor's groups, names and expressions."""
    if slo.kind == "availability":
        anchor = yaml.safe_load((common.ANCHORS / "pyrra" / "ratio_http_errors.rules.yaml").read_text())
        metric = "http_requests"
    else:
        anchor = yaml.safe_load((common.ANCHORS / "pyrra" / "latency_http.rules.yaml").read_text())
        metric = "http_request_duration_seconds"
    name = f"{slo.job}-{slo.kind}"
    window_s = slo.window_days * DAY
    wins = pyrra_windows(window_s)

    def fix(text: str) -> str:
        """The anchor's selectors and objective carried over to this SLO."""
        text = re.sub(r'job="[^"]*"', f'job="{slo.job}"', text)
        text = text.replace(
            'code=~"2..",', ""
        )  # the latency anchor counts 2xx only; these histograms have no code
        text = text.replace('le="1"', f'le="{slo.threshold}"').replace("le: '1'", f"le: '{slo.threshold}'")
        return text

    groups = {
        g["name"].rsplit("-", 1)[-1] if g["name"].endswith(("-increase", "-generic")) else "burn": g
        for g in anchor["groups"]
    }
    inc = groups["increase"]
    inc_rules = []
    for r in inc["rules"]:
        r = dict(r)
        r["expr"] = fix(str(r["expr"])).replace("[4w]", f"[{slo.window_days}d]")
        if "record" in r:
            r["record"] = str(r["record"]).replace("increase4w", f"increase{slo.window_days}d")
        r["labels"] = {**(r.get("labels") or {}), "job": slo.job, "slo": name}
        if "le" in r["labels"]:
            r["labels"]["le"] = str(slo.threshold)
        inc_rules.append(r)
    burn = groups["burn"]
    template = next(r for r in burn["rules"] if "record" in r and str(r["record"]).endswith("burnrate5m"))
    rules: list[dict[str, Any]] = []
    for w_s in sorted({s for w in wins for s in (w.short_s, w.long_s)}):
        rules.append(
            {
                "record": f"{metric}:burnrate{_dur(w_s)}",
                "expr": fix(str(template["expr"])).replace("[5m]", f"[{_dur(w_s)}]"),
                "labels": {"job": slo.job, "slo": name},
            }
        )
    budget = f"(1-{slo.objective / 100!r})"
    anchor_alerts = [r for r in burn["rules"] if "alert" in r]
    for w, a in zip(wins, anchor_alerts, strict=True):
        sel = f'{{job="{slo.job}",slo="{name}"}}'
        rules.append(
            {
                "alert": "ErrorBudgetBurn",
                "expr": f"{metric}:burnrate{_dur(w.short_s)}{sel} > ({w.factor} * {budget}) and "
                f"{metric}:burnrate{_dur(w.long_s)}{sel} > ({w.factor} * {budget})",
                "for": _dur(w.for_s),
                "labels": {
                    **a["labels"],  # the anchor's (exhaustion: 2d, 4d, 2w, 4w), then this SLO's
                    "job": slo.job,
                    "long": _dur(w.long_s),
                    "severity": w.severity,
                    "short": _dur(w.short_s),
                    "slo": name,
                },
            }
        )
    return {
        "groups": [
            {"name": f"{name}-increase", "interval": _dur(_pyrra_interval(window_s)), "rules": inc_rules},
            {"name": name, "interval": str(burn.get("interval", "30s")), "rules": rules},
        ]
    }


# ---------------------------------------------------------------- all three


@dataclass
class ToolRules:
    tool: str
    doc: dict[str, Any]
    spec_text: str | None = None  # slodrift only
    notes: list[str] = field(default_factory=list)


def rules_for(tool: str, slo: SLODef) -> ToolRules:
    if tool == "slodrift":
        return ToolRules(tool, {}, spec_text=slodrift_spec(slo))
    if tool == "sloth":
        return ToolRules(tool, sloth_doc(slo))
    if tool == "pyrra":
        return ToolRules(tool, pyrra_doc(slo))
    raise ValueError(f"unknown tool {tool!r}")
