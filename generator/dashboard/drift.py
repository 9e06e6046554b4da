"""The drift panels: one per indicator category, with that category's thresholds from the spec."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.dashboard.panels import num, panel, steps, target, timeseries_custom
from slodrift.generator.dashboard.variables import Selectors
from slodrift.generator.model import Spec
from slodrift.generator.promql import Matcher
from slodrift.generator.rules import drift_names


def drift_panels(specs: Sequence[Spec], sel: Selectors, y: int) -> list[dict[str, Any]]:
    """One drift panel per category with indicators, with that category's warning and critical
    thresholds from the spec (`drift:`)."""
    by_cat: dict[str, set[str]] = {}
    thresholds: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for spec in specs:
        for svc in spec.services:
            for ind in svc.indicators:
                by_cat.setdefault(ind.category, set()).add(ind.name)
        if spec.drift:
            for cat, th in spec.drift.thresholds.items():
                thresholds.setdefault(cat, (th.warning, th.critical))
    cats = sorted(by_cat)
    panels = []
    width = max(6, 24 // max(1, len(cats)))
    for n, cat in enumerate(cats):
        warning, critical = thresholds.get(cat, (None, None))
        colours: list[tuple[float | None, str]] = [(None, "green")]
        if warning is not None:
            colours.append((num(warning), "orange"))
        if critical is not None:
            colours.append((num(critical), "red"))
        limits = ", ".join(
            f"{name} at {promql.number(v * 100)} %"
            for name, v in (("warning", warning), ("critical", critical))
            if v is not None
        )
        indicators = "|".join(re.escape(i) for i in sorted(by_cat[cat]))
        panels.append(
            panel(
                "timeseries",
                f"Drift from the baseline: {cat}",
                ((n * width) % 24, y + 8 * ((n * width) // 24), width, 8),
                [
                    target(
                        0,
                        sel.service_vars(
                            drift_names.DRIFT,
                            Matcher("indicator", "=~", indicators),
                            Matcher("indicator", "=~", "$indicator"),
                        ),
                        "{{service}} {{indicator}}",
                    )
                ],
                "percentunit",
                steps(*colours),
                f"(current - baseline) / baseline, positive = worse, for the {cat} indicators "
                f"({', '.join(sorted(by_cat[cat]))}); "
                + (f"{limits}." if limits else "no thresholds in the spec."),
                custom=timeseries_custom(len(colours) > 1),
                decimals=1,
            )
        )
    return panels
