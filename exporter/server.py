"""HTTP endpoints of the exporter, Prometheus-style: `/`, `/metrics`, `/-/healthy`, `/-/ready`, `/-/reload`.

A threading server from the standard library, hardened for clients that misbehave:

- the accept loop only accepts: a TLS handshake runs on the connection's own thread, with a timeout,
  so one silent TCP connection cannot stop every other scrape (or SIGTERM);
- at most `max_connections` connections are served at once (one thread each); more are closed at once;
- a connection idle for `idle_timeout` is closed, and a request's line and headers must be complete
  within `idle_timeout + header_timeout` of the previous response (a client trickling bytes is cut
  off), in at most `max_header_bytes` (431 otherwise);
- `/metrics` is the page `Pages` rendered last (gzip and OpenMetrics negotiated by prometheus_client's
  encoders): a scrape never waits for a reload;
- `POST /-/reload` exists only with `--web.enable-lifecycle`, as in Prometheus; SIGHUP always works;
- 405 answers carry `Allow`; the `Server` header names slodrift only, not the Python version.
"""

from __future__ import annotations

import html
import http.client
import io
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slodrift.exporter import DEFAULT_PORT
from slodrift.exporter.pages import Pages
from slodrift.exporter.state import StateHolder

log = logging.getLogger("slodrift.exporter")

_PORT_RE = re.compile(r"[0-9]{1,5}")
_HOSTNAME_RE = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
_MAX_REQUEST_LINE = 8192


@dataclass(frozen=True)
class Limits:
    """What one client may cost the server."""

    max_connections: int = 256
    idle_timeout: float = 60.0  # seconds a kept-alive connection may wait for its next request
    header_timeout: float = 10.0  # seconds beyond the idle timeout for a request's line and headers
    handshake_timeout: float = 10.0  # seconds for a TLS handshake
    write_timeout: float = 30.0  # seconds a client may take to read a response
    max_header_bytes: int = 65536  # request line and headers together


def parse_listen_address(text: str) -> tuple[str, int]:
    """`host:port`, `:port` (all interfaces) or `[IPv6]:port`, as Prometheus' --web.listen-address.

    Strict: ASCII digits only in the port (no full-width digits), brackets only around a whole IPv6
    address, a host that is an IP address or a syntactically valid DNS name. Nothing is resolved here.
    """

    def bad(why: str) -> ValueError:
        return ValueError(
            f"invalid --web.listen-address {text!r}: {why}; use host:port, e.g. 127.0.0.1:{DEFAULT_PORT}, "
            f":{DEFAULT_PORT} or [::1]:{DEFAULT_PORT}"
        )

    if not isinstance(text, str) or not text.isascii() or any(c.isspace() for c in text):
        raise bad("only ASCII letters, digits, '.', ':', '-', '[', ']' and '%' are allowed")
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise bad("'[' without ']'")
        host, rest = text[1:close], text[close + 1 :]
        if not rest.startswith(":"):
            raise bad("a port must follow ']'")
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} is not an IPv6 address") from None
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise bad("no port")
        if "[" in host or "]" in host:
            raise bad("brackets go around a whole IPv6 address")
        if ":" in host:
            raise bad("an IPv6 address needs brackets")
        if host:
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                if not _HOSTNAME_RE.fullmatch(host) or host.replace(".", "").isdigit():
                    raise bad(f"{host!r} is neither an IP address nor a host name") from None
    if not _PORT_RE.fullmatch(port) or not 0 < int(port) < 65536:
        raise bad(f"port {port!r} is not a number from 1 to 65535")
    return host or "0.0.0.0", int(port)


class _HeaderReader:
    """The request stream of one connection, with a byte budget and a deadline for each request head."""

    def __init__(self, raw: io.BufferedIOBase, conn: socket.socket, limits: Limits) -> None:
        self.raw = raw
        self.conn = conn
        self.limits = limits
        self.budget = limits.max_header_bytes
        self.deadline = float("inf")

    def start_request(self) -> None:
        self.budget = self.limits.max_header_bytes
        self.deadline = time.monotonic() + self.limits.idle_timeout + self.limits.header_timeout

    def readline(self, size: int = -1) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request head not received in time")
        self.conn.settimeout(min(left, self.limits.idle_timeout))
        limit = self.budget + 1 if size < 0 else min(size, self.budget + 1)
        line = self.raw.readline(limit)
        self.budget -= len(line)
        if self.budget < 0:
            raise http.client.LineTooLong(f"request head over {self.limits.max_header_bytes} bytes")
        return line

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def make_handler(
    pages: Pages,
    state: StateHolder,
    request_reload: Callable[[], int] | None,
    wait_reload: Callable[[int, float], bool | None] | None = None,
    limits: Limits = Limits(),
) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to this exporter's page, state and (with the lifecycle API) reloader."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "slodrift-exporter"
        protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus scrapes
        # TCP_NODELAY: on a kept-alive connection, Nagle's algorithm held the body back until the
        # client's delayed ACK of the headers, 40 ms per scrape
        disable_nagle_algorithm = True

        def version_string(self) -> str:
            return self.server_version  # no Python version in the Server header

        def log_message(self, fmt: str, *args: object) -> None:
            log.debug("%s " + fmt, self.address_string(), *args)

        def setup(self) -> None:
            super().setup()
            self.reader = _HeaderReader(self.rfile, self.connection, limits)
            # http.server reads the head through rfile; the reader stands in for the stream it wraps
            # (read, readline, and the rest by delegation) without being a BufferedIOBase
            self.rfile = self.reader  # type: ignore[assignment]

        def handle_one_request(self) -> None:
            reader = self.reader
            reader.start_request()
            try:
                try:
                    self.raw_requestline = reader.readline(_MAX_REQUEST_LINE + 1)
                except http.client.LineTooLong:
                    self.raw_requestline = b""
                    self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
                    self.send_error(431, "Request header fields too large")
                    self.close_connection = True
                    return
                if len(self.raw_requestline) > _MAX_REQUEST_LINE:
                    self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
                    self.send_error(414)
                    self.close_connection = True
                    return
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():  # header limits raise LineTooLong in there: a 431
                    self.close_connection = True
                    return
                self.connection.settimeout(limits.write_timeout)
                method = getattr(self, "do_" + self.command, None)
                if method is None:
                    self._send(501, b"unsupported method\n")
                else:
                    method()
                self.wfile.flush()
            except (TimeoutError, ConnectionError, ssl.SSLError) as exc:
                log.debug("%s: connection closed: %s", self.address_string(), exc)
                self.close_connection = True

        def _send(
            self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8", **headers: str
        ) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _route(self) -> str:
            return urlsplit(self.path).path

        def _not_allowed(self, allow: str) -> None:
            self._send(405, f"method {self.command} not allowed; use {allow}\n".encode(), Allow=allow)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self._route()
            if path == "/metrics":
                body, ctype, gz = pages.get(self.headers.get("Accept"), self.headers.get("Accept-Encoding"))
                extra = {"Vary": "Accept, Accept-Encoding"}
                if gz:
                    extra["Content_Encoding"] = "gzip"
                self._send(200, body, ctype, **extra)
            elif path == "/-/healthy":
                self._send(200, b"slodrift exporter is healthy.\n")
            elif path == "/-/ready":
                ready = state.snapshot is not None
                self._send(200 if ready else 503, b"ready\n" if ready else b"no configuration loaded\n")
            elif path == "/":
                self._send(200, landing_page(state).encode(), "text/html; charset=utf-8")
            elif path == "/-/reload":
                self._not_allowed("POST, PUT")
            else:
                self._send(404, b"not found\n")

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_POST(self) -> None:  # noqa: N802
            self.close_connection = True  # the body (if any) is not read
            path = self._route()
            if path != "/-/reload":
                if path in ("/metrics", "/-/healthy", "/-/ready", "/"):
                    self._not_allowed("GET, HEAD")
                else:
                    self._send(404, b"not found\n")
                return
            if request_reload is None or wait_reload is None:
                self._send(403, b"Lifecycle API is not enabled (start with --web.enable-lifecycle).\n")
                return
            outcome = wait_reload(request_reload(), 180.0)
            if outcome is not None:
                pages.refresh()  # the next scrape shows this reload's outcome
            if outcome is None:
                self._send(503, b"the reload did not finish in time; see the log\n")
            elif outcome:
                self._send(200, b"reloaded\n")
            else:
                self._send(
                    500,
                    f"reload failed, still serving the last good configuration:\n"
                    f"{state.status.last_error}\n".encode(),
                )

        do_PUT = do_POST  # noqa: N815 (Prometheus takes PUT /-/reload too)

        def do_DELETE(self) -> None:  # noqa: N802
            self.close_connection = True
            path = self._route()
            if path == "/-/reload":
                self._not_allowed("POST, PUT")
            elif path in ("/metrics", "/-/healthy", "/-/ready", "/"):
                self._not_allowed("GET, HEAD")
            else:
                self._send(404, b"not found\n")

        do_PATCH = do_DELETE  # noqa: N815

        def do_OPTIONS(self) -> None:  # noqa: N802
            allow = "POST, PUT, OPTIONS" if self._route() == "/-/reload" else "GET, HEAD, OPTIONS"
            self._send(200, b"", Allow=allow)

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


class ExporterServer(ThreadingHTTPServer):
    """Accepts only; everything per connection (TLS handshake included) runs on that connection's thread."""

    daemon_threads = True
    block_on_close = False  # SIGTERM must not wait for idle keep-alive connections
    request_queue_size = 128  # dozens of scrapers arriving at once are not refused by the backlog

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        tls: ssl.SSLContext | None = None,
        limits: Limits = Limits(),
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.tls = tls
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self.refused = 0  # connections closed at once because every slot was taken
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        conn = request
        try:
            if self.tls is not None:
                request.settimeout(self.limits.handshake_timeout)
                conn = self.tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
                conn.do_handshake()
            conn.settimeout(self.limits.idle_timeout)
            self.finish_request(conn, client_address)
        except (OSError, ssl.SSLError) as exc:  # a handshake that failed or timed out, a reset
            log.debug("%s: connection dropped: %s", client_address, exc)
        except Exception:
            log.exception("%s: request failed", client_address)
        finally:
            self.shutdown_request(conn)
            if conn is not request:
                request.close()
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("%s: request failed", client_address)


def make_server(
    address: tuple[str, int],
    handler: type[BaseHTTPRequestHandler],
    certfile: str | None = None,
    keyfile: str | None = None,
    limits: Limits = Limits(),
) -> ExporterServer:
    """Bind the server, with TLS (1.2 or later) when a certificate is given."""
    tls = None
    if certfile:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(certfile, keyfile)
    return ExporterServer(address, handler, tls, limits)
