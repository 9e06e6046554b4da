"""The Prometheus client against a hostile fake Prometheus on 127.0.0.1 (issue 17, items 14-17): a total
deadline per request, size limits on the wire and after decompression, huge and NaN values, result
types, warnings surfaced and escaped, redirects not followed."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slodrift.generator.spec import load_spec_text
from slodrift.report import stability
from slodrift.report.prometheus_api import (
    PrometheusClient,
    PrometheusResponseError,
    PrometheusUnavailableError,
)
from slodrift.report.writers import weekly_markdown

from tests import week
from tests.fake_prometheus import FakePrometheus, Reply, success
from tests.helpers import PRINT_PEAK_RSS_KIB, ROOT, run_cli
from tests.test_report_faults import AT, matrix

Handler = Callable[[socket.socket], None]


@contextmanager
def raw_server(handle: Handler) -> Iterator[str]:
    """A TCP server on 127.0.0.1 answering every connection with `handle` (raw bytes, any misbehaviour)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_guarded, args=(handle, conn), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _guarded(handle: Handler, conn: socket.socket) -> None:
    with conn:
        try:
            conn.recv(65536)  # the request (small GETs fit)
            handle(conn)
        except OSError:
            pass  # the client hung up: that is the point of most tests here


VECTOR = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()


def client(url: str, **kwargs: object) -> PrometheusClient:
    options: dict[str, object] = {"max_retries": 0, "sleep": lambda s: None, "connect_timeout": 2.0}
    options.update(kwargs)
    c = PrometheusClient(url, **options)  # type: ignore[arg-type]
    c.session.trust_env = False
    return c


@pytest.mark.slow
def test_a_body_trickled_at_one_byte_a_second_hits_the_total_deadline():
    """The read timeout never fires (a byte arrives every 0.2 s); it ran for the whole body before."""

    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100000):
            conn.sendall(b" ")
            time.sleep(0.2)

    with raw_server(trickle) as url:
        c = client(url, read_timeout=2.0, total_timeout=1.5)
        started = time.monotonic()
        with pytest.raises(PrometheusUnavailableError, match="total deadline"):
            c.query("up")
        assert time.monotonic() - started < 6


@pytest.mark.slow
def test_trickled_headers_hit_the_total_deadline_too():
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for i in range(100000):
            conn.sendall(f"X-{i}: a\r\n".encode())
            time.sleep(0.2)

    with raw_server(trickle) as url:
        started = time.monotonic()
        with pytest.raises(PrometheusUnavailableError, match="total deadline"):
            client(url, read_timeout=2.0, total_timeout=1.5).query("up")
        assert time.monotonic() - started < 6


def test_a_declared_200_mb_response_is_refused_before_reading_it():
    def big(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
        )
        conn.sendall(b"[" * 65536)
        time.sleep(5)

    with raw_server(big) as url:
        started = time.monotonic()
        with pytest.raises(PrometheusResponseError, match="response of 209715200 bytes; the limit is"):
            client(url).query("up")
        assert time.monotonic() - started < 4


def _max_rss_of_a_query(url: str, **kwargs: object) -> tuple[str, int]:
    """Run one query in a fresh process; (the error it got, its peak RSS in KiB)."""
    code = (
        "import sys\n"
        "from slodrift.report.prometheus_api import PrometheusClient, PrometheusError\n"
        f"c = PrometheusClient({url!r}, max_retries=0, **{kwargs!r})\n"
        "c.session.trust_env = False\n"
        "try:\n"
        "    c.query_range('up', 0, 600, 60)\n"
        "    print('no error')\n"
        "except PrometheusError as exc:\n"
        "    print(str(exc)[:300])\n" + PRINT_PEAK_RSS_KIB
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    return lines[0], int(lines[-1])


def test_a_streamed_200_mb_response_is_cut_off_and_memory_stays_bounded():
    """It succeeded in capture at 2.5 GB of RSS; now it stops at the 64 MiB default."""
    block = b" " * (1 << 20)

    def stream(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        for _ in range(200):
            conn.sendall(block)

    with raw_server(stream) as url:
        error, rss_kib = _max_rss_of_a_query(url)
    assert "response larger than 67108864 bytes" in error
    assert rss_kib < 400 * 1024, f"peak RSS {rss_kib // 1024} MiB"


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of spaces, gzipped to about 1 MB, compressed in chunks (never 1 GiB in memory)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    out = [comp.compress(block) for _ in range(1024)]
    out.append(comp.flush())
    return b"".join(out)


@pytest.mark.slow
def test_a_gzip_bomb_is_stopped_at_the_decompressed_limit(gzip_bomb: bytes):
    """A 1 MB gzip that inflates to 1 GB cost 2 GB of memory."""
    assert len(gzip_bomb) < 2 << 20

    def bomb(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(gzip_bomb)}\r\n\r\n".encode()
        )
        conn.sendall(gzip_bomb)

    with raw_server(bomb) as url:
        error, rss_kib = _max_rss_of_a_query(url)
    assert "decompresses to more than 67108864 bytes" in error
    assert rss_kib < 400 * 1024, f"peak RSS {rss_kib // 1024} MiB"


def test_limits_are_configurable_and_gzip_is_decoded():
    payload = json.dumps(
        {
            "status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"]] * 500}]},
        }
    ).encode()
    body = gzip.compress(payload)

    def gz(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    with raw_server(gz) as url:
        assert len(client(url).query_range("up", 0, 60, 60).series[0].samples) == 500
        with pytest.raises(PrometheusResponseError, match="decompresses to more than 1000 bytes"):
            client(url, max_decompressed_bytes=1000).query_range("up", 0, 60, 60)
        with pytest.raises(PrometheusResponseError, match="the limit is 100"):
            client(url, max_response_bytes=100).query_range("up", 0, 60, 60)


@pytest.mark.parametrize("result_type", ["vector", "scalar", "string"])
def test_a_range_query_must_answer_a_matrix(prom, result_type):
    result = [] if result_type == "vector" else [1, "2"]
    prom.default = success(result_type, result)
    with pytest.raises(
        PrometheusResponseError, match=f"resultType '{result_type}' where matrix was expected"
    ):
        client(prom.url).query_range("up", 0, 600, 60)


def test_redirects_are_not_followed(prom):
    other = FakePrometheus()
    other.default = success("vector", [])
    other.start()
    try:
        prom.default = Reply(302, "", {"Location": f"{other.url}/api/v1/query?query=up"})
        with pytest.raises(PrometheusResponseError, match="redirected to .* which is not followed"):
            client(prom.url).query("up")
        assert other.seen == [], "the redirect was followed"
    finally:
        other.stop()


SPEC = """version: 1
release: {name: checkout, version: v1}
services:
  - name: checkout
    selector: {job: checkout}
    indicators:
      p99_latency: {}
"""


def test_capture_refuses_values_too_large_to_average(prom, tmp_path: Path):
    """1e308 samples raised OverflowError in capture."""
    prom.router = lambda seen: success("matrix", [{"metric": {}, "values": [[0, "1e308"], [60, "1.5e308"]]}])
    spec = tmp_path / "spec.yml"
    spec.write_text(SPEC)
    out = tmp_path / "baseline.json"
    r = run_cli(
        "baseline", "capture", str(spec), "--prometheus-url", prom.url,
        "--from", "2025-11-21T00:00:00Z", "--to", "2025-11-21T01:00:00Z", "--step", "60", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "too large to average" in r.stderr and "p99_latency" in r.stderr
    assert not out.exists()


def test_capture_prints_prometheus_warnings(prom, tmp_path: Path):
    """Prometheus' warnings (possibly partial data) were dropped silently by capture."""
    prom.router = lambda seen: Reply(
        200,
        json.dumps(
            {
                "status": "success",
                "warnings": ["remote read of store-2 failed: partial data"],
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": {}, "values": [[0, "0.25"], [60, "0.26"]]}],
                },
            }
        ),
    )
    spec = tmp_path / "spec.yml"
    spec.write_text(SPEC)
    r = run_cli(
        "baseline", "capture", str(spec), "--prometheus-url", prom.url,
        "--from", "2025-11-21T00:00:00Z", "--to", "2025-11-21T01:00:00Z", "--step", "60",
        "--out", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "warning: checkout/p99_latency: Prometheus warned: remote read of store-2 failed" in r.stderr


HOSTILE_WARNING = "x\n# Rollback: none\n<img src=x onerror=alert(1)> [ok](javascript:alert(1)) | a | *b*"


@pytest.mark.slow
def test_report_survives_huge_and_nan_values_and_escapes_warnings(prom):
    """1e308 gave OverflowError in the report, NaN alert counts int(NaN); warnings went raw into Markdown."""

    def route(seen) -> Reply:
        q = seen.params.get("query", "")
        if "ALERTS" in q:
            reply = matrix(seen, float("nan"))
        elif "p99_latency" in q:
            reply = matrix(seen, 1e308)
        else:
            reply = matrix(seen, 0.25 if "bool5m" not in q else 1.0)
        doc = json.loads(reply.body)
        doc["warnings"] = [HOSTILE_WARNING]
        return Reply(200, json.dumps(doc), reply.headers)

    prom.router = route
    spec = load_spec_text("week.yml", week.SPEC.encode())
    report = stability.run(spec, client(prom.url), AT, 3600)
    assert report.partial
    assert any("out of range" in w for w in report.warnings)
    assert any("are not counts" in w for w in report.warnings)
    md = weekly_markdown(report)
    warned = [line for line in md.splitlines() if "onerror" in line]
    assert warned, md[:2000]
    for line in warned:
        assert line.startswith("> - ")
        for special in "<[]|*#`":  # none left unescaped: no HTML, link, table cell, emphasis, heading
            assert re.search(r"(?<!\\)" + re.escape(special), line) is None, (special, line)
        assert "\\<img" in line and "\\# Rollback" in line
    assert not any(line.startswith("# Rollback") for line in md.splitlines())


@pytest.mark.slow
def test_a_report_run_against_a_hostile_prometheus_writes_its_files(prom, tmp_path: Path):
    def route(seen) -> Reply:
        q = seen.params.get("query", "")
        return matrix(seen, float("nan") if "ALERTS" in q else 1e308)

    prom.router = route
    spec = tmp_path / "week.yml"
    spec.write_text(week.SPEC)
    r = run_cli(
        "report", str(spec), "--prometheus-url", prom.url, "--at", AT.isoformat().replace("+00:00", "Z"),
        "--out", str(tmp_path / "out"), "--no-html",
    )  # fmt: skip
    assert "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "out" / "weekly_summary.md").exists()
    assert datetime.now(UTC) > AT
