"""Sloth SLIs → slodrift SLIs: `sli.events` and `sli.raw` queries with Sloth's `{{.window}}` as slodrift's
`{{window}}`, and the labels they group by (Sloth divides the error query by the total label by label)."""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator.grouping import ALL, GroupingUnknown, result_labels
from slodrift.generator.importers.common import Context, grouped_differently
from slodrift.generator.importers.sloth.fields import CAMEL, Fields

from slodrift.issues import Path_

WINDOW_RE = re.compile(r"\{\{\s*\.window\s*\}\}")
# A trailing `or vector(0)` (or `or on() vector(0)`): Sloth's idiom for "no errors yet is 0".
FALLBACK_RE = re.compile(r"\s(?:or|OR)\s+(?:on\s*\(\s*\)\s*)?vector\s*\(\s*[0-9.eE+-]+\s*\)\s*$")


def window_query(ctx: Context, text: Any, path: Path_) -> str | None:
    """Sloth's Go-template window → slodrift's placeholder; any other template action is an error."""
    if not isinstance(text, str) or not text.strip():
        ctx.error(path, "must be a non-empty PromQL string")
        return None
    query = WINDOW_RE.sub("{{window}}", text.strip())
    if "{{window}}" not in query:
        ctx.error(path, "query has no {{.window}}: slodrift needs the rate window to build its 5m SLI")
        return None
    other = [a for a in re.findall(r"\{\{.*?\}\}", query) if a != "{{window}}"]
    if other:
        ctx.error(path, f"unsupported template action(s) {', '.join(other)}: only {{{{.window}}}} is known")
        return None
    fallback = FALLBACK_RE.search(query)
    if fallback:
        query = query[: fallback.start()].rstrip()
        ctx.warn(
            path,
            f"{fallback.group(0).strip()!r} dropped: slodrift counts a query without samples as no events "
            "(0 errors when there are requests), and a constant would hide that the SLI has no data",
        )
    return query


def sli_queries(fields: Fields, sli: dict[str, Any], path: Path_) -> tuple[dict[str, str], list[str]] | None:
    """The SLI's queries and the labels they group by."""
    ctx = fields.ctx
    if "plugin" in sli:
        plugin = sli["plugin"].get("id", "?") if isinstance(sli["plugin"], dict) else "?"
        ctx.error(
            (*path, "plugin"),
            f"Sloth SLI plugins are not supported (plugin {plugin!r}): write the "
            "plugin's queries as sli.events (error_query, total_query) or sli.raw (error_ratio_query)",
        )
        return None
    kinds = [k for k in ("events", "raw") if k in sli]
    fields.unknown(sli, ("events", "raw", "plugin"), path, "sli")
    if len(kinds) != 1:
        ctx.error(path, f"give exactly one of events, raw (found: {', '.join(sorted(sli)) or 'nothing'})")
        return None
    kind = kinds[0]
    body = ctx.mapping(sli[kind], (*path, kind), kind)
    keys = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
    fields.unknown(body, keys, (*path, kind), f"sli.{kind}")
    out: dict[str, str] = {}
    paths: dict[str, Path_] = {}
    for key in keys:
        value, qpath = fields.get(body, key, (*path, kind))
        if value is None:
            ctx.error((*path, kind), f"missing {key}" + (f" ({CAMEL[key]})" if fields.k8s else ""))
            continue
        q = window_query(ctx, value, qpath)
        if q is not None:
            out[key], paths[key] = q, qpath
    if len(out) != len(keys):
        return None
    group_by = grouping(ctx, out, paths)
    return (out, group_by) if group_by is not None else None


def grouping(ctx: Context, queries: dict[str, str], paths: dict[str, Path_]) -> list[str] | None:
    """The labels every query keeps, which Sloth's division keeps: the SLO's group_by."""
    found: dict[str, tuple[str, ...]] = {}
    for key, query in queries.items():
        try:
            labels = result_labels(query)
        except GroupingUnknown as exc:
            ctx.error(paths[key], f"{exc}")
            return None
        if labels is ALL:
            ctx.error(
                paths[key],
                "the query keeps every label of its series (it has no sum or other aggregation), so "
                "Sloth computes one SLO per series; slodrift needs those labels listed: aggregate it, "
                "e.g. sum by (<labels>) (...)",
            )
            return None
        found[key] = labels if isinstance(labels, tuple) else ()  # SCALAR: no labels
    shown = grouped_differently(found, "without grouping")
    if shown is not None:
        ctx.error(
            paths["error_query"],
            f"the queries are grouped differently ({shown}): Sloth divides them label by label, so they "
            "must keep the same labels",
        )
        return None
    return list(next(iter(found.values())))
