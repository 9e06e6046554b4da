"""One HTTP attempt's limits below requests: a total deadline that shuts the attempt's sockets when it
passes (so a body trickled one byte a second cannot outlast it), and a body read bounded in bytes, off the
wire and decompressed."""

from __future__ import annotations

import socket
import threading
import zlib
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from slodrift.report.prometheus_errors import PrometheusResponseError

_CHUNK = 64 << 10


class Deadline:
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
            shut(conn)

    def add(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            shut(conn)

    def cancel(self) -> None:
        self._timer.cancel()


def shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections report to the calling thread's current `Deadline`."""

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


def read_body(
    expr: str, response: requests.Response, deadline: Deadline, limit: int, inflated_limit: int
) -> str:
    """The body as text, read in chunks within the size limits: `limit` bytes off the wire, `inflated_limit`
    decompressed (a gzip bomb is an error, not gigabytes of memory); a passed deadline ends the read."""
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
