"""Daily and weekly stability reports: JSON (validated against the shipped schemas), Markdown following
the seed's sample report, and a self-contained HTML page with charts (`html.py`, from the JSON documents).

Every report states its method (window, step, UTC, day boundaries, how missing data is handled) and
carries a PARTIAL banner when any signal or day was incomplete.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slodrift.report import html
from slodrift.report.groups import COMBINED, MAX_ROWS, group_rows, worst_sentence
from slodrift.report.metrics import fmt, key_metrics
from slodrift.report.scoring_day import DailySummary, Thresholds
from slodrift.report.stability import Report, thresholds_for

from slodrift.schemas import validator

SCHEMA_VERSION = "1.0"


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
        "groups": COMBINED,
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
    validator("slodrift.report", "daily_summary.schema.json").validate(doc)
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
    validator("slodrift.report", "weekly_summary.schema.json").validate(doc)
    return doc


def _yes_no(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "no")


_MD_INLINE = re.compile(r"([\\`*_\[\]<>!|~&#{}])")  # what can start emphasis, code, links, HTML, cells


def markdown_text(text: str, limit: int = 500) -> str:
    """Text from outside (Prometheus' warnings) as inert Markdown: one line, with every character that
    could open emphasis, a code span, a link, an HTML tag, an entity or a table cell backslash-escaped
    (CommonMark allows it for any ASCII punctuation), and a leading punctuation character too (no
    heading, list or quote can start); cut at `limit` characters."""
    line = " ".join(str(text).split())
    if len(line) > limit:
        line = line[:limit] + "..."
    line = _MD_INLINE.sub(r"\\\1", line)
    if line and not line[0].isalnum() and line[0] != "\\" and line[0].isascii():
        line = "\\" + line
    return line


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
        out += [f"> - {markdown_text(w)}" for w in named[:20]]
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
            f"**Stability Score:** {fmt(wk.stability_score, '.1f')}/100",
            f"**Overall Grade:** {wk.grade} ({wk.grade_label})",
            f"**Rollback Recommended:** {'YES' if wk.rollback_recommended else 'no'}",
            "",
        ]
        if wk.rollback_reasons:
            out += [f"- {r}" for r in wk.rollback_reasons] + [""]
        th = thresholds_for(th_obj) if th_obj else Thresholds()
        out += [
            "### Key Metrics",
            "",
            "| Metric | Value | Target | Status |",
            "|--------|-------|--------|--------|",
        ]
        out += [f"| {k.name} | {k.value} | {k.target} | {k.status} |" for k in key_metrics(wk.to_dict(), th)]
        out += [
            "",
            "### Trends",
            "",
            f"- Availability: {wk.availability_trend}",
            f"- Latency: {wk.latency_trend}",
            f"- Resources: {wk.resource_trend}",
            "",
        ]
        out += _groups_markdown(wk.to_dict(), [d.to_dict() for d in report.days[name]])
        out += [
            "### Daily Breakdown",
            "",
            "| Day | Availability | Error Rate | SLO compliance | Latency compliance | P99 | Drift | Critical "
            "| Degraded | Data |",
            "|-----|--------------|------------|----------------|--------------------|-----|-------|----------"
            "|----------|------|",
        ]
        for d in report.days[name]:
            out.append(
                f"| {d.day_number} | {fmt(d.avg_availability, '.3f', '%')} | {fmt(d.avg_error_rate, '.3f', '%')} | "
                f"{fmt(d.slo_compliance_percent, '.1f', '%')} | "
                f"{fmt(d.latency_slo_compliance_percent, '.1f', '%')} | {fmt(d.avg_p99_latency_ms, '.0f', 'ms')} | "
                f"{fmt(d.avg_drift_percent, '.1f', '%')} | {d.critical_alerts} | {_yes_no(d.degraded)} | "
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
        f"- Groups: {m['groups']}.",
        f"- Source: {m['source']} ({report.queries} queries).",
        "",
    ]
    return "\n".join(out)


def _groups_markdown(week: dict[str, Any], days: list[dict[str, Any]]) -> list[str]:
    """The service's groups section (nothing for a service without grouped SLOs)."""
    rows = group_rows(week, days)
    if not rows:
        return []
    out = [
        "### Groups",
        "",
        markdown_text(COMBINED[0].upper() + COMBINED[1:] + ".", 1000),
        "",
        markdown_text(worst_sentence(week)),
        "",
        "| SLO | Group | Week | " + " | ".join(f"Day {d['day_number']}" for d in days) + " |",
        "|-----|-------|------|" + "------|" * len(days),
    ]
    for r in rows[:MAX_ROWS]:
        cells = [markdown_text(r.slo), markdown_text(r.group), fmt(r.week, ".1f", "%")]
        cells += [fmt(v, ".1f", "%") for v in r.days]
        out.append("| " + " | ".join(cells) + " |")
    if len(rows) > MAX_ROWS:
        out.append(f"\n... and {len(rows) - MAX_ROWS} more groups in weekly_summary.json")
    return out + [""]


def weekly_html(report: Report, with_charts: bool = True) -> str:
    """The self-contained HTML page (see `html.weekly_page`), from the same documents as the JSON."""
    n_days = max((len(v) for v in report.days.values()), default=0)
    daily = [daily_json(report, n) for n in range(1, n_days + 1)]
    return html.weekly_page(report, weekly_json(report), daily, with_charts)


def write_reports(out_dir: Path, report: Report, with_html: bool = True) -> list[Path]:
    """Write day_NN_summary.json for each finished day, weekly_summary.{json,md} and the HTML page (built
    from the very documents written beside it)."""
    from slodrift.generator.writer import write_atomic

    written = []
    n_days = max((len(v) for v in report.days.values()), default=0)
    daily = [daily_json(report, n) for n in range(1, n_days + 1)]
    weekly = weekly_json(report)
    for n, doc in enumerate(daily, 1):
        p = out_dir / f"day_{n:02d}_summary.json"
        write_atomic(p, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        written.append(p)
    for name, text in (
        ("weekly_summary.json", json.dumps(weekly, indent=2, sort_keys=True) + "\n"),
        ("weekly_summary.md", weekly_markdown(report)),
    ):
        write_atomic(out_dir / name, text)
        written.append(out_dir / name)
    if with_html:
        write_atomic(out_dir / "weekly_summary.html", html.weekly_page(report, weekly, daily))
        written.append(out_dir / "weekly_summary.html")
    return written
