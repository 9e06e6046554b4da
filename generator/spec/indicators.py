"""The drift indicators of a service (built-in kinds, custom queries, grouped ones) and its anomaly
settings, as model `Indicator`s and `Anomaly`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slodrift.generator import indicators as builtin
from slodrift.generator import promql
from slodrift.generator.matching import SynthesisError, labels_matching, selects
from slodrift.generator.model import Anomaly, Indicator
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.defaults import DEFAULT_ANOMALY
from slodrift.generator.spec.values import parse_amount, percent

from slodrift.issues import Path_


def build_indicator(
    ctx: Context,
    name: str,
    ind: dict[str, Any],
    path: Path_,
    scope: tuple[promql.Matcher, ...],
    budget: Decimal | None = None,
    static: dict[str, str] | None = None,
) -> Indicator:
    kind, implied = builtin.NAMED.get(name, (None, {}))
    kind = ind.get("kind", kind)
    if "query" in ind:
        kind = kind or "custom"
    if kind is None:
        ctx.fail(
            path,
            f"{name!r} is not a built-in indicator ({', '.join(sorted(builtin.NAMED))}); "
            "give `kind` or `query`",
        )
        return Indicator(name, "invalid", "", "count", "higher_is_worse", "behaviour")
    if kind == "availability" and "metric" in ind:
        ctx.fail(
            (*path, "metric"),
            "availability is the success ratio of requests (give `errors` and `total`); "
            "for the share of scrape targets up use the `targets_up` indicator",
        )
    if "traffic" in ind and "query" not in ind:
        ctx.fail(
            (*path, "traffic"),
            "traffic goes with a custom `query`; a built-in kind counts its own requests (a ratio its "
            "total, or hits and misses; a latency its histogram's _count; the others none)",
        )
    defaults = builtin.KINDS[kind]
    opts = {**implied, **ind}
    traffic = ""
    try:
        if "query" in ind:
            query = promql.check_query(ind["query"]).replace("{{window}}", builtin.RATE)
        else:
            query = builtin.default_query(kind, opts, scope)
        if "traffic" in ind:
            traffic = promql.check_query(ind["traffic"]).replace("{{window}}", builtin.RATE)
        elif "query" not in ind:
            traffic = builtin.traffic_query(kind, opts, scope)
    except promql.PromQLError as exc:
        ctx.fail(path, str(exc))
        query = ""
    regression = None
    if "regression" in ind:
        regression = percent(ind["regression"])
        if regression <= 0:
            ctx.fail((*path, "regression"), "must be more than 0%")
    floor = Decimal(repr(ind["floor"])) if "floor" in ind else defaults.floor
    group_by, primary, group_query = indicator_group(ctx, ind, path, static), ind.get("primary"), ""
    key = "split_by" if "split_by" in ind and "group_by" not in ind else "group_by"
    if bool(group_by) != (primary is not None):
        if not group_by and key in ind:
            pass  # the group label was given but is invalid: indicator_group said why
        else:
            ctx.fail(path, "group_by and primary go together (e.g. group_by: [region], primary: us-east-1)")
        group_by, primary = (), None
    elif group_by:
        if "query" in ind:
            ctx.fail(
                (*path, key),
                "a custom query cannot be grouped automatically; group built-in kinds",
            )
        else:
            try:
                group_query = builtin.default_query(kind, opts, scope, by=group_by[0])
            except promql.PromQLError as exc:
                ctx.fail((*path, key), str(exc))
    unit = ind.get("unit", defaults.unit)
    min_change = absolute_floor(ctx, kind, unit, ind, path, budget)
    min_requests = (
        Decimal(repr(ind["min_requests"]))
        if "min_requests" in ind
        else builtin.default_min_requests(kind, opts)
        if traffic
        else None
    )
    if "min_requests" in ind and not traffic:
        ctx.fail(
            (*path, "min_requests"),
            "needs traffic to count: give `traffic` (requests per second) with a custom query",
        )
    sources: tuple[tuple[str, promql.Selector], ...] = ()
    quantile = None
    if "query" not in ind and query:
        sources = builtin.default_sources(kind, opts, scope)
        check_sources(ctx, ind, path, sources)
        if kind in ("latency_quantile", "db_latency"):
            quantile = builtin.quantile_of(kind, opts)
    annotations = ctx.annotations(ind.get("annotations"), (*path, "annotations"))
    if "runbook_url" in ind:
        annotations["runbook_url"] = promql.template_literal(ind["runbook_url"])
    return Indicator(
        name,
        kind,
        query,
        unit,
        ind.get("direction", defaults.direction),
        ind.get("category", defaults.category),
        regression,
        floor or None,
        group_by,
        primary,
        group_query,
        traffic,
        defaults.noise if traffic or defaults.noise in ("spread", "poisson") else "spread",
        min_change,
        min_requests,
        ind.get("page"),
        ctx.labels(ind.get("labels"), (*path, "labels")),
        annotations,
        sources,
        quantile,
    )


# The field of an indicator each role of its raw series comes from (`metric` for the rest).
SOURCE_FIELDS = {"errors": "errors", "total": "total", "hits": "hits", "misses": "misses"}


def check_sources(
    ctx: Context, ind: dict[str, Any], path: Path_, sources: tuple[tuple[str, promql.Selector], ...]
) -> None:
    """The generated tests feed raw series each selector of a built-in kind reads: they must exist, and
    a request the errors do not select must exist among the total's (the same check as an SLI's)."""

    def where(role: str) -> Path_:
        key = SOURCE_FIELDS.get(role, "histogram" if role in ("bucket", "count") else "metric")
        return (*path, key) if key in ind else path

    ok = True
    for role, sel in sources:
        try:
            labels_matching(sel)
        except SynthesisError as exc:
            ctx.fail(where(role), f"cannot build test series: {exc}")
            ok = False
    src = dict(sources)
    if ok and "errors" in src:  # as the drift tests' world feeds them (testgen.drift_world.populate)
        errors, total = src["errors"], src["total"]
        bad = labels_matching(errors)
        if errors.metric == total.metric and not selects(total, bad):
            ctx.fail(
                where("errors" if "errors" in ind else "total"),
                f"the errors select requests the total does not count ({promql.selector(errors.metric, bad)}): "
                "the ratio could exceed 1; the total must select every request the errors select",
            )
        elif errors.metric == total.metric:
            try:
                labels_matching(total, avoid=errors)
            except SynthesisError as exc:
                ctx.fail(where("errors" if "errors" in ind else "total"), f"cannot build test series: {exc}")


def absolute_floor(
    ctx: Context, kind: str, unit: str, ind: dict[str, Any], path: Path_, budget: Decimal | None
) -> Decimal:
    """The absolute floor of an indicator: its own, the spec's default for its kind, or built in."""
    defaults = builtin.KINDS[kind]
    spec_floors = (ctx.doc.data.get("drift") or {}).get("min_change") or {}
    if "min_change" in ind:
        value, where = ind["min_change"], (*path, "min_change")
    elif defaults.floor_key in spec_floors:
        value, where = spec_floors[defaults.floor_key], ("drift", "min_change", defaults.floor_key)
        unit = builtin.FLOOR_UNITS[defaults.floor_key]
    elif defaults.floor_key == "error_ratio" and budget is not None:
        return budget * builtin.BUDGET_SHARE
    else:
        return defaults.min_change
    try:
        return parse_amount(value, unit, budget)
    except ValueError as exc:
        ctx.fail(where, str(exc))
        return defaults.min_change


def indicator_group(
    ctx: Context, ind: dict[str, Any], path: Path_, static: dict[str, str] | None
) -> tuple[str, ...]:
    """An indicator's group label: `group_by: [label]` (the name SLOs use), or the deprecated
    `split_by: label` with a warning. One label: each group is compared with one primary value."""
    if "split_by" in ind and "group_by" in ind:
        ctx.fail((*path, "split_by"), "give group_by only (split_by is its deprecated name), not both")
        return ()
    if "split_by" in ind:
        names, where = [ind["split_by"]], (*path, "split_by")
        ctx.warn(
            where,
            f"split_by is deprecated: write group_by: [{ind['split_by']}] (the name SLOs use for "
            "evaluating per value of a label)",
        )
    elif "group_by" in ind:
        names, where = list(ind["group_by"]), (*path, "group_by")
        if len(names) != 1:
            ctx.fail(
                where,
                f"an indicator is grouped by one label (got {len(names)}): each group is compared "
                "with the one named by `primary`",
            )
            return ()
    else:
        return ()
    if where[-1] == "split_by":
        # group_by() names list items; a deprecated split_by is a plain string at its own path
        return ctx.group_by(names, path, static or {}, owner="this service (labels:)", at=where)
    return ctx.group_by(names, where, static or {}, owner="this service (labels:)")


def build_anomaly(ctx: Context, cfg: dict[str, Any] | None, path: Path_, known: set[str]) -> Anomaly | None:
    if not cfg:
        return None
    for i, name in enumerate(cfg["indicators"]):
        if name not in known:
            ctx.fail(
                (*path, "indicators", i),
                f"{name!r} is not an indicator of this service (known: {', '.join(sorted(known)) or 'none'})",
            )
    merged = {**DEFAULT_ANOMALY, **cfg}
    window = ctx.duration(merged["window"], (*path, "window"))
    if window < 3600:
        ctx.fail((*path, "window"), "must be at least 1h: a shorter history gives no meaningful deviation")
    period = {"daily": 86400, "weekly": 604800}.get(merged["seasonality"])
    if period is not None and (window < period or window % period):
        ctx.fail(
            (*path, "window"),
            f"with {merged['seasonality']} seasonality the window must be a whole number of "
            f"{'days' if period == 86400 else 'weeks'} (got {promql.format_duration(window)})",
        )
    return Anomaly(
        tuple(cfg["indicators"]),
        Decimal(repr(float(merged["z_threshold"]))),
        window,
        merged["seasonality"],
        ctx.duration(merged["for"], (*path, "for")),
    )
