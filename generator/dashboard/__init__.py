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

from collections.abc import Sequence
from typing import Any

from slodrift.generator.dashboard.rows import service_rows
from slodrift.generator.dashboard.top import (
    DAYS_DEGRADED,
    GRADE_STEPS,
    ROLLBACK_DAYS_DEGRADED,
    SCORE,
    overview,
)
from slodrift.generator.dashboard.variables import Selectors, group_labels, group_variable, variables
from slodrift.generator.model import Spec

__all__ = [
    "DAYS_DEGRADED",
    "GRADE_STEPS",
    "ROLLBACK_DAYS_DEGRADED",
    "SCHEMA_VERSION",
    "SCORE",
    "dashboard",
    "group_variable",
]

SCHEMA_VERSION = 39


def dashboard(specs: Sequence[Spec], title: str = "slodrift: release stability") -> dict[str, Any]:
    """The dashboard JSON for the specs (import it, or provision it as a file)."""
    labels = group_labels(specs)
    sel = Selectors(labels)
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
