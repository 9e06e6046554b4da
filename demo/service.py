"""The demo's synthetic services: HTTP request counters and latency histograms as an instrumented web
service exposes them, driven by Poisson traffic, each service on its own `/metrics` port.

Every tick draws each route's arrivals from a Poisson process whose rate follows a daily cycle compressed
into minutes (quietest at the start of the "day", busiest half a day later), then per request a latency
(log-normal) and whether it failed. A service's `Behaviour` can be swapped while it runs: that is the
release.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

# Buckets as a service team picks them: fine around the usual latencies, 0.5 s (the latency SLO's
# threshold) among them, a long tail for the bad days.
BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0)
TICK = 0.1  # seconds between traffic draws
DAILY_SWING = 0.3  # the request rate moves between 70 % and 130 % of its mean over a day


def daily_factor(elapsed: float, day_s: float) -> float:
    """The request rate's share of its mean `elapsed` seconds into a cycle of `day_s` seconds."""
    return 1.0 - DAILY_SWING * math.cos(2 * math.pi * elapsed / day_s)


@dataclass(frozen=True)
class Behaviour:
    """How a service answers: median latency and spread (log-normal), and the share of 5xx answers."""

    median_s: float
    sigma: float
    error_ratio: float

    def p99(self) -> float:
        """The true 99th percentile of the latency distribution (2.326 standard normal deviations)."""
        return self.median_s * math.exp(2.3263 * self.sigma)


@dataclass(frozen=True)
class Route:
    """One route of a service and its share of the service's requests."""

    method: str
    path: str
    share: float


@dataclass(frozen=True)
class ServiceSpec:
    """A synthetic service: its job name, mean request rate, routes and normal behaviour."""

    job: str
    rate: float  # requests per second, on average
    routes: tuple[Route, ...]
    normal: Behaviour


def poisson(rng: random.Random, mean: float) -> int:
    """Arrivals of a Poisson process in one interval with `mean` expected arrivals (exponential gaps)."""
    count, elapsed = 0, rng.expovariate(1.0) if mean > 0 else math.inf
    while elapsed < mean:
        count += 1
        elapsed += rng.expovariate(1.0)
    return count


class SyntheticService:
    """One service: a registry with its counters and histogram, served on 127.0.0.1:`port`."""

    def __init__(self, spec: ServiceSpec, port: int, rng: random.Random) -> None:
        self.spec = spec
        self.port = port
        self.rng = rng
        self.behaviour = spec.normal
        self.registry = CollectorRegistry()
        labels = ["method", "route"]
        self.requests = Counter(
            "http_requests", "HTTP requests served.", [*labels, "code"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve `/metrics` (prometheus-client's own HTTP server, in a daemon thread)."""
        self._server, self._thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def tick(self, seconds: float, load: float = 1.0) -> None:
        """Serve the requests that arrived in the last `seconds`, at `load` times the mean rate."""
        b = self.behaviour
        for route in self.spec.routes:
            n = poisson(self.rng, self.spec.rate * load * route.share * seconds)
            errors = 0
            hist = self.latency.labels(route.method, route.path)
            for _ in range(n):
                hist.observe(self.rng.lognormvariate(math.log(b.median_s), b.sigma))
                errors += self.rng.random() < b.error_ratio
            if errors:
                self.requests.labels(route.method, route.path, "500").inc(errors)
            # the success series exists from the first scrape, as in a real service
            self.requests.labels(route.method, route.path, "200").inc(n - errors)


class Traffic:
    """Drives every service's `tick` from one thread until stopped, along the daily cycle."""

    def __init__(self, services: list[SyntheticService], clock: Callable[[], float], day_s: float) -> None:
        self.services = services
        self.clock = clock
        self.day_s = day_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def _run(self) -> None:
        first = last = self.clock()
        while not self._stop.wait(TICK):
            now = self.clock()
            load = daily_factor(now - first, self.day_s)
            for service in self.services:
                service.tick(now - last, load)
            last = now

    def start(self) -> None:
        """Start the services' servers and the traffic."""
        for service in self.services:
            service.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop the traffic and the servers."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for service in self.services:
            service.stop()
