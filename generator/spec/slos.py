"""One SLO of the spec: its SLI (events, queries, latency or an error-ratio query), grouping, alerting
settings and alert tiers, as a model `SLO`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slodrift.generator import grouping, promql
from slodrift.generator.matching import SynthesisError, labels_matching
from slodrift.generator.model import SLI, SLO, AlertTier, NoDataAlert
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.defaults import (
    DEFAULT_MIN_ERROR_EVENTS,
    DEFAULT_MIN_REQUEST_RATE,
    DEFAULT_NO_DATA,
)
from slodrift.generator.spec.tiers import build_tiers
from slodrift.generator.spec.values import decimal, merge, percent

from slodrift.issues import Path_


def build_slo(
    ctx: Context,
    slo: dict[str, Any],
    path: Path_,
    selector: tuple[promql.Matcher, ...],
    service_labels: dict[str, str],
    default_window: int,
    default_alerting: dict[str, Any],
) -> SLO:
    objective = percent(slo["objective"])
    window = ctx.duration(slo["window"], (*path, "window")) if "window" in slo else default_window
    if "window" in slo:
        ctx.check_window(window, (*path, "window"))
    labels = {**service_labels, **ctx.labels(slo.get("labels"), (*path, "labels"))}
    sli = build_sli(ctx, slo["sli"], (*path, "sli"), selector)
    group_by = ctx.group_by(
        slo.get("group_by", ctx.default_group_by),
        (*path, "group_by") if "group_by" in slo else ("defaults", "group_by"),
        labels,
    )
    check_query_grouping(ctx, sli, group_by, (*path, "sli"))
    if "max_groups" in slo and not group_by:
        ctx.warn((*path, "max_groups"), "max_groups has no effect: the SLO has no group_by")
    alerting = merge(default_alerting, slo.get("alerting"))
    apath = (*path, "alerting")
    common_labels = ctx.labels(alerting.get("labels"), (*apath, "labels"))
    common_annotations = ctx.annotations(alerting.get("annotations"), (*apath, "annotations"))
    tiers = build_tiers(ctx, alerting, apath, window, objective, common_labels, common_annotations)
    check_tier_labels(ctx, tiers, group_by, slo.get("alerting") or {}, apath)
    nd = alerting.get("no_data")
    no_data = None
    if nd:
        no_data = NoDataAlert(
            ctx.duration(nd.get("for", DEFAULT_NO_DATA["for"]), (*apath, "no_data", "for")),
            nd.get("severity", DEFAULT_NO_DATA["severity"]),
        )
    min_rate = alerting.get("min_request_rate", DEFAULT_MIN_REQUEST_RATE)
    min_errors = alerting.get("min_error_events", DEFAULT_MIN_ERROR_EVENTS)
    return SLO(
        name=slo["name"],
        objective=objective,
        window=window,
        sli=sli,
        tiers=tiers,
        no_data=no_data,
        min_request_rate=decimal(min_rate),
        labels=labels,
        annotations=common_annotations,
        description=slo.get("description", ""),
        group_by=group_by,
        max_groups=slo.get("max_groups", ctx.default_max_groups),
        min_error_events=decimal(min_errors),
    )


def build_sli(ctx: Context, sli: dict[str, Any], path: Path_, selector: tuple[promql.Matcher, ...]) -> SLI:
    kinds = [
        k
        for k in (
            ("errors", "total"),
            ("error_query", "total_query"),
            ("latency",),
            ("error_ratio_query",),
        )
        if any(x in sli for x in k)
    ]
    if len(kinds) != 1:
        found = ", ".join(sorted(sli)) or "nothing"
        ctx.fail(
            path,
            "give exactly one SLI kind: errors+total, error_query+total_query, latency, or "
            f"error_ratio_query (found: {found})",
        )
        return SLI(kind="invalid")
    kind = kinds[0]
    missing = [k for k in kind if k not in sli]
    if missing:
        ctx.fail(path, f"{' and '.join(kind)} go together; missing {', '.join(missing)}")
        return SLI(kind="invalid")
    try:
        if kind == ("errors", "total"):
            parsed = {}
            for key in kind:
                try:
                    parsed[key] = promql.parse_selector(sli[key]).with_matchers(selector)
                except promql.PromQLError as exc:
                    ctx.fail((*path, key), str(exc))
            if len(parsed) < 2:
                return SLI(kind="invalid")
            try:  # the generated tests feed raw series these selectors read: they must exist
                labels_matching(parsed["errors"])
                labels_matching(parsed["total"], avoid=parsed["errors"])
            except SynthesisError as exc:
                ctx.fail(path, f"cannot build test series: {exc}")
                return SLI(kind="invalid")
            return SLI(kind="events", errors=parsed["errors"], total=parsed["total"])
        if kind == ("error_query", "total_query"):
            return SLI(
                kind="event_queries",
                error_query=check_query(ctx, sli["error_query"], (*path, "error_query")),
                total_query=check_query(ctx, sli["total_query"], (*path, "total_query")),
            )
        if kind == ("error_ratio_query",):
            return SLI(
                kind="error_ratio",
                error_ratio_query=check_query(ctx, sli["error_ratio_query"], (*path, "error_ratio_query")),
            )
        lat = sli["latency"]
        extra = promql.equality_matchers(lat.get("selector", {}))
        matchers = promql.Selector(lat["histogram"] + "_count", extra).with_matchers(selector).matchers
        return SLI(
            kind="latency",
            histogram=promql.check_metric_name(lat["histogram"]),
            threshold=Decimal(repr(lat["threshold"])),
            latency_matchers=matchers,
        )
    except promql.PromQLError as exc:
        ctx.fail(path, str(exc))
        return SLI(kind="invalid")


def check_tier_labels(
    ctx: Context, tiers: Sequence[AlertTier], group_by: tuple[str, ...], own: dict[str, Any], apath: Path_
) -> None:
    """An alert label of a tier named like a group label overwrites every group's value of it. When the
    alert labels overwrite every group label, all groups' alerts have one label set: two groups burning
    at once could not both alert (Prometheus refuses identical label sets), an error. When they overwrite
    some (as Sloth specs do, e.g. `team`), the groups still differ by the others: a warning."""
    for tier in tiers:
        clash = [g for g in group_by if g in tier.labels]
        for name in clash:
            if name in ((own.get(tier.name) or {}).get("labels") or {}):
                where: Path_ = (*apath, tier.name, "labels", name)
            elif name in (own.get("labels") or {}):
                where = (*apath, "labels", name)
            else:
                where = ("defaults", "alerting")
            what = f"alert label {name!r} of the {tier.name} tier is a group label of this SLO"
            if len(clash) == len(group_by):
                ctx.fail(
                    where,
                    f"{what}: it would overwrite every group's value, and two groups burning at once "
                    "could not both alert; remove one of them",
                )
            else:
                ctx.warn(where, f"{what}: every group's alert will carry {tier.labels[name]!r} for it")


def check_query(ctx: Context, text: str, path: Path_) -> str:
    try:
        return promql.check_query(text, "{{window}}")
    except promql.PromQLError as exc:
        ctx.fail(path, str(exc))
        return text


def check_query_grouping(ctx: Context, sli: SLI, group_by: tuple[str, ...], path: Path_) -> None:
    """A query SLI whose result keeps labels the SLO is not grouped by: slodrift sums it `by` the
    group labels only, so say which groups are summed away rather than flatten them in silence."""
    queries = {
        "error_query": sli.error_query,
        "total_query": sli.total_query,
        "error_ratio_query": sli.error_ratio_query,
    }
    groups = ", ".join(group_by)
    for key, query in queries.items():
        if not query:
            continue
        try:
            labels = grouping.result_labels(query)
        except grouping.GroupingUnknown as exc:
            if group_by:
                ctx.fail(
                    (*path, key),
                    f"cannot tell whether the query keeps the group label(s) {groups} ({exc}); "
                    f"aggregate it `by ({groups})` (or by more labels)",
                )
            continue
        missing = [
            g
            for g in group_by
            if labels is grouping.SCALAR or (isinstance(labels, tuple) and g not in labels)
        ]
        if missing:
            ctx.fail(
                (*path, key),
                f"the query's result has no {', '.join(missing)} label, but the SLO is grouped by {groups}: "
                f"every group would be summed into one; aggregate it `by ({groups})` (or by more labels)",
            )
            continue
        if isinstance(labels, tuple) and set(labels) - set(group_by):
            extra = ", ".join(label for label in labels if label not in group_by)
            ctx.warn(
                (*path, key),
                f"the query keeps the label(s) {extra}, which slodrift sums away (the SLO is "
                f"grouped by {', '.join(group_by) or 'nothing'}); set group_by to evaluate the SLO "
                "per value of them",
            )
