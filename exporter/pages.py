"""The rendered `/metrics` page: built when the state changes, never while a scrape waits.

A renderer thread collects the metric families once per state version (after a reload attempt or a
scoring run) and encodes them with prometheus_client's own exposition: the format a scraper's `Accept`
header asks for (`choose_encoder`: the text format, or OpenMetrics) and gzip when `Accept-Encoding`
allows it. The variants scrapers asked for are encoded ahead of time, so a scrape is a dictionary
lookup and a memory copy; a variant nobody asked for yet is encoded once, from the frozen families,
without touching the live state. A scrape therefore never waits for a reload or a validation.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import Collector, CollectorRegistry
from slodrift.exporter.state import StateHolder

log = logging.getLogger("slodrift.exporter")

MAX_VARIANTS = 8  # content types x gzip kept per page; Accept headers beyond these are encoded per scrape
_GZIP_LEVEL = 6


class _Frozen(Collector):
    """The families of one page, replayed to an encoder."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


@dataclass
class Page:
    """One state version's families and the encodings made of them so far."""

    version: int
    families: list[Metric]
    bodies: dict[tuple[str, bool], bytes] = field(default_factory=dict)


class Pages:
    """The current page of `registry`, re-rendered in the background whenever `state` changes."""

    def __init__(self, registry: CollectorRegistry, state: StateHolder) -> None:
        self.registry = registry
        self.state = state
        self._dirty = threading.Event()
        self._lock = threading.Lock()  # guards the variant tables, never held while rendering a page
        self._wanted: dict[str, bool] = {}  # Accept header -> seen (ordered, bounded)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current = self._render()
        state.on_change(self._dirty.set)

    def _render(self) -> Page:
        version = self.state.version
        families = list(self.registry.collect())
        page = Page(version, families)
        with self._lock:
            wanted = list(self._wanted)
        for accept in wanted or [""]:
            for gz in (False, True):
                self._encode(page, accept, gz)
        return page

    def _encode(self, page: Page, accept: str, gz: bool) -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept)
        key = (content_type, gz)
        body = page.bodies.get(key)
        if body is None:
            body = encoder(_Frozen(page.families))
            if gz:
                body = gzip.compress(body, _GZIP_LEVEL)
            if len(page.bodies) < MAX_VARIANTS:
                page.bodies[key] = body
        return body, content_type

    def get(self, accept: str | None, accept_encoding: str | None) -> tuple[bytes, str, bool]:
        """(body, content type, gzipped) for a scrape: the latest rendered page, in its format."""
        accept = accept or ""
        with self._lock:
            if accept not in self._wanted and len(self._wanted) < MAX_VARIANTS:
                self._wanted[accept] = True
        gz = gzip_accepted(accept_encoding or "")
        body, content_type = self._encode(self.current, accept, gz)
        return body, content_type, gz

    def refresh(self) -> None:
        """Render the page of the current state now (the worker does this on every change; an HTTP
        reload does it before answering, so its caller sees the result on the next scrape)."""
        page = self._render()
        with self._lock:
            if page.version >= self.current.version:  # a slower render of an older state never wins
                self.current = page

    def start(self) -> threading.Thread:
        """The renderer thread: coalesces bursts of changes into one render."""

        def loop() -> None:
            while not self._stop.is_set():
                if not self._dirty.wait(0.5):
                    continue
                self._dirty.clear()
                try:
                    self.refresh()
                except Exception:  # keep serving the last page; the next change tries again
                    log.exception("rendering /metrics failed; serving the previous page")

        self._thread = threading.Thread(target=loop, name="page-renderer", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Stop the renderer thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
