"""Pyrra's alerting → slodrift's page and ticket tiers and no-data alert.

Pyrra's four burn-rate alerts scale with the SLO window; the two critical ones become the page tier, the
two warning ones the ticket tier, with explicit windows and factors. A pair that can never fire is
dropped; a tier waits as long as its quicker pair. The absent alert's `for` is Pyrra's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator.importers.common import SEVERITY_RE, Context
from slodrift.generator.importers.pyrra.durations import fmt_minutes, round_minutes

from slodrift.issues import Path_

ALERTING_KEYS = {"disabled", "burnrates", "absent", "name", "absentName", "severities"}
SEVERITY_KEYS = {"fastBurn", "mediumBurn", "slowBurn", "longTermBurn", "absent"}
# Pyrra's burn-rate windows as fractions of 28 days (slo/rules.go `Windows`): (tier, Pyrra's name,
# factor, long, short, for), each duration in minutes at a 28-day SLO window.
DAY28_MINUTES = 28 * 24 * 60
PYRRA_WINDOWS = (
    ("page", "fastBurn", 14, 60, 5, 2),
    ("page", "mediumBurn", 7, 360, 30, 15),
    ("ticket", "slowBurn", 2, 1440, 120, 60),
    ("ticket", "longTermBurn", 1, 5760, 360, 180),
)
DEFAULT_SEVERITY = {"page": "critical", "ticket": "warning", "absent": "critical"}


def read_alerting(
    ctx: Context, raw: Any, path: Path_, objective: Decimal | None, window: Decimal | None
) -> dict[str, Any]:
    """The SLO's `alerting` block: tiers, no-data alert, severities, the alert name as a label."""
    al = ctx.mapping(raw, path, "alerting")
    ctx.ignore_unknown(
        al, ALERTING_KEYS, path, f"a Pyrra alerting field ({', '.join(sorted(ALERTING_KEYS))})"
    )
    sev_raw = ctx.mapping(al.get("severities"), (*path, "severities"), "severities")
    ctx.ignore_unknown(
        sev_raw,
        SEVERITY_KEYS,
        (*path, "severities"),
        f"a Pyrra severity ({', '.join(sorted(SEVERITY_KEYS))})",
    )
    severities: dict[str, str] = {}
    for key, value in sev_raw.items():
        if key in SEVERITY_KEYS and value not in (None, ""):
            if SEVERITY_RE.match(str(value)):
                severities[key] = str(value)
            else:
                ctx.warn(
                    (*path, "severities", key),
                    f"severity {value!r} is not [a-z][a-z0-9_-]*: Pyrra's default kept",
                )
    out: dict[str, Any] = {}
    if al.get("name"):
        out["labels"] = {"pyrra_alert": str(al["name"])}
    if al.get("absentName"):
        ctx.warn((*path, "absentName"), "ignored: slodrift's no-data alert is named SlodriftSLINoData")
    disabled = al.get("disabled") is True
    if disabled or al.get("burnrates") is False:
        out["page"] = out["ticket"] = False
    elif objective is not None and window is not None:
        out.update(tiers(ctx, path, objective, window, severities))
    if disabled or al.get("absent") is False:
        out["no_data"] = False
    elif objective is not None and window is not None:
        # Pyrra's absent alert: the time the fast burn's long window takes to cross its threshold at
        # 100 % errors, plus its `for` (slo.go `AbsentDuration`).
        scale = window / DAY28_MINUTES / 60
        long_s = round_minutes(PYRRA_WINDOWS[0][3] * 60 * scale) * 60
        for_s = round_minutes(PYRRA_WINDOWS[0][5] * 60 * scale) * 60
        absent_s = Decimal(PYRRA_WINDOWS[0][2]) * (1 - objective / 100) * long_s
        minutes = max(1, round_minutes(Decimal(int(absent_s)) + for_s))
        out["no_data"] = {
            "for": fmt_minutes(minutes),
            "severity": severities.get("absent", DEFAULT_SEVERITY["absent"]),
        }
    return out


def tiers(
    ctx: Context, path: Path_, objective: Decimal, window: Decimal, severities: dict[str, str]
) -> dict[str, Any]:
    """Pyrra's four burn-rate alerts as slodrift's page and ticket tiers, windows scaled as Pyrra scales them."""
    budget = 1 - objective / 100
    scale = window / DAY28_MINUTES / 60  # Pyrra's windows are fractions of 28 days
    out: dict[str, Any] = {}
    waits: list[str] = []
    for tier in ("page", "ticket"):
        pairs = [p for p in PYRRA_WINDOWS if p[0] == tier]
        windows, fors, sev = [], [], []
        for _, pname, factor, long_m, short_m, for_m in pairs:
            long_, short = round_minutes(long_m * 60 * scale), round_minutes(short_m * 60 * scale)
            if factor * budget >= 1:
                ctx.warn(
                    path,
                    f"Pyrra's {pname} alert ({factor}x burn over {fmt_minutes(long_)}) can never fire at "
                    f"objective {objective}% ({factor} x {budget} >= 1): dropped, as it never fires in Pyrra either",
                )
                continue
            if short < 1 or short >= long_:
                ctx.warn(
                    path,
                    f"Pyrra's {pname} alert windows ({fmt_minutes(long_)}/{short}m) are too short for "
                    "slodrift at this SLO window: dropped",
                )
                continue
            windows.append({"long": fmt_minutes(long_), "short": fmt_minutes(short), "factor": factor})
            fors.append((max(0, round_minutes(for_m * 60 * scale)), pname))
            sev.append(severities.get(pname, DEFAULT_SEVERITY[tier]))
        if not windows:
            out[tier] = False
            continue
        entry: dict[str, Any] = {
            "severity": sev[0],
            "for": fmt_minutes(min(f for f, _ in fors) or 1),
            "windows": windows,
        }
        if len(set(sev)) > 1:
            ctx.warn(
                (*path, "severities"),
                f"Pyrra's {' and '.join(p for _, p in fors)} alerts have severities "
                f"{' and '.join(sev)}; slodrift's {tier} tier has one: {sev[0]}",
            )
        if len({f for f, _ in fors}) > 1:
            slow = max(fors)
            waits.append(f"{fmt_minutes(slow[0])} before its {slow[1]} alert ({tier}: {entry['for']})")
        out[tier] = entry
    if waits:
        ctx.warn(
            path,
            f"Pyrra waits {' and '.join(waits)}; a slodrift tier waits as long as its quicker pair, so "
            "those alerts fire sooner",
        )
    return out
