"""A fake Prometheus HTTP API on 127.0.0.1: a real socket server (not a mocked `requests`), so timeouts,
refused connections, form-encoded POSTs and retries go through the same code paths as in production.
The `prom`, `make_client` and `closed_port` fixtures in conftest.py build on it."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakePrometheus", "Reply", "Seen", "Sleeps", "failure", "success"]


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    content_type: str | None


def success(result_type: str, result: object, **extra: object) -> Reply:
    payload = {"status": "success", "data": {"resultType": result_type, "result": result}, **extra}
    return Reply(200, json.dumps(payload), {"Content-Type": "application/json"})


def failure(status: int, error_type: str, error: str) -> Reply:
    payload = {"status": "error", "errorType": error_type, "error": error}
    return Reply(status, json.dumps(payload), {"Content-Type": "application/json"})


class FakePrometheus:
    """Scripted replies (in order), or a router per request; everything it was asked is recorded."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.default: Reply | None = None
        self.router: Callable[[Seen], Reply] | None = None
        self.seen: list[Seen] = []
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length).decode("utf-8"))

            def _handle(self, body: str | None) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if body:
                    params.update({k: v[-1] for k, v in parse_qs(body).items()})
                seen = Seen(self.command, url.path, params, self.headers.get("Content-Type"))
                fake.seen.append(seen)
                reply = fake._next(seen)
                if reply.delay:
                    fake._release.wait(reply.delay)
                data = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test); nothing to answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-prometheus",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queries(self) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/api/v1/")]

    def _next(self, seen: Seen) -> Reply:
        if self.router is not None:
            return self.router(seen)
        if self.replies:
            return self.replies.popleft()
        if self.default is not None:
            return self.default
        return Reply(599, "no reply scripted")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # wake slow handlers so they finish
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Sleeps(list[float]):
    """Records the backoff the client asked for instead of sleeping, so retry tests take milliseconds."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
