"""Which labels a PromQL query's result keeps: how an imported query is grouped.

Sloth divides its error query by its total query label by label, so `sum(rate(...)) by (cluster)` gives
one SLO per cluster; slodrift sums each SLI query itself, by the SLO's `group_by` labels. An importer
must therefore know the labels a query's result carries, and never flatten them in silence. This
module works them out from the query's syntax tree (`promql-parser`), conservatively:

- an aggregation keeps its `by` labels (`without` keeps the others, known only when the input's are);
- a selector (and a range function over one) keeps every label of its series: not a list slodrift can
  use; a subquery keeps its inner expression's labels;
- a function keeps its vector argument's labels (`label_replace`/`label_join` add one, `vector(...)` and
  `absent(...)` have none, `histogram_quantile` drops `le`);
- `a or b` keeps the labels both sides share, and a constant fallback such as `or vector(0)` is
  ignored; `a and b` and `a unless b` keep the labels of `a`; arithmetic and comparisons keep the left
  side's (`on (...)` only those, `ignoring (...)` the others, `group_left`/`group_right` the many side's
  plus the labels they name), a number on either side changes nothing.

`result_labels` returns the labels in the order the query first names them, or ALL (every label of
the series) or SCALAR; anything it cannot be sure of raises `GroupingUnknown` with the reason.
"""

from __future__ import annotations

from typing import Any, Final

import promql_parser as pp


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ALL: Final = _Marker("ALL")  # every label of the raw series: the result is not grouped by a known list
SCALAR: Final = _Marker("SCALAR")  # a number, no labels at all
Labels = tuple[str, ...] | _Marker


class GroupingUnknown(ValueError):
    """The labels of a query's result cannot be known from its text."""


NO_LABEL_FUNCS = {"vector", "absent", "absent_over_time"}
SCALAR_FUNCS = {
    "scalar",
    "time",
    "pi",
    "minute",
    "hour",
    "day_of_week",
    "day_of_month",
    "day_of_year",
    "days_in_month",
    "month",
    "year",
}
SELECTING_AGGREGATIONS = {"topk", "bottomk", "limitk", "limit_ratio"}


def _union(*parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(label for part in parts for label in part))


def _without(labels: tuple[str, ...], drop: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(label for label in labels if label not in drop)


def _drop(labels: Labels, drop: tuple[str, ...]) -> Labels:
    if isinstance(labels, _Marker):
        return labels
    return _without(labels, drop)


def labels_of(node: Any) -> Labels:
    """The labels the result of the parsed expression `node` carries."""
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return labels_of(node.expr)
    if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
        return SCALAR
    if isinstance(node, pp.VectorSelector | pp.MatrixSelector):
        return ALL
    if isinstance(node, pp.Call):
        return _call(node)
    if isinstance(node, pp.AggregateExpr):
        return _aggregate(node)
    if isinstance(node, pp.BinaryExpr):
        return _binary(node)
    raise GroupingUnknown(f"cannot tell the labels of {node}")


def _call(node: Any) -> Labels:
    name = node.func.name
    if name in NO_LABEL_FUNCS:
        return ()
    if name in SCALAR_FUNCS:
        return SCALAR
    vectors = [
        labels_of(arg) for arg in node.args if not isinstance(arg, pp.NumberLiteral | pp.StringLiteral)
    ]
    if not vectors:
        return SCALAR
    inner = vectors[0]
    if name in ("label_replace", "label_join"):
        dst = node.args[1]
        if isinstance(inner, tuple) and isinstance(dst, pp.StringLiteral):
            return _union(inner, (dst.val,))
        return inner
    if name == "histogram_quantile":
        return _drop(inner, ("le",))
    return inner


def _aggregate(node: Any) -> Labels:
    op = str(node.op)
    inner = labels_of(node.expr)
    if op in SELECTING_AGGREGATIONS:
        return inner
    mod = node.modifier
    extra: tuple[str, ...] = ()
    if op == "count_values" and isinstance(node.param, pp.StringLiteral):
        extra = (node.param.val,)
    if mod is None:
        return extra
    labels = tuple(mod.labels)
    if mod.type == pp.AggModifierType.By:
        return _union(labels, extra)
    if isinstance(inner, tuple):
        return _union(_without(inner, labels), extra)
    raise GroupingUnknown(
        f"`{op} without ({', '.join(labels)})` keeps every label but those: list the ones it "
        f"keeps with `{op} by (...)`"
    )


def _is_fallback(node: Any) -> bool:
    """`vector(0)` and friends: a constant that fills in when the other side is empty."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return isinstance(node, pp.Call) and node.func.name == "vector" or isinstance(node, pp.NumberLiteral)


def _binary(node: Any) -> Labels:
    op = str(node.op).lower()
    mod = node.modifier
    if op == "or":
        if _is_fallback(node.rhs):
            return labels_of(node.lhs)
        if _is_fallback(node.lhs):
            return labels_of(node.rhs)
        left, right = labels_of(node.lhs), labels_of(node.rhs)
        if left is ALL or right is ALL:
            return ALL
        if isinstance(left, tuple) and isinstance(right, tuple) and set(left) == set(right):
            return left
        raise GroupingUnknown(
            f"the two sides of `or` keep different labels ({_show(left)} and {_show(right)})"
        )
    left, right = labels_of(node.lhs), labels_of(node.rhs)
    if left is SCALAR:
        return right
    if right is SCALAR or op in ("and", "unless"):
        return left
    matching = mod.matching if mod is not None else None
    card = str(mod.card) if mod is not None else ""
    listed = tuple(matching.labels) if matching is not None else ()
    extra = tuple(mod.group_labels) if mod is not None and mod.group_labels else ()
    if card.endswith("OneToMany"):
        return right if not isinstance(right, tuple) else _union(right, extra)
    if card.endswith("ManyToOne"):
        return left if not isinstance(left, tuple) else _union(left, extra)
    if matching is not None and matching.type == pp.LabelModifierType.Include:
        return listed
    if matching is not None:
        return _drop(left, listed)
    return left


def _show(labels: Labels) -> str:
    if isinstance(labels, _Marker):
        return "every label" if labels is ALL else "none"
    return "(" + ", ".join(labels) + ")" if labels else "none"


def result_labels(query: str) -> Labels:
    """The labels of `query`'s result; `{{window}}` may stand for a range."""
    try:
        tree = pp.parse(query.replace("{{window}}", "5m"))
    except ValueError as exc:
        raise GroupingUnknown(f"not valid PromQL: {exc}") from None
    return labels_of(tree)
