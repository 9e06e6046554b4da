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
"""

from __future__ import annotations

import json
import math
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

__all__ = [
    "PrometheusClient",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusResponseError",
    "PrometheusUnavailableError",
    "QueryResult",
    "Series",
    "parse_sample_value",
]

DEFAULT_MAX_RESPONSE_BYTES = 64 << 20  # off the wire, and again decompressed: about 0.5 GB of parsed JSON
_CHUNK = 64 << 10

# Prometheus encodes sample values as strings because JSON has no NaN or infinities.
_SPECIAL_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}
_RESULT_TYPES = ("vector", "matrix", "scalar")
_BODY_SNIPPET = 200


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


@dataclass(frozen=True)
class Series:
    """One series of a result: its labels and (unix seconds, value) samples, NaN and ±Inf kept."""

    labels: dict[str, str]
    samples: list[tuple[float, float]]

    @property
    def value(self) -> float:
        """The latest sample's value: what an instant vector or a scalar carries."""
        if not self.samples:
            raise ValueError(f"series {self.labels} has no samples")
        return self.samples[-1][1]


@dataclass(frozen=True)
class QueryResult:
    """A parsed answer. `warnings` (and Prometheus 3's `infos`) flag partial or dubious results."""

    query: str
    result_type: str
    series: list[Series]
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Prometheus warns when a result may be incomplete (e.g. a remote-read source failed)."""
        return bool(self.warnings)


def parse_sample_value(raw: object) -> float:
    """Turn Prometheus' string-encoded sample value into a float ("NaN", "+Inf", "-Inf" included)."""
    if not isinstance(raw, str):
        raise ValueError(f"sample value must be a string, got {type(raw).__name__}")
    special = _SPECIAL_VALUES.get(raw)
    if special is not None:
        return special
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"sample value {raw!r} is not a number") from None


def _parse_sample(raw: object) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise ValueError(f'sample must be [timestamp, "value"], got {raw!r:.80}')
    ts, value = raw
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ValueError(f"sample timestamp must be a number, got {ts!r:.40}")
    return float(ts), parse_sample_value(value)


def _parse_labels(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"`metric` must map label names to strings, got {raw!r:.80}")
    return dict(raw)


def _parse_series(item: object, result_type: str) -> Series:
    if not isinstance(item, dict):
        raise ValueError(f"{result_type} element must be an object, got {item!r:.80}")
    labels = _parse_labels(item.get("metric"))
    if "histogram" in item or "histograms" in item:
        # Native histogram samples have no single float value; the indicators this client serves
        # are floats, so fail loudly rather than silently dropping data.
        raise ValueError(f"series {labels} carries native histogram samples, which are not supported")
    if result_type == "vector":
        if "value" not in item:
            raise ValueError(f"vector element {labels} has no `value`")
        return Series(labels, [_parse_sample(item["value"])])
    values = item.get("values")
    if not isinstance(values, list):
        raise ValueError(f"matrix element {labels} has no `values` list")
    return Series(labels, [_parse_sample(v) for v in values])


def _parse_data(data: object, expected: tuple[str, ...] = _RESULT_TYPES) -> tuple[str, list[Series]]:
    if not isinstance(data, dict):
        raise ValueError("`data` is not an object")
    result_type = data.get("resultType")
    result = data.get("result")
    if result_type not in expected:
        raise ValueError(f"resultType {str(result_type)[:40]!r} where {' or '.join(expected)} was expected")
    if result_type == "scalar":
        return result_type, [Series({}, [_parse_sample(result)])]
    if not isinstance(result, list):
        raise ValueError(f"`result` of a {result_type} is not a list")
    return result_type, [_parse_series(item, result_type) for item in result]


def _string_list(payload: Mapping[str, Any], key: str) -> list[str]:
    raw = payload.get(key) or []
    if not isinstance(raw, list):
        raise ValueError(f"`{key}` is not a list")
    return [str(w) for w in raw]


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


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _BODY_SNIPPET else text[:_BODY_SNIPPET] + "…"


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


class _Deadline:
    """The total time of one HTTP attempt: when it passes, the sockets the attempt uses are shut down,
    so a read blocked on a trickling server returns at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)

    def add(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _shut(conn)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections report to the calling thread's current `_Deadline`."""

    def __init__(self) -> None:
        self.current = threading.local()
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        current = self.current

        def tracked(base: type) -> type:
            class Tracked(base):  # type: ignore[misc]
                def request(self, *args: Any, **kwargs: Any) -> Any:
                    deadline = getattr(current, "deadline", None)
                    if deadline is not None:
                        deadline.add(self)
                    return super().request(*args, **kwargs)

            return Tracked

        http_pool = type(
            "Pool",
            (urllib3.HTTPConnectionPool,),
            {"ConnectionCls": tracked(urllib3.connection.HTTPConnection)},
        )
        https_pool = type(
            "SPool",
            (urllib3.HTTPSConnectionPool,),
            {"ConnectionCls": tracked(urllib3.connection.HTTPSConnection)},
        )
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


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
        self._adapter = _DeadlineAdapter()
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
        delay = min(self.backoff_max, self.backoff_base * (2**retry_number))
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
            return self._result(expr, payload, expected)
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
        deadline = _Deadline(self.total_timeout)
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
                body = self._read_body(expr, response, deadline)
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
            detail = self._error_detail(body)
            message = f"HTTP {status}: {detail}"
            final = None
            if detail.startswith("body is not JSON"):
                final = PrometheusResponseError(expr, detail, status=status)
            raise _Retryable(
                message, retry_after=_retry_after(response.headers.get("Retry-After")), final=final
            )
        payload = self._decode(expr, body, status)
        if status >= 400 or payload.get("status") == "error":
            error = payload.get("error")
            error_type = payload.get("errorType")
            if not isinstance(error, str):
                error = f"HTTP {status} without an `error` message: {_snippet(body)}"
            raise PrometheusQueryError(
                expr, error, error_type=error_type if isinstance(error_type, str) else None, status=status
            )
        if status != 200:
            raise PrometheusResponseError(expr, f"unexpected HTTP status {status}", status=status)
        return payload

    def _read_body(self, expr: str, response: requests.Response, deadline: _Deadline) -> str:
        """The body as text, read in chunks within the size limits (wire and decompressed)."""
        limit, inflated_limit = self.max_response_bytes, self.max_decompressed_bytes
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise PrometheusResponseError(
                expr, f"response of {int(length)} bytes; the limit is {limit}", status=response.status_code
            )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise PrometheusResponseError(expr, f"unsupported Content-Encoding {encoding[:40]!r}")
        inflate = zlib.decompressobj(47) if encoding not in ("identity", "") else None  # gzip or zlib
        parts: list[bytes] = []
        wire = size = 0
        while True:
            chunk = response.raw.read(_CHUNK, decode_content=False)
            if not chunk:
                break
            if deadline.expired:
                raise TimeoutError("deadline")
            wire += len(chunk)
            if wire > limit:
                raise PrometheusResponseError(
                    expr,
                    f"response larger than {limit} bytes; the limit is configurable",
                    status=response.status_code,
                )
            pending = chunk
            while pending:
                if inflate is None:
                    out, pending = pending, b""
                else:
                    try:
                        out = inflate.decompress(pending, inflated_limit - size + 1)
                    except zlib.error as exc:
                        raise PrometheusResponseError(expr, f"corrupt {encoding} body: {exc}") from None
                    pending = inflate.unconsumed_tail
                size += len(out)
                if size > inflated_limit:
                    raise PrometheusResponseError(
                        expr,
                        f"response decompresses to more than {inflated_limit} bytes; the limit is configurable",
                        status=response.status_code,
                    )
                parts.append(out)
        if deadline.expired:
            raise TimeoutError("deadline")
        return b"".join(parts).decode("utf-8", "replace")

    @staticmethod
    def _decode(expr: str, body: str, status: int) -> dict[str, Any]:
        try:
            payload = json.loads(body)
        except RecursionError:
            raise PrometheusResponseError(expr, "body is JSON nested too deeply", status=status) from None
        except ValueError:
            if 400 <= status < 500:
                # A 404 HTML page usually means a wrong URL prefix; say so rather than blaming JSON.
                raise PrometheusQueryError(expr, f"non-JSON body: {_snippet(body)}", status=status) from None
            raise PrometheusResponseError(
                expr, f"body is not JSON: {_snippet(body)!r}", status=status
            ) from None
        if not isinstance(payload, dict) or payload.get("status") not in ("success", "error"):
            raise PrometheusResponseError(
                expr, f"no `status` success/error in {_snippet(body)!r}", status=status
            )
        return payload

    @staticmethod
    def _error_detail(body: str) -> str:
        try:
            payload = json.loads(body)
        except ValueError:
            return f"body is not JSON: {_snippet(body)!r}"
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            kind = payload.get("errorType")
            return f"{kind}: {payload['error']}" if isinstance(kind, str) else payload["error"]
        return _snippet(body)

    @staticmethod
    def _result(expr: str, payload: dict[str, Any], expected: tuple[str, ...] = _RESULT_TYPES) -> QueryResult:
        try:
            result_type, series = _parse_data(payload.get("data"), expected)
            warnings = _string_list(payload, "warnings")
            infos = _string_list(payload, "infos")
        except ValueError as exc:
            raise PrometheusResponseError(expr, str(exc)) from None
        return QueryResult(query=expr, result_type=result_type, series=series, warnings=warnings, infos=infos)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header; HTTP dates are ignored (backoff still applies)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
