"""The demo's receivers: a small HTTP server that takes Alertmanager's webhook notifications.

Alertmanager posts to `http://127.0.0.1:PORT/<receiver>`; every alert of every notification is kept
(receiver, status, labels, time received) and appended to a JSON-lines log, one line per alert.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 1 << 20  # a notification of the demo's few alerts is a few KiB


@dataclass(frozen=True)
class Notification:
    """One alert as a receiver got it."""

    received: float  # Unix time
    receiver: str
    status: str  # firing | resolved
    labels: dict[str, str]

    @property
    def alertname(self) -> str:
        """The alert's name."""
        return self.labels.get("alertname", "")


def parse(receiver: str, body: bytes, received: float) -> list[Notification]:
    """The alerts of one webhook payload (Alertmanager's version 4 format)."""
    doc = json.loads(body)
    out = []
    for alert in doc.get("alerts", []) if isinstance(doc, dict) else []:
        labels = alert.get("labels", {})
        out.append(
            Notification(
                received,
                receiver,
                str(alert.get("status", doc.get("status", ""))),
                {str(k): str(v) for k, v in labels.items()},
            )
        )
    return out


class Receivers:
    """The webhook server; `notifications()` is safe to call from any thread."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        self._lock = threading.Lock()
        self._got: list[Notification] = []
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    self.send_error(413 if length else 411)
                    return
                try:
                    receivers.add(
                        parse(self.path.strip("/") or "default", self.rfile.read(length), time.time())
                    )
                except (ValueError, AttributeError):
                    self.send_error(400)
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the demo shows notifications its own way

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-webhook", daemon=True)

    def add(self, got: list[Notification]) -> None:
        """Keep and log notifications."""
        with self._lock:
            self._got.extend(got)
            with self.log.open("a", encoding="utf-8") as f:
                for n in got:
                    line = {
                        "received": n.received,
                        "receiver": n.receiver,
                        "status": n.status,
                        "labels": n.labels,
                    }
                    f.write(json.dumps(line, sort_keys=True) + "\n")

    def notifications(self) -> list[Notification]:
        """Every notification so far, oldest first."""
        with self._lock:
            return list(self._got)

    def start(self) -> None:
        """Listen (in a daemon thread)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
