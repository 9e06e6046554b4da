"""A Grafana dashboard (classic JSON model) over slodrift's series: plain data, no dashboard library.

One dashboard serves every service through a `service` variable; the datasource is a variable too, so
the same JSON imports into any Grafana with a Prometheus datasource.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
SVC = 'service=~"$service"'


def _panel(
    pid: int,
    title: str,
    kind: str,
    grid: tuple[int, int, int, int],
    targets: list[tuple[str, str]],
    unit: str = "percentunit",
    thresholds: list[tuple[str, float | None]] | None = None,
    description: str = "",
) -> dict[str, Any]:
    x, y, w, h = grid
    steps = [{"color": c, "value": v} for c, v in (thresholds or [("green", None)])]
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(title: str = "slodrift: release stability") -> dict[str, Any]:
    """The dashboard JSON (import it, or provision it as a file)."""
    panels = [
        _panel(
            1,
            "SLI vs objective",
            "timeseries",
            (0, 0, 12, 8),
            [
                (f"1 - slodrift:sli_error:ratio_rate5m{{{SVC}}}", "{{service}} {{slo}} SLI (5m)"),
                (f"1 - slodrift:sli_error:ratio_rate1h{{{SVC}}}", "{{service}} {{slo}} SLI (1h)"),
                (f"slodrift:slo_objective:ratio{{{SVC}}}", "{{service}} {{slo}} objective"),
            ],
            description="Good events over 5m and 1h against the objective.",
        ),
        _panel(
            2,
            "Error budget remaining",
            "bargauge",
            (12, 0, 12, 8),
            [
                (f"slodrift:slo_error_budget_remaining:ratio{{{SVC}}}", "{{service}} {{slo}} ({{window}})"),
            ],
            thresholds=[("red", None), ("orange", 0.25), ("green", 0.5)],
        ),
        _panel(
            3,
            "Burn rate",
            "timeseries",
            (0, 8, 12, 8),
            [
                (f"slodrift:slo_burn:rate1h{{{SVC}}}", "{{service}} {{slo}} 1h"),
                (
                    f'{{__name__=~"slodrift:slo_burn:rate.+", __name__!="slodrift:slo_burn:rate1h", {SVC}}}',
                    "{{service}} {{slo}} {{window}}",
                ),
            ],
            unit="none",
            thresholds=[("green", None), ("orange", 1), ("red", 14.4)],
            description="1 = the budget lasts exactly the SLO window; 14.4 over 1h pages.",
        ),
        _panel(
            4,
            "Drift from the release baseline",
            "timeseries",
            (12, 8, 12, 8),
            [
                (f"slodrift:indicator:drift_ratio{{{SVC}}}", "{{service}} {{indicator}}"),
            ],
            thresholds=[("green", None), ("orange", 0.05), ("red", 0.10)],
            description="(current - baseline) / baseline, positive = worse; performance warns at 5 %, critical at 10 %.",
        ),
        _panel(
            5,
            "Stability score",
            "stat",
            (0, 16, 8, 6),
            [
                (f"slodrift_stability_score_ratio{{{SVC}}}", "{{service}} {{window}}"),
            ],
            thresholds=[("red", None), ("orange", 0.7), ("green", 0.9)],
        ),
        _panel(
            6,
            "Rollback recommended",
            "stat",
            (8, 16, 4, 6),
            [
                (f"max by (service) (slodrift_rollback_recommended{{{SVC}}})", "{{service}}"),
            ],
            unit="none",
            thresholds=[("green", None), ("red", 1)],
        ),
        _panel(
            7,
            "Firing alerts",
            "table",
            (12, 16, 12, 6),
            [
                (f'ALERTS{{alertname=~"Slodrift.*", alertstate="firing", {SVC}}}', "{{alertname}}"),
            ],
            unit="none",
        ),
    ]
    # A table of what fires now: one row per alert with its labels as columns, not a time series per alert.
    panels[-1]["targets"][0].update({"instant": True, "range": False, "format": "table"})
    return {
        "title": title,
        "uid": "slodrift-release",
        "tags": ["slodrift", "slo"],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                    "current": {},
                    "hide": 0,
                },
                {
                    "name": "service",
                    "type": "query",
                    "datasource": DS,
                    "label": "Service",
                    "multi": True,
                    "includeAll": True,
                    "refresh": 2,
                    "sort": 1,
                    "definition": "label_values(slodrift:slo:info, service)",
                    "query": {"query": "label_values(slodrift:slo:info, service)", "refId": "service"},
                },
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }
