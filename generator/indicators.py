"""Built-in indicator kinds and their default PromQL (the seeds' release-day KPIs), in base units.

Each default reads conventional metric names (prometheus-client and most exporters use them) scoped by
the service's selector; every piece can be overridden in the spec, and any indicator may give its own
query instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from slodrift.generator import promql
from slodrift.generator.promql import Matcher, Selector

RATE = "5m"


@dataclass(frozen=True)
class Kind:
    """Defaults of one built-in kind; `floor` keeps drift defined when the baseline is 0."""

    unit: str
    direction: str
    category: str
    floor: Decimal | None = None


KINDS: dict[str, Kind] = {
    "availability": Kind("ratio", "lower_is_worse", "performance"),
    # A clean release day often has no errors at all: drift is measured against at least 0.01 %.
    "error_ratio": Kind("ratio", "higher_is_worse", "performance", Decimal("0.0001")),
    "request_rate": Kind("requests_per_second", "either", "behaviour"),
    "latency_quantile": Kind("seconds", "higher_is_worse", "performance"),
    "cpu": Kind("cores", "higher_is_worse", "resource"),
    "memory": Kind("bytes", "higher_is_worse", "resource"),
    "db_latency": Kind("seconds", "higher_is_worse", "performance"),
    "cache_hit_ratio": Kind("ratio", "lower_is_worse", "behaviour"),
    "custom": Kind("count", "higher_is_worse", "behaviour"),
}

# Names that imply a kind, so `cpu: {category: resource}` is enough in a spec.
NAMED: dict[str, tuple[str, dict[str, object]]] = {
    "availability": ("availability", {}),
    "error_ratio": ("error_ratio", {}),
    "request_rate": ("request_rate", {}),
    "cpu": ("cpu", {}),
    "memory": ("memory", {}),
    "db_latency": ("db_latency", {}),
    "cache_hit_ratio": ("cache_hit_ratio", {}),
    "p50_latency": ("latency_quantile", {"quantile": 0.5}),
    "p90_latency": ("latency_quantile", {"quantile": 0.9}),
    "p95_latency": ("latency_quantile", {"quantile": 0.95}),
    "p99_latency": ("latency_quantile", {"quantile": 0.99}),
}

DEFAULTS = {
    "availability": "up",
    "request_rate": "http_requests_total",
    "cpu": "process_cpu_seconds_total",
    "memory": "process_resident_memory_bytes",
    "histogram": "http_request_duration_seconds",
    "db_histogram": "db_query_duration_seconds",
    "errors": 'http_requests_total{code=~"5.."}',
    "total": "http_requests_total",
    "hits": "redis_keyspace_hits_total",
    "misses": "redis_keyspace_misses_total",
}


def _sel(text: str, scope: tuple[Matcher, ...]) -> str:
    return promql.parse_selector(text).with_matchers(scope).render()


def _quantile(q: Decimal, histogram: str, scope: tuple[Matcher, ...], by: str | None) -> str:
    bucket = Selector(promql.check_metric_name(histogram + "_bucket"), scope).render()
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile({promql.number(q)}, sum by ({group}) (rate({bucket}[{RATE}])))"


def default_query(
    kind: str, opts: dict[str, object], scope: tuple[Matcher, ...], by: str | None = None
) -> str:
    """PromQL for a built-in kind, scoped by the service's matchers; raises PromQLError on bad input.

    `by` keeps one label through every aggregation (cross-region: one series per region).
    """
    if by is not None:
        promql.check_label_name(by)

    def agg(fn: str, inner: str) -> str:
        return f"{fn} by ({by}) ({inner})" if by else f"{fn}({inner})"

    metric = str(opts.get("metric") or "")
    if kind == "availability":
        return agg("avg", _sel(metric or DEFAULTS["availability"], scope))
    if kind == "request_rate":
        return agg("sum", f"rate({_sel(metric or DEFAULTS['request_rate'], scope)}[{RATE}])")
    if kind == "cpu":
        # Per instance, as the seed does: a scale-out must not read as a CPU regression.
        return agg("avg", f"rate({_sel(metric or DEFAULTS['cpu'], scope)}[{RATE}])")
    if kind == "memory":
        return agg("avg", _sel(metric or DEFAULTS["memory"], scope))
    if kind == "error_ratio":
        errors = _sel(str(opts.get("errors") or DEFAULTS["errors"]), scope)
        total = _sel(str(opts.get("total") or DEFAULTS["total"]), scope)
        return f"{agg('sum', f'rate({errors}[{RATE}])')} / {agg('sum', f'rate({total}[{RATE}])')}"
    if kind == "cache_hit_ratio":
        hits = agg("sum", f"rate({_sel(str(opts.get('hits') or DEFAULTS['hits']), scope)}[{RATE}])")
        misses = agg("sum", f"rate({_sel(str(opts.get('misses') or DEFAULTS['misses']), scope)}[{RATE}])")
        return f"{hits} / ({hits} + {misses})"
    if kind == "latency_quantile":
        if "quantile" not in opts:
            raise promql.PromQLError("latency_quantile needs `quantile` (e.g. 0.99)")
        q = Decimal(repr(opts["quantile"]))
        return _quantile(q, str(opts.get("histogram") or DEFAULTS["histogram"]), scope, by)
    if kind == "db_latency":
        q = Decimal(repr(opts.get("quantile", 0.95)))
        return _quantile(q, str(opts.get("histogram") or DEFAULTS["db_histogram"]), scope, by)
    raise promql.PromQLError(f"indicator kind {kind!r} needs a `query`")
