"""OpenSLO indicators → slodrift SLIs: a `ratioMetric` (good, bad, total, or raw) over Prometheus sources,
and the labels its queries group by (each query mapped as `queries.py` describes).

good/total becomes `error_query: sum(<total>) - sum(<good>)` (summed first, so the subtraction
matches whatever labels each returns), `total_query: <total>`; bad/total maps directly; good and bad
without total give `total_query: sum(<good>) + sum(<bad>)`. A `raw` ratio (`rawType: failure`, or
`success` as `1 - ratio`) becomes `error_ratio_query`; a plain selector of a ratio gauge is averaged
over the window with `avg_over_time`.
"""

from __future__ import annotations

from typing import Any

from slodrift.generator.grouping import ALL, GroupingUnknown, result_labels
from slodrift.generator.importers.common import Context, grouped_differently
from slodrift.generator.importers.openslo.queries import windowed_query
from slodrift.generator.importers.openslo.versions import API_V1, API_V1ALPHA

from slodrift.issues import Path_


def metric(
    ctx: Context,
    raw: Any,
    path: Path_,
    api: str,
    sources: dict[str, str],
    counter: bool | None,
    ratio: bool = False,
) -> str | None:
    """One metric of a ratio: check the source is Prometheus (`sources`: the file's DataSource types by
    name), then map its query."""
    m = ctx.mapping(raw, path, "metric")
    if api == API_V1ALPHA:
        source = str(m.get("source", "prometheus"))
        if source.lower() != "prometheus" or str(m.get("queryType", "promql")).lower() != "promql":
            ctx.error(path, f"source {source!r} is not supported: only Prometheus (PromQL) queries")
            return None
        return windowed_query(ctx, m.get("query"), (*path, "query"), counter, ratio)
    ms = ctx.mapping(m.get("metricSource"), (*path, "metricSource"), "metricSource")
    kind = ms.get("type") or sources.get(str(ms.get("metricSourceRef")))
    if str(kind).lower() != "prometheus":
        ctx.error((*path, "metricSource"), f"source type {kind!r} is not supported: only Prometheus")
        return None
    spec = ctx.mapping(ms.get("spec"), (*path, "metricSource", "spec"), "spec")
    for key in sorted(set(spec) - {"query"}):
        ctx.warn(
            (*path, "metricSource", "spec", key),
            f"ignored: a Prometheus source reads only query, not {key}",
        )
    return windowed_query(ctx, spec.get("query"), (*path, "metricSource", "spec", "query"), counter, ratio)


def indicator_sli(
    ctx: Context, indicator: dict[str, Any], path: Path_, api: str, sources: dict[str, str]
) -> tuple[dict[str, str], list[str]] | None:
    """A slodrift SLI from an OpenSLO indicator spec (v1 `ratioMetric`, v1alpha `ratioMetrics`), and the
    labels its queries group by."""
    if "thresholdMetric" in indicator:
        ctx.error(
            (*path, "thresholdMetric"),
            "thresholdMetric is not supported: slodrift SLIs are ratios "
            "of events; express it as a ratioMetric",
        )
        return None
    key = "ratioMetric" if "ratioMetric" in indicator else "ratioMetrics"
    if key not in indicator:
        ctx.error(path, "missing ratioMetric: the only supported kind of indicator")
        return None
    rpath = (*path, key)
    ratio = ctx.mapping(indicator[key], rpath, key)
    counter = ratio.get("counter")
    if "raw" in ratio:
        raw = metric(ctx, ratio["raw"], (*rpath, "raw"), api, sources, counter, ratio=True)
        if raw is None:
            return None
        raw_type = ratio.get("rawType", "failure")
        if raw_type not in ("failure", "success"):
            ctx.error((*rpath, "rawType"), f"rawType {raw_type!r} must be success or failure")
            return None
        raw_by = grouping(ctx, {"raw": raw}, rpath)
        if raw_by is None:
            return None
        return {"error_ratio_query": raw if raw_type == "failure" else f"1 - ({raw})"}, raw_by
    if counter is None and api == API_V1:
        ctx.warn(rpath, "counter not given: the metrics are read as counters")
    found = {
        k: metric(ctx, ratio[k], (*rpath, k), api, sources, counter)
        for k in ("good", "bad", "total")
        if k in ratio
    }
    if any(v is None for v in found.values()):
        return None
    q: dict[str, str] = {k: v for k, v in found.items() if v is not None}
    by = grouping(ctx, q, rpath)
    if by is None:
        return None
    sum_by = f"sum by ({', '.join(by)}) " if by else "sum"
    if "total" in q and "bad" in q:
        out = {"error_query": q["bad"], "total_query": q["total"]}
    elif "total" in q and "good" in q:
        out = {
            "error_query": f"{sum_by}({q['total']})\n-\n{sum_by}({q['good']})",
            "total_query": q["total"],
        }
    elif "good" in q and "bad" in q:
        out = {"error_query": q["bad"], "total_query": f"{sum_by}({q['good']})\n+\n{sum_by}({q['bad']})"}
    else:
        ctx.error(rpath, "a ratio needs total with good or bad (or good and bad)")
        return None
    return out, by


def grouping(ctx: Context, queries: dict[str, str], path: Path_) -> list[str] | None:
    """The labels the metrics' queries keep (`sum by (route)`): they must agree, and become group_by."""
    labels: dict[str, tuple[str, ...]] = {}
    for key, query in queries.items():
        try:
            found = result_labels(query)
        except GroupingUnknown as exc:
            ctx.error((*path, key), str(exc))
            return None
        if found is ALL:
            ctx.warn(
                (*path, key),
                "the query is not aggregated: slodrift sums it over all its series (one SLO, not one per "
                "series); aggregate it with sum by (...) for one SLO per group",
            )
            found = ()
        labels[key] = found if isinstance(found, tuple) else ()
    shown = grouped_differently(labels, "ungrouped")
    if shown is not None:
        ctx.error(path, f"the metrics are grouped differently ({shown}): they must keep the same labels")
        return None
    return list(next(iter(labels.values())))
