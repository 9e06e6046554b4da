"""OpenSLO (`openslo/v1`, and Sloth's `openslo/v1alpha`) → a slodrift spec.

What is read: `SLO` documents (one slodrift SLO each, grouped into services by `spec.service`), `SLI`
documents referenced by `indicatorRef`, `Service` documents (their description), `DataSource`
documents (to resolve `metricSourceRef`). Several documents may share a file.

Supported, because slodrift can compute it exactly: a `ratioMetric` (v1alpha: `ratioMetrics`) over a
Prometheus source, a rolling `timeWindow` of minutes, hours, days or weeks, `budgetingMethod:
Occurrences`, and exactly one objective (`target` 0.999 → objective 99.9, or `targetPercent`).

Refused with an error naming the file and path: calendar windows and rolling months, quarters or
years (no fixed length, so no exact burn rate), `Timeslices`/`RatioTimeslices` budgeting, a
`thresholdMetric`, non-Prometheus sources, and SLOs with several objectives: slodrift has one
objective per SLO, and silently picking one would drop the others, so write one SLO per objective.
`alertPolicies` are ignored with a warning: slodrift's multi-window burn-rate alerts apply.

Queries. slodrift reads each SLI as a rate over 5m and builds every longer window from those recorded
rates, so it needs a query it can window. An OpenSLO Prometheus query is full PromQL with no window
placeholder, so each one is mapped by what it is, and never guessed:

- it already contains Sloth's `{{.window}}` (the v1alpha examples do): used as it is;
- a plain selector of a counter (`counter: true`, the usual case): `sum(rate(<selector>[{{window}}]))`;
  of a gauge (`counter: false`): refused, a gauge of event counts has no rate slodrift can sum;
- an expression whose only range function is `rate()` (e.g. `sum(rate(x[1m]))`): each range is
  rewritten to `[{{window}}]`, with a warning naming the range replaced; rate over a different range
  is the same quantity, smoothed differently;
- anything else (no range at all, `increase`, `*_over_time`, subqueries): refused, because its events
  per second over a window cannot be derived without changing its meaning.

good/total becomes `error_query: sum(<total>) - sum(<good>)` (summed first, so the subtraction
matches whatever labels each returns), `total_query: <total>`; bad/total maps directly; good and bad
without total give `total_query: sum(<good>) + sum(<bad>)`. A `raw` ratio (`rawType: failure`, or
`success` as `1 - ratio`) becomes `error_ratio_query`; a plain selector of a ratio gauge is averaged
over the window with `avg_over_time`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from slodrift.generator import promql
from slodrift.generator.grouping import ALL, GroupingUnknown, result_labels
from slodrift.generator.importers.common import (
    Context,
    Imported,
    Source,
    description,
    finish,
    grouped_differently,
    other_tool_hint,
    percent,
    regroup,
    source_objects,
)

from slodrift.issues import Path_

API_V1 = "openslo/v1"
DEFAULT_WINDOW = "30d"
API_V1ALPHA = "openslo/v1alpha"
PLACEHOLDER_RE = re.compile(r"\{\{\s*\.?window\s*\}\}")
RANGE_RE = re.compile(r"\[\s*([0-9]+(?:ms|[smhdwy]))+\s*(:[^\]]*)?\]")
FUNC_RE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*\(")
RANGE_FUNCS = frozenset(
    {
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "deriv",
        "predict_linear",
        "resets",
        "changes",
        "holt_winters",
        "double_exponential_smoothing",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "quantile_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "present_over_time",
        "absent_over_time",
        "mad_over_time",
    }
)
DURATION_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w"}
V1ALPHA_UNITS = {"Second": "s", "Minute": "m", "Hour": "h", "Day": "d", "Week": "w"}
KNOWN_KINDS = (
    "SLO",
    "SLI",
    "Service",
    "DataSource",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
)


def _code_and_strings(text: str) -> list[tuple[bool, str]]:
    """Split PromQL into (is_string, text) pieces, so rewrites never touch a quoted label value."""
    pieces: list[tuple[bool, str]] = []
    i = start = 0
    while i < len(text):
        if text[i] in "\"'`":
            pieces.append((False, text[start:i]))
            _, end = promql._read_string(text, i)
            pieces.append((True, text[i:end]))
            i = start = end
        else:
            i += 1
    pieces.append((False, text[start:]))
    return pieces


def windowed_query(
    ctx: Context, text: Any, path: Path_, counter: bool | None, ratio: bool = False
) -> str | None:
    """Map one OpenSLO Prometheus query to slodrift's `{{window}}` form, as the module docstring explains."""
    if not isinstance(text, str) or not text.strip():
        ctx.error(path, "query must be a non-empty PromQL string")
        return None
    text = text.strip()
    if PLACEHOLDER_RE.search(text):
        query = PLACEHOLDER_RE.sub("{{window}}", text)
        if re.search(r"\{\{(?!window\}\})", query):
            ctx.error(path, "unsupported template action in the query: only {{.window}} is known")
            return None
        return query
    if "{{" in text:
        ctx.error(path, "unsupported template action in the query: only {{.window}} is known")
        return None
    try:
        selector = promql.parse_selector(text)
    except promql.PromQLError:
        selector = None
    if selector is not None:
        if ratio:
            return f"avg_over_time({selector.render()}[{{{{window}}}}])"
        if counter is False:
            ctx.error(
                path,
                "a plain selector with counter: false (a gauge) has no rate slodrift can sum: "
                "use a counter, or a query with {{.window}} in place of its range",
            )
            return None
        return f"sum(rate({selector.render()}[{{{{window}}}}]))"
    try:
        pieces = _code_and_strings(text)
    except promql.PromQLError as exc:
        ctx.error(path, str(exc))
        return None
    code = " ".join(p for is_str, p in pieces if not is_str)
    funcs = {f for f in FUNC_RE.findall(code) if f in RANGE_FUNCS}
    ranges = RANGE_RE.findall(code)
    if not ranges or funcs - {"rate"} or any(sub for _, sub in RANGE_RE.findall(code)):
        why = (
            f"it uses {', '.join(sorted(funcs - {'rate'}))}"
            if funcs - {"rate"}
            else "it has a subquery"
            if ranges
            else "it has no rate window"
        )
        ctx.error(
            path,
            f"cannot map this query to a windowed rate ({why}): give a plain counter selector, "
            "an expression whose ranges are all rate(...[d]), or put {{.window}} where the range goes",
        )
        return None
    replaced = sorted({m.group(0) for is_str, p in pieces if not is_str for m in RANGE_RE.finditer(p)})
    query = "".join(p if is_str else RANGE_RE.sub("[{{window}}]", p) for is_str, p in pieces)
    ctx.warn(
        path,
        f"range {', '.join(replaced)} replaced by slodrift's rate window ({{{{window}}}}, 5m): "
        "slodrift reads such queries as 5m rates (times the evaluation interval, an approximation at the "
        "edges of each window; plain selectors as errors/total are exact)",
    )
    return query


class _Converter:
    def __init__(self, source: Source) -> None:
        self.ctx = Context(source, "openslo")
        self.slis: dict[str, tuple[int, Path_, dict[str, Any], str]] = {}
        self.sources: dict[str, str] = {}
        self.service_desc: dict[str, str] = {}
        self.api = API_V1  # of the object being converted
        self.group_by: list[str] = []  # of the SLO being converted

    def metric(self, raw: Any, path: Path_, counter: bool | None, ratio: bool = False) -> str | None:
        """One metric of a ratio: check the source is Prometheus, then map its query."""
        ctx = self.ctx
        m = ctx.mapping(raw, path, "metric")
        if self.api == API_V1ALPHA:
            source = str(m.get("source", "prometheus"))
            if source.lower() != "prometheus" or str(m.get("queryType", "promql")).lower() != "promql":
                ctx.error(path, f"source {source!r} is not supported: only Prometheus (PromQL) queries")
                return None
            return windowed_query(ctx, m.get("query"), (*path, "query"), counter, ratio)
        ms = ctx.mapping(m.get("metricSource"), (*path, "metricSource"), "metricSource")
        kind = ms.get("type") or self.sources.get(str(ms.get("metricSourceRef")))
        if str(kind).lower() != "prometheus":
            ctx.error((*path, "metricSource"), f"source type {kind!r} is not supported: only Prometheus")
            return None
        spec = ctx.mapping(ms.get("spec"), (*path, "metricSource", "spec"), "spec")
        for key in sorted(set(spec) - {"query"}):
            ctx.warn(
                (*path, "metricSource", "spec", key),
                f"ignored: a Prometheus source reads only query, not {key}",
            )
        return windowed_query(
            ctx, spec.get("query"), (*path, "metricSource", "spec", "query"), counter, ratio
        )

    def sli(self, indicator: dict[str, Any], path: Path_) -> dict[str, str] | None:
        """A slodrift SLI from an OpenSLO indicator spec (v1 `ratioMetric`, v1alpha `ratioMetrics`)."""
        ctx = self.ctx
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
            raw = self.metric(ratio["raw"], (*rpath, "raw"), counter, ratio=True)
            if raw is None:
                return None
            raw_type = ratio.get("rawType", "failure")
            if raw_type not in ("failure", "success"):
                ctx.error((*rpath, "rawType"), f"rawType {raw_type!r} must be success or failure")
                return None
            raw_by = self.grouping({"raw": raw}, rpath)
            if raw_by is None:
                return None
            self.group_by = raw_by
            return {"error_ratio_query": raw if raw_type == "failure" else f"1 - ({raw})"}
        if counter is None and self.api == API_V1:
            ctx.warn(rpath, "counter not given: the metrics are read as counters")
        found = {
            k: self.metric(ratio[k], (*rpath, k), counter) for k in ("good", "bad", "total") if k in ratio
        }
        if any(v is None for v in found.values()):
            return None
        q: dict[str, str] = {k: v for k, v in found.items() if v is not None}
        by = self.grouping(q, rpath)
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
        if by:
            self.group_by = by
        return out

    def grouping(self, queries: dict[str, str], path: Path_) -> list[str] | None:
        """The labels the metrics' queries keep (`sum by (route)`): they must agree, and become group_by."""
        ctx = self.ctx
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

    def window(self, spec: dict[str, Any], path: Path_) -> str | None:
        """A rolling window of fixed length as a Prometheus duration; calendar windows are refused."""
        ctx = self.ctx
        v1 = self.api == API_V1
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

    def objectives(self, spec: dict[str, Any], path: Path_) -> int:
        """How many objectives the SLO has (0 after an error)."""
        objectives = spec.get("objectives")
        if not isinstance(objectives, list) or not objectives:
            self.ctx.error((*path, "objectives"), "missing objectives")
            return 0
        return len(objectives)

    def objective(
        self, spec: dict[str, Any], path: Path_, index: int = 0
    ) -> tuple[float | int, dict[str, Any]] | None:
        ctx = self.ctx
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

    def slo(self, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The slodrift SLOs of one OpenSLO SLO: one per objective (Sloth's reading of several objectives)."""
        ctx = self.ctx
        meta = ctx.mapping(doc.get("metadata"), ("metadata",), "metadata")
        spec = ctx.mapping(doc.get("spec"), ("spec",), "spec")
        path: Path_ = ("spec",)
        name = meta.get("name")
        service = spec.get("service")
        if not isinstance(name, str) or not isinstance(service, str):
            ctx.error(("metadata", "name") if not isinstance(name, str) else (*path, "service"), "missing")
            return []
        method = spec.get("budgetingMethod", "Occurrences")
        if method != "Occurrences":
            ctx.error(
                (*path, "budgetingMethod"),
                f"{method} is not supported: slodrift counts events "
                "(Occurrences); time-slice budgets need per-slice booleans it does not record",
            )
        window = self.window(spec, path)
        if "alertPolicies" in spec:
            ctx.warn((*path, "alertPolicies"), "ignored: slodrift's multi-window burn-rate alerts apply")
        count = self.objectives(spec, path)
        if count > 1:
            ctx.warn(
                (*path, "objectives"),
                f"{count} objectives: one slodrift SLO each, named {name}-0 to {name}-{count - 1} (as Sloth names them)",
            )
        out = []
        for i in range(count):
            slo = self.one(doc, meta, spec, path, name if count == 1 else f"{name}-{i}", i, window)
            if slo is not None:
                out.append((service, slo))
        return out

    def one(
        self,
        doc: dict[str, Any],
        meta: dict[str, Any],
        spec: dict[str, Any],
        path: Path_,
        name: str,
        index: int,
        window: str | None,
    ) -> dict[str, Any] | None:
        ctx = self.ctx
        self.group_by = []
        objective = self.objective(spec, path, index)
        sli = None
        if self.api == API_V1ALPHA:
            sli = self.sli(objective[1], (*path, "objectives", index)) if objective else None
        elif "indicator" in spec:
            ind = ctx.mapping(spec["indicator"], (*path, "indicator"), "indicator")
            sli = self.sli(
                ctx.mapping(ind.get("spec"), (*path, "indicator", "spec"), "spec"),
                (*path, "indicator", "spec"),
            )
        elif "indicatorRef" in spec:
            ref = str(spec["indicatorRef"])
            if ref not in self.slis:
                ctx.error((*path, "indicatorRef"), f"no SLI named {ref!r} in this file")
            else:
                here = (ctx.doc, ctx.base, self.api)
                ctx.doc, ctx.base, sli_doc, self.api = self.slis[ref]
                sli = self.sli(ctx.mapping(sli_doc.get("spec"), ("spec",), "spec"), ("spec",))
                ctx.doc, ctx.base, self.api = here
        else:
            ctx.error(path, "give indicator or indicatorRef")
        if window is None or objective is None or sli is None:
            return None
        out: dict[str, Any] = {"name": name}
        text = spec.get("description") or meta.get("displayName")
        if text:
            out["description"] = description(text)
        out["objective"] = objective[0]
        out["window"] = window
        labels = ctx.labels(meta.get("labels"), ("metadata", "labels"))
        if labels:
            out["labels"] = labels
        sli, group_by = regroup(ctx, sli, self.group_by, path, "openslo") if self.group_by else (sli, [])
        if group_by:
            out["group_by"] = group_by
        out["sli"] = sli
        ctx.origin(out, ("metadata", "name") if index == 0 else (*path, "objectives", index))
        return out

    def convert(self) -> Imported:
        ctx = self.ctx
        objects = []
        for n, base, doc in source_objects(ctx.source):  # first pass: what SLOs may refer to
            ctx.doc, ctx.base = n, base
            if not isinstance(doc, dict):
                ctx.error((), f"an OpenSLO object is a YAML mapping, not a {type(doc).__name__}")
                continue
            api = doc.get("apiVersion")
            if api not in (API_V1, API_V1ALPHA):
                hint = other_tool_hint(doc, "openslo")
                if re.fullmatch(r"openslo(\.com)?/v2alpha\d*", str(api)):
                    hint = " (OpenSLO v2alpha is a draft slodrift does not read yet)"
                ctx.error(
                    ("apiVersion",),
                    f"unknown apiVersion {api!r}: supported are {API_V1} and {API_V1ALPHA}{hint}",
                )
                continue
            kind = doc.get("kind")
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
            if kind == "SLI" and "name" in meta:
                self.slis[str(meta["name"])] = (n, base, doc, str(api))
            elif kind == "DataSource" and "name" in meta:
                self.sources[str(meta["name"])] = str(spec.get("type", ""))
            elif kind == "Service" and "name" in meta and spec.get("description"):
                self.service_desc[str(meta["name"])] = description(spec["description"])
            elif kind not in KNOWN_KINDS:
                ctx.error(("kind",), f"unknown kind {kind!r}: expected one of {', '.join(KNOWN_KINDS)}")
            elif kind not in ("SLO", "SLI", "Service", "DataSource"):
                ctx.warn(("kind",), f"{kind} ignored: slodrift's multi-window burn-rate alerts apply")
            if kind == "SLO":
                objects.append((n, base, doc, str(api)))
        ctx.check()
        services: dict[str, dict[str, Any]] = {}
        for n, base, doc, api in objects:
            ctx.doc, ctx.base, self.api = n, base, api
            for service, slo in self.slo(doc):
                svc = services.setdefault(service, {"name": service})
                if service in self.service_desc:
                    svc["description"] = self.service_desc[service]
                if any(other["name"] == slo["name"] for other in svc.get("slos", [])):
                    ctx.error(("metadata", "name"), f"a second SLO {slo['name']!r} of service {service!r}")
                    continue
                svc.setdefault("slos", []).append(slo)
        ctx.check()
        if not services:
            ctx.doc, ctx.base = 0, ()
            ctx.error((), "no SLO objects (kind: SLO) found")
        spec = {"version": 1, "services": list(services.values())}
        return finish(ctx, spec)


def openslo_to_spec(source: Source) -> Imported:
    """Convert the OpenSLO documents of `source` into one slodrift spec.

    Raises ImportFailed listing every problem; the result always passes slodrift's own validation.
    """
    return _Converter(source).convert()
