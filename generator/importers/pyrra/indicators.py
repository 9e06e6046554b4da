"""Pyrra indicators → slodrift SLIs: `ratio` and `latency` as exact selectors where slodrift can read them
as they are (the latency kind for a `_bucket`/`_count` pair), else as the queries Pyrra computes;
`latencyNative` and `bool_gauge` as queries; `grouping` as group_by."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from slodrift.generator import promql
from slodrift.generator.importers.common import Context, label_name_ok, percent, regroup
from slodrift.generator.importers.pyrra.durations import DURATION_RE, duration_seconds
from slodrift.generator.spec import RESERVED_LABELS

from slodrift.issues import Path_

INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")


def selector(ctx: Context, raw: Any, path: Path_, what: str) -> promql.Selector | None:
    """The plain selector in `metric` of a query (Pyrra requires one)."""
    query = ctx.mapping(raw, path, what)
    metric = query.get("metric")
    if not isinstance(metric, str) or not metric.strip():
        ctx.error(path, f"{what}.metric is missing")
        return None
    try:
        return promql.parse_selector(metric)
    except promql.PromQLError as exc:
        ctx.error((*path, "metric"), f"{exc} (Pyrra also requires a plain selector here)")
        return None


def grouping(ctx: Context, raw: Any, path: Path_) -> list[str]:
    """The indicator's `grouping`: label names, each once."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        ctx.error(path, "grouping must be a list of label names")
        return []
    bad = [g for g in raw if not label_name_ok(g)]
    if bad:
        ctx.error(path, f"grouping label(s) {', '.join(map(repr, bad))} are not Prometheus label names")
        return []
    return list(dict.fromkeys(raw))


def read_indicator(ctx: Context, raw: Any, path: Path_) -> tuple[dict[str, Any] | None, list[str]]:
    """The SLO's `indicator` (exactly one kind) as a slodrift SLI, and its group_by."""
    ind = ctx.mapping(raw, path, "indicator")
    kinds = [k for k in INDICATORS if k in ind]
    ctx.ignore_unknown(ind, INDICATORS, path, f"a Pyrra indicator (one of {', '.join(INDICATORS)})")
    if len(kinds) != 1:
        ctx.error(path, f"give exactly one of {', '.join(INDICATORS)} (found: {', '.join(kinds) or 'none'})")
        return None, []
    kind = kinds[0]
    kpath = (*path, kind)
    body = ctx.mapping(ind[kind], kpath, kind)
    known = {
        "ratio": {"errors", "total", "grouping"},
        "latency": {"success", "total", "grouping"},
        "latencyNative": {"total", "latency", "grouping"},
        "bool_gauge": {"metric", "grouping"},
    }[kind]
    ctx.ignore_unknown(body, known, kpath, f"a field of {kind}")
    group_by = grouping(ctx, body.get("grouping"), (*kpath, "grouping"))
    sli = indicator_sli(ctx, kind, body, kpath, group_by)
    if sli is None:
        return None, group_by
    return regroup(ctx, sli, group_by, (*kpath, "grouping"), "pyrra")


def indicator_sli(
    ctx: Context, kind: str, body: dict[str, Any], kpath: Path_, group_by: list[str]
) -> dict[str, Any] | None:
    """One indicator as a slodrift SLI. Exact selectors where slodrift can read them as they are; queries
    where a group label must be renamed (slodrift sets `service` itself), since only a query can rename."""
    by = f" by ({', '.join(group_by)})" if group_by else ""
    rate = "[{{window}}]"
    exact = not any(g in RESERVED_LABELS for g in group_by)
    if kind == "ratio":
        errors = selector(ctx, body.get("errors"), (*kpath, "errors"), "errors")
        total = selector(ctx, body.get("total"), (*kpath, "total"), "total")
        if errors is None or total is None:
            return None
        if not exact:
            return {
                "error_query": f"sum{by} (rate({errors.render()}{rate}))",
                "total_query": f"sum{by} (rate({total.render()}{rate}))",
            }
        return {"errors": errors.render(), "total": total.render()}
    if kind == "latency":
        success = selector(ctx, body.get("success"), (*kpath, "success"), "success")
        total = selector(ctx, body.get("total"), (*kpath, "total"), "total")
        if success is None or total is None:
            return None
        le = [m for m in success.matchers if m.label == "le"]
        if len(le) != 1 or le[0].op != "=":
            ctx.error(
                (*kpath, "success", "metric"),
                'the success selector needs one le="<bound>" matcher, '
                "the bucket of requests fast enough (Pyrra requires it too)",
            )
            return None
        histogram = as_histogram(success, total, le[0].value) if exact else None
        if histogram is not None:
            return {"latency": histogram}
        t, s = total.render(), success.render()
        return {
            "error_query": f"sum{by} (rate({t}{rate})) - sum{by} (rate({s}{rate}))",
            "total_query": f"sum{by} (rate({t}{rate}))",
        }
    if kind == "latencyNative":
        total = selector(ctx, body.get("total"), (*kpath, "total"), "total")
        latency = body.get("latency")
        if not isinstance(latency, str) or not DURATION_RE.match(latency.strip()):
            ctx.error((*kpath, "latency"), f"latency {latency!r} must be a duration such as 200ms or 1s")
            return None
        if total is None:
            return None
        bound = promql.number(duration_seconds(latency))
        h = f"sum{by} (rate({total.render()}{rate}))"
        return {
            "error_query": f"histogram_count({h}) * (1 - histogram_fraction(0, {bound}, {h}))",
            "total_query": f"histogram_count({h})",
        }
    gauge = selector(ctx, body, kpath, "bool_gauge")
    if gauge is None:
        return None
    g = gauge.render()
    return {
        "error_ratio_query": f"1 - sum{by} (sum_over_time({g}{rate})) / sum{by} (count_over_time({g}{rate}))"
    }


def as_histogram(success: promql.Selector, total: promql.Selector, le: str) -> dict[str, Any] | None:
    """slodrift's latency kind when it selects exactly what Pyrra's pair does, else None."""
    if not (
        success.metric.endswith("_bucket") and total.metric == success.metric[: -len("_bucket")] + "_count"
    ):
        return None
    rest = [m for m in success.matchers if m.label != "le"]
    if sorted(map(repr, rest)) != sorted(map(repr, total.matchers)) or any(m.op != "=" for m in rest):
        return None
    if len({m.label for m in rest}) != len(rest):
        return None
    try:
        bound = Decimal(le)
    except InvalidOperation:
        return None
    if not bound.is_finite() or bound <= 0:
        return None
    text = promql.number(bound)
    if le != text and not (bound == bound.to_integral_value() and le in (text, f"{text}.0")):
        return None  # a spelling slodrift's le matcher would not match (0.250): keep Pyrra's selectors
    out: dict[str, Any] = {"histogram": success.metric[: -len("_bucket")], "threshold": percent(bound)}
    if rest:
        out["selector"] = {m.label: m.value for m in rest}
    return out
