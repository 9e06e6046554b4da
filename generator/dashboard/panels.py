"""Grafana building blocks of the dashboard: targets, panels, threshold steps and field options (plain
data in Grafana's classic JSON model)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

DS = {"type": "prometheus", "uid": "${datasource}"}
TIER_COLOURS = ("red", "orange", "yellow", "blue")  # first tier (the most urgent) first


def num(x: Decimal | float) -> float:
    return float(x)


def steps(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def target(ref: int, expr: str, legend: str, **extra: Any) -> dict[str, Any]:
    return {"refId": chr(ord("A") + ref), "datasource": DS, "expr": expr, "legendFormat": legend, **extra}


def panel(
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
    field: dict[str, Any] = {"unit": unit, "thresholds": thresholds or steps((None, "green")), **defaults}
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


def timeseries_custom(threshold_lines: bool) -> dict[str, Any]:
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


def stat_options(text_mode: str = "value_and_name") -> dict[str, Any]:
    return {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": text_mode,
        "justifyMode": "auto",
        "orientation": "auto",
    }


def burn_expr(ratio: str, budget: str) -> str:
    """Burn rate of a window: its recorded error ratio over the SLO's budget (both recorded series)."""
    return f"{ratio} / ignoring (window) {budget}"
