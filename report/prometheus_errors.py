"""The errors of the Prometheus client: one base type, and what went wrong (a rejected query, an answer
that is not Prometheus' JSON, a Prometheus that stayed unreachable); messages quote the query, cut short."""

from __future__ import annotations


class PrometheusError(Exception):
    """Base of every error this client raises, so callers can catch one type."""


def _cap(message: str, limit: int = 1000) -> str:
    return (
        message
        if len(message) <= limit
        else message[:limit] + f"... ({len(message) - limit} more characters)"
    )


def _shown(query: str) -> str:
    """A query as quoted in a message: long ones are cut (a 10 KB query must not become the error)."""
    return repr(query) if len(query) <= 300 else repr(query[:300]) + f"... ({len(query)} characters)"


class PrometheusQueryError(PrometheusError):
    """Prometheus rejected the query (HTTP 4xx); retrying the same text cannot succeed."""

    def __init__(
        self, query: str, message: str, *, error_type: str | None = None, status: int | None = None
    ) -> None:
        self.query = query
        self.error_type = error_type
        self.status = status
        self.prometheus_message = message
        kind = f"{error_type}, " if error_type else ""
        code = f"HTTP {status}" if status is not None else "status error"
        super().__init__(f"Prometheus rejected query {_shown(query)} ({kind}{code}): {_cap(message)}")


class PrometheusResponseError(PrometheusError):
    """The answer was not the JSON Prometheus documents: a proxy page, truncated body, wrong URL."""

    def __init__(self, query: str | None, message: str, *, status: int | None = None) -> None:
        self.query = query
        self.status = status
        where = f" for query {_shown(query)}" if query is not None else ""
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"unexpected response from Prometheus{where}{code}: {_cap(message)}")


class PrometheusUnavailableError(PrometheusError):
    """Prometheus could not be reached or kept failing (timeouts, 5xx, 429) after every retry."""

    def __init__(self, query: str | None, message: str, *, attempts: int) -> None:
        self.query = query
        self.attempts = attempts
        where = f" for query {_shown(query)}" if query is not None else ""
        super().__init__(f"Prometheus unavailable{where} after {attempts} attempt(s): {_cap(message)}")
