"""Recording rules in dependency order: which rules read which recorded names, and how far back.

A rule depends on the rules whose recorded name its expression reads. Level 1 reads only raw series
(what a scrape wrote); a rule at level N reads at least one rule of level N-1. Several rules may record one
name (one per SLO, one per indicator, one per `event`): a reader depends on all of them but those its
selector's equality matchers rule out (`x{event="total"}` does not read the rule recording `x` with
`event: error`), so a rule can read, in the same evaluation, a series an earlier rule of its group recorded
under the same name, as Prometheus evaluates a group's rules in order. A rule never depends on itself (a
read of its own previous value); a longer cycle is an error.

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

    levels: dict[str, int]  # recorded name -> the highest level of the rules recording it
    rule_levels: dict[int, int]  # id(rule) of each recording rule -> its level (1 = reads raw series only)
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


def _may_read(rd: Read, rule: Rule) -> bool:
    """Whether read `rd` can see the series `rule` records: no equality matcher of the read contradicts a
    label the rule sets (a rule's own labels override its result's)."""
    return all(rule.labels.get(k, v) == v for k, v in rd.matchers)


def plan(groups: list[Group], alert_warmup_ms: int = 0) -> Plan:
    """Levels of every recording rule and alert in `groups`, and the lead each recorded name needs so
    that the alerts, evaluated from `alert_warmup_ms` before the range of interest, read full windows."""
    recorded = _recorded(groups)
    rule_reads = {id(r): reads(r.expr) for g in groups for r in g.rules}
    by_id = {id(r): r for rules in recorded.values() for r in rules}

    def sources(rule: Rule) -> list[Rule]:
        """The recording rules `rule` reads (itself excluded)."""
        return [
            src
            for rd in rule_reads[id(rule)]
            for src in recorded.get(rd.name, ())
            if src is not rule and _may_read(rd, src)
        ]

    deps = {rid: sources(r) for rid, r in by_id.items()}
    rule_levels: dict[int, int] = {}

    def level_of(rule: Rule, stack: tuple[Rule, ...] = ()) -> int:
        if any(rule is s for s in stack):
            at = next(i for i, s in enumerate(stack) if s is rule)
            cycle = " -> ".join(s.name for s in (*stack[at:], rule))
            raise ValueError(f"recording rules read each other in a cycle: {cycle}")
        if id(rule) not in rule_levels:
            rule_levels[id(rule)] = 1 + max((level_of(d, (*stack, rule)) for d in deps[id(rule)]), default=0)
        return rule_levels[id(rule)]

    for r in by_id.values():
        level_of(r)
    levels = {name: max(rule_levels[id(r)] for r in rules) for name, rules in recorded.items()}
    alert_levels = {
        id(r): 1 + max((rule_levels[id(s)] for s in sources(r)), default=0)
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
    # readers first; repeated until nothing grows, as rules recording one name may sit at several levels
    # (bounded: names that read each other through different rules must not grow without end)
    for _ in range(len(recorded) + 1):
        changed = False
        for name in sorted(recorded, key=lambda n: -levels[n]):
            for r in recorded[name]:
                for rd in rule_reads[id(r)]:
                    if rd.name in recorded and rd.name != name:
                        want = lead.get(name, 0) + rd.back_ms
                        if want > lead.get(rd.name, 0):
                            lead[rd.name] = want
                            changed = True
        if not changed:
            break
    return Plan(
        levels=levels, rule_levels=rule_levels, alert_levels=alert_levels, lead_ms=lead, reads=rule_reads
    )


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
    """What a backfill must write: every recorded name some recording rule reads from the past, with a
    range selector or an `offset` (a window summed over its past values, a block of earlier slices, the
    open block one window ago), and every recorded name those are computed from. Reads that alerts make
    (`absent_over_time(x[15m])`, `info offset 15m`) are not windows anything is built from, and do not
    count; nor does a read of the present value (a ratio of two window sums)."""
    recorded = _recorded(groups)
    past = {
        rd.name
        for g in groups
        for r in g.rules
        if not r.is_alert
        for rd in reads(r.expr)
        if (rd.ranged or rd.back_ms > 0) and rd.name in recorded
    }
    return needed(groups, past)


def restrict(groups: list[Group], keep: Mapping[str, object] | set[str], alerts: bool) -> list[Group]:
    """`groups` with only the recording rules named in `keep` (and the alerts when `alerts`)."""
    out = []
    for g in groups:
        rules = [r for r in g.rules if (r.is_alert and alerts) or (not r.is_alert and r.name in keep)]
        if rules:
            out.append(g.with_rules(rules))
    return out
