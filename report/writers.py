"""Daily and weekly stability reports: JSON (validated against the shipped schemas), Markdown following
the seed's sample report, and a self-contained HTML page with charts.

Every report states its method (window, step, UTC, day boundaries, how missing data is handled) and
carries a PARTIAL banner when any signal or day was incomplete.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from slodrift.report.scoring import DailySummary
from slodrift.report.stability import Report

SCHEMA_VERSION = "1.0"


def _schema(name: str) -> dict[str, Any]:
    return json.loads(
        resources.files("slodrift.report").joinpath(f"schema/{name}").read_text(encoding="utf-8")
    )


def method(report: Report) -> dict[str, Any]:
    """How the numbers were made, stated in every report."""
    return {
        "window_start": report.watch_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generated_for": report.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "step_seconds": report.step,
        "timezone": "UTC",
        "day_boundaries": "day N covers evaluations in (start + (N-1) days, start + N days]",
        "source": "series recorded by slodrift's rules, read back with one query_range per signal",
        "no_data_handling": "a day without samples is 'no_data', left out of the weekly averages and named in "
        "the warnings; a missing signal marks the report partial; nothing is assumed good",
        "score_formula": "0.4 x availability compliance % + 0.4 x latency compliance % + 0.2 x (100 - min(drift %, 20))",
    }


def _metadata(report: Report, warnings: list[str], expected: int, actual: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data_completeness": "partial" if warnings or actual < expected else "complete",
        "expected_samples": expected,
        "actual_samples": actual,
        "completeness_percent": 100.0 * actual / expected if expected else 0.0,
        "warnings": warnings,
        "queries": report.queries,
    }


def daily_json(report: Report, day: int) -> dict[str, Any]:
    """`day_NN_summary.json`: every service's summary of one day."""
    days: list[DailySummary] = [report.days[s][day - 1] for s in report.days]
    warnings = [w for d in days for w in d.warnings] + (report.warnings if day == 1 else [])
    doc = {
        "day_number": day,
        "release": report.spec.release.name,
        "version": report.spec.release.version,
        "start_time": days[0].start_time if days else "",
        "end_time": days[0].end_time if days else "",
        "services": {d.service: d.to_dict() for d in days},
        "method": method(report),
        "_metadata": _metadata(
            report, warnings, sum(d.expected_samples for d in days), sum(d.actual_samples for d in days)
        ),
    }
    jsonschema.validate(doc, _schema("daily_summary.schema.json"))
    return doc


def weekly_json(report: Report) -> dict[str, Any]:
    """`weekly_summary.json`: every service's week, with the report's method and completeness."""
    weeks = list(report.weeks.values())
    days = [d for ds in report.days.values() for d in ds]
    warnings = report.warnings + [w for wk in weeks for w in wk.warnings]
    doc = {
        "release": report.spec.release.name,
        "version": report.spec.release.version,
        "partial": report.partial,
        "services": {w.service: w.to_dict() for w in weeks},
        "method": method(report),
        "_metadata": _metadata(
            report, warnings, sum(d.expected_samples for d in days), sum(d.actual_samples for d in days)
        ),
    }
    jsonschema.validate(doc, _schema("weekly_summary.schema.json"))
    return doc


def _f(x: float | None, fmt: str, suffix: str = "") -> str:
    return "n/a" if x is None else f"{x:{fmt}}{suffix}"


def _yes_no(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "no")


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def weekly_markdown(report: Report) -> str:
    """The seed's sample report, one section per service."""
    rel = report.spec.release
    out = [
        f"# {rel.watch_days}-Day Post-Release Stability Summary",
        "",
        f"**Release:** {rel.name} {rel.version}".rstrip(),
        f"**Monitoring Window:** {method(report)['window_start']} → "
        f"{next(iter(report.weeks.values())).window_end if report.weeks else ''}",
        f"**Reported at:** {method(report)['generated_for']} (UTC)",
        "",
    ]
    if report.partial:
        out += [
            "> **PARTIAL REPORT**: some data is missing; the numbers below cover only what was there.",
            "",
        ]
        named = report.warnings + [f"{wk.service}: {w}" for wk in report.weeks.values() for w in wk.warnings]
        out += [f"> - {w}" for w in named[:20]]
        if len(named) > 20:
            out.append(f"> - ... and {len(named) - 20} more in weekly_summary.json")
        out.append("")
    out += ["---", ""]
    for name, wk in report.weeks.items():
        th_obj = next((s for s in report.spec.services if s.name == name), None)
        out += [
            f"## {name}",
            "",
            "### Executive Summary",
            "",
            f"**Stability Score:** {_f(wk.stability_score, '.1f')}/100",
            f"**Overall Grade:** {wk.grade} ({wk.grade_label})",
            f"**Rollback Recommended:** {'YES' if wk.rollback_recommended else 'no'}",
            "",
        ]
        if wk.rollback_reasons:
            out += [f"- {r}" for r in wk.rollback_reasons] + [""]
        from slodrift.report.stability import thresholds_for

        th = thresholds_for(th_obj) if th_obj else None
        obj = th.availability_objective * 100 if th else 99.9
        out += [
            "### Key Metrics",
            "",
            "| Metric | Value | Target | Status |",
            "|--------|-------|--------|--------|",
            f"| Availability | {_f(wk.avg_availability, '.3f', '%')} | ≥{obj:g}% | "
            f"{_status(None if wk.avg_availability is None else wk.avg_availability >= obj)} |",
            f"| Availability SLO compliance | {_f(wk.availability_compliance_percent, '.1f', '%')} | ≥95% | "
            f"{_status(None if wk.availability_compliance_percent is None else wk.availability_compliance_percent >= 95)} |",
            f"| Latency SLO compliance | {_f(wk.latency_compliance_percent, '.1f', '%')} | ≥95% | "
            f"{_status(None if wk.latency_compliance_percent is None else wk.latency_compliance_percent >= 95)} |",
            f"| Error Rate | {_f(wk.avg_error_rate, '.3f', '%')} | <{(th.error_ratio * 100 if th else 0.1):g}% | "
            f"{_status(None if wk.avg_error_rate is None else wk.avg_error_rate < (th.error_ratio * 100 if th else 0.1))} |",
            f"| P99 Latency | {_f(wk.avg_p99_latency_ms, '.0f', 'ms')} | <{(th.p99_latency_seconds * 1000 if th else 500):g}ms | "
            f"{_status(None if wk.avg_p99_latency_ms is None else wk.avg_p99_latency_ms < (th.p99_latency_seconds * 1000 if th else 500))} |",
            f"| Drift | {_f(wk.avg_drift_percent, '.1f', '%')} | ≤10% | "
            f"{_status(None if wk.avg_drift_percent is None else wk.avg_drift_percent <= 10)} |",
            f"| Critical Alerts | {wk.total_critical_alerts} | ≤5 | {_status(wk.total_critical_alerts <= 5)} |",
            f"| Days Degraded | {wk.days_with_degradation} | <2 | {_status(wk.days_with_degradation < 2)} |",
            "",
            "### Trends",
            "",
            f"- Availability: {wk.availability_trend}",
            f"- Latency: {wk.latency_trend}",
            f"- Resources: {wk.resource_trend}",
            "",
            "### Daily Breakdown",
            "",
            "| Day | Availability | Error Rate | SLO compliance | Latency compliance | P99 | Drift | Critical "
            "| Degraded | Data |",
            "|-----|--------------|------------|----------------|--------------------|-----|-------|----------"
            "|----------|------|",
        ]
        for d in report.days[name]:
            out.append(
                f"| {d.day_number} | {_f(d.avg_availability, '.3f', '%')} | {_f(d.avg_error_rate, '.3f', '%')} | "
                f"{_f(d.slo_compliance_percent, '.1f', '%')} | "
                f"{_f(d.latency_slo_compliance_percent, '.1f', '%')} | {_f(d.avg_p99_latency_ms, '.0f', 'ms')} | "
                f"{_f(d.avg_drift_percent, '.1f', '%')} | {d.critical_alerts} | {_yes_no(d.degraded)} | "
                f"{d.data_completeness} ({d.completeness_percent:.0f}%) |"
            )
        out += ["", "### Recommendations", ""] + [f"{i}. {r}" for i, r in enumerate(wk.recommendations, 1)]
        out += ["", "### Action Items", ""] + [f"- [ ] {a}" for a in wk.action_items] + ["", "---", ""]
    m = method(report)
    out += [
        "## Method",
        "",
        f"- Window: {m['window_start']} for {rel.watch_days} days, evaluations every {report.step}s, all times UTC.",
        f"- Days: {m['day_boundaries']}.",
        f"- Score: {m['score_formula']}; grades A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, F below.",
        f"- Missing data: {m['no_data_handling']}.",
        f"- Source: {m['source']} ({report.queries} queries).",
        "",
    ]
    return "\n".join(out)


def _chart(
    title: str, ylabel: str, series: dict[str, list[tuple[int, float | None]]], hline: float | None = None
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 3.2), dpi=100)
    for name, pts in series.items():
        xs = [d for d, v in pts if v is not None]
        ys = [v for _, v in pts if v is not None]
        ax.plot(xs, ys, marker="o", label=name)
    if hline is not None:
        ax.axhline(hline, color="red", linestyle="--", linewidth=1, label="target")
    ax.set_title(title)
    ax.set_xlabel("day of the watch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    # beside the plot, never over it: at most CHART_SERVICES lines, which the default colours tell apart
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.subplots_adjust(left=0.09, right=0.72, bottom=0.16, top=0.88)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def error_budget_remaining(report: Report, service: str) -> list[tuple[int, float | None]]:
    """The availability error budget of the watch, burned down day by day: each day with data spends
    (100 - its average availability %) / (100 - objective %) / watch days of it, so a watch that runs
    exactly at the objective ends at 0 %. Days are equally weighted (request counts are not fetched);
    a day without data spends nothing known and is left out of the line rather than drawn as free."""
    from slodrift.report.stability import thresholds_for

    svc = next((s for s in report.spec.services if s.name == service), None)
    budget = 100.0 * (1.0 - (thresholds_for(svc).availability_objective if svc else 0.999))
    watch_days = max(report.spec.release.watch_days, 1)
    remaining, pts = 100.0, []
    for d in report.days[service]:
        if d.avg_availability is None or budget <= 0:
            pts.append((d.day_number, None))
            continue
        remaining -= 100.0 * (100.0 - d.avg_availability) / budget / watch_days
        pts.append((d.day_number, remaining))
    return pts


CHART_SERVICES = 8  # lines per chart: more are a tangle the default colour cycle cannot tell apart


def chart_services(report: Report) -> list[str]:
    """The services the charts show: all of them when few, else the CHART_SERVICES with the lowest
    weekly score (no score, no data: first), which are the ones a reader has to look at."""
    names = list(report.days)
    if len(names) <= CHART_SERVICES:
        return names

    def key(name: str) -> tuple[bool, float]:
        wk = report.weeks.get(name)
        score = wk.stability_score if wk else None
        return (score is not None, score if score is not None else 0.0)

    return sorted(names, key=key)[:CHART_SERVICES]


def weekly_html(report: Report) -> str:
    """A self-contained page: the Markdown's numbers plus charts per day, images embedded."""
    shown = chart_services(report)

    def per_day(attr: str) -> dict[str, list[tuple[int, float | None]]]:
        return {s: [(d.day_number, getattr(d, attr)) for d in report.days[s]] for s in shown}

    burn = {s: error_budget_remaining(report, s) for s in shown}
    charts = [
        _chart("Availability per day", "%", per_day("avg_availability")),
        _chart("P99 latency per day", "ms", per_day("avg_p99_latency_ms")),
        _chart("Drift from baseline per day", "%", per_day("avg_drift_percent"), 10.0),
        _chart("Error budget remaining", "% of the watch's budget", burn, 0.0),
    ]
    caption = (
        ""
        if len(shown) == len(report.days)
        else f"<p>Charts: the {len(shown)} of {len(report.days)} services with the lowest weekly score "
        f"({html.escape(', '.join(shown))}); the table has them all.</p>"
    )
    md = html.escape(weekly_markdown(report))
    imgs = "".join(f'<img alt="chart" src="data:image/png;base64,{c}">' for c in charts)
    banner = (
        '<p style="background:#fdd;padding:8px"><b>PARTIAL REPORT</b>: some data is missing.</p>'
        if report.partial
        else ""
    )
    rows = "".join(
        f"<tr><td>{html.escape(w.service)}</td><td>{_f(w.stability_score, '.1f')}</td><td>{w.grade}</td>"
        f"<td>{'YES' if w.rollback_recommended else 'no'}</td><td>{w.days_with_degradation}</td></tr>"
        for w in report.weeks.values()
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Stability report: '
        f'{html.escape(report.spec.release.name)}</title></head><body style="font-family:sans-serif">'
        f"<h1>Stability report: {html.escape(report.spec.release.name)} "
        f"{html.escape(report.spec.release.version)}</h1>{banner}"
        f"<table border=1 cellpadding=4><tr><th>service</th><th>score</th><th>grade</th><th>rollback</th>"
        f"<th>days degraded</th></tr>{rows}</table>{caption}<div>{imgs}</div><pre>{md}</pre></body></html>"
    )


def write_reports(out_dir: Path, report: Report, with_html: bool = True) -> list[Path]:
    """Write day_NN_summary.json for each finished day, weekly_summary.{json,md} and the HTML page."""
    from slodrift.generator.writer import write_atomic

    written = []
    n_days = max((len(v) for v in report.days.values()), default=0)
    for n in range(1, n_days + 1):
        p = out_dir / f"day_{n:02d}_summary.json"
        write_atomic(p, json.dumps(daily_json(report, n), indent=2, sort_keys=True) + "\n")
        written.append(p)
    for name, text in (
        ("weekly_summary.json", json.dumps(weekly_json(report), indent=2, sort_keys=True) + "\n"),
        ("weekly_summary.md", weekly_markdown(report)),
    ):
        write_atomic(out_dir / name, text)
        written.append(out_dir / name)
    if with_html:
        write_atomic(out_dir / "weekly_summary.html", weekly_html(report))
        written.append(out_dir / "weekly_summary.html")
    return written
