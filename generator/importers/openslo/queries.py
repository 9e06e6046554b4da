"""OpenSLO Prometheus queries → slodrift's `{{window}}` form.

slodrift reads each SLI as a rate over 5m and builds every longer window from those recorded
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
"""

from __future__ import annotations

import re
from typing import Any

from slodrift.generator import promql
from slodrift.generator.importers.common import Context

from slodrift.issues import Path_

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
    """Map one OpenSLO Prometheus query to slodrift's `{{window}}` form, as this module's docstring explains."""
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
