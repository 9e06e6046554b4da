"""A backtest's result as one JSON document: firing intervals, pages and tickets per day, detection of the
incidents the user marked. `report/schema/backtest.schema.json` is its contract.

Counting: an alert instance firing at any time inside [from, to) is one page (or ticket), on the UTC day it
started (or on the first day, when it was already firing at `from`: someone holds that page too). An incident is detected by an SLO (or
indicator) when one of its alerts fires between the incident's start and its end plus `grace` (or was
already firing at its start: latency 0); the latency is from the incident's start to that first firing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from .backtest import Deployment, Firing, Replay
from .timeargs import Incident, iso

__all__ = ["SLOInfo", "Threshold", "document", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
DAY_MS = 86_400_000


class _OwnerCounts(TypedDict):
    owner: str
    pages: int
    tickets: int
    other: int
    firing_seconds: dict[str, float]


_Counter = Literal["pages", "tickets", "other"]


@dataclass(frozen=True)
class Threshold:
    tier: str
    long_s: int
    short_s: int
    factor: float
    error_ratio: float  # factor x error budget: the long window's error ratio that trips the tier
    series: str  # the recorded long-window error ratio compared with it


@dataclass(frozen=True)
class SLOInfo:
    owner: str  # service/slo
    objective_percent: float
    window_s: int
    labels: dict[str, str] = field(default_factory=dict)  # selects its series among the kept ones
    thresholds: tuple[Threshold, ...] = ()


def _day(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).date().isoformat()


def _counted(f: Firing, start_ms: int, end_ms: int) -> bool:
    return f.start_ms < end_ms and (f.end_ms is None or f.end_ms > start_ms)


def _detection(firings: Sequence[tuple[Firing, str]], inc: Incident, grace_ms: int) -> dict[str, object]:
    def first(tier: str) -> int | None:
        hits = [
            max(f.start_ms, inc.start_ms)
            for f, t in firings
            if t == tier
            and f.start_ms <= inc.end_ms + grace_ms
            and (f.end_ms is None or f.end_ms > inc.start_ms)
        ]
        return min(hits) if hits else None

    page, ticket = first("page"), first("ticket")
    lat = {
        k: None if v is None else (v - inc.start_ms) / 1000 for k, v in (("page", page), ("ticket", ticket))
    }
    return {
        "first_page": iso(page),
        "page_latency_seconds": lat["page"],
        "first_ticket": iso(ticket),
        "ticket_latency_seconds": lat["ticket"],
        "detected": page is not None or ticket is not None,
    }


def document(
    rep: Replay,
    deployments: Sequence[Deployment],
    start_ms: int,
    end_ms: int,
    tier_of: Callable[[Mapping[str, str]], str],
    owner_of: Callable[[Mapping[str, str]], str],
    incidents: Sequence[Incident] = (),
    slos: Sequence[SLOInfo] = (),
    grace_ms: int = 3_600_000,
    source: str = "",
    spec: str | None = None,
    seconds: float = 0.0,
) -> dict[str, Any]:
    """The backtest document (plain JSON data)."""
    tiered = [(f, tier_of(f.labels)) for f in rep.firings]
    counted = [(f, t) for f, t in tiered if _counted(f, start_ms, end_ms)]
    days = (end_ms - start_ms) / DAY_MS
    per_day: dict[str, dict[str, int]] = {}
    d = start_ms - start_ms % DAY_MS
    while d < end_ms:
        per_day[_day(d)] = {"pages": 0, "tickets": 0, "other": 0}
        d += DAY_MS
    owners: dict[str, _OwnerCounts] = {
        s.owner: {
            "owner": s.owner,
            "pages": 0,
            "tickets": 0,
            "other": 0,
            "firing_seconds": {"page": 0.0, "ticket": 0.0},
        }
        for s in slos
    }
    plural: dict[str, _Counter] = {"page": "pages", "ticket": "tickets", "other": "other"}
    for f, t in counted:
        per_day[_day(max(f.start_ms, start_ms))][plural[t]] += 1
    for f, t in tiered:
        o = owners.setdefault(
            owner_of(f.labels),
            {
                "owner": owner_of(f.labels),
                "pages": 0,
                "tickets": 0,
                "other": 0,
                "firing_seconds": {"page": 0.0, "ticket": 0.0},
            },
        )
        if _counted(f, start_ms, end_ms):
            o[plural[t]] += 1
        if t in ("page", "ticket"):
            lo, hi = max(f.start_ms, start_ms), min(f.end_ms if f.end_ms is not None else end_ms, end_ms)
            o["firing_seconds"][t] += max(0, hi - lo) / 1000
    by_owner: dict[str, list[tuple[Firing, str]]] = {}
    for f, t in tiered:
        by_owner.setdefault(owner_of(f.labels), []).append((f, t))
    inc_docs = []
    for inc in incidents:
        scope = [inc.scope] if inc.scope else sorted(set(owners) | set(by_owner))
        inc_docs.append(
            {
                "start": iso(inc.start_ms),
                "end": iso(inc.end_ms),
                "scope": inc.scope,
                "expect": inc.expect,
                "detections": [{"owner": o, **_detection(by_owner.get(o, []), inc, grace_ms)} for o in scope],
            }
        )
    pages = sum(1 for _, t in counted if t == "page")
    tickets = sum(1 for _, t in counted if t == "ticket")
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "slodrift-backtest",
        "range": {"from": iso(start_ms), "to": iso(end_ms), "days": days},
        "source": source,
        "spec": spec,
        "rules": {"recording": rep.recording_rules, "alerting": rep.alert_rules},
        "deployments": [
            {
                "name": dep.name,
                "loaded_at": iso(dep.loaded_ms),
                "backfilled": dep.backfilled,
                "until": iso(dep.until_ms),
            }
            for dep in deployments
        ],
        "totals": {
            "pages": pages,
            "tickets": tickets,
            "other": sum(1 for _, t in counted if t == "other"),
            "pages_per_day": pages / days if days else 0.0,
            "tickets_per_day": tickets / days if days else 0.0,
        },
        "per_day": [{"date": k, **v} for k, v in per_day.items()],
        "alerts": [
            {
                "alertname": f.alertname,
                "tier": t,
                "severity": f.labels.get("severity"),
                "owner": owner_of(f.labels),
                "labels": f.labels,
                "start": iso(f.start_ms),
                "end": iso(f.end_ms),
                "duration_seconds": None if f.end_ms is None else (f.end_ms - f.start_ms) / 1000,
                "counted": _counted(f, start_ms, end_ms),
                "deployment": f.deployment,
            }
            for f, t in tiered
        ],
        "owners": sorted(owners.values(), key=lambda o: o["owner"]),
        "incidents": inc_docs,
        "incident_grace_seconds": grace_ms / 1000,
        "slos": [
            {
                "owner": s.owner,
                "objective_percent": s.objective_percent,
                "window_seconds": s.window_s,
                "thresholds": [
                    {
                        "tier": th.tier,
                        "long_seconds": th.long_s,
                        "short_seconds": th.short_s,
                        "factor": th.factor,
                        "error_ratio": th.error_ratio,
                    }
                    for th in s.thresholds
                ],
            }
            for s in slos
        ],
        "warnings": list(rep.warnings),
        "rule_errors": [
            {
                "rule": e.rule,
                "group": e.group,
                "message": e.message,
                "count": e.count,
                "first": iso(e.first_ms),
                "last": iso(e.last_ms),
            }
            for e in rep.errors
        ],
        "evaluation": {
            "queries": rep.queries,
            "samples_written": rep.samples,
            "seconds": seconds,
            "seconds_per_level": {str(k): v for k, v in sorted(rep.seconds_per_level.items())},
        },
    }
