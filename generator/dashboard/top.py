"""The panels above the service rows, filtered by the variables: stability score, rollback, days degraded,
budget left, SLI against objective, firing alerts, one burn-rate panel per alert tier and window pair, and
the drift panels."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.dashboard.drift import drift_panels
from slodrift.generator.dashboard.panels import (
    TIER_COLOURS,
    burn_expr,
    num,
    panel,
    stat_options,
    steps,
    target,
    timeseries_custom,
)
from slodrift.generator.dashboard.variables import Selectors
from slodrift.generator.model import Spec
from slodrift.generator.promql import format_duration as fd
from slodrift.generator.rules import slo as slo_rules
from slodrift.generator.rules import stability as stability_rules

# The exporter's stability series (exporter/scorer.py publishes them; the generator does not import it).
SCORE = "slodrift_stability_score_ratio"
DAYS_DEGRADED = "slodrift_days_degraded"
# The stability scoring's grade limits (report/scoring.py GRADES) and rollback limit on degraded days
# (report/scoring.py Thresholds.rollback_days_degraded); tests/test_dashboard.py checks they agree.
GRADE_STEPS = ((None, "red"), (0.6, "orange"), (0.7, "yellow"), (0.8, "light-green"), (0.9, "green"))
ROLLBACK_DAYS_DEGRADED = 2


def _tier_windows(specs: Sequence[Spec]) -> list[tuple[str, int, list[tuple[int, Decimal, str]]]]:
    """Per alert tier and window pair (by position): the long windows and factors used, with which SLOs
    use them, in tier order (page before ticket)."""
    order: list[tuple[str, int]] = []
    found: dict[tuple[str, int], dict[tuple[int, Decimal], list[str]]] = {}
    for spec in specs:
        for svc in spec.services:
            for slo in svc.slos:
                for tier in slo.tiers:
                    for i, bw in enumerate(tier.windows):
                        key = (tier.name, i)
                        if key not in found:
                            order.append(key)
                            found[key] = {}
                        found[key].setdefault((bw.long, bw.factor), []).append(f"{svc.name} {slo.name}")
    return [
        (tier, i, [(w, f, ", ".join(users)) for (w, f), users in sorted(found[(tier, i)].items())])
        for tier, i in order
    ]


def overview(specs: Sequence[Spec], sel: Selectors, y: int) -> tuple[list[dict[str, Any]], int]:
    """The panels above the service rows, filtered by the variables."""
    panels: list[dict[str, Any]] = [
        panel(
            "stat",
            "Stability score",
            (0, y, 8, 5),
            [target(0, sel.service_vars(SCORE), "{{service}} {{window}}")],
            "percentunit",
            steps(*GRADE_STEPS),
            "The weekly (7d) and last day's (1d) stability score: grade A at 90 %, B 80 %, C 70 %, D 60 %.",
            options=stat_options(),
            min=0,
            max=1,
            decimals=1,
        ),
        panel(
            "stat",
            "Rollback recommended",
            (8, y, 5, 5),
            [target(0, f"max by (service) ({sel.service_vars(stability_rules.ROLLBACK)})", "{{service}}")],
            "none",
            steps((None, "green"), (1, "red")),
            "The exporter's rollback recommendation per service, from the stability scores.",
            options=stat_options(),
            mappings=[
                {
                    "type": "value",
                    "options": {
                        "0": {"text": "No", "color": "green", "index": 0},
                        "1": {"text": "Yes", "color": "red", "index": 1},
                    },
                }
            ],
        ),
        panel(
            "stat",
            "Days degraded",
            (13, y, 5, 5),
            [target(0, f"max by (service) ({sel.service_vars(DAYS_DEGRADED)})", "{{service}}")],
            "none",
            steps((None, "green"), (ROLLBACK_DAYS_DEGRADED, "red")),
            f"Days of the watch with a degradation flag; {ROLLBACK_DAYS_DEGRADED} or more recommend a rollback.",
            options=stat_options(),
            decimals=0,
        ),
        panel(
            "bargauge",
            "Error budget remaining",
            (18, y, 6, 5),
            [target(0, sel.slo_vars(slo_rules.BUDGET_REMAINING), sel.who + " ({{window}})")],
            "percentunit",
            steps((None, "red"), (0.25, "orange"), (0.5, "green")),
            "Share of each SLO's error budget left over its window; 0 % = exhausted (the number goes below 0).",
            options={
                "orientation": "horizontal",
                "displayMode": "gradient",
                "showUnfilled": True,
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            },
            min=0,
            max=1,
        ),
    ]
    y += 5
    panels.append(
        panel(
            "timeseries",
            "SLI vs objective",
            (0, y, 12, 8),
            [
                target(
                    0,
                    f"1 - {sel.slo_vars(slo_rules.ratio_name(slo_rules.RATE_WINDOW))}",
                    sel.who + " SLI (5m)",
                ),
                target(
                    1,
                    f"1 - {sel.slo_vars(slo_rules.ratio_name(slo_rules.CURRENT_BURN_WINDOW))}",
                    sel.who + " SLI (1h)",
                ),
                target(2, sel.slo_vars(slo_rules.OBJECTIVE), sel.who + " objective"),
            ],
            "percentunit",
            description="Good events over 5m and 1h against each SLO's objective (drawn as its own line: "
            "objectives differ per SLO).",
            custom=timeseries_custom(False),
            decimals=3,
        )
    )
    panels.append(
        panel(
            "table",
            "Firing alerts",
            (12, y, 12, 8),
            [
                target(
                    0,
                    'ALERTS{alertname=~"Slodrift.*", alertstate="firing", service=~"$service"}',
                    "{{alertname}}",
                    instant=True,
                    range=False,
                    format="table",
                )
            ],
            "none",
            description="Every slodrift alert firing now, one row per alert with its labels.",
        )
    )
    y += 8
    tiers = _tier_windows(specs)
    names = list(dict.fromkeys(tier for tier, _, _ in tiers))
    width = max(6, 24 // max(1, len(tiers)))
    for n, (tier, _i, uses) in enumerate(tiers):
        x = (n * width) % 24
        if n and x == 0:
            y += 8
        colour = TIER_COLOURS[min(names.index(tier), len(TIER_COLOURS) - 1)]
        windows = sorted({w for w, _, _ in uses})
        factors = sorted({f for _, f, _ in uses})
        targets = [
            target(
                k,
                burn_expr(sel.slo_vars(slo_rules.ratio_name(w)), sel.slo_vars(slo_rules.BUDGET)),
                f"{sel.who} {fd(w)}",
            )
            for k, w in enumerate(windows)
        ]
        who = "; ".join(f"{promql.number(f)}x over {fd(w)}: {users}" for w, f, users in uses)
        panels.append(
            panel(
                "timeseries",
                f"Burn rate: {tier} ({', '.join(fd(w) for w in windows)})",
                (x, y, width, 8),
                targets,
                "suffix:×",
                steps((None, "green"), *((num(f), colour) for f in factors)),
                f"Error ratio over the window / error budget (1 = the budget lasts exactly the SLO window). "
                f"The {tier} tier alerts above {who}.",
                custom=timeseries_custom(True),
                min=0,
            )
        )
    y += 8 if tiers else 0
    drift = drift_panels(specs, sel, y)
    panels += drift
    y = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=y)
    return panels, y
