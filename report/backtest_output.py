"""Write a backtest document: `backtest.json` (validated against the shipped schema), `backtest.md`, and
`backtest.html` with one timeline chart per SLO (images embedded, nothing fetched when it is opened).

The HTML is deliberately plain and self-contained. When the Jinja2 report style of issue #20 lands, this
module's `_html` is the one place to replace with that template (the charts and the document stay).

Files are written into a hidden directory next to OUT and moved in when all are complete: OUT never holds a
half-written file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from .backtest_doc import SLOInfo

__all__ = ["schema", "validate", "write_outputs", "markdown"]

MAX_ROWS = 200  # alert rows listed in Markdown and HTML (the JSON has them all)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the backtest document (shipped in the package)."""
    text = resources.files(__package__ or "report").joinpath("schema/backtest.schema.json").read_text()
    return dict(json.loads(text))


def validate(doc: Mapping[str, Any]) -> None:
    """jsonschema.ValidationError when `doc` does not follow the schema."""
    jsonschema.Draft202012Validator(schema()).validate(doc)


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "—"
    s = int(s)
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m else "", f"{sec}s" if sec else ""]
    return "".join(parts) or "0s"


def markdown(doc: Mapping[str, Any]) -> str:
    r, t = doc["range"], doc["totals"]
    lines = [
        f"# Backtest {r['from']} .. {r['to']} ({r['days']:.2f} days)",
        "",
        f"Source: `{doc['source']}`" + (f", spec `{doc['spec']}`" if doc["spec"] else ""),
        "",
        f"**Pages:** {t['pages']} ({t['pages_per_day']:.2f}/day)  ",
        f"**Tickets:** {t['tickets']} ({t['tickets_per_day']:.2f}/day)  ",
        f"**Other alerts:** {t['other']}",
        "",
    ]
    for w in doc["warnings"]:
        lines.append(f"> warning: {w}")
    for e in doc["rule_errors"]:
        lines.append(
            f"> rule error: `{e['rule']}` ({e['group']}) failed {e['count']} time(s) from {e['first']} "
            f"to {e['last']}: {e['message']}"
        )
    if doc["warnings"] or doc["rule_errors"]:
        lines.append("")
    lines += [
        "## Per SLO and indicator",
        "",
        "| owner | pages | tickets | other | paging time | ticket time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for o in doc["owners"]:
        fs = o["firing_seconds"]
        lines.append(
            f"| {o['owner']} | {o['pages']} | {o['tickets']} | {o['other']} | {_fmt_s(fs['page'])} | "
            f"{_fmt_s(fs['ticket'])} |"
        )
    if doc["incidents"]:
        lines += [
            "",
            "## Incidents",
            "",
            "| incident | owner | first page | page after | first ticket | ticket after |",
            "|---|---|---|---:|---|---:|",
        ]
        for inc in doc["incidents"]:
            for d in inc["detections"]:
                lines.append(
                    f"| {inc['start']} .. {inc['end']} | {d['owner']} | {d['first_page'] or 'none'} | "
                    f"{_fmt_s(d['page_latency_seconds'])} | {d['first_ticket'] or 'none'} | "
                    f"{_fmt_s(d['ticket_latency_seconds'])} |"
                )
    lines += [
        "",
        "## Pages and tickets per day",
        "",
        "| day | pages | tickets | other |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {d['date']} | {d['pages']} | {d['tickets']} | {d['other']} |" for d in doc["per_day"]]
    lines += [
        "",
        "## Firing intervals",
        "",
        "| alert | tier | owner | from | to | for |",
        "|---|---|---|---|---|---:|",
    ]
    for a in doc["alerts"][:MAX_ROWS]:
        lines.append(
            f"| {a['alertname']} | {a['tier']} | {a['owner']} | {a['start']} | {a['end'] or 'still firing'} "
            f"| {_fmt_s(a['duration_seconds'])} |"
        )
    if len(doc["alerts"]) > MAX_ROWS:
        lines.append(f"\n{len(doc['alerts']) - MAX_ROWS} more in backtest.json.")
    ev = doc["evaluation"]
    lines += [
        "",
        f"Evaluated {doc['rules']['recording']} recording and {doc['rules']['alerting']} alerting rules "
        f"with {ev['queries']} queries in {ev['seconds']:.1f} s.",
    ]
    return "\n".join(lines) + "\n"


def _ts(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _chart(
    doc: Mapping[str, Any],
    slo: SLOInfo,
    kept: Mapping[str, list[tuple[dict[str, str], list[tuple[int, float]]]]],
) -> str:
    """One SLO's timeline as a base64 PNG: each alert window's error ratio with its threshold, the firing
    intervals shaded (red: page, orange: ticket), the incidents marked in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3.6), dpi=90)
    colors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]
    seen: dict[str, str] = {}
    floor = 1e-6
    for th in slo.thresholds:
        if th.series not in seen:
            color = seen[th.series] = colors[len(seen) % len(colors)]
            points = sorted(
                (t, v)
                for labels, samples in kept.get(th.series, [])
                if all(labels.get(k) == v for k, v in slo.labels.items())
                for t, v in samples
            )
            if points:
                xs = [t / 86_400_000 for t, _ in points]
                ys = [max(floor, v) if v == v else float("nan") for _, v in points]
                ax.plot(xs, ys, color=color, lw=0.9, label=f"error ratio over {_fmt_s(th.long_s)}")
        color = seen[th.series]
        ax.axhline(
            max(floor, th.error_ratio),
            color=color,
            ls="--",
            lw=0.8,
            label=f"{th.tier}: {th.factor:g}x budget over {_fmt_s(th.long_s)}",
        )

    def num(d: datetime) -> float:  # matplotlib's date numbers: days since 1970-01-01 UTC
        return d.timestamp() / 86400

    lo, hi = _ts(doc["range"]["from"]), _ts(doc["range"]["to"])
    for a in doc["alerts"]:
        if a["owner"] != slo.owner or a["tier"] not in ("page", "ticket"):
            continue
        end = _ts(a["end"]) if a["end"] else hi
        ax.axvspan(
            num(max(lo, _ts(a["start"]))),
            num(min(hi, end)),
            color="#d62728" if a["tier"] == "page" else "#ff7f0e",
            alpha=0.25 if a["tier"] == "page" else 0.18,
            lw=0,
        )
    for inc in doc["incidents"]:
        if inc["scope"] in (None, slo.owner):
            ax.axvspan(
                num(_ts(inc["start"])), num(_ts(inc["end"])), ymin=0.96, ymax=1.0, color="#444444", lw=0
            )
    ax.set_yscale("log")
    ax.set_xlim(num(lo), num(hi))
    ax.set_ylabel("error ratio")
    ax.set_title(
        f"{slo.owner}: {slo.objective_percent:g}% over {_fmt_s(slo.window_s)} "
        "(red: paging, orange: ticket, grey bar: incident)",
        fontsize=10,
    )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _html(doc: Mapping[str, Any], charts: Sequence[tuple[str, str]]) -> str:
    e = html.escape
    t = doc["totals"]
    rows = "".join(
        f"<tr><td>{e(a['alertname'])}</td><td class='{e(a['tier'])}'>{e(a['tier'])}</td>"
        f"<td>{e(a['owner'])}</td><td>{e(a['start'])}</td><td>{e(a['end'] or 'still firing')}</td>"
        f"<td>{_fmt_s(a['duration_seconds'])}</td></tr>"
        for a in doc["alerts"][:MAX_ROWS]
    )
    days = "".join(
        f"<tr><td>{d['date']}</td><td>{d['pages']}</td><td>{d['tickets']}</td><td>{d['other']}</td></tr>"
        for d in doc["per_day"]
    )
    incs = "".join(
        f"<tr><td>{e(i['start'])} .. {e(i['end'])}</td><td>{e(d['owner'])}</td>"
        f"<td>{e(d['first_page'] or 'none')}</td><td>{_fmt_s(d['page_latency_seconds'])}</td>"
        f"<td>{e(d['first_ticket'] or 'none')}</td><td>{_fmt_s(d['ticket_latency_seconds'])}</td></tr>"
        for i in doc["incidents"]
        for d in i["detections"]
    )
    warn = "".join(f"<p class='warn'>warning: {e(w)}</p>" for w in doc["warnings"])
    warn += "".join(
        f"<p class='warn'>rule error: {e(x['rule'])} failed {x['count']} time(s) from {e(x['first'])} to "
        f"{e(x['last'])}: {e(x['message'])}</p>"
        for x in doc["rule_errors"]
    )
    imgs = "".join(
        f"<h3>{e(owner)}</h3><img alt='timeline of {e(owner)}' src='data:image/png;base64,{b64}'>"
        for owner, b64 in charts
    )
    r = doc["range"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>slodrift backtest {e(r["from"])} .. {e(r["to"])}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:2px 8px;font-size:13px}}
.page{{color:#b00;font-weight:bold}}.ticket{{color:#c60}}.warn{{color:#a40}}img{{max-width:100%}}</style>
</head><body>
<h1>Backtest {e(r["from"])} .. {e(r["to"])}</h1>
<p>Source {e(doc["source"])}{(" · spec " + e(doc["spec"])) if doc["spec"] else ""} · {r["days"]:.2f} days</p>
<p><b>{t["pages"]}</b> pages ({t["pages_per_day"]:.2f}/day) · <b>{t["tickets"]}</b> tickets
({t["tickets_per_day"]:.2f}/day) · {t["other"]} other</p>{warn}
<h2>Timelines</h2>{imgs or "<p>No SLO to chart.</p>"}
<h2>Incidents</h2>{"<table><tr><th>incident</th><th>owner</th><th>first page</th><th>after</th><th>first ticket</th><th>after</th></tr>" + incs + "</table>" if incs else "<p>None marked (--incident).</p>"}
<h2>Per day</h2><table><tr><th>day</th><th>pages</th><th>tickets</th><th>other</th></tr>{days}</table>
<h2>Firing intervals</h2><table><tr><th>alert</th><th>tier</th><th>owner</th><th>from</th><th>to</th><th>for</th></tr>{rows}</table>
{f"<p>{len(doc['alerts']) - MAX_ROWS} more in backtest.json.</p>" if len(doc["alerts"]) > MAX_ROWS else ""}
</body></html>
"""


def write_outputs(
    out: Path,
    doc: Mapping[str, Any],
    slos: Sequence[SLOInfo],
    kept: Mapping[str, list[tuple[dict[str, str], list[tuple[int, float]]]]],
    with_html: bool = True,
) -> list[Path]:
    """Validate and write backtest.json, backtest.md and (with_html) backtest.html into `out`."""
    validate(doc)
    files = {"backtest.json": json.dumps(doc, indent=1) + "\n", "backtest.md": markdown(doc)}
    if with_html:
        charts = [(s.owner, _chart(doc, s, kept)) for s in slos if s.thresholds]
        files["backtest.html"] = _html(doc, charts)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for name, text in files.items():
            with (stage / name).open("w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        if not out.exists():
            stage.rename(out)
        else:
            for name in files:
                os.replace(stage / name, out / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out / n for n in files]
