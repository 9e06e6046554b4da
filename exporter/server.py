"""HTTP endpoints of the exporter, Prometheus-style: `/`, `/metrics`, `/-/healthy`, `/-/ready`, `/-/reload`.

A threading server from the standard library is enough: scrapes are a few dictionary reads. TLS wraps
the listening socket with the same certificate/key files prometheus-client's own server accepts.
"""

from __future__ import annotations

import html
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from slodrift.exporter import DEFAULT_PORT
from slodrift.exporter.state import StateHolder

log = logging.getLogger("slodrift.exporter")


def parse_listen_address(text: str) -> tuple[str, int]:
    """`host:port`, `:port` (all interfaces) or `[::1]:port`, as Prometheus' --web.listen-address."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"invalid --web.listen-address {text!r}: use host:port, e.g. 127.0.0.1:{DEFAULT_PORT}"
        )
    host = host.strip("[]")
    return host or "0.0.0.0", int(port)


def make_handler(
    registry: CollectorRegistry, state: StateHolder, reload: Callable[[], bool]
) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to this exporter's registry and state."""

    cache: dict[str, object] = {"version": None, "body": b""}
    cache_lock = threading.Lock()

    def exposition() -> bytes:
        # Values change only when the state does (reload, scores), so the text is rendered once per
        # state version; a scrape of 10,000 baseline series is then a memory copy.
        version = state.version
        with cache_lock:
            if cache["version"] != version:
                cache["body"] = generate_latest(registry)
                cache["version"] = version
            return cache["body"]  # type: ignore[return-value]

    class Handler(BaseHTTPRequestHandler):
        server_version = "slodrift-exporter"

        def log_message(self, fmt: str, *args: object) -> None:
            log.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = urlsplit(self.path).path
            if path == "/metrics":
                self._send(200, exposition(), CONTENT_TYPE_LATEST)
            elif path == "/-/healthy":
                self._send(200, b"slodrift exporter is healthy.\n")
            elif path == "/-/ready":
                ready = state.snapshot is not None
                self._send(200 if ready else 503, b"ready\n" if ready else b"no configuration loaded\n")
            elif path == "/":
                self._send(200, landing_page(state).encode(), "text/html; charset=utf-8")
            elif path == "/-/reload":
                self._send(405, b"use POST to reload\n")
            else:
                self._send(404, b"not found\n")

        do_HEAD = do_GET  # noqa: N815

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path != "/-/reload":
                self._send(404, b"not found\n")
                return
            if reload():
                self._send(200, b"reloaded\n")
            else:
                self._send(
                    500,
                    f"reload failed, still serving the last good configuration:\n"
                    f"{state.status.last_error}\n".encode(),
                )

    return Handler


def landing_page(state: StateHolder) -> str:
    """A small page for people who open the exporter in a browser."""
    snap = state.snapshot
    status = state.status
    rows = ""
    if snap is not None:
        for (service, indicator), v in sorted(snap.baseline.values.items()):
            rows += (
                f"<tr><td>{html.escape(service)}</td><td>{html.escape(indicator)}</td>"
                f"<td>{v.value:g}</td><td>{html.escape(v.unit or '')}</td></tr>"
            )
    err = (
        f"<p><b>Last reload failed:</b> <pre>{html.escape(status.last_error)}</pre></p>"
        if status.last_error
        else ""
    )
    return (
        "<!doctype html><html><head><title>slodrift exporter</title></head><body>"
        '<h1>slodrift exporter</h1><p><a href="/metrics">Metrics</a> · <a href="/-/healthy">Health</a></p>'
        f"<p>Spec: {html.escape(str(state.spec_path))}<br>Baseline: {html.escape(str(state.baseline_path))}</p>{err}"
        f"<table border=1><tr><th>service</th><th>indicator</th><th>baseline</th><th>unit</th></tr>{rows}</table>"
        "</body></html>"
    )


def make_server(
    address: tuple[str, int],
    handler: type[BaseHTTPRequestHandler],
    certfile: str | None = None,
    keyfile: str | None = None,
) -> ThreadingHTTPServer:
    """Bind the server, with TLS when a certificate is given."""
    # A deep accept backlog: the default of 5 refuses connections when dozens of scrapers arrive at once.
    server_class = type(
        "Server",
        (ThreadingHTTPServer,),
        {
            "address_family": socket.AF_INET6 if ":" in address[0] else socket.AF_INET,
            "request_queue_size": 128,
        },
    )
    server = server_class(address, handler)
    server.daemon_threads = True
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(certfile, keyfile)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server
