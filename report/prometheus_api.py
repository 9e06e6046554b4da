"""A small client for Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/-/healthy`).

The exporter queries Prometheus on a schedule and captures baselines from it; a Prometheus that is
restarting, overloaded or behind a flaky proxy must not turn into a crash or a hung thread, and a
query that Prometheus rejects must not be hammered with retries. Hence:

- every HTTP attempt has a connect timeout, a read timeout and a total deadline (`total_timeout`): a
  body trickled at one byte a second is cut off when the deadline passes, whatever the read timeout;
- a response is read at most `max_response_bytes` off the wire and, decompressed, at most
  `max_decompressed_bytes`: a huge answer or a gzip bomb is an error, not gigabytes of memory;
- redirects are not followed (a proxy or a wrong prefix is reported, never silently chased);
- the result type must be the one the call asks for (a range query must answer a matrix);
- connection errors, timeouts, HTTP 5xx and 429 are retried a bounded number of times with
  exponential backoff and a little jitter (queries are reads, so retrying a POST is safe);
- HTTP 4xx (a bad query: `errorType: bad_data`, or an execution error) is never retried and raises
  `PrometheusQueryError` naming the query and Prometheus' own message;
- a body that is not the documented JSON envelope raises `PrometheusResponseError`;
- what querying cost (queries, HTTP requests, retries, seconds) is kept on the client so the exporter
  can publish it.

No module-level state: each client owns its `requests.Session`, so tests and several Prometheus
servers never share connections, counters or configuration.

The client and its retries are here; `prometheus_errors` has the errors, `prometheus_result` the
parsing of answers, `prometheus_transport` the deadline and the bounded body read of one attempt.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from slodrift.report.prometheus_errors import (
    PrometheusError,
    PrometheusQueryError,
    PrometheusResponseError,
    PrometheusUnavailableError,
)
from slodrift.report.prometheus_result import (
    QueryResult,
    Series,
    decode_payload,
    error_detail,
    parse_sample_value,
    query_result,
    snippet,
)
from slodrift.report.prometheus_transport import Deadline, DeadlineAdapter, read_body

__all__ = [
    "PrometheusClient",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusResponseError",
    "PrometheusUnavailableError",
    "QueryResult",
    "RangeQuerier",
    "Series",
    "parse_sample_value",
]

DEFAULT_MAX_RESPONSE_BYTES = 64 << 20  # off the wire, and again decompressed: about 0.5 GB of parsed JSON


def _format_time(value: datetime | float | int | str) -> str:
    """Prometheus takes RFC 3339 or unix seconds; a naive datetime is ambiguous, so it is refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"datetime {value.isoformat()} has no timezone; use an aware datetime (UTC)")
        return repr(value.timestamp())
    if isinstance(value, bool):
        raise TypeError("time must be a datetime, unix seconds or an RFC 3339 string, not bool")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"time {value!r} is not finite")
        return repr(float(value))
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"time must be a datetime, unix seconds or an RFC 3339 string, got {value!r}")


def _format_step(step: timedelta | float | int | str) -> str:
    if isinstance(step, timedelta):
        seconds = step.total_seconds()
    elif isinstance(step, bool):
        raise TypeError("step must be a timedelta, seconds or a Prometheus duration, not bool")
    elif isinstance(step, int | float):
        seconds = float(step)
    elif isinstance(step, str) and step:
        return step
    else:
        raise TypeError(f"step must be a timedelta, seconds or a Prometheus duration, got {step!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"step must be positive, got {seconds!r} s")
    return repr(seconds)


class _Retryable(Exception):
    """Internal: one attempt failed in a way another attempt may fix."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, final: PrometheusError | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # Raised instead of PrometheusUnavailableError when retries run out (e.g. a 5xx whose body
        # was not Prometheus JSON is a response problem, not only an availability one).
        self.final = final


class RangeQuerier(Protocol):
    """What the batch commands need of a Prometheus client: PrometheusClient, or a test double."""

    def query_range(
        self, expr: str, start: datetime | float, end: datetime | float, step: timedelta | float | str
    ) -> QueryResult: ...


class PrometheusClient:
    """Queries one Prometheus server; safe to share between threads (counters are locked).

    Retries: at most `max_retries` more attempts after the first, waiting
    `min(backoff_max, backoff_base * 2**n)` plus up to `jitter` of that (so clients that failed
    together do not retry together). A `Retry-After` header on 429/503 is honoured up to `backoff_max`.
    `sleep` and `rng` are injectable so tests run instantly and deterministically.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        jitter: float = 0.1,
        post_threshold: int = 1024,
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_decompressed_bytes: int | None = None,
        session: requests.Session | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Prometheus URL must be http(s)://host[:port][/prefix], got {base_url!r}")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive: a request without one can hang a thread forever")
        if max_retries < 0 or backoff_base < 0 or backoff_max < 0 or jitter < 0:
            raise ValueError("max_retries, backoff_base, backoff_max and jitter must not be negative")
        if total_timeout is not None and not total_timeout > 0:
            raise ValueError("total_timeout must be positive")
        if max_response_bytes <= 0 or (max_decompressed_bytes is not None and max_decompressed_bytes <= 0):
            raise ValueError("response size limits must be positive")
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.jitter = float(jitter)
        self.post_threshold = int(post_threshold)
        # one attempt, connecting and reading included: by default twice the read timeout
        self.total_timeout = float(total_timeout) if total_timeout is not None else 2 * self.read_timeout
        self.max_response_bytes = int(max_response_bytes)
        self.max_decompressed_bytes = int(max_decompressed_bytes or max_response_bytes)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._adapter = DeadlineAdapter()
        self.session.mount("http://", self._adapter)
        self.session.mount("https://", self._adapter)
        if headers:
            self.session.headers.update(headers)
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        # What querying Prometheus cost, for the exporter's own metrics.
        self.queries = 0  # query() and query_range() calls
        self.requests = 0  # HTTP attempts, health checks included
        self.retries = 0  # attempts beyond the first
        self.failures = 0  # query() / query_range() calls that raised
        self.seconds = 0.0  # wall time spent inside HTTP requests (not backoff sleeps)
        self.backoff_seconds = 0.0  # time asked of `sleep` between attempts

    # -- public API ---------------------------------------------------------------------------

    def query(self, expr: str, time: datetime | float | int | str | None = None) -> QueryResult:
        """Instant query at `time` (default: Prometheus' now)."""
        params = {"query": expr}
        if time is not None:
            params["time"] = _format_time(time)
        return self._query("/api/v1/query", expr, params, ("vector", "scalar"))

    def query_range(
        self,
        expr: str,
        start: datetime | float | int | str,
        end: datetime | float | int | str,
        step: timedelta | float | int | str,
    ) -> QueryResult:
        """Range query; `step` as a timedelta, seconds or a Prometheus duration such as "5m"."""
        params = {
            "query": expr,
            "start": _format_time(start),
            "end": _format_time(end),
            "step": _format_step(step),
        }
        return self._query("/api/v1/query_range", expr, params, ("matrix",))

    def samples(self, selector: str, start_ms: int, end_ms: int) -> QueryResult:
        """The stored samples of `selector` in (start, end], with their own timestamps (a range selector
        evaluated at `end`: no lookback, no step grid)."""
        if end_ms <= start_ms:
            raise ValueError("the end must be after the start")
        expr = f"{selector}[{end_ms - start_ms}ms]"
        params = {"query": expr, "time": _format_time(end_ms / 1000)}
        return self._query("/api/v1/query", expr, params, ("matrix",))

    def healthy(self) -> bool:
        """One quick probe of `/-/healthy`, no retries: callers poll it and want an answer now."""
        started = time.monotonic()
        try:
            response = self.session.get(
                self.base_url + "/-/healthy", timeout=self._timeout(), allow_redirects=False
            )
            response.close()
            return response.status_code == 200
        except requests.RequestException:
            return False
        finally:
            self._account(time.monotonic() - started, requests_=1)

    def stats(self) -> dict[str, float]:
        """A consistent snapshot of the counters, for publishing as metrics."""
        with self._lock:
            return {
                "queries": self.queries,
                "requests": self.requests,
                "retries": self.retries,
                "failures": self.failures,
                "seconds": self.seconds,
                "backoff_seconds": self.backoff_seconds,
            }

    def close(self) -> None:
        """Release pooled connections (only of a session this client created)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PrometheusClient({self.base_url!r})"

    # -- internals ----------------------------------------------------------------------------

    def _timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def _account(
        self,
        seconds: float,
        *,
        requests_: int = 0,
        retries: int = 0,
        queries: int = 0,
        failures: int = 0,
        backoff: float = 0.0,
    ) -> None:
        with self._lock:
            self.seconds += seconds
            self.requests += requests_
            self.retries += retries
            self.queries += queries
            self.failures += failures
            self.backoff_seconds += backoff

    def _delay(self, retry_number: int, retry_after: float | None) -> float:
        delay: float = min(self.backoff_max, self.backoff_base * (2**retry_number))
        delay += self._rng.uniform(0.0, self.jitter * delay)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.backoff_max * (1.0 + self.jitter))

    def _query(self, path: str, expr: str, params: dict[str, str], expected: tuple[str, ...]) -> QueryResult:
        if not isinstance(expr, str) or not expr.strip():
            raise ValueError("query must be a non-empty PromQL string")
        self._account(0.0, queries=1)
        try:
            payload = self._request_with_retries(path, expr, params)
            return query_result(expr, payload, expected)
        except PrometheusError:
            self._account(0.0, failures=1)
            raise

    def _request_with_retries(self, path: str, expr: str, params: dict[str, str]) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return self._attempt(path, expr, params)
            except _Retryable as exc:
                if attempt >= self.max_retries:
                    if exc.final is not None:
                        raise exc.final from None
                    raise PrometheusUnavailableError(expr, str(exc), attempts=attempt + 1) from None
                delay = self._delay(attempt, exc.retry_after)
                attempt += 1
                self._account(0.0, retries=1, backoff=delay)
                self._sleep(delay)

    def _attempt(self, path: str, expr: str, params: dict[str, str]) -> dict[str, Any]:
        url = self.base_url + path
        # Long queries go in a form-encoded POST body: URLs past a few KiB are cut or refused by
        # Prometheus' HTTP server and by proxies in front of it.
        use_post = len(urlencode(params)) > self.post_threshold
        started = time.monotonic()
        deadline = Deadline(self.total_timeout)
        self._adapter.current.deadline = deadline
        timeout = (self.connect_timeout, min(self.read_timeout, self.total_timeout))
        kwargs: dict[str, Any] = {
            "timeout": timeout,
            "stream": True,  # read by `_read_body`, bounded in bytes and time
            "allow_redirects": False,
            "headers": {"Accept-Encoding": "gzip"},
        }
        try:
            if use_post:
                response = self.session.post(url, data=params, **kwargs)
            else:
                response = self.session.get(url, params=params, **kwargs)
            try:
                body = read_body(
                    expr, response, deadline, self.max_response_bytes, self.max_decompressed_bytes
                )
            finally:
                response.close()
        except requests.exceptions.SSLError as exc:
            # A certificate problem does not fix itself between attempts.
            raise PrometheusUnavailableError(expr, f"TLS error: {exc}", attempts=1) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if deadline.expired:
                raise _Retryable(
                    f"no complete answer within {self.total_timeout:g} s (the total deadline of one request)"
                ) from exc
            if isinstance(exc, requests.Timeout | TimeoutError):
                raise _Retryable(
                    f"timed out (connect {self.connect_timeout}s, read {self.read_timeout}s): "
                    f"{type(exc).__name__}"
                ) from exc
            if isinstance(
                exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError | ConnectionError
            ) or isinstance(exc, urllib3.exceptions.ProtocolError):
                raise _Retryable(f"connection failed: {exc}") from exc
            # Anything else (bad header, undecodable body) is not transient; keep one error family.
            raise PrometheusResponseError(expr, f"request failed: {type(exc).__name__}: {exc}") from exc
        finally:
            deadline.cancel()
            self._adapter.current.deadline = None
            self._account(time.monotonic() - started, requests_=1)

        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "?")
            raise PrometheusResponseError(
                expr,
                f"redirected to {where[:200]!r}, which is not followed: give the URL Prometheus answers at "
                "as --prometheus-url",
                status=response.status_code,
            )
        status = response.status_code
        if status >= 500 or status == 429:
            detail = error_detail(body)
            message = f"HTTP {status}: {detail}"
            final = None
            if detail.startswith("body is not JSON"):
                final = PrometheusResponseError(expr, detail, status=status)
            raise _Retryable(
                message, retry_after=_retry_after(response.headers.get("Retry-After")), final=final
            )
        payload = decode_payload(expr, body, status)
        if status >= 400 or payload.get("status") == "error":
            error = payload.get("error")
            error_type = payload.get("errorType")
            if not isinstance(error, str):
                error = f"HTTP {status} without an `error` message: {snippet(body)}"
            raise PrometheusQueryError(
                expr, error, error_type=error_type if isinstance(error_type, str) else None, status=status
            )
        if status != 200:
            raise PrometheusResponseError(expr, f"unexpected HTTP status {status}", status=status)
        return payload


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header; HTTP dates are ignored (backoff still applies)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
