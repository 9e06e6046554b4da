"""The exporter under hostile clients and faults (issue 17, items 9-13): TLS handshakes off the accept
loop, a reload worker nothing can kill, scrapes that never wait for a reload, prometheus_client's
exposition with gzip and OpenMetrics, limits on connections, idle time and header bytes, HTTP
conventions, the lifecycle flag, and a strict listen-address parser.

Servers bind 127.0.0.1 on free ports and are always stopped; no hostname is ever resolved."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from slodrift.exporter.collector import SlodriftCollector
from slodrift.exporter.pages import Pages
from slodrift.exporter.reloader import Reloader
from slodrift.exporter.server import Limits, make_handler, make_server, parse_listen_address
from slodrift.exporter.state import ConfigError, StateHolder, load_snapshot

from tests.helpers import EXAMPLE
from tests.servers import free_port, http_get, process, slodrift_serve, wait_until
from tests.test_exporter import GOOD, metric_lines

# -- in-process servers ------------------------------------------------------------------------------------


@contextmanager
def in_process(tmp_path: Path, loader=None, limits: Limits | None = None, lifecycle: bool = True) -> Iterator:
    limits = limits or Limits()
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(GOOD))
    state = StateHolder(EXAMPLE, baseline)
    assert state.reload()
    state.loader = loader or load_snapshot
    registry = CollectorRegistry()
    registry.register(SlodriftCollector(state))
    pages = Pages(registry, state)
    reloader = Reloader(state, min_interval=0.0)
    handler = make_handler(
        pages, state, reloader.request if lifecycle else None, reloader.wait if lifecycle else None, limits
    )
    server = make_server(("127.0.0.1", 0), handler, limits=limits)
    threads = [pages.start(), reloader.start(), threading.Thread(target=server.serve_forever, daemon=True)]
    threads[-1].start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state, reloader, server
    finally:
        server.shutdown()
        server.server_close()
        reloader.stop()
        pages.stop()


def timed_get(url: str, timeout: float = 10.0) -> tuple[int, bytes, float]:
    started = time.monotonic()
    status, body = http_get(url, timeout=timeout)
    return status, body, time.monotonic() - started


def test_a_scrape_never_waits_for_a_reload(tmp_path: Path):
    """The reload blocks for 5 s; scrapes meanwhile are served from the last rendered page."""
    gate = threading.Event()

    def slow_loader(spec: Path, baseline: Path, service: str | None):
        gate.wait(5)
        return load_snapshot(spec, baseline, service)

    with in_process(tmp_path, loader=slow_loader) as (url, state, reloader, _):
        ticket = reloader.request()
        time.sleep(0.2)  # the reload is now waiting inside the loader
        times = []
        for _ in range(20):
            status, body, took = timed_get(f"{url}/metrics")
            assert status == 200 and b'slodrift_baseline{indicator="p99_latency"' in body
            times.append(took)
        assert reloader.wait(ticket, 0.01) is None, "the reload was supposed to be still running"
        gate.set()
        assert reloader.wait(ticket, 10) is True
        assert max(times) < 2.0, f"a scrape took {max(times):.2f} s while a reload ran"


def test_any_exception_in_a_reload_is_a_failed_reload_and_the_worker_survives(tmp_path: Path):
    calls = []

    def flaky(spec: Path, baseline: Path, service: str | None):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("something nobody foresaw")
        if len(calls) == 2:
            raise MemoryError()
        return load_snapshot(spec, baseline, service)

    with in_process(tmp_path, loader=flaky) as (url, state, reloader, _):
        assert reloader.wait(reloader.request(), 10) is False
        body = wait_until(
            lambda: (b := http_get(f"{url}/metrics")[1]) and b"reload_successful 0.0" in b and b, 10, "page"
        )
        assert metric_lines(body, "slodrift_config_reload_failures_total") == [
            "slodrift_config_reload_failures_total 1.0"
        ]
        assert "RuntimeError: something nobody foresaw" in state.status.last_error
        assert reloader.wait(reloader.request(), 10) is False  # MemoryError: still a failed reload
        assert state.status.failures == 2
        assert reloader.wait(reloader.request(), 10) is True  # and the worker is alive
        assert state.status.last_successful and state.status.failures == 2


def test_the_page_version_is_bumped_under_a_lock(tmp_path: Path):
    state = StateHolder(EXAMPLE, tmp_path / "none.json")
    seen = []
    state.on_change(lambda: seen.append(1))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a racy += loses updates
    try:
        threads = [threading.Thread(target=lambda: [state.bump() for _ in range(20000)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert state.version == 80000 and len(seen) == 80000


@pytest.mark.slow
def test_reloads_are_rate_limited_and_a_storm_coalesces(tmp_path: Path):
    calls = []

    def counting(spec: Path, baseline: Path, service: str | None):
        calls.append(time.monotonic())
        return load_snapshot(spec, baseline, service)

    baseline = tmp_path / "b.json"
    baseline.write_text(json.dumps(GOOD))
    state = StateHolder(EXAMPLE, baseline, loader=counting)
    reloader = Reloader(state, min_interval=0.5)
    reloader.start()
    try:
        tickets = [reloader.request() for _ in range(1000)]
        assert reloader.wait(tickets[-1], 20) is True
        time.sleep(1.2)
        started = time.monotonic()
        for _ in range(40):  # 2 s of requests every 50 ms
            reloader.request()
            time.sleep(0.05)
        reloader.wait(reloader.request(), 20)
        during = [t for t in calls if t >= started]
    finally:
        reloader.stop()
    assert len(calls) - len(during) <= 2, f"1000 requests at once gave {len(calls) - len(during)} reloads"
    assert 2 <= len(during) <= 7, f"{len(during)} reloads in about 2 s at one per 0.5 s"
    gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
    assert all(g >= 0.45 for g in gaps), gaps


@pytest.mark.slow
def test_gzip_and_openmetrics_negotiation(tmp_path: Path):
    with in_process(tmp_path) as (url, *_):
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        r = conn.getresponse()
        body = r.read()
        assert r.getheader("Content-Encoding") == "gzip" and r.getheader("Vary") == "Accept, Accept-Encoding"
        text = gzip.decompress(body).decode()
        assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
        assert 'slodrift_baseline{indicator="p99_latency",service="checkout",unit="seconds"} 0.2458' in text
        accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        conn.request("GET", "/metrics", headers={"Accept": accept})  # the same kept-alive connection
        r = conn.getresponse()
        text = r.read().decode()
        assert r.getheader("Content-Type").startswith("application/openmetrics-text; version=1.0.0")
        assert text.endswith("# EOF\n") and r.getheader("Content-Encoding") is None
        conn.close()


@pytest.mark.slow
def test_http_conventions(tmp_path: Path):
    with in_process(tmp_path, lifecycle=False) as (url, *_):
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for method, path, allow in (
            ("GET", "/-/reload", "POST, PUT"),
            ("POST", "/metrics", "GET, HEAD"),
            ("DELETE", "/metrics", "GET, HEAD"),
            ("DELETE", "/-/reload", "POST, PUT"),
        ):
            conn.request(method, path)
            r = conn.getresponse()
            r.read()
            assert (r.status, r.getheader("Allow")) == (405, allow), (method, path)
            server = r.getheader("Server")
            assert server == "slodrift-exporter" and "Python" not in server
            conn.close()
        conn.request("POST", "/-/reload")
        r = conn.getresponse()
        assert r.status == 403 and b"--web.enable-lifecycle" in r.read()


@pytest.mark.slow
def test_the_header_budget_bounds_memory(tmp_path: Path):
    """98 headers of 65 KB on many connections reached 1.38 GB; now each request is cut at 64 KiB."""
    with in_process(tmp_path) as (url, *_):
        port = int(url.rsplit(":", 1)[1])
        statuses = []

        def attack() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
                try:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                    for i in range(98):
                        s.sendall(f"X-H{i}: ".encode() + b"a" * 65000 + b"\r\n")
                    s.sendall(b"\r\n")
                except OSError:
                    pass  # the server answered and closed while we were still sending
                data = b""
                try:
                    while chunk := s.recv(65536):
                        data += chunk
                except OSError:
                    pass
                statuses.append(data.split(b" ", 2)[1] if data.startswith(b"HTTP/") else b"closed")

        threads = [threading.Thread(target=attack) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert statuses and set(statuses) <= {b"431", b"closed"}, statuses
        assert statuses.count(b"431") >= 10
        assert http_get(f"{url}/metrics")[0] == 200


# -- the real exporter process -------------------------------------------------------------------------------


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gone(pid: int) -> bool:
    """Exited (a zombie until its parent reaps it counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())


def children(pid: int) -> list[int]:
    """The exporter's validating process (multiprocessing's resource tracker is a child too)."""
    kids = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    return [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]


@contextmanager
def exporter(tmp_path: Path, *extra: str, spec: Path = EXAMPLE) -> Iterator:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(GOOD))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "exporter.log"
    with process(slodrift_serve(spec, baseline, port, *extra), log, f"{url}/-/healthy") as proc:
        yield url, baseline, proc, log, port


def reload_status(url: str) -> tuple[float, float]:
    body = http_get(f"{url}/metrics")[1]
    ok = float(metric_lines(body, "slodrift_config_last_reload_successful")[0].split()[1])
    failures = float(metric_lines(body, "slodrift_config_reload_failures_total")[0].split()[1])
    return ok, failures


@pytest.mark.integration
@pytest.mark.slow
def test_a_nan_spec_at_sighup_is_a_failed_reload_and_later_sighups_work(tmp_path: Path):
    """It killed the reload thread ("Exception in thread reloader"); the gauge stayed 1 for good."""
    spec = tmp_path / "spec.yml"
    spec.write_text(EXAMPLE.read_text())
    with exporter(tmp_path, spec=spec) as (url, baseline, proc, log, _):
        spec.write_text(EXAMPLE.read_text().replace("objective: 99.9", "objective: .nan", 1))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (0.0, 1.0), 30, "the failed reload")
        assert "is not a finite number" in log.read_text()
        spec.write_text(EXAMPLE.read_text())
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (1.0, 1.0), 30, "a good reload after the bad one")
        assert "Exception in thread" not in log.read_text() and "Traceback" not in log.read_text()


def huge_baseline() -> str:
    """About 5 MB of baseline: its validation takes far longer than the few seconds the test allows."""
    services = {
        f"svc{i}": {"indicators": {f"ind{j}": {"value": 0.5, "unit": "ratio"} for j in range(10)}}
        for i in range(8000)
    }
    return json.dumps({**GOOD, "services": services})


@pytest.mark.integration
@pytest.mark.slow
def test_validation_is_bounded_in_time_and_a_dead_validator_is_replaced(tmp_path: Path):
    with exporter(tmp_path, "--reload.timeout=6") as (url, baseline, proc, log, _):
        good = baseline.read_text()
        # a validation past --reload.timeout is stopped: a failed reload
        baseline.write_text(huge_baseline())
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (0.0, 1.0), 60, "the timed-out reload")
        assert "took more than 6 s" in log.read_text()
        baseline.write_text(good)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (1.0, 1.0), 60, "a good reload")
        # the validating process killed in the middle of a validation: a failed reload
        baseline.write_text(huge_baseline())
        kids = wait_until(lambda: children(proc.pid), 30, "the validating process")
        before = cpu_seconds(kids[0])
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: cpu_seconds(kids[0]) > before + 0.5, 30, "the validation to run")
        os.kill(kids[0], signal.SIGKILL)
        wait_until(lambda: reload_status(url) == (0.0, 2.0), 60, "the reload whose validator died")
        assert "validating process died" in log.read_text()
        baseline.write_text(good)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (1.0, 2.0), 60, "a reload with a new validating process")
        # killed while idle: the next reload starts a new one and succeeds
        kids = wait_until(lambda: children(proc.pid), 30, "the validating process")
        os.kill(kids[0], signal.SIGKILL)
        wait_until(lambda: gone(kids[0]), 10, "the validating process to die")
        baseline.write_text(good.replace("0.2458", "0.3"))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: b'unit="seconds"} 0.3\n' in http_get(f"{url}/metrics")[1], 60, "the reload")
        assert reload_status(url) == (1.0, 2.0)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "nested"])
def test_a_fifo_or_a_pathological_baseline_at_reload_never_wedges_reloads(tmp_path: Path, kind: str):
    """A FIFO blocked the reload thread for good; 100,000 nested brackets raised RecursionError."""
    with exporter(tmp_path) as (url, baseline, proc, log, _):
        baseline.unlink()
        if kind == "fifo":
            os.mkfifo(baseline)
        else:
            baseline.write_text("[" * 100000 + "]" * 100000)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (0.0, 1.0), 30, "the failed reload")
        assert ("it is a FIFO" if kind == "fifo" else "baseline.json") in log.read_text()
        baseline.unlink()
        baseline.write_text(json.dumps(GOOD))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_status(url) == (1.0, 1.0), 30, "the next reload")


def _tls_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.mark.integration
@pytest.mark.slow
def test_an_idle_tcp_connection_to_tls_stops_neither_scrapes_nor_sigterm(tmp_path: Path):
    """The TLS handshake ran in the accept loop without a timeout: one silent connection blocked all."""
    cert, key = _tls_files(tmp_path)
    ctx = ssl.create_default_context(cafile=str(cert))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(GOOD))
    port = free_port()
    args = slodrift_serve(EXAMPLE, baseline, port, f"--web.tls-cert-file={cert}", f"--web.tls-key-file={key}")

    def ready() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                return True

    with process(args, tmp_path / "tls.log") as proc:
        wait_until(ready, 60, "the TLS endpoint")
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.5)  # the silent connections are accepted and waiting in their handshakes
            for _ in range(5):
                started = time.monotonic()
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        tls.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        data = b""
                        while chunk := tls.recv(65536):
                            data += chunk
                assert data.startswith(b"HTTP/1.1 200") and b"slodrift_baseline{" in data
                assert time.monotonic() - started < 5
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
            assert time.monotonic() - started < 15 and proc.returncode == 0
        finally:
            for s in silent:
                s.close()


@pytest.mark.integration
@pytest.mark.slow
def test_idle_connections_are_closed_and_capped(tmp_path: Path):
    """1,000 idle sockets meant 1,002 threads, forever; now at most --web.max-connections, closed after
    the idle timeout, and the exporter answers again once they are gone."""
    extra = ("--web.max-connections=20", "--web.idle-timeout=1", "--web.read-header-timeout=1")
    with exporter(tmp_path, *extra) as (url, _, proc, _, port):
        base = threads_of(proc.pid)
        idle = []
        try:
            for _ in range(300):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(0.5)
            assert threads_of(proc.pid) <= base + 20, threads_of(proc.pid)
            # every idle connection is closed by the server within its timeouts
            deadline = time.monotonic() + 20
            open_ = list(idle)
            while open_ and time.monotonic() < deadline:
                for s in list(open_):
                    s.settimeout(0.05)
                    try:
                        if s.recv(1) == b"":
                            open_.remove(s)
                    except TimeoutError:
                        pass
                    except OSError:
                        open_.remove(s)
            assert not open_, f"{len(open_)} idle connection(s) still open"
        finally:
            for s in idle:
                s.close()
        wait_until(lambda: http_get(f"{url}/metrics")[0] == 200, 10, "a scrape after the idle flood")
        wait_until(lambda: threads_of(proc.pid) <= base + 2, 10, "threads to end")


@pytest.mark.integration
@pytest.mark.slow
def test_a_trickled_request_head_is_cut_off(tmp_path: Path):
    with exporter(tmp_path, "--web.idle-timeout=1", "--web.read-header-timeout=1") as (_, _, _, _, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            started = time.monotonic()
            closed = False
            for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\n" * 10:
                try:
                    s.sendall(bytes([ch]))
                except OSError:
                    closed = True
                    break
                s.settimeout(0.3)
                try:
                    if s.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    pass
            assert closed and time.monotonic() - started < 10


@pytest.mark.integration
@pytest.mark.slow
def test_post_reload_needs_the_lifecycle_flag_and_sighup_always_works(tmp_path: Path):
    with exporter(tmp_path) as (url, baseline, proc, _, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/-/reload")
        r = conn.getresponse()
        assert r.status == 403 and b"--web.enable-lifecycle" in r.read()
        conn.close()
        new = json.loads(json.dumps(GOOD))
        new["services"]["checkout"]["indicators"]["p99_latency"]["value"] = 0.3
        baseline.write_text(json.dumps(new))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: b'unit="seconds"} 0.3\n' in http_get(f"{url}/metrics")[1], 30, "SIGHUP reload")


# -- the listen address -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":9877", ("0.0.0.0", 9877)),
        ("127.0.0.1:9877", ("127.0.0.1", 9877)),
        ("[::1]:9877", ("::1", 9877)),
        ("[fe80::1%eth0]:9877", ("fe80::1%eth0", 9877)),
        ("exporter.example:9877", ("exporter.example", 9877)),
        ("localhost:1", ("localhost", 1)),
    ],
)
def test_listen_addresses_accepted(text, expected, monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("the parser resolved a hostname")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    assert parse_listen_address(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[::1:24014",
        "::1]:9877",
        "[::1]9877",
        "::1:9877",
        ":\uff19\uff18\uff17\uff17",  # full-width digits
        "127.0.0.1:\u0669",  # an Arabic-Indic digit
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:",
        "127.0.0.1",
        "127.0.0.1:+80",
        "127.0.0.1: 80",
        "1.2.3.4.5:80",
        "exa mple:80",
        "-bad-.example:80",
        "[not-ipv6]:80",
        "",
    ],
)
def test_listen_addresses_refused(text, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("resolved a hostname"))
    with pytest.raises(ValueError, match="--web.listen-address"):
        parse_listen_address(text)


def test_a_bad_listen_address_exits_2(tmp_path: Path):
    baseline = tmp_path / "b.json"
    baseline.write_text(json.dumps(GOOD))
    r = subprocess.run(
        [sys.executable, "-m", "slodrift", "serve", f"--config.file={EXAMPLE}", f"--baseline.file={baseline}"]
        + ["--web.listen-address=[::1:24014"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "'[' without ']'" in r.stderr and "Traceback" not in r.stderr


def test_config_error_messages_are_capped(tmp_path: Path):
    spec = tmp_path / "spec.yml"
    spec.write_text("version: 1\nservices:\n" + "  - {name: 'bad name'}\n" * 900)
    with pytest.raises(ConfigError) as err:
        load_snapshot(spec, tmp_path / "b.json")
    assert len(str(err.value)) < 20000 and "more" in str(err.value)


@pytest.mark.integration
@pytest.mark.slow
def test_scoring_against_a_gzip_bomb_keeps_scrapes_fast_and_memory_flat(tmp_path: Path):
    """Scoring read a 1 MB gzip inflating to 1 GB whole (2 GB of RSS) and a scrape took 3.4 s."""
    from tests.test_prometheus_faults import raw_server

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join([comp.compress(b" " * (1 << 20)) for _ in range(512)] + [comp.flush()])

    def answer(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n".encode()
            + bomb
        )

    with raw_server(answer) as prom_url:
        extra = (f"--scoring.prometheus-url={prom_url}", "--scoring.interval=0.5")
        with exporter(tmp_path, *extra) as (url, _, proc, log, _):
            times, peak, queries = [], 0.0, 0.0
            stop = time.monotonic() + 90
            while queries < 11 and time.monotonic() < stop:  # a whole scoring run: 11 queries (a grouped SLO)
                status, body, took = timed_get(f"{url}/metrics")
                assert status == 200 and b"slodrift_baseline{" in body
                times.append(took)
                peak = max(peak, rss_mib(proc.pid))
                queries = float(metric_lines(body, "slodrift_prometheus_queries")[0].split()[1])
                time.sleep(0.1)
            assert queries >= 11, "scoring never finished a run against the bomb"
            assert metric_lines(body, "slodrift_scoring_last_run_successful") == [
                "slodrift_scoring_last_run_successful 0.0"
            ]
    assert max(times) < 2.0, f"a scrape took {max(times):.2f} s during scoring"
    assert peak < 300, f"the exporter grew to {peak:.0f} MiB"
