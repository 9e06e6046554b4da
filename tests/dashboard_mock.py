"""A rendered mock of the Grafana dashboard's layout (Grafana itself does not run here): every panel of
dashboards/slodrift.json drawn at its grid position, with its type, unit, thresholds (coloured as
Grafana would), value mappings, runbook links and the series it reads. The README shows a screenshot of
it; tests/test_report_browser.py opens it in Chromium and checks that it draws every panel."""

from __future__ import annotations

import html
import re
from typing import Any

COLUMN, ROW = 50, 30  # px per grid column (24 across) and per grid row, about Grafana's at 1200 px
COLOURS = {
    "green": "#1a7f37",
    "light-green": "#4ac26b",
    "yellow": "#d4a72c",
    "orange": "#fb8f44",
    "red": "#cf222e",
    "blue": "#0969da",
}
METRIC = re.compile(r"(slodrift[:_][A-Za-z0-9_:]+|ALERTS)")


def _chips(p: dict[str, Any]) -> str:
    steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
    chips = [
        f'<span class="chip" style="background:{COLOURS.get(s["color"], s["color"])}">'
        f"{'base' if s['value'] is None else html.escape(str(s['value']))}</span>"
        for s in steps
    ]
    for o in p["fieldConfig"].get("overrides", []):
        ref = o["matcher"]["options"]
        for prop in o["properties"]:
            if prop["id"] == "thresholds":
                for s in prop["value"]["steps"]:
                    if s["value"] is not None:
                        chips.append(
                            f'<span class="chip" style="background:{COLOURS.get(s["color"], s["color"])}">'
                            f"{html.escape(ref)}: {html.escape(str(s['value']))}</span>"
                        )
    return "".join(chips)


def _panel(p: dict[str, Any]) -> str:
    g = p["gridPos"]
    style = f"left:{g['x'] * COLUMN}px;top:{g['y'] * ROW}px;width:{g['w'] * COLUMN - 6}px;height:{g['h'] * ROW - 6}px"
    if p["type"] == "row":
        return f'<div class="row" data-panel="{p["id"]}" style="{style}">▾ {html.escape(p["title"])}</div>'
    d = p["fieldConfig"]["defaults"]
    metrics = sorted({m for t in p["targets"] for m in METRIC.findall(t["expr"])})
    extra = []
    if "min" in d or "max" in d:
        extra.append(f"min {d.get('min', '-')} max {d.get('max', '-')}")
    for m in d.get("mappings", []):
        extra.append(", ".join(f"{k} → {v['text']}" for k, v in m["options"].items()))
    style_mode = d.get("custom", {}).get("thresholdsStyle", {}).get("mode")
    if style_mode and style_mode != "off":
        extra.append(f"threshold lines: {style_mode}")
    if p.get("links"):
        extra.append(f"↗ {len(p['links'])} runbook link(s)")
    return (
        f'<div class="panel" data-panel="{p["id"]}" style="{style}">'
        f'<div class="title">{html.escape(p["title"])}</div>'
        f'<div class="meta"><span class="type">{html.escape(p["type"])}</span> '
        f'<span class="unit">{html.escape(d["unit"])}</span></div>'
        f'<div class="chips">{_chips(p)}</div>'
        + "".join(f'<div class="extra">{html.escape(e)}</div>' for e in extra)
        + f'<div class="metrics">{html.escape(", ".join(metrics))}</div></div>'
    )


def mock_html(d: dict[str, Any]) -> str:
    """A self-contained page drawing the dashboard's grid."""
    panels = [q for p in d["panels"] for q in [p, *p.get("panels", [])]]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW
    variables = " ".join(
        f'<span class="var">{html.escape(v.get("label") or v["name"])} ▾</span>'
        for v in d["templating"]["list"]
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(d["title"])} (layout)</title>
<style>
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #111217; color: #ccccdc; font: 12px system-ui, sans-serif; }}
header {{ padding: 10px 16px; font-size: 16px; color: #fff; }}
.vars {{ padding: 0 16px 10px; }} .var {{ background: #22252b; border: 1px solid #34373d; padding: 3px 8px; margin-right: 6px; }}
.grid {{ position: relative; width: {24 * COLUMN}px; height: {height}px; margin: 0 16px 16px; }}
.panel {{ position: absolute; background: #181b1f; border: 1px solid #2c3235; border-radius: 3px; padding: 6px 8px; overflow: hidden; }}
.row {{ position: absolute; color: #fff; font-size: 14px; font-weight: 600; border-bottom: 1px solid #2c3235; }}
.title {{ color: #fff; font-weight: 600; font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.meta {{ margin: 3px 0; }} .type {{ color: #8ab8ff; }} .unit {{ color: #a0a0b0; margin-left: 6px; }}
.chip {{ display: inline-block; color: #fff; padding: 0 5px; margin: 1px 3px 1px 0; border-radius: 2px; font-size: 11px; }}
.extra {{ color: #a0a0b0; font-size: 11px; }} .metrics {{ color: #6e7781; font: 10px ui-monospace, monospace; margin-top: 3px; }}
</style></head><body>
<header>{html.escape(d["title"])} <span style="color:#8e8e8e;font-size:12px">layout mock of dashboards/slodrift.json</span></header>
<div class="vars">{variables}</div>
<div class="grid">{"".join(_panel(p) for p in panels if not (p["type"] != "row" and _collapsed_child(d, p)))}</div>
</body></html>
"""


def _collapsed_child(d: dict[str, Any], p: dict[str, Any]) -> bool:
    return any(r.get("collapsed") and p in r.get("panels", []) for r in d["panels"])
