"""PrometheusClient against a real HTTP server on 127.0.0.1 that answers like Prometheus' API.

The fake is a real socket server (not a mocked `requests`), so timeouts, refused connections,
form-encoded POSTs and retries are exercised through the same code paths as in production.
The fake is tests/fake_prometheus.py; the `prom`, `make_client` and `closed_port` fixtures are in conftest.py.
"""

from __future__ import annotations

import json
import math
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from slodrift.report.prometheus_api import (
    PrometheusClient,
    PrometheusQueryError,
    PrometheusResponseError,
    PrometheusUnavailableError,
    parse_sample_value,
)

from tests.fake_prometheus import Reply, failure, success


def assert_backoff(sleeps: list[float], base: float, cap: float, jitter: float) -> None:
    """Each wait is the exponential step (capped) plus at most `jitter` of it: bounded, never zero."""
    for n, slept in enumerate(sleeps):
        step = min(cap, base * 2**n)
        assert step <= slept <= step * (1 + jitter), (n, slept, step)


# -- successful queries ---------------------------------------------------------------------------------


def test_instant_vector_parses_labels_samples_and_special_values(prom, make_client):
    prom.replies.append(
        success(
            "vector",
            [
                {"metric": {"__name__": "up", "job": "checkout"}, "value": [1700000000.5, "1"]},
                {"metric": {"job": "nan"}, "value": [1700000000.5, "NaN"]},
                {"metric": {"job": "pinf"}, "value": [1700000000.5, "+Inf"]},
                {"metric": {"job": "ninf"}, "value": [1700000000.5, "-Inf"]},
            ],
        )
    )
    client, sleeps = make_client(prom.url)
    when = datetime(2025, 11, 21, 18, 0, tzinfo=UTC)

    result = client.query('up{job="checkout"}', time=when)

    assert result.result_type == "vector"
    assert result.query == 'up{job="checkout"}'
    assert result.warnings == [] and not result.partial
    first, nan, pinf, ninf = result.series
    assert first.labels == {"__name__": "up", "job": "checkout"}
    assert first.samples == [(1700000000.5, 1.0)]
    assert first.value == 1.0
    assert math.isnan(nan.value)
    assert pinf.value == math.inf
    assert ninf.value == -math.inf
    (seen,) = prom.seen
    assert (seen.method, seen.path) == ("GET", "/api/v1/query")
    assert seen.params == {"query": 'up{job="checkout"}', "time": repr(when.timestamp())}
    assert (client.queries, client.requests, client.retries, client.failures) == (1, 1, 0, 0)
    assert client.seconds > 0
    assert sleeps == []


def test_query_range_matrix_and_parameters(prom, make_client):
    prom.replies.append(
        success(
            "matrix",
            [
                {"metric": {"service": "checkout"}, "values": [[1700000000, "0.25"], [1700000300, "0.5"]]},
            ],
        )
    )
    client, _ = make_client(prom.url)
    start = datetime(2025, 11, 21, tzinfo=UTC)

    result = client.query_range("rate(x[5m])", start, start + timedelta(days=1), timedelta(minutes=5))

    assert result.result_type == "matrix"
    (series,) = result.series
    assert series.labels == {"service": "checkout"}
    assert series.samples == [(1700000000.0, 0.25), (1700000300.0, 0.5)]
    (seen,) = prom.seen
    assert seen.path == "/api/v1/query_range"
    assert seen.params == {
        "query": "rate(x[5m])",
        "start": "1763683200.0",
        "end": "1763769600.0",
        "step": "300.0",
    }


def test_scalar_result(prom, make_client):
    prom.replies.append(success("scalar", [1700000000, "42"]))
    client, _ = make_client(prom.url)
    result = client.query("scalar(vector(42))")
    assert result.result_type == "scalar"
    assert [s.samples for s in result.series] == [[(1700000000.0, 42.0)]]
    assert result.series[0].labels == {}


def test_warnings_and_infos_are_surfaced(prom, make_client):
    prom.replies.append(
        success(
            "vector",
            [],
            warnings=["remote read failed: store-2 unreachable"],
            infos=["PromQL info: metric might not be a counter"],
        )
    )
    client, _ = make_client(prom.url)
    result = client.query("sum(up)")
    assert result.partial
    assert result.warnings == ["remote read failed: store-2 unreachable"]
    assert result.infos == ["PromQL info: metric might not be a counter"]
    assert result.series == []


def test_long_queries_are_form_encoded_posts_short_ones_gets(prom, make_client):
    prom.router = lambda seen: success("matrix" if seen.path.endswith("query_range") else "vector", [])
    client, _ = make_client(prom.url, post_threshold=200)
    long_expr = "sum(" + " + ".join(f'rate(m{{code="{i}"}}[5m])' for i in range(40)) + ")"
    assert len(long_expr) > 200

    client.query("up")
    client.query(long_expr)
    client.query_range(long_expr, 0, 600, "5m")

    short, long_instant, long_range = prom.seen
    assert short.method == "GET" and short.params == {"query": "up"}
    assert long_instant.method == "POST"
    assert long_instant.content_type == "application/x-www-form-urlencoded"
    assert long_instant.params == {"query": long_expr}
    assert long_range.method == "POST"
    assert long_range.params == {"query": long_expr, "start": "0.0", "end": "600.0", "step": "5m"}


# -- retries --------------------------------------------------------------------------------------------


def test_503_then_success_is_retried_once(prom, make_client):
    prom.replies.extend([failure(503, "unavailable", "TSDB not ready"), success("vector", [])])
    client, sleeps = make_client(prom.url, backoff_base=0.5, jitter=0.1)

    result = client.query("up")

    assert result.series == []
    assert len(prom.seen) == 2
    assert (client.queries, client.requests, client.retries, client.failures) == (1, 2, 1, 0)
    assert len(sleeps) == 1
    assert_backoff(sleeps, 0.5, 8.0, 0.1)
    assert client.backoff_seconds == pytest.approx(sum(sleeps))


def test_always_503_gives_up_after_bounded_exponential_backoff(prom, make_client):
    prom.default = failure(503, "timeout", "query timed out in expression evaluation")
    client, sleeps = make_client(prom.url, max_retries=3, backoff_base=0.5, backoff_max=8.0, jitter=0.1)

    with pytest.raises(PrometheusUnavailableError) as info:
        client.query("sum(rate(http_requests_total[5m]))")

    assert len(prom.seen) == 4  # the first attempt and three retries, no more
    assert info.value.attempts == 4
    message = str(info.value)
    assert "sum(rate(http_requests_total[5m]))" in message
    assert "HTTP 503" in message and "query timed out in expression evaluation" in message
    assert len(sleeps) == 3
    assert_backoff(sleeps, 0.5, 8.0, 0.1)
    assert sleeps[0] < sleeps[1] < sleeps[2]
    assert (client.queries, client.requests, client.retries, client.failures) == (1, 4, 3, 1)


def test_backoff_is_capped(prom, make_client):
    prom.default = Reply(500, json.dumps({"status": "error", "errorType": "internal", "error": "boom"}))
    client, sleeps = make_client(prom.url, max_retries=6, backoff_base=1.0, backoff_max=4.0, jitter=0.25)
    with pytest.raises(PrometheusUnavailableError):
        client.query("up")
    assert len(sleeps) == 6
    assert_backoff(sleeps, 1.0, 4.0, 0.25)
    assert max(sleeps) <= 4.0 * 1.25


class HighestJitter(random.Random):
    """An rng that always draws the top of the range, so the jitter bound is hit exactly."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_jitter_is_drawn_from_the_injected_rng_and_bounded(prom, make_client):
    prom.default = failure(503, "unavailable", "down")
    client, sleeps = make_client(prom.url, max_retries=3, backoff_base=0.5, jitter=0.2, rng=HighestJitter())
    with pytest.raises(PrometheusUnavailableError):
        client.query("up")
    assert sleeps == [pytest.approx(0.6), pytest.approx(1.2), pytest.approx(2.4)]


def test_429_honours_retry_after_within_the_cap(prom, make_client):
    prom.replies.extend(
        [
            Reply(429, "slow down", {"Retry-After": "3"}),
            Reply(429, "slow down", {"Retry-After": "3600"}),
            success("vector", []),
        ]
    )
    client, sleeps = make_client(prom.url, backoff_base=0.1, backoff_max=5.0, jitter=0.1)
    client.query("up")
    assert len(prom.seen) == 3
    assert sleeps[0] == 3.0  # Retry-After beats the 0.1 s step
    assert sleeps[1] == pytest.approx(5.0 * 1.1)  # an absurd Retry-After is capped


def test_zero_retries_means_one_attempt(prom, make_client):
    prom.default = failure(503, "unavailable", "down")
    client, sleeps = make_client(prom.url, max_retries=0)
    with pytest.raises(PrometheusUnavailableError):
        client.query("up")
    assert len(prom.seen) == 1 and sleeps == []


# -- errors that must not be retried --------------------------------------------------------------------


def test_bad_query_is_not_retried_and_names_query_and_message(prom, make_client):
    error = 'invalid parameter "query": 1:8: parse error: unexpected "}"'
    prom.default = failure(400, "bad_data", error)
    client, sleeps = make_client(prom.url)

    with pytest.raises(PrometheusQueryError) as info:
        client.query("sum(up})")

    assert len(prom.seen) == 1
    assert sleeps == []
    exc = info.value
    assert exc.query == "sum(up})"
    assert exc.error_type == "bad_data"
    assert exc.status == 400
    assert exc.prometheus_message == error
    assert "'sum(up})'" in str(exc) and error in str(exc) and "bad_data" in str(exc)
    assert (client.queries, client.requests, client.retries, client.failures) == (1, 1, 0, 1)


def test_execution_error_422_is_not_retried(prom, make_client):
    prom.default = failure(422, "execution", "found duplicate series for the match group")
    client, sleeps = make_client(prom.url)
    with pytest.raises(PrometheusQueryError, match="found duplicate series"):
        client.query("a / on(x) b")
    assert len(prom.seen) == 1 and sleeps == []


def test_404_html_page_is_a_query_error_naming_the_body(prom, make_client):
    prom.default = Reply(404, "<html>404 page not found</html>", {"Content-Type": "text/html"})
    client, sleeps = make_client(prom.url + "/wrong-prefix")
    with pytest.raises(PrometheusQueryError, match="HTTP 404.*404 page not found"):
        client.query("up")
    assert prom.seen[0].path == "/wrong-prefix/api/v1/query"
    assert sleeps == []


# -- malformed responses ----------------------------------------------------------------------------------


def test_malformed_json_on_200_is_a_response_error_without_retry(prom, make_client):
    prom.default = Reply(200, '{"status": "success", "data": ', {"Content-Type": "application/json"})
    client, sleeps = make_client(prom.url)
    with pytest.raises(PrometheusResponseError, match="for query 'up'.*not JSON"):
        client.query("up")
    assert len(prom.seen) == 1 and sleeps == []


def test_malformed_json_on_5xx_is_a_response_error_after_retries(prom, make_client):
    prom.default = Reply(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    client, sleeps = make_client(prom.url, max_retries=2)
    with pytest.raises(PrometheusResponseError) as info:
        client.query("up")
    assert len(prom.seen) == 3 and len(sleeps) == 2
    assert info.value.status == 502
    assert "Bad Gateway" in str(info.value)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, 2]}]},
            },
            "must be a string",
        ),
        (
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]},
            },
            "'x' is not a number",
        ),
        # an instant query must answer a vector or a scalar (issue 17, item 16)
        (
            {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}}]}},
            "resultType 'matrix' where vector or scalar was expected",
        ),
        (
            {"status": "success", "data": {"resultType": "string", "result": [1, "a"]}},
            "resultType 'string' where vector or scalar was expected",
        ),
        ({"status": "success", "data": {"resultType": "vector", "result": {}}}, "not a list"),
        (
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {"a": 1}, "value": [1, "1"]}]},
            },
            "label names to strings",
        ),
        (
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {}, "histogram": [1, {"count": "1", "sum": "1"}]}],
                },
            },
            "native histogram",
        ),
        ({"status": "success"}, "`data` is not an object"),
        ({"data": {}}, "no `status`"),
        ([1, 2], "no `status`"),
    ],
)
def test_unexpected_shapes_are_response_errors(prom, make_client, payload, problem):
    prom.default = Reply(200, json.dumps(payload))
    client, _ = make_client(prom.url)
    with pytest.raises(PrometheusResponseError, match="for query 'up'") as info:
        client.query("up")
    assert problem in str(info.value)
    assert len(prom.seen) == 1


# -- transport failures -----------------------------------------------------------------------------------


def test_read_timeout_is_retried_then_reported(prom, make_client):
    prom.default = Reply(
        200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}), delay=2.0
    )
    client, sleeps = make_client(prom.url, read_timeout=0.1, max_retries=2)
    started = time.monotonic()
    with pytest.raises(PrometheusUnavailableError, match="timed out") as info:
        client.query("up")
    elapsed = time.monotonic() - started
    assert info.value.attempts == 3
    assert len(prom.seen) == 3 and len(sleeps) == 2
    assert elapsed < 1.5  # three 0.1 s timeouts, not three 2 s answers
    assert client.seconds < 1.5


def test_slow_answer_then_fast_answer_succeeds(prom, make_client):
    prom.replies.extend([Reply(200, "{}", delay=2.0), success("vector", [{"metric": {}, "value": [1, "3"]}])])
    client, sleeps = make_client(prom.url, read_timeout=0.1)
    assert client.query("up").series[0].value == 3.0
    assert client.retries == 1 and len(sleeps) == 1


def test_connection_refused_is_retried_then_reported(closed_port, make_client):
    client, sleeps = make_client(f"http://127.0.0.1:{closed_port}", max_retries=2, backoff_base=0.2)
    with pytest.raises(PrometheusUnavailableError, match="connection failed") as info:
        client.query("up")
    assert info.value.attempts == 3
    assert (client.requests, client.retries, client.failures) == (3, 2, 1)
    assert_backoff(sleeps, 0.2, 8.0, 0.1)
    assert len(sleeps) == 2


# -- health, accounting, configuration ---------------------------------------------------------------------


def test_healthy(prom, make_client, closed_port):
    prom.replies.extend([Reply(200, "Prometheus Server is Healthy.\n"), Reply(503, "not ready")])
    client, sleeps = make_client(prom.url)
    assert client.healthy() is True
    assert client.healthy() is False  # no retry: a probe wants an answer now
    assert [s.path for s in prom.seen] == ["/-/healthy", "/-/healthy"]
    assert sleeps == []
    assert client.queries == 0 and client.requests == 2

    down, _ = make_client(f"http://127.0.0.1:{closed_port}")
    assert down.healthy() is False


def test_stats_snapshot_and_clients_share_nothing(prom, make_client):
    prom.default = success("vector", [])
    first, _ = make_client(prom.url)
    second, _ = make_client(prom.url)
    first.query("up")
    first.query("up")
    assert first.stats()["queries"] == 2 and first.stats()["requests"] == 2
    assert second.stats() == {
        "queries": 0,
        "requests": 0,
        "retries": 0,
        "failures": 0,
        "seconds": 0.0,
        "backoff_seconds": 0.0,
    }


def test_own_session_is_closed_by_context_manager(prom):
    prom.default = success("vector", [])
    with PrometheusClient(prom.url, sleep=lambda s: None) as client:
        client.query("up")
        session = client.session
    assert all(len(adapter.poolmanager.pools) == 0 for adapter in session.adapters.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "localhost:9090"}, "http"),
        ({"base_url": "http://x", "read_timeout": 0}, "timeouts"),
        ({"base_url": "http://x", "max_retries": -1}, "negative"),
    ],
)
def test_invalid_configuration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PrometheusClient(**kwargs)


def test_naive_datetimes_and_bad_steps_are_refused_before_any_request(prom, make_client):
    client, _ = make_client(prom.url)
    with pytest.raises(ValueError, match="no timezone"):
        client.query("up", time=datetime(2025, 11, 21))
    with pytest.raises(ValueError, match="positive"):
        client.query_range("up", 0, 60, timedelta(0))
    with pytest.raises(ValueError, match="non-empty"):
        client.query("  ")
    assert prom.seen == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1.0), ("-2.5e-3", -0.0025), ("+Inf", math.inf), ("-Inf", -math.inf), ("0", 0.0)],
)
def test_parse_sample_value(raw, expected):
    assert parse_sample_value(raw) == expected


def test_parse_sample_value_nan_and_garbage():
    assert math.isnan(parse_sample_value("NaN"))
    with pytest.raises(ValueError, match="must be a string"):
        parse_sample_value(1.0)
    with pytest.raises(ValueError, match="not a number"):
        parse_sample_value("fast")
