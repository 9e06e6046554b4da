"""The alert tiers of an SLO (page, ticket) and their burn-rate window pairs: default pairs scaled to the
SLO window and adapted when they could never fire; a user's pairs checked as written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator import promql
from slodrift.generator.model import AlertTier, BurnWindow
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.defaults import DEFAULT_TIERS, INFEASIBLE_CAP, REFERENCE_WINDOW
from slodrift.generator.spec.values import decimal, percent

from slodrift.issues import Path_


def build_tiers(
    ctx: Context,
    alerting: dict[str, Any],
    apath: Path_,
    window: int,
    objective: Decimal,
    common_labels: dict[str, str],
    common_annotations: dict[str, str],
) -> tuple[AlertTier, ...]:
    """The page and ticket tiers of an SLO, from its merged alerting settings: each tier's window pairs
    (a pair given twice is an error; default pairs scaled onto the same windows keep the lower factor)."""
    tiers = []
    for name in ("page", "ticket"):
        tier = alerting.get(name)
        if tier is False or tier is None:
            continue
        tpath = (*apath, name)
        windows: list[BurnWindow] = []
        for k, w in enumerate(tier.get("windows", [])):
            pair = burn_window(ctx, w, (*tpath, "windows", k), window, objective)
            if pair is None:
                continue
            same = next((p for p in windows if (p.long, p.short) == (pair.long, pair.short)), None)
            if same is None:
                windows.append(pair)
                continue
            if not w.get("_default"):
                ctx.fail(
                    (*tpath, "windows", k),
                    f"the {name} tier has the window pair {promql.format_duration(pair.long)}/"
                    f"{promql.format_duration(pair.short)} twice; give each pair once",
                )
                continue
            # default pairs scaled to a short SLO window can land on the same windows: one alert
            # rule per pair would then record the same alert twice; the lower factor stays (it
            # fires whenever the higher one would)
            keep = min(same, pair, key=lambda p: p.factor)
            windows[windows.index(same)] = keep
            ctx.warn(
                (*tpath, "windows"),
                f"at a {promql.format_duration(window)} SLO window the default {name} pairs scale to the "
                f"same windows ({promql.format_duration(pair.long)}/{promql.format_duration(pair.short)});"
                f" one pair at {promql.number(keep.factor)}x is kept",
            )
        tiers.append(
            AlertTier(
                name=name,
                severity=tier.get("severity", DEFAULT_TIERS[name]["severity"]),
                receiver=tier.get("receiver"),
                for_seconds=ctx.duration(tier["for"], (*tpath, "for")) if tier.get("for") else 0,
                windows=tuple(windows),
                labels={**common_labels, **ctx.labels(tier.get("labels"), (*tpath, "labels"))},
                annotations={
                    **common_annotations,
                    **ctx.annotations(tier.get("annotations"), (*tpath, "annotations")),
                },
            )
        )
    return tuple(tiers)


def burn_window(
    ctx: Context, w: dict[str, Any], path: Path_, window: int, objective: Decimal
) -> BurnWindow | None:
    """One window pair of a tier, with its factor; default pairs scale with the SLO window and are
    adapted (with a warning) when they could never fire; a user's pair is taken as written."""
    default = bool(w.get("_default"))
    long_s = ctx.duration(w["long"], (*path, "long"))
    short_s = ctx.duration(w["short"], (*path, "short"))
    budget = 1 - objective
    if default and window != REFERENCE_WINDOW:
        unit = max(60, ctx.interval)
        long_s = max(2 * unit, scaled(ctx, long_s, window))
        short_s = min(scaled(ctx, short_s, window), long_s - unit)
    for key, secs in (("long", long_s), ("short", short_s)):
        if default:
            continue
        if secs % 60 and ctx.interval >= 60:
            # sub-minute windows only with a sub-minute evaluation interval: time compressed for a
            # demo or a test (`slodrift demo --fast`); at 1m and more a finer window adds nothing
            ctx.fail(
                (*path, key),
                f"alert windows are whole minutes (got {w[key]}): the "
                "shortest SLI window is 5m, so a finer window adds nothing",
            )
        elif secs % ctx.interval:
            ctx.fail(
                (*path, key),
                f"alert window {w[key]} is not a whole number of evaluation "
                f"intervals ({promql.format_duration(ctx.interval)})",
            )
    if short_s >= long_s:
        ctx.fail((*path, "short"), f"short window {w['short']} must be shorter than long window {w['long']}")
    if long_s > window:
        ctx.fail(
            (*path, "long"),
            f"alert window {promql.format_duration(long_s)} is longer than the SLO window "
            f"{promql.format_duration(window)}",
        )
    if ("factor" in w) == ("budget_consumed" in w):
        ctx.fail(path, "give exactly one of budget_consumed or factor")
        return None
    if "factor" in w:
        factor = decimal(w["factor"])
    else:
        share = percent(w["budget_consumed"])
        if not 0 < share <= 1:
            ctx.fail((*path, "budget_consumed"), "must be more than 0% and at most 100%")
            return None
        # Six decimals keep names and thresholds readable (28d/3d gives 0.933333...).
        factor = (share * window / long_s).quantize(Decimal("0.000001")).normalize()
        if factor < 1:
            ctx.warn(
                path,
                f"{promql.number(share * 100)}% of the budget in {w['long']} is a burn factor of "
                f"{promql.number(factor)} (< 1) at a {promql.format_duration(window)} SLO window: this "
                "alert fires while the SLO is on track to be met",
            )
    pair = f"{promql.format_duration(long_s)}/{promql.format_duration(short_s)}"
    if factor * budget >= 1:
        if not default:
            ctx.fail(
                path,
                f"burn factor {promql.number(factor)} x error budget {promql.number(budget)} "
                f"= {promql.number(factor * budget)}: the error ratio can never exceed 1, so this "
                "alert could never fire; lower the factor or raise the objective",
            )
            return None
        capped = (INFEASIBLE_CAP / budget).quantize(Decimal("0.000001")).normalize()
        ctx.warn(
            path,
            f"the default {promql.number(factor)}x burn over {pair} needs an error ratio of "
            f"{promql.number(factor * budget)} at objective {promql.number(objective * 100)}%, which can "
            f"never happen; this pair alerts at {promql.number(capped)}x ({promql.number(INFEASIBLE_CAP * 100)}% "
            "errors) instead",
        )
        factor = capped
    return BurnWindow(long_s, short_s, factor)


def scaled(ctx: Context, seconds: int, window: int) -> int:
    """A default alert window for an SLO window other than 30 days: proportional, rounded to whole
    evaluation intervals (and minutes), at least one."""
    unit = max(60, ctx.interval)
    return max(unit, round(Decimal(seconds) * window / REFERENCE_WINDOW / unit) * unit)
