"""Reload validation in a separate process: scrapes never share the interpreter with it.

Loading a spec and a baseline is pure-Python work (YAML, JSON Schema, the model) that holds the
interpreter lock for hundreds of milliseconds on a large spec; run in the server's own process, every
scrape in flight waits for it. `ProcessLoader` hands the paths to a long-lived child process (started
with `spawn`, so it shares no threads or locks with the server) and gets the validated snapshot back,
pickled. The child is bounded: its address space is capped (`RLIMIT_AS`), a load that takes longer
than `timeout` kills it, and a child that dies is replaced at the next reload. Every such failure is
a `ConfigError`, i.e. a failed reload; the server keeps serving the last good snapshot.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from slodrift.exporter.state import ConfigError, Snapshot, load_snapshot

log = logging.getLogger("slodrift.exporter")

DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_LIMIT = 2 << 30  # bytes of address space for the validating child


def _child(conn: Connection, memory_limit: int) -> None:
    """The child's loop: one (spec, baseline, service) request in, one ("ok"|"error", ...) out."""
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if request is None:
            return
        spec_path, baseline_path, service = request
        try:
            reply: tuple[str, object] = ("ok", load_snapshot(Path(spec_path), Path(baseline_path), service))
        except ConfigError as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = (
                "error",
                f"validation needed more than {memory_limit >> 20} MiB; the files are too large",
            )
        except Exception as exc:  # reported to the server as a failed reload, with the type
            reply = ("error", f"unexpected error while validating: {type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except Exception as exc:  # e.g. a snapshot that cannot be pickled
            conn.send(("error", f"unexpected error sending the result: {type(exc).__name__}: {exc}"))


class ProcessLoader:
    """A `StateHolder` loader that validates in a child process, with a timeout and a memory cap."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()  # one request at a time (the reloader is one thread anyway)
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid (None when none runs): for tests and for the curious."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> None:
        """Start the child now (it imports slodrift: about a second) rather than at the first reload."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop_child()
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_child, args=(child, self.memory_limit), name="slodrift-validate", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        return parent

    def _stop_child(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
        self._proc = self._conn = None

    def __call__(self, spec_path: Path, baseline_path: Path, service: str | None = None) -> Snapshot:
        with self._lock:
            try:
                conn = self._ensure()
                conn.send((str(spec_path), str(baseline_path), service))
                if not conn.poll(self.timeout):
                    self._stop_child()
                    raise ConfigError(
                        f"validating {spec_path} and {baseline_path} took more than {self.timeout:g} s; "
                        "stopped (a file on a stalled mount?)"
                    )
                status, payload = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                code = self._proc.exitcode if self._proc is not None else None
                self._stop_child()
                raise ConfigError(
                    f"the validating process died (exit code {code}): {type(exc).__name__}; "
                    "a new one starts at the next reload"
                ) from None
        if status == "ok" and isinstance(payload, Snapshot):
            return payload
        raise ConfigError(str(payload))

    def close(self) -> None:
        """Stop the child."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            self._stop_child()
