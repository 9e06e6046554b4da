"""The engine's view of a Prometheus: `query_range` returning (labels, [(t_ms, value)]) series.

Built on the project's HTTP client (timeouts, bounded retries, no retry of a query Prometheus refused).
Times go out as seconds with three decimals, so evaluation times stay exact milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable

from .prometheus_api import PrometheusClient

__all__ = ["range_querier", "QUERY_TIMEOUT_S"]

QUERY_TIMEOUT_S = 600.0  # one rule over up to a day: slow rules over long windows take minutes

Series = list[tuple[dict[str, str], list[tuple[int, float]]]]


def range_querier(
    timeout_s: float = QUERY_TIMEOUT_S, max_retries: int = 2, clients: list[PrometheusClient] | None = None
) -> Callable[[str], Callable[[str, str, int, int, int], Series]]:
    """`for_url(url)(expr, what, first_ms, last_ms, step_ms)`; clients made are appended to `clients` (to
    close them, and to count what querying cost)."""

    def for_url(url: str) -> Callable[[str, str, int, int, int], Series]:
        client = PrometheusClient(url, read_timeout=timeout_s, max_retries=max_retries)
        if clients is not None:
            clients.append(client)

        def query(expr: str, what: str, first_ms: int, last_ms: int, step_ms: int) -> Series:
            res = client.query_range(
                expr, f"{first_ms / 1000:.3f}", f"{last_ms / 1000:.3f}", f"{step_ms / 1000:.3f}"
            )
            return [(dict(s.labels), [(round(t * 1000), v) for t, v in s.samples]) for s in res.series]

        return query

    return for_url
