"""Built-in indicator kinds: their default PromQL (the seeds' release-day KPIs, in base units) and how
each kind is judged against its baseline (noise model, absolute floor, minimum traffic).

Each default reads conventional metric names (prometheus-client and most exporters use them) scoped by
the service's selector; every piece can be overridden in the spec, and any indicator may give its own
query instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from slodrift.generator import promql
from slodrift.generator.promql import Matcher, Selector

RATE = "5m"
RATE_SECONDS = 300  # the rate window of every default query: traffic guards count requests per window
MIB = 1048576

# How the noise of a current value is modelled when testing whether a change is real:
#   binomial  a ratio of events (errors / requests): variance p(1 - p) / requests in the window
#   poisson   a rate of events: variance rate / window
#   quantile  a latency quantile: the baseline's spread, widened when traffic is lower than it was
#   spread    anything else (CPU, memory, counts): the baseline's spread as it was measured
NOISE_MODELS = ("binomial", "poisson", "quantile", "spread")


@dataclass(frozen=True)
class Kind:
    """Defaults of one built-in kind.

    `floor` keeps relative drift defined when the baseline is 0; `floor_key` names the entry of
    `drift.min_change` that sets the kind's absolute floor, `min_change` its default in base units.
    """

    unit: str
    direction: str
    category: str
    noise: str
    floor_key: str
    min_change: Decimal
    floor: Decimal | None = None


KINDS: dict[str, Kind] = {
    # A success ratio of requests (the seeds' availability), not avg(up): see `targets_up`.
    "availability": Kind(
        "ratio", "lower_is_worse", "performance", "binomial", "error_ratio", Decimal("0.0005")
    ),
    # A clean release day often has no errors at all: relative drift is measured against at least 0.01 %.
    "error_ratio": Kind(
        "ratio",
        "higher_is_worse",
        "performance",
        "binomial",
        "error_ratio",
        Decimal("0.0005"),
        Decimal("0.0001"),
    ),
    "request_rate": Kind("requests_per_second", "either", "behaviour", "poisson", "request_rate", Decimal(1)),
    "latency_quantile": Kind(
        "seconds", "higher_is_worse", "performance", "quantile", "latency", Decimal("0.005")
    ),
    "cpu": Kind("cores", "higher_is_worse", "resource", "spread", "cpu", Decimal("0.05")),
    "memory": Kind("bytes", "higher_is_worse", "resource", "spread", "memory", Decimal(32 * MIB)),
    "db_latency": Kind("seconds", "higher_is_worse", "performance", "quantile", "latency", Decimal("0.005")),
    "cache_hit_ratio": Kind(
        "ratio", "lower_is_worse", "behaviour", "binomial", "cache_hit_ratio", Decimal("0.01")
    ),
    # Share of scrape targets up: a replica down is an outage question, not a release regression, so
    # only more than half of the targets gone counts as drift.
    "targets_up": Kind("ratio", "lower_is_worse", "behaviour", "spread", "targets_up", Decimal("0.5")),
    "custom": Kind("count", "higher_is_worse", "behaviour", "spread", "custom", Decimal(0)),
}

# The keys of `drift.min_change`, and the unit each is written in.
FLOOR_UNITS = {
    "error_ratio": "ratio",
    "latency": "seconds",
    "cpu": "cores",
    "memory": "bytes",
    "request_rate": "requests_per_second",
    "cache_hit_ratio": "ratio",
    "targets_up": "ratio",
    "custom": "count",
}

# Error-ratio kinds default to this share of the service's error budget when it has a request SLO.
BUDGET_SHARE = Decimal("0.25")

# Names that imply a kind, so `cpu: {category: resource}` is enough in a spec.
NAMED: dict[str, tuple[str, dict[str, object]]] = {
    "availability": ("availability", {}),
    "error_ratio": ("error_ratio", {}),
    "request_rate": ("request_rate", {}),
    "cpu": ("cpu", {}),
    "memory": ("memory", {}),
    "db_latency": ("db_latency", {}),
    "cache_hit_ratio": ("cache_hit_ratio", {}),
    "targets_up": ("targets_up", {}),
    "p50_latency": ("latency_quantile", {"quantile": 0.5}),
    "p90_latency": ("latency_quantile", {"quantile": 0.9}),
    "p95_latency": ("latency_quantile", {"quantile": 0.95}),
    "p99_latency": ("latency_quantile", {"quantile": 0.99}),
}

DEFAULTS = {
    "targets_up": "up",
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


def _quantile_of(kind: str, opts: dict[str, object]) -> Decimal:
    if kind == "db_latency":
        return Decimal(repr(opts.get("quantile", 0.95)))
    if "quantile" not in opts:
        raise promql.PromQLError("latency_quantile needs `quantile` (e.g. 0.99)")
    return Decimal(repr(opts["quantile"]))


def _histogram_of(kind: str, opts: dict[str, object]) -> str:
    default = DEFAULTS["db_histogram"] if kind == "db_latency" else DEFAULTS["histogram"]
    return str(opts.get("histogram") or default)


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
    if kind == "targets_up":
        return agg("avg", _sel(metric or DEFAULTS["targets_up"], scope))
    if kind == "request_rate":
        return agg("sum", f"rate({_sel(metric or DEFAULTS['request_rate'], scope)}[{RATE}])")
    if kind == "cpu":
        # Per instance, as the seed does: a scale-out must not read as a CPU regression.
        return agg("avg", f"rate({_sel(metric or DEFAULTS['cpu'], scope)}[{RATE}])")
    if kind == "memory":
        return agg("avg", _sel(metric or DEFAULTS["memory"], scope))
    if kind in ("error_ratio", "availability"):
        errors = agg("sum", f"rate({_sel(str(opts.get('errors') or DEFAULTS['errors']), scope)}[{RATE}])")
        total = agg("sum", f"rate({_sel(str(opts.get('total') or DEFAULTS['total']), scope)}[{RATE}])")
        # No 5xx series at all (a healthy service that never failed) is an error ratio of 0, not no data.
        ratio = f"({errors} or 0 * {total})\n/\n{total}"
        return ratio if kind == "error_ratio" else f"1 - (\n{ratio}\n)"
    if kind == "cache_hit_ratio":
        hits = agg("sum", f"rate({_sel(str(opts.get('hits') or DEFAULTS['hits']), scope)}[{RATE}])")
        misses = agg("sum", f"rate({_sel(str(opts.get('misses') or DEFAULTS['misses']), scope)}[{RATE}])")
        return f"{hits} / ({hits} + {misses})"
    if kind in ("latency_quantile", "db_latency"):
        return _quantile(_quantile_of(kind, opts), _histogram_of(kind, opts), scope, by)
    raise promql.PromQLError(f"indicator kind {kind!r} needs a `query`")


def traffic_query(kind: str, opts: dict[str, object], scope: tuple[Matcher, ...]) -> str:
    """Requests per second behind a ratio or latency indicator ("" for kinds that have none).

    It scales the noise of the current value and guards against judging a window with too few events.
    """
    if kind in ("error_ratio", "availability"):
        return f"sum(rate({_sel(str(opts.get('total') or DEFAULTS['total']), scope)}[{RATE}]))"
    if kind == "cache_hit_ratio":
        hits = f"sum(rate({_sel(str(opts.get('hits') or DEFAULTS['hits']), scope)}[{RATE}]))"
        misses = f"sum(rate({_sel(str(opts.get('misses') or DEFAULTS['misses']), scope)}[{RATE}]))"
        return f"{hits} + {misses}"
    if kind in ("latency_quantile", "db_latency"):
        count = Selector(promql.check_metric_name(_histogram_of(kind, opts) + "_count"), scope).render()
        return f"sum(rate({count}[{RATE}]))"
    return ""


def default_min_requests(kind: str, opts: dict[str, object]) -> Decimal | None:
    """Fewest requests in one rate window for a ratio or latency value to be judged at all.

    A quantile q needs at least 10 requests beyond it (p99: 1000 requests per 5m); a ratio 100.
    """
    if kind in ("latency_quantile", "db_latency"):
        q = float(_quantile_of(kind, opts))
        return Decimal(math.ceil(10 / (1 - q) - 1e-9))
    if kind in ("error_ratio", "availability", "cache_hit_ratio"):
        return Decimal(100)
    return None


def default_sources(
    kind: str, opts: dict[str, object], scope: tuple[Matcher, ...]
) -> tuple[tuple[str, Selector], ...]:
    """The raw series a built-in kind reads, by role (what a test must feed to drive its value).

    Roles: `errors`/`total` (counters), `counter` (summed or averaged per-instance rate), `gauge`,
    `bucket`/`count` (a histogram), `hits`/`misses` (counters).
    """

    def sel(text: str) -> Selector:
        return promql.parse_selector(text).with_matchers(scope)

    metric = str(opts.get("metric") or "")
    if kind in ("error_ratio", "availability"):
        return (
            ("errors", sel(str(opts.get("errors") or DEFAULTS["errors"]))),
            ("total", sel(str(opts.get("total") or DEFAULTS["total"]))),
        )
    if kind == "request_rate":
        return (("counter", sel(metric or DEFAULTS["request_rate"])),)
    if kind == "cpu":
        return (("counter", sel(metric or DEFAULTS["cpu"])),)
    if kind == "memory":
        return (("gauge", sel(metric or DEFAULTS["memory"])),)
    if kind == "targets_up":
        return (("gauge", sel(metric or DEFAULTS["targets_up"])),)
    if kind == "cache_hit_ratio":
        return (
            ("hits", sel(str(opts.get("hits") or DEFAULTS["hits"]))),
            ("misses", sel(str(opts.get("misses") or DEFAULTS["misses"]))),
        )
    if kind in ("latency_quantile", "db_latency"):
        h = _histogram_of(kind, opts)
        return (
            ("bucket", Selector(promql.check_metric_name(h + "_bucket"), scope)),
            ("count", Selector(promql.check_metric_name(h + "_count"), scope)),
        )
    return ()


def quantile_of(ind_kind: str, opts: dict[str, object]) -> Decimal:
    """The quantile a latency kind computes."""
    return _quantile_of(ind_kind, opts)
