"""An OpenSLO SLO's time window and objectives: a rolling window of fixed length, and each objective's
target in percent (composite, threshold and time-slice objectives are refused)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from slodrift.generator.importers.common import Context, percent
from slodrift.generator.importers.openslo.versions import API_V1

from slodrift.issues import Path_

DEFAULT_WINDOW = "30d"
DURATION_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w"}
V1ALPHA_UNITS = {"Second": "s", "Minute": "m", "Hour": "h", "Day": "d", "Week": "w"}


def time_window(ctx: Context, spec: dict[str, Any], path: Path_, api: str) -> str | None:
    """A rolling window of fixed length as a Prometheus duration; calendar windows are refused."""
    v1 = api == API_V1
    key = "timeWindow" if v1 else "timeWindows"
    windows = spec.get(key)
    if windows is None:
        ctx.warn(
            path,
            f"no {key}: {DEFAULT_WINDOW}, slodrift's default SLO window (OpenSLO leaves it to the tool; "
            "Sloth also reads 30d)",
        )
        return DEFAULT_WINDOW
    if not isinstance(windows, list) or len(windows) != 1:
        ctx.error((*path, key), "give exactly one time window")
        return None
    wpath = (*path, key, 0)
    w = ctx.mapping(windows[0], wpath, "time window")
    if "calendar" in w or w.get("isRolling") is False:
        ctx.error(
            wpath,
            "calendar windows are not supported: slodrift's SLO windows are rolling "
            "(use isRolling: true with a duration like 28d)",
        )
        return None
    if v1:
        m = re.fullmatch(r"([0-9]+)([a-zA-Z])", str(w.get("duration", "")))
        if not m or m.group(2) not in DURATION_UNITS:
            ctx.error(
                (*wpath, "duration"),
                f"duration {w.get('duration')!r} is not supported: use minutes, "
                "hours, days or weeks (m, h, d, w); months, quarters and years have no fixed length",
            )
            return None
        return m.group(1) + DURATION_UNITS[m.group(2)]
    unit, count = w.get("unit"), w.get("count")
    if unit not in V1ALPHA_UNITS or isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        ctx.error(
            wpath,
            f"time window {count!r} {unit!r} is not supported: use a positive count of "
            f"{', '.join(V1ALPHA_UNITS)}",
        )
        return None
    return f"{count}{V1ALPHA_UNITS[unit]}"


def objective_count(ctx: Context, spec: dict[str, Any], path: Path_) -> int:
    """How many objectives the SLO has (0 after an error)."""
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        ctx.error((*path, "objectives"), "missing objectives")
        return 0
    return len(objectives)


def read_objective(
    ctx: Context, spec: dict[str, Any], path: Path_, index: int = 0
) -> tuple[float | int, dict[str, Any]] | None:
    """Objective `index` of the SLO in percent, and the objective itself (v1alpha keeps its indicator
    there)."""
    objectives = spec["objectives"]
    opath = (*path, "objectives", index)
    obj = ctx.mapping(objectives[index], opath, "objective")
    op = obj.get("op")
    if op is not None and "value" not in obj:
        # A ratio objective: the good ratio must reach the target; `op` belongs to threshold objectives.
        if str(op) not in ("gt", "gte"):
            ctx.warn(
                (*opath, "op"),
                f"op {op!r} ignored: a ratio objective means good events / all events >= target",
            )
    for key in ("indicator", "indicatorRef", "value", "timeSliceTarget", "timeSliceWindow"):
        if key in obj:
            ctx.error(
                (*opath, key),
                f"{key} in an objective is not supported (composite, threshold or time-slice objectives)",
            )
            return None
    try:
        if "targetPercent" in obj:
            value = Decimal(str(obj["targetPercent"]))
        else:
            value = Decimal(str(obj["target"])) * 100
    except (KeyError, InvalidOperation):
        ctx.error(opath, "give target (0..1) or targetPercent")
        return None
    if not 0 < value < 100:
        ctx.error(opath, f"target {value}% must be above 0 and below 100%")
        return None
    return percent(value), obj
