"""The service rows: a row per service, with each SLO's state at a glance (SLI over the SLO window, budget
left, burn of each alert tier) and its runbook links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slodrift.generator import promql
from slodrift.generator.alert_templates import LABEL_REF_RE, TEMPLATE_ACTION_RE
from slodrift.generator.dashboard.panels import (
    TIER_COLOURS,
    burn_expr,
    num,
    panel,
    stat_options,
    steps,
    target,
)
from slodrift.generator.dashboard.variables import Selectors
from slodrift.generator.model import SLO, Service, Spec
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules import slo as slo_rules

COLLAPSE_ROWS_ABOVE = 6  # services; more rows start collapsed so the dashboard opens quickly


def runbook_links(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """The SLO's runbook URLs (the `runbook_url` annotations of the SLO and its tiers) with
    `{{ $labels.x }}` filled in from the SLO's labels; a URL that needs a label the SLO does not have is
    left out rather than linked half-rendered."""
    values = {**service.labels, **slo.labels, "service": service.name, "slo": slo.name}

    def fill(action: re.Match[str]) -> str:
        ref = LABEL_REF_RE.match(action.group(1))
        return values.get(ref.group(1), action.group(0)) if ref else action.group(0)

    urls: list[str] = []
    for ann in (slo.annotations, *(t.annotations for t in slo.tiers)):
        url = ann.get("runbook_url")
        if not url:
            continue
        filled = TEMPLATE_ACTION_RE.sub(fill, url)
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


def slo_panels(service: Service, slo: SLO, sel: Selectors, x: int, y: int) -> list[dict[str, Any]]:
    """Three panels, 12 columns: the SLI over the SLO window against the objective, the budget left,
    and the burn of each tier's first (fastest) window against its factor."""
    links = runbook_links(service, slo)
    group = "".join(f"{{{{{label}}}}} " for label in slo.group_by)  # legend prefix: one value per group
    objective = num(slo.objective)
    period = fd(slo.window)
    name = f"{service.name} {slo.name}"
    sli = panel(
        "stat",
        f"{slo.name} SLI ({period})",
        (x, y, 4, 5),
        [target(0, f"1 - {sel.one_slo(slo_rules.ratio_name(slo.window), service, slo)}", group + "SLI")],
        "percentunit",
        steps((None, "red"), (objective, "green")),
        f"{name}: good events over the {period} SLO window; green at or above the "
        f"{promql.number(slo.objective * 100)} % objective.",
        options=stat_options("value"),
        links=links,
        decimals=3,
    )
    budget = panel(
        "gauge",
        f"{slo.name} budget left",
        (x + 4, y, 4, 5),
        [target(0, sel.one_slo(slo_rules.BUDGET_REMAINING, service, slo), group + "budget left")],
        "percentunit",
        steps((None, "red"), (0.25, "orange"), (0.5, "green")),
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
            target(
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
                    {"id": "thresholds", "value": steps((None, "green"), (num(bw.factor), colour))}
                ],
            }
        )
    burn = panel(
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
        options=stat_options(),
        links=links,
        decimals=2,
    )
    burn["fieldConfig"]["overrides"] = overrides
    return [sli, budget, burn] if tiers else [sli, budget]


def service_rows(specs: Sequence[Spec], sel: Selectors, y: int) -> list[dict[str, Any]]:
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
