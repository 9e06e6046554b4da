"""A Grafana dashboard (classic JSON model) over slodrift's series, built from the spec: plain data, no
dashboard library (see the README for why not grafana-foundation-sdk).

Layout: an overview filtered by variables (datasource, service, slo, indicator, and one per `group_by`
label), then one row per service with each SLO's state at a glance: its SLI over the SLO window against
its objective, the budget left, and the burn rate of each alert tier against that tier's factor. Every
threshold on the dashboard comes from the spec (objectives, burn factors per tier and window, drift
thresholds per category) or from the stability scoring it mirrors; series names come from the rule
modules, so a renamed series is renamed here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import SLO, Service, Spec
from slodrift.generator.promql import Matcher
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules import drift_names
from slodrift.generator.rules import slo as slo_rules
from slodrift.generator.rules import stability as stability_rules

SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
# The exporter's stability series (exporter/scorer.py publishes them; the generator does not import it).
SCORE = "slodrift_stability_score_ratio"
DAYS_DEGRADED = "slodrift_days_degraded"
# The stability scoring's grade limits (report/scoring.py GRADES) and rollback limit on degraded days
# (report/scoring.py Thresholds.rollback_days_degraded); tests/test_dashboard.py checks they agree.
GRADE_STEPS = ((None, "red"), (0.6, "orange"), (0.7, "yellow"), (0.8, "light-green"), (0.9, "green"))
ROLLBACK_DAYS_DEGRADED = 2
COLLAPSE_ROWS_ABOVE = 6  # services; more rows start collapsed so the dashboard opens quickly
TIER_COLOURS = ("red", "orange", "yellow", "blue")  # first tier (the most urgent) first
RESERVED_VARIABLES = {"datasource", "service", "slo", "indicator"}


def group_labels(specs: Sequence[Spec]) -> list[str]:
    """The `group_by` labels of every SLO of the specs (issue 13): one dashboard variable each."""
    return sorted(
        {label for spec in specs for svc in spec.services for slo in svc.slos for label in slo.group_by}
    )


def group_variable(label: str) -> str:
    """The variable of a group label: the label's own name, unless a built-in variable has it."""
    return f"group_{label}" if label in RESERVED_VARIABLES or label.startswith("__") else label


def _num(x: Decimal | float) -> float:
    return float(x)


def _steps(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def _target(ref: int, expr: str, legend: str, **extra: Any) -> dict[str, Any]:
    return {"refId": chr(ord("A") + ref), "datasource": DS, "expr": expr, "legendFormat": legend, **extra}


def _panel(
    kind: str,
    title: str,
    grid: tuple[int, int, int, int],
    targets: list[dict[str, Any]],
    unit: str,
    thresholds: dict[str, Any] | None = None,
    description: str = "",
    custom: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    links: list[dict[str, Any]] | None = None,
    **defaults: Any,
) -> dict[str, Any]:
    x, y, w, h = grid
    field: dict[str, Any] = {"unit": unit, "thresholds": thresholds or _steps((None, "green")), **defaults}
    if custom is not None:
        field["custom"] = custom
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": options or {},
        "links": links or [],
        "targets": targets,
    }


def _timeseries_custom(threshold_lines: bool) -> dict[str, Any]:
    """Field options of a time series: lines, and the thresholds drawn as dashed lines when they mean
    something on this panel (Grafana draws none without `thresholdsStyle`)."""
    return {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 0,
        "showPoints": "never",
        "spanNulls": False,
        "thresholdsStyle": {"mode": "dashed" if threshold_lines else "off"},
    }


def _stat_options(text_mode: str = "value_and_name") -> dict[str, Any]:
    return {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": text_mode,
        "justifyMode": "auto",
        "orientation": "auto",
    }


class _Selectors:
    """Label matchers of the overview (Grafana variables) and of one SLO (exact values, escaped)."""

    def __init__(self, labels: list[str]) -> None:
        self.groups = [Matcher(label, "=~", f"${group_variable(label)}") for label in labels]
        self.who = "{{service}} {{slo}}" + "".join(f" {{{{{label}}}}}" for label in labels)  # legend

    def slo_vars(self, metric: str) -> str:
        return promql.selector(
            metric,
            extra=[Matcher("service", "=~", "$service"), Matcher("slo", "=~", "$slo"), *self.groups],
        )

    def service_vars(self, metric: str, *extra: Matcher) -> str:
        return promql.selector(metric, extra=[Matcher("service", "=~", "$service"), *extra])

    def one_slo(self, metric: str, service: Service, slo: SLO) -> str:
        return promql.selector(metric, slo_rules.slo_matchers(service, slo), extra=self.groups)


def burn_expr(ratio: str, budget: str) -> str:
    """Burn rate of a window: its recorded error ratio over the SLO's budget (both recorded series)."""
    return f"{ratio} / ignoring (window) {budget}"


LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def runbook_links(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """The SLO's runbook URLs (the `runbook_url` annotations of the SLO and its tiers) with
    `{{ $labels.x }}` filled in from the SLO's labels; a URL that needs a label the SLO does not have is
    left out rather than linked half-rendered."""
    values = {**service.labels, **slo.labels, "service": service.name, "slo": slo.name}
    urls: list[str] = []
    for ann in (slo.annotations, *(t.annotations for t in slo.tiers)):
        url = ann.get("runbook_url")
        if not url:
            continue
        filled = LABEL_TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), url)
        if "{{" not in filled and filled not in urls:
            urls.append(filled)
    return [
        {
            "type": "link",
            "title": f"Runbook: {service.name} {slo.name}",
            "tooltip": "",
            "url": u,
            "icon": "doc",
            "tags": [],
            "asDropdown": False,
            "includeVars": False,
            "keepTime": False,
            "targetBlank": True,
        }
        for u in urls
    ]


def _tier_windows(specs: Sequence[Spec]) -> list[tuple[str, int, list[tuple[int, Decimal, str]]]]:
    """Per alert tier and window pair (by position): the long windows and factors used, with which SLOs
    use them, in tier order (page before ticket)."""
    order: list[tuple[str, int]] = []
    found: dict[tuple[str, int], dict[tuple[int, Decimal], list[str]]] = {}
    for spec in specs:
        for svc in spec.services:
            for slo in svc.slos:
                for tier in slo.tiers:
                    for i, bw in enumerate(tier.windows):
                        key = (tier.name, i)
                        if key not in found:
                            order.append(key)
                            found[key] = {}
                        found[key].setdefault((bw.long, bw.factor), []).append(f"{svc.name} {slo.name}")
    return [
        (tier, i, [(w, f, ", ".join(users)) for (w, f), users in sorted(found[(tier, i)].items())])
        for tier, i in order
    ]


def overview(specs: Sequence[Spec], sel: _Selectors, y: int) -> tuple[list[dict[str, Any]], int]:
    """The panels above the service rows, filtered by the variables."""
    panels: list[dict[str, Any]] = [
        _panel(
            "stat",
            "Stability score",
            (0, y, 8, 5),
            [_target(0, sel.service_vars(SCORE), "{{service}} {{window}}")],
            "percentunit",
            _steps(*GRADE_STEPS),
            "The weekly (7d) and last day's (1d) stability score: grade A at 90 %, B 80 %, C 70 %, D 60 %.",
            options=_stat_options(),
            min=0,
            max=1,
            decimals=1,
        ),
        _panel(
            "stat",
            "Rollback recommended",
            (8, y, 5, 5),
            [_target(0, f"max by (service) ({sel.service_vars(stability_rules.ROLLBACK)})", "{{service}}")],
            "none",
            _steps((None, "green"), (1, "red")),
            "The exporter's rollback recommendation per service, from the stability scores.",
            options=_stat_options(),
            mappings=[
                {
                    "type": "value",
                    "options": {
                        "0": {"text": "No", "color": "green", "index": 0},
                        "1": {"text": "Yes", "color": "red", "index": 1},
                    },
                }
            ],
        ),
        _panel(
            "stat",
            "Days degraded",
            (13, y, 5, 5),
            [_target(0, f"max by (service) ({sel.service_vars(DAYS_DEGRADED)})", "{{service}}")],
            "none",
            _steps((None, "green"), (ROLLBACK_DAYS_DEGRADED, "red")),
            f"Days of the watch with a degradation flag; {ROLLBACK_DAYS_DEGRADED} or more recommend a rollback.",
            options=_stat_options(),
            decimals=0,
        ),
        _panel(
            "bargauge",
            "Error budget remaining",
            (18, y, 6, 5),
            [_target(0, sel.slo_vars(slo_rules.BUDGET_REMAINING), sel.who + " ({{window}})")],
            "percentunit",
            _steps((None, "red"), (0.25, "orange"), (0.5, "green")),
            "Share of each SLO's error budget left over its window; 0 % = exhausted (the number goes below 0).",
            options={
                "orientation": "horizontal",
                "displayMode": "gradient",
                "showUnfilled": True,
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            },
            min=0,
            max=1,
        ),
    ]
    y += 5
    panels.append(
        _panel(
            "timeseries",
            "SLI vs objective",
            (0, y, 12, 8),
            [
                _target(
                    0,
                    f"1 - {sel.slo_vars(slo_rules.ratio_name(slo_rules.RATE_WINDOW))}",
                    sel.who + " SLI (5m)",
                ),
                _target(
                    1,
                    f"1 - {sel.slo_vars(slo_rules.ratio_name(slo_rules.CURRENT_BURN_WINDOW))}",
                    sel.who + " SLI (1h)",
                ),
                _target(2, sel.slo_vars(slo_rules.OBJECTIVE), sel.who + " objective"),
            ],
            "percentunit",
            description="Good events over 5m and 1h against each SLO's objective (drawn as its own line: "
            "objectives differ per SLO).",
            custom=_timeseries_custom(False),
            decimals=3,
        )
    )
    panels.append(
        _panel(
            "table",
            "Firing alerts",
            (12, y, 12, 8),
            [
                _target(
                    0,
                    'ALERTS{alertname=~"Slodrift.*", alertstate="firing", service=~"$service"}',
                    "{{alertname}}",
                    instant=True,
                    range=False,
                    format="table",
                )
            ],
            "none",
            description="Every slodrift alert firing now, one row per alert with its labels.",
        )
    )
    y += 8
    tiers = _tier_windows(specs)
    names = list(dict.fromkeys(tier for tier, _, _ in tiers))
    width = max(6, 24 // max(1, len(tiers)))
    for n, (tier, _i, uses) in enumerate(tiers):
        x = (n * width) % 24
        if n and x == 0:
            y += 8
        colour = TIER_COLOURS[min(names.index(tier), len(TIER_COLOURS) - 1)]
        windows = sorted({w for w, _, _ in uses})
        factors = sorted({f for _, f, _ in uses})
        targets = [
            _target(
                k,
                burn_expr(sel.slo_vars(slo_rules.ratio_name(w)), sel.slo_vars(slo_rules.BUDGET)),
                f"{sel.who} {fd(w)}",
            )
            for k, w in enumerate(windows)
        ]
        who = "; ".join(f"{promql.number(f)}x over {fd(w)}: {users}" for w, f, users in uses)
        panels.append(
            _panel(
                "timeseries",
                f"Burn rate: {tier} ({', '.join(fd(w) for w in windows)})",
                (x, y, width, 8),
                targets,
                "suffix:×",
                _steps((None, "green"), *((_num(f), colour) for f in factors)),
                f"Error ratio over the window / error budget (1 = the budget lasts exactly the SLO window). "
                f"The {tier} tier alerts above {who}.",
                custom=_timeseries_custom(True),
                min=0,
            )
        )
    y += 8 if tiers else 0
    drift = drift_panels(specs, sel, y)
    panels += drift
    y = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=y)
    return panels, y


def drift_panels(specs: Sequence[Spec], sel: _Selectors, y: int) -> list[dict[str, Any]]:
    """One drift panel per category with indicators, with that category's warning and critical
    thresholds from the spec (`drift:`)."""
    by_cat: dict[str, set[str]] = {}
    thresholds: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for spec in specs:
        for svc in spec.services:
            for ind in svc.indicators:
                by_cat.setdefault(ind.category, set()).add(ind.name)
        if spec.drift:
            for cat, th in spec.drift.thresholds.items():
                thresholds.setdefault(cat, (th.warning, th.critical))
    cats = sorted(by_cat)
    panels = []
    width = max(6, 24 // max(1, len(cats)))
    for n, cat in enumerate(cats):
        warning, critical = thresholds.get(cat, (None, None))
        steps: list[tuple[float | None, str]] = [(None, "green")]
        if warning is not None:
            steps.append((_num(warning), "orange"))
        if critical is not None:
            steps.append((_num(critical), "red"))
        limits = ", ".join(
            f"{name} at {promql.number(v * 100)} %"
            for name, v in (("warning", warning), ("critical", critical))
            if v is not None
        )
        indicators = "|".join(re.escape(i) for i in sorted(by_cat[cat]))
        panels.append(
            _panel(
                "timeseries",
                f"Drift from the baseline: {cat}",
                ((n * width) % 24, y + 8 * ((n * width) // 24), width, 8),
                [
                    _target(
                        0,
                        sel.service_vars(
                            drift_names.DRIFT,
                            Matcher("indicator", "=~", indicators),
                            Matcher("indicator", "=~", "$indicator"),
                        ),
                        "{{service}} {{indicator}}",
                    )
                ],
                "percentunit",
                _steps(*steps),
                f"(current - baseline) / baseline, positive = worse, for the {cat} indicators "
                f"({', '.join(sorted(by_cat[cat]))}); "
                + (f"{limits}." if limits else "no thresholds in the spec."),
                custom=_timeseries_custom(len(steps) > 1),
                decimals=1,
            )
        )
    return panels


def slo_panels(service: Service, slo: SLO, sel: _Selectors, x: int, y: int) -> list[dict[str, Any]]:
    """Three panels, 12 columns: the SLI over the SLO window against the objective, the budget left,
    and the burn of each tier's first (fastest) window against its factor."""
    links = runbook_links(service, slo)
    group = "".join(f"{{{{{label}}}}} " for label in slo.group_by)  # legend prefix: one value per group
    objective = _num(slo.objective)
    period = fd(slo.window)
    name = f"{service.name} {slo.name}"
    sli = _panel(
        "stat",
        f"{slo.name} SLI ({period})",
        (x, y, 4, 5),
        [_target(0, f"1 - {sel.one_slo(slo_rules.ratio_name(slo.window), service, slo)}", group + "SLI")],
        "percentunit",
        _steps((None, "red"), (objective, "green")),
        f"{name}: good events over the {period} SLO window; green at or above the "
        f"{promql.number(slo.objective * 100)} % objective.",
        options=_stat_options("value"),
        links=links,
        decimals=3,
    )
    budget = _panel(
        "gauge",
        f"{slo.name} budget left",
        (x + 4, y, 4, 5),
        [_target(0, sel.one_slo(slo_rules.BUDGET_REMAINING, service, slo), group + "budget left")],
        "percentunit",
        _steps((None, "red"), (0.25, "orange"), (0.5, "green")),
        f"{name}: share of the {period} error budget left ({promql.number(slo.error_budget * 100)} % of events).",
        options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showThresholdMarkers": True,
            "showThresholdLabels": False,
        },
        links=links,
        min=0,
        max=1,
        decimals=1,
    )
    tiers = [t for t in slo.tiers if t.windows]
    targets, overrides = [], []
    for k, tier in enumerate(tiers):
        bw = tier.windows[0]
        ratio = sel.one_slo(slo_rules.ratio_name(bw.long), service, slo)
        targets.append(
            _target(
                k,
                burn_expr(ratio, sel.one_slo(slo_rules.BUDGET, service, slo)),
                f"{group}{tier.name} {fd(bw.long)}",
            )
        )
        colour = TIER_COLOURS[min(k, len(TIER_COLOURS) - 1)]
        overrides.append(
            {
                "matcher": {"id": "byFrameRefID", "options": chr(ord("A") + k)},
                "properties": [
                    {"id": "thresholds", "value": _steps((None, "green"), (_num(bw.factor), colour))}
                ],
            }
        )
    burn = _panel(
        "stat",
        f"{slo.name} burn",
        (x + 8, y, 4, 5),
        targets,
        "suffix:×",
        description=f"{name}: burn over each alert tier's fastest window; coloured at the tier's factor ("
        + ", ".join(
            f"{t.name} {promql.number(t.windows[0].factor)}x over {fd(t.windows[0].long)}" for t in tiers
        )
        + ").",
        options=_stat_options(),
        links=links,
        decimals=2,
    )
    burn["fieldConfig"]["overrides"] = overrides
    return [sli, budget, burn] if tiers else [sli, budget]


def service_rows(specs: Sequence[Spec], sel: _Selectors, y: int) -> list[dict[str, Any]]:
    """A row per service: each SLO's state at a glance, two SLOs per line."""
    services = [svc for spec in specs for svc in spec.services]
    collapsed = len(services) > COLLAPSE_ROWS_ABOVE
    out: list[dict[str, Any]] = []
    for svc in services:
        inner: list[dict[str, Any]] = []
        row_y = y
        y += 1
        for k, slo in enumerate(svc.slos):
            inner += slo_panels(svc, slo, sel, 12 * (k % 2), y + 5 * (k // 2))
        y += 5 * ((len(svc.slos) + 1) // 2)
        row = {
            "type": "row",
            "title": f"{svc.name}" + (f": {svc.description}" if svc.description else ""),
            "collapsed": collapsed,
            "gridPos": {"x": 0, "y": row_y, "w": 24, "h": 1},
            "panels": inner if collapsed else [],
        }
        out.append(row)
        if not collapsed:
            out += inner
        else:
            y = row_y + 1
    return out


def _query_variable(name: str, label: str, query: str, all_value: str | None = None) -> dict[str, Any]:
    var: dict[str, Any] = {
        "name": name,
        "type": "query",
        "datasource": DS,
        "label": label,
        "multi": True,
        "includeAll": True,
        "refresh": 2,
        "sort": 1,
        "query": {"query": query, "refId": name},
        "hide": 0,
    }
    if all_value is not None:
        var["allValue"] = all_value
    return var


def variables(labels: Iterable[str]) -> list[dict[str, Any]]:
    """datasource, service, slo, indicator, and one per group label (`All` matches series without it)."""
    svc = 'service=~"$service"'
    out: list[dict[str, Any]] = [
        {
            "name": "datasource",
            "type": "datasource",
            "query": "prometheus",
            "label": "Data source",
            "hide": 0,
        },
        _query_variable("service", "Service", f"label_values({slo_rules.INFO}, service)"),
        _query_variable("slo", "SLO", f"label_values({slo_rules.INFO}{{{svc}}}, slo)"),
        _query_variable(
            "indicator", "Indicator", f"label_values({drift_names.DRIFT}{{{svc}}}, indicator)", ".*"
        ),
    ]
    for label in labels:
        out.append(
            _query_variable(
                group_variable(label),
                label,
                f'label_values({slo_rules.INFO}{{{svc}, slo=~"$slo"}}, {label})',
                ".*",
            )
        )
    return out


def dashboard(specs: Sequence[Spec], title: str = "slodrift: release stability") -> dict[str, Any]:
    """The dashboard JSON for the specs (import it, or provision it as a file)."""
    labels = group_labels(specs)
    sel = _Selectors(labels)
    panels, y = overview(specs, sel, 0)
    panels += service_rows(specs, sel, y)
    pid = 0
    for p in panels:
        pid += 1
        p["id"] = pid
        for inner in p.get("panels", []):
            pid += 1
            inner["id"] = pid
    release = specs[0].release if specs else None
    return {
        "title": title,
        "uid": "slodrift-release",
        "description": f"Release {release.name} {release.version}".rstrip() if release else "",
        "tags": ["slodrift", "slo"],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": variables(labels)},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }
