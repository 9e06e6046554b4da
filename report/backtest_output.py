"""Write a backtest document: `backtest.json` (validated against the shipped schema), `backtest.md`, and
`backtest.html` with one timeline chart per SLO (images embedded, nothing fetched when it is opened).

The HTML page uses the shared report style (`templates/base.html.j2`, `macros.html.j2`, `slodrift.css`,
through `html.render`): autoescaped, self-contained, its charts embedded as data: URIs.

Files are written into a hidden directory next to OUT and moved in when all are complete: OUT never holds a
half-written file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from slodrift.atomic import write_files
from slodrift.schemas import validator

from .backtest_doc import SLOInfo
from .charts import data_uri

__all__ = ["validate", "write_outputs", "markdown"]

MAX_ROWS = 200  # alert rows listed in Markdown and HTML (the JSON has them all)


def validate(doc: Mapping[str, Any]) -> None:
    """jsonschema.ValidationError when `doc` does not follow the shipped schema."""
    validator("slodrift.report", "backtest.schema.json").validate(doc)


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
) -> bytes:
    """One SLO's timeline as a PNG: each alert window's error ratio with its threshold, the firing
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
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def html_page(doc: Mapping[str, Any], charts: Sequence[tuple[str, bytes]]) -> str:
    """The page, from `templates/backtest.html.j2` in the shared report style (autoescaped)."""
    from .html import render

    warnings = [
        *doc["warnings"],
        *(
            f"rule {e['rule']} failed {e['count']} time(s) from {e['first']} to {e['last']}: {e['message']}"
            for e in doc["rule_errors"]
        ),
    ]
    return render(
        "backtest.html.j2",
        {
            "doc": doc,
            "warnings": warnings[:MAX_ROWS],
            "more_warnings": max(0, len(warnings) - MAX_ROWS),
            "charts": [
                {
                    "title": owner,
                    "uri": data_uri(png),
                    "alt": f"{owner}: error ratio over each alert window, thresholds, paging (red) and ticket (orange) "
                    "intervals, incidents (grey bar)",
                }
                for owner, png in charts
            ],
            "alerts": doc["alerts"][:MAX_ROWS],
            "more_alerts": max(0, len(doc["alerts"]) - MAX_ROWS),
            "duration": _fmt_s,
        },
    )


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
        files["backtest.html"] = html_page(doc, charts)
    # The shared writer: all or nothing, umask modes (a staging dir from mkdtemp was 0700), no symlinks.
    write_files(out, files, skip_unchanged=False)
    return [out / n for n in files]
