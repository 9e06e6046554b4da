"""Real servers for integration tests: Prometheus, the exporter, a small instrumented app.

Everything binds to 127.0.0.1 on a free port, waits for readiness with a deadline, and is stopped
(terminate, then kill) when the test ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server


def free_port() -> int:
    """A port nobody listens on right now, drawn at random below Linux's ephemeral range (32768-60999).

    Not `bind(0)`: the OS hands a port just released by one test worker to the next caller in another
    worker, and two servers of parallel tests were then started on the same port (CI: the exporter's
    health check reached a Prometheus that had taken its port first). Random draws from 12,000 ports
    rarely meet, and never meet an outgoing connection's ephemeral port."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found in 20000-31999")


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET returning (status, body) without raising on HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_post(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """POST with an empty body, returning (status, body)."""
    req = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (OSError, ValueError) as exc:
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what} (last error: {last_exc})")


@contextlib.contextmanager
def process(
    args: list[str], log: Path, ready_url: str | None = None, timeout: float = 30.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process; wait until `ready_url` answers 200; always stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if ready_url:

            def ready() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"{args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
                return http_get(ready_url, timeout=1)[0] == 200

            wait_until(ready, timeout, f"{args[0]} at {ready_url}")
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Terminate, then kill if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


class Prometheus:
    """A real Prometheus on 127.0.0.1 with a temporary data directory."""

    def __init__(self, tmp: Path, config: dict[str, Any], storage: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tmp
        self.config_path = tmp / "prometheus.yml"
        self.config_path.write_text(json.dumps(config))  # JSON is YAML
        self.storage = storage or tmp / "data"
        self.log = tmp / "prometheus.log"

    def args(self, *extra: str) -> list[str]:
        """Command line; the web UI is bound to loopback only."""
        binary = shutil.which("prometheus")
        if not binary:
            raise RuntimeError("prometheus is not installed: run scripts/install.sh")
        return [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            *extra,
        ]

    @contextlib.contextmanager
    def running(self, *extra: str, timeout: float = 60.0) -> Iterator[Prometheus]:
        """Start, wait for /-/ready, stop at the end."""
        with process(self.args(*extra), self.log, f"{self.url}/-/ready", timeout):
            yield self

    def api(self, path: str) -> Any:
        """GET an API path and return `data`; raise on an API error."""
        status, body = http_get(self.url + path)
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise ValueError(f"{path}: {doc}")
        return doc["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query."""
        return self.api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["result"]

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts."""
        return self.api("/api/v1/alerts")["alerts"]

    def rule_health(self) -> list[tuple[str, str, str]]:
        """(rule name, health, last error) of every loaded rule."""
        groups = self.api("/api/v1/rules")["groups"]
        return [(r["name"], r["health"], r.get("lastError", "")) for g in groups for r in g["rules"]]


class FakeApp:
    """An instrumented service whose latency and error share a test can change while it runs."""

    def __init__(self, requests_per_tick: int = 100, tick: float = 0.05) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("http_request_duration_seconds", "Request latency.", registry=self.registry)
        self.requests = Counter("http_requests", "Requests.", ["code"], registry=self.registry)
        self.port = free_port()
        self.latency_s = 0.05
        self.error_share = 0.01
        self.requests_per_tick = requests_per_tick
        self.tick = tick
        self._stop = threading.Event()
        self._server: Any = None

    def _run(self) -> None:
        carry = 0.0
        while not self._stop.wait(self.tick):
            errors_f = self.requests_per_tick * self.error_share + carry
            errors = int(errors_f)
            carry = errors_f - errors
            for _ in range(self.requests_per_tick):
                self.latency.observe(self.latency_s)
            self.requests.labels("500").inc(errors)
            self.requests.labels("200").inc(self.requests_per_tick - errors)

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeApp]:
        """Serve /metrics on 127.0.0.1 and generate traffic until the block ends."""
        self._server, thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        worker = threading.Thread(target=self._run, daemon=True)
        worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            worker.join(5)
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)


def slodrift_serve(spec: Path, baseline: Path, port: int, *extra: str) -> list[str]:
    """Command line of the exporter as a user runs it."""
    return [
        sys.executable,
        "-m",
        "slodrift",
        "serve",
        f"--config.file={spec}",
        f"--baseline.file={baseline}",
        f"--web.listen-address=127.0.0.1:{port}",
        *extra,
    ]
