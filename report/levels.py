"""Recording rules in dependency order: which rules read which recorded names, and how far back.

A rule depends on the rules whose recorded name its expression reads. Level 1 reads only raw series
(what a scrape wrote); level N reads at least one name recorded at level N-1. Several rules may record one
name (one per SLO, one per indicator): a reader depends on all of them. A rule that reads its own recorded
name (its previous value) does not depend on itself; a longer cycle is an error.

The engine evaluates level by level, each from early enough that every range its readers take over it is
covered: `lead_ms` of a recorded name is how long before the first evaluation of interest it must start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .promql_names import Read, reads
from .rulefiles import Group, Rule

__all__ = ["Plan", "needed", "plan", "range_read_closure", "read_by_alerts", "restrict"]


@dataclass(frozen=True)
class Plan:
    """Levels of the rules that matter, and how early each recorded name must start."""

    levels: dict[str, int]  # recorded name -> level (1 = reads raw series only)
    alert_levels: dict[int, int]  # id(rule) of each alert -> 1 + the highest level it reads (1 if none)
    lead_ms: dict[str, int]  # recorded name -> how long before the first alert evaluation it must start
    reads: dict[int, list[Read]]  # id(rule) -> its reads

    @property
    def depth(self) -> int:
        return max([*self.levels.values(), *(v - 1 for v in self.alert_levels.values())], default=0)


def _recorded(groups: Iterable[Group]) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for g in groups:
        for r in g.rules:
            if not r.is_alert:
                out.setdefault(r.name, []).append(r)
    return out


def plan(groups: list[Group], alert_warmup_ms: int = 0) -> Plan:
    """Levels of every recording rule and alert in `groups`, and the lead each recorded name needs so
    that the alerts, evaluated from `alert_warmup_ms` before the range of interest, read full windows."""
    recorded = _recorded(groups)
    rule_reads = {id(r): reads(r.expr) for g in groups for r in g.rules}
    deps = {
        name: {rd.name for r in rules for rd in rule_reads[id(r)]} & (recorded.keys() - {name})
        for name, rules in recorded.items()
    }
    levels: dict[str, int] = {}

    def level_of(name: str, stack: tuple[str, ...] = ()) -> int:
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            raise ValueError(f"recording rules read each other in a cycle: {cycle}")
        if name not in levels:
            levels[name] = 1 + max((level_of(d, (*stack, name)) for d in deps[name]), default=0)
        return levels[name]

    for name in recorded:
        level_of(name)
    alert_levels = {
        id(r): 1 + max((levels[rd.name] for rd in rule_reads[id(r)] if rd.name in levels), default=0)
        for g in groups
        for r in g.rules
        if r.is_alert
    }
    # Leads: from the readers down. An alert starts `alert_warmup_ms` early; a recorded name must start
    # early enough for the earliest start of any reader minus the range it reads.
    lead: dict[str, int] = {}
    for g in groups:
        for r in g.rules:
            if r.is_alert:
                for rd in rule_reads[id(r)]:
                    if rd.name in recorded:
                        lead[rd.name] = max(lead.get(rd.name, 0), alert_warmup_ms + rd.back_ms)
    for name in sorted(recorded, key=lambda n: -levels[n]):
        for r in recorded[name]:
            for rd in rule_reads[id(r)]:
                if rd.name in recorded and rd.name != name:
                    lead[rd.name] = max(lead.get(rd.name, 0), lead.get(name, 0) + rd.back_ms)
    return Plan(levels=levels, alert_levels=alert_levels, lead_ms=lead, reads=rule_reads)


def needed(groups: list[Group], roots: Iterable[str]) -> set[str]:
    """The recorded names in `roots` and every recorded name they read, transitively."""
    recorded = _recorded(groups)
    todo = [n for n in roots if n in recorded]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for r in recorded[name]:
            todo += [rd.name for rd in reads(r.expr) if rd.name in recorded and rd.name not in seen]
    return seen


def read_by_alerts(groups: list[Group]) -> set[str]:
    """Recorded names the alerts of `groups` read, directly or through other recorded names."""
    return needed(groups, {rd.name for g in groups for r in g.rules if r.is_alert for rd in reads(r.expr)})


def range_read_closure(groups: list[Group]) -> set[str]:
    """What a backfill must write: every recorded name some recording rule reads with a range (a window
    is built from its past values), and every recorded name those are computed from. Ranges that alerts
    take (`absent_over_time(x[15m])`) are not windows anything is built from, and do not count."""
    recorded = _recorded(groups)
    ranged = {
        rd.name
        for g in groups
        for r in g.rules
        if not r.is_alert
        for rd in reads(r.expr)
        if rd.ranged and rd.name in recorded
    }
    return needed(groups, ranged)


def restrict(groups: list[Group], keep: Mapping[str, object] | set[str], alerts: bool) -> list[Group]:
    """`groups` with only the recording rules named in `keep` (and the alerts when `alerts`)."""
    out = []
    for g in groups:
        rules = [r for r in g.rules if (r.is_alert and alerts) or (not r.is_alert and r.name in keep)]
        if rules:
            out.append(g.with_rules(rules))
    return out
