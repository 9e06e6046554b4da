"""HTML pages from Jinja2 templates: the weekly stability report, and the shared look of every slodrift
page (`templates/base.html.j2`, `templates/macros.html.j2`, `templates/slodrift.css`).

The weekly page is built from the documents `weekly_summary.json` and `day_NN_summary.json` hold (the
same numbers, never re-parsed from the Markdown), the service's targets (`stability.thresholds_for`) and
PNG charts embedded as `data:` URIs. Templates are autoescaped: a service name, a warning or a release
version is text on the page, never markup. The page loads nothing: no fonts, scripts, styles or images
from anywhere.

Another page (the backtest's) reuses the look by extending `base.html.j2`, importing `macros.html.j2`
and rendering through `render()`; `charts.line_chart` draws its charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from slodrift.report import charts
from slodrift.report.groups import COMBINED, MAX_ROWS, group_rows, worst_sentence
from slodrift.report.metrics import fmt, key_metrics
from slodrift.report.scoring_day import Thresholds
from slodrift.report.stability import Report, thresholds_for

CHART_SERVICES = 8  # services charted in detail: more make the page heavy and the overview a tangle
MAX_WARNINGS = 20  # warnings listed in the PARTIAL banner; the JSON has them all


def stylesheet() -> str:
    """The CSS every page inlines."""
    return resources.files("slodrift.report").joinpath("templates/slodrift.css").read_text(encoding="utf-8")


def environment() -> jinja2.Environment:
    """A Jinja2 environment over the packaged templates: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("slodrift.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render one packaged template with `context` (plus `css`, the shared stylesheet)."""
    return environment().get_template(template).render({"css": Markup(stylesheet()), **context})


def budget_burndown(
    availability: Sequence[tuple[int, float | None]], objective_ratio: float, watch_days: int
) -> list[tuple[int, float | None]]:
    """The availability error budget of the watch, burned down day by day: each day with data spends
    (100 - its average availability %) / (100 - objective %) / watch days of it, so a watch that runs
    exactly at the objective ends at 0 %. Days are equally weighted (request counts are not fetched);
    a day without data spends nothing known and is left out of the line rather than drawn as free."""
    budget = 100.0 * (1.0 - objective_ratio)
    days = max(watch_days, 1)
    remaining = 100.0
    pts: list[tuple[int, float | None]] = []
    for n, avail in availability:
        if avail is None or budget <= 0:
            pts.append((n, None))
            continue
        remaining -= 100.0 * (100.0 - avail) / budget / days
        pts.append((n, remaining))
    return pts


def _thresholds(report: Report, service: str) -> Thresholds:
    svc = next((s for s in report.spec.services if s.name == service), None)
    return thresholds_for(svc) if svc else Thresholds()


def error_budget_remaining(report: Report, service: str) -> list[tuple[int, float | None]]:
    """`budget_burndown` of one service of the report, with its own objective."""
    avail = [(d.day_number, d.avg_availability) for d in report.days[service]]
    th = _thresholds(report, service)
    return budget_burndown(avail, th.availability_objective, report.spec.release.watch_days)


def chart_services(report: Report) -> list[str]:
    """The services charted: all of them when few, else the CHART_SERVICES with the lowest weekly score
    (no score, no data: first), which are the ones a reader has to look at."""
    names = list(report.days)
    if len(names) <= CHART_SERVICES:
        return names

    def key(name: str) -> tuple[bool, float]:
        wk = report.weeks.get(name)
        score = wk.stability_score if wk else None
        return (score is not None, score if score is not None else 0.0)

    return sorted(names, key=key)[:CHART_SERVICES]


def _chart(title: str, alt: str, png: bytes) -> dict[str, str]:
    return {"title": title, "alt": alt, "uri": charts.data_uri(png)}


def service_charts(
    name: str, days: Sequence[Mapping[str, Any]], th: Thresholds, watch_days: int
) -> list[dict[str, str]]:
    """Four charts of one service's days, each with its objective or thresholds as dashed lines."""
    R = charts.RefLine

    def per_day(key: str) -> list[tuple[float, float | None]]:
        return [(d["day_number"], d[key]) for d in days]

    obj = th.availability_objective * 100
    p99 = th.p99_latency_seconds * 1000
    burn = budget_burndown(
        [(d["day_number"], d["avg_availability"]) for d in days], th.availability_objective, watch_days
    )
    return [
        _chart(
            f"{name}: availability per day",
            f"Availability of {name} per day against its {obj:g} % objective",
            charts.line_chart(
                "Availability per day",
                "% of requests",
                {"average": per_day("avg_availability"), "lowest": per_day("min_availability")},
                [R(obj, f"objective {obj:g} %", charts.OBJECTIVE)],
            ),
        ),
        _chart(
            f"{name}: p99 latency per day",
            f"P99 latency of {name} per day against the {p99:g} ms threshold",
            charts.line_chart(
                "P99 latency per day",
                "ms",
                {"average": per_day("avg_p99_latency_ms"), "highest": per_day("max_p99_latency_ms")},
                [R(p99, f"threshold {p99:g} ms")],
            ),
        ),
        _chart(
            f"{name}: drift from the baseline per day",
            f"Drift of {name} from the release baseline per day, with the violation and rollback limits",
            charts.line_chart(
                "Drift from the release baseline per day",
                "% (worse than baseline)",
                {"average": per_day("avg_drift_percent"), "highest": per_day("max_drift_percent")},
                [
                    R(th.drift_over * 100, f"violation {th.drift_over * 100:g} %", charts.WARNING),
                    R(th.rollback_drift_pct, f"rollback {th.rollback_drift_pct:g} %"),
                ],
            ),
        ),
        _chart(
            f"{name}: error budget remaining",
            f"Share of the watch's availability error budget {name} has left after each day",
            charts.line_chart(
                "Error budget remaining",
                "% of the watch's budget",
                {"remaining": burn},
                [R(0.0, "exhausted")],
            ),
        ),
    ]


def weekly_page(
    report: Report,
    weekly: Mapping[str, Any],
    daily: Sequence[Mapping[str, Any]],
    with_charts: bool = True,
) -> str:
    """The weekly report page from the weekly document, the daily documents (day 1 first) and the
    report's spec (targets, watch length)."""
    meta, method = weekly["_metadata"], weekly["method"]
    shown = chart_services(report) if with_charts else []
    watch_days = report.spec.release.watch_days
    services = []
    for i, (name, wk) in enumerate(weekly["services"].items(), 1):
        th = _thresholds(report, name)
        days = [doc["services"][name] for doc in daily if name in doc["services"]]
        metrics = key_metrics(wk, th)
        groups = group_rows(wk, days)
        services.append(
            {
                "name": name,
                "anchor": f"service-{i}",
                "week": wk,
                "metrics": metrics,
                "metric": {k.name: k for k in metrics},
                "days": days,
                "groups": groups[:MAX_ROWS],
                "more_groups": max(0, len(groups) - MAX_ROWS),
                "worst_group": worst_sentence(wk),
                "charts": service_charts(name, days, th, watch_days) if name in shown else [],
            }
        )
    overview = None
    if shown:
        scores = {
            s["name"]: [(d["day_number"], d["stability_score"]) for d in s["days"]]
            for s in services
            if s["name"] in shown
        }
        overview = _chart(
            "Stability score per day",
            "Daily stability score of each charted service, with the grade A and F limits",
            charts.line_chart(
                "Stability score per day",
                "score (0-100)",
                scores,
                [charts.RefLine(90, "grade A", charts.OBJECTIVE), charts.RefLine(60, "F below")],
            ),
        )
    note = ""
    if with_charts and len(shown) < len(services):
        note = (
            f"Charts: the {len(shown)} of {len(services)} services with the lowest weekly score "
            f"({', '.join(shown)}); the tables have them all."
        )
    named = list(report.warnings) + [f"{s['name']}: {w}" for s in services for w in s["week"]["warnings"]]
    rollback = [s for s in services if s["week"]["rollback_recommended"]]
    end = next((s["week"]["window_end"] for s in services if s["week"]["window_end"]), "")
    context = {
        "release": weekly["release"],
        "version": weekly["version"],
        "watch_days": watch_days,
        "window_start": method["window_start"],
        "window_end": end,
        "reported_for": method["generated_for"],
        "generated_at": meta["generated_at"],
        "completeness": meta["data_completeness"],
        "completeness_percent": meta["completeness_percent"],
        "partial": weekly["partial"],
        "warnings": named[:MAX_WARNINGS],
        "more_warnings": max(0, len(named) - MAX_WARNINGS),
        "rollback": [{"service": s["name"]} for s in rollback],
        "rollback_reasons": [f"{s['name']}: {r}" for s in rollback for r in s["week"]["rollback_reasons"]],
        "services": services,
        "overview": overview,
        "chart_note": note,
        "method": method,
        "groups_combined": COMBINED[0].upper() + COMBINED[1:] + ".",
        "queries": meta["queries"],
    }
    return render("weekly.html.j2", context)
