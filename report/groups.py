"""The groups of grouped SLOs (`group_by`) as the Markdown and the HTML report print them: how they are
combined into the service's figures (one sentence, also in every report's method), and one row per
group, worst first, with its compliance for the week and for each day.

Input is the week and the days as written to `weekly_summary.json` and `day_NN_summary.json`, so a
figure in one report is the figure in the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 20  # groups listed in the Markdown and HTML reports; the JSON has them all

COMBINED = (
    "an SLO with group_by is one objective per group: the service's compliance counts a 5-minute "
    "evaluation as met only when every group (and every SLO) met its objective at that evaluation (the "
    "worst group); its availability and error rate are the SLO's over all its groups' requests "
    "(traffic-weighted), the worst SLO at each evaluation; each group's own compliance is listed per day "
    "and for the week, worst first"
)


def group_text(labels: Mapping[str, str]) -> str:
    """A group as its label matchers, values quoted as PromQL quotes them: `route="/a"`."""
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in labels.items())


@dataclass(frozen=True)
class GroupRow:
    """One group of one service: its SLO, its labels, its week and each day (None: no data that day)."""

    slo: str
    group: str
    week: float
    days: tuple[float | None, ...]


def _key(g: Mapping[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return g["slo"], g["compliance"], tuple(g["labels"].items())


def group_rows(week: Mapping[str, Any], days: Sequence[Mapping[str, Any]]) -> list[GroupRow]:
    """The rows of one service, worst first: from its week (`groups`) and its days, day 1 first."""
    per_day = [{_key(g): g["compliance_percent"] for g in d.get("groups", [])} for d in days]
    return [
        GroupRow(
            g["slo"], group_text(g["labels"]), g["compliance_percent"], tuple(d.get(_key(g)) for d in per_day)
        )
        for g in week.get("groups", [])
    ]


def worst_sentence(week: Mapping[str, Any]) -> str:
    """'Worst group: ...' for a service with groups, '' without."""
    groups = week.get("groups", [])
    if not groups:
        return ""
    g = groups[0]
    return (
        f"Worst group: {group_text(g['labels'])} of SLO {g['slo']}, which met its objective in "
        f"{g['compliance_percent']:.1f}% of its {g['samples']} evaluations ({len(groups)} groups of "
        f"{len({x['slo'] for x in groups})} SLOs)."
    )
