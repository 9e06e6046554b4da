"""The spec's `drift:` section: thresholds per category and the waits of drift alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import DriftSettings, DriftThresholds
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.defaults import (
    DEFAULT_BASELINE_MISSING_FOR,
    DEFAULT_DRIFT,
    DEFAULT_DRIFT_FOR,
    DEFAULT_DRIFT_KEEP_FIRING_FOR,
    DEFAULT_DRIFT_Z,
    DEFAULT_REGRESSION_FOR,
    MAX_DRIFT_WAIT,
)
from slodrift.generator.spec.values import percent


def build_drift(ctx: Context, cfg: dict[str, Any] | None) -> DriftSettings:
    cfg = cfg or {}
    thresholds = {}
    for category, default in DEFAULT_DRIFT.items():
        merged = {**default, **(cfg.get(category) or {})}
        parsed = {k: (None if merged[k] is None else percent(merged[k])) for k in ("warning", "critical")}
        w, c = parsed["warning"], parsed["critical"]
        if w is not None and c is not None and w > c:
            ctx.fail(
                ("drift", category),
                f"warning ({merged['warning']}) is above critical ({merged['critical']})",
            )
        for k, v in parsed.items():
            if v is not None and v < 0:
                ctx.fail(("drift", category, k), "must not be negative")
        thresholds[category] = DriftThresholds(category, w, c, bool(merged.get("page", False)))
    keep = cfg.get("keep_firing_for", DEFAULT_DRIFT_KEEP_FIRING_FOR)
    return DriftSettings(
        thresholds,
        drift_wait(ctx, cfg.get("for", DEFAULT_DRIFT_FOR), "for"),
        drift_wait(ctx, cfg.get("regression_for", DEFAULT_REGRESSION_FOR), "regression_for"),
        drift_wait(
            ctx, cfg.get("baseline_missing_for", DEFAULT_BASELINE_MISSING_FOR), "baseline_missing_for"
        ),
        Decimal(repr(float(cfg.get("z_threshold", DEFAULT_DRIFT_Z)))),
        0 if keep in ("0s", "0m", "0h", "0d") else drift_wait(ctx, keep, "keep_firing_for"),
    )


def drift_wait(ctx: Context, value: str, key: str) -> int:
    """A drift alert's wait: at most a day. A change that must last longer before anyone hears of it
    is a report's business, and the generated tests would replay the whole wait (days of promtool)."""
    seconds = ctx.duration(value, ("drift", key))
    if seconds > MAX_DRIFT_WAIT:
        ctx.fail(
            ("drift", key),
            f"{value} is longer than {promql.format_duration(MAX_DRIFT_WAIT)}, the most a drift alert waits",
        )
        return MAX_DRIFT_WAIT
    return seconds
