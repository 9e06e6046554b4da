"""Score a backtest against a scenario's truth, and tabulate.

- An alert (page or ticket, firing inside the range, already at its start included) belongs to an incident when it started between the
  incident's start and its end plus grace (1h for pages, 3d for tickets: see `catalog.Truth`); otherwise
  it is false. An incident may name labels its alerts carry (a drift of one indicator): other alerts
  are false even inside its time.
- An incident expecting a page is missed without a page; one expecting a ticket is missed without a ticket
  or a page (a page there is detected, but counts as over-alerting).
- Detection latency: from the incident's start to the first alert of the tier it expects (a page also
  detects a ticket incident).
- Verdict: pass when nothing is false, missed or over-alerted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from catalog import Scenario


def ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _in_range(a: Mapping[str, Any], sc: Scenario) -> bool:
    """Firing at some time inside the backtest range (already firing at its start included)."""
    return ms(a["start"]) < sc.end * 1000 and (a["end"] is None or ms(a["end"]) > sc.start * 1000)


def score(doc: Mapping[str, Any], sc: Scenario) -> dict[str, Any]:
    alerts = [a for a in doc["alerts"] if _in_range(a, sc) and a["tier"] in ("page", "ticket")]
    owner: dict[int, int] = {}
    for k, a in enumerate(alerts):
        t = ms(a["start"])
        for i, inc in enumerate(sc.incidents):
            grace = inc.grace if a["tier"] == "page" else inc.ticket_grace
            mine = all(a["labels"].get(k) == v for k, v in inc.match)
            if mine and inc.start * 1000 <= t <= (inc.end + grace) * 1000:
                owner[k] = i
                break
    incidents = []
    missed = over = 0
    for i, inc in enumerate(sc.incidents):
        mine = [alerts[k] for k in owner if owner[k] == i]
        first = {
            tier: min((ms(a["start"]) for a in mine if a["tier"] == tier), default=None)
            for tier in ("page", "ticket")
        }
        observed = (
            "page" if first["page"] is not None else "ticket" if first["ticket"] is not None else "quiet"
        )
        if inc.expect == "page":
            hit = first["page"]
        else:
            hit = min([t for t in (first["ticket"], first["page"]) if t is not None], default=None)
        is_missed = hit is None
        is_over = inc.expect == "ticket" and first["page"] is not None
        missed += is_missed
        over += is_over
        incidents.append(
            {
                "start": inc.start,
                "end": inc.end,
                "expect": inc.expect,
                "why": inc.why,
                "observed": observed,
                "missed": is_missed,
                "over_alerting": is_over,
                "latency_seconds": None if hit is None else (hit - inc.start * 1000) / 1000,
                "page_latency_seconds": None
                if first["page"] is None
                else (first["page"] - inc.start * 1000) / 1000,
                "ticket_latency_seconds": None
                if first["ticket"] is None
                else (first["ticket"] - inc.start * 1000) / 1000,
            }
        )
    false = [a for k, a in enumerate(alerts) if k not in owner]
    fp = sum(1 for a in false if a["tier"] == "page")
    ft = sum(1 for a in false if a["tier"] == "ticket")
    pages = sum(1 for a in alerts if a["tier"] == "page")
    tickets = sum(1 for a in alerts if a["tier"] == "ticket")
    return {
        "pages": pages,
        "tickets": tickets,
        "pages_per_day": pages / sc.days,
        "tickets_per_day": tickets / sc.days,
        "false_pages": fp,
        "false_tickets": ft,
        "false_alertnames": sorted({a["alertname"] for a in false}),
        "over_alerting": over,
        "missed": missed,
        "incidents": incidents,
        "verdict": "pass" if not (fp or ft or missed or over) else "FAIL",
        "error": None,
    }


def failed(sc: Scenario, error: str) -> dict[str, Any]:
    """A tool whose rules could not be built or evaluated: every incident is missed."""
    return {
        "pages": 0,
        "tickets": 0,
        "pages_per_day": 0.0,
        "tickets_per_day": 0.0,
        "false_pages": 0,
        "false_tickets": 0,
        "false_alertnames": [],
        "over_alerting": 0,
        "missed": len(sc.incidents),
        "incidents": [
            {
                "start": i.start,
                "end": i.end,
                "expect": i.expect,
                "why": i.why,
                "observed": "quiet",
                "missed": True,
                "over_alerting": False,
                "latency_seconds": None,
                "page_latency_seconds": None,
                "ticket_latency_seconds": None,
            }
            for i in sc.incidents
        ],
        "verdict": "FAIL",
        "error": error,
    }


def _lat(s: float | None) -> str:
    if s is None:
        return "missed"
    return f"{s / 60:.0f}m" if s < 5400 else f"{s / 3600:.1f}h"


def one_line(r: Mapping[str, Any]) -> str:
    if r.get("error"):
        return f"FAIL: {r['error'][:160]}"
    lat = ", ".join(f"{i['expect']} {_lat(i['latency_seconds'])}" for i in r["incidents"]) or "no incident"
    return (
        f"{r['verdict']}: {r['pages_per_day']:.2f} pages/day, {r['tickets_per_day']:.2f} tickets/day, "
        f"false {r['false_pages']}p/{r['false_tickets']}t, missed {r['missed']}/{len(r['incidents'])}, {lat}"
    )


def table(results: Sequence[Mapping[str, Any]], order: Sequence[str]) -> str:
    rank = {n: i for i, n in enumerate(order)}
    tool_rank = {"slodrift": 0, "sloth": 1, "pyrra": 2}
    rows = sorted(results, key=lambda r: (rank.get(r["scenario"], 99), tool_rank.get(r["tool"], 9)))
    head = (
        "| scenario | tool | pages/day | tickets/day | false pages | false tickets | incidents missed | "
        "detection latency | verdict |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        if r.get("error"):
            lat = "rules not generated" if "SpecError" in r["error"] else "evaluation failed"
        else:
            lat = (
                "; ".join(
                    f"{i['expect']}: {_lat(i['latency_seconds'])}"
                    + (" (paged)" if i["over_alerting"] else "")
                    for i in r["incidents"]
                )
                or "—"
            )
        n = len(r["incidents"])
        lines.append(
            f"| {r['scenario']} | {r['tool']} | {r['pages_per_day']:.2f} | {r['tickets_per_day']:.2f} | "
            f"{r['false_pages']} | {r['false_tickets']} | {r['missed']}/{n} | {lat} | {r['verdict']} |"
        )
    return "\n".join(lines)
