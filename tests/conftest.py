"""Shared fixtures: the real promtool (installed by scripts/install.sh), a fake Prometheus API and clients
for it. Helpers that tests import live in tests/helpers.py (pytest advises against importing conftest)."""

from __future__ import annotations

import random
import shutil
import socket
from collections.abc import Callable, Iterator

import pytest
import requests
from hypothesis import HealthCheck, settings
from slodrift.report.prometheus_api import PrometheusClient

from tests.fake_prometheus import FakePrometheus, Sleeps

# On a loaded 2-core machine drawing examples can be slow: no property test fails for its own speed.
settings.register_profile("slodrift", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("slodrift")


@pytest.fixture(scope="session")
def promtool() -> str:
    """The real promtool; a missing one is a broken install, so this fails rather than skips."""
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: run scripts/install.sh")
    return path


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    server = FakePrometheus()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., tuple[PrometheusClient, Sleeps]]]:
    sessions: list[requests.Session] = []

    def make(url: str, **kwargs: object) -> tuple[PrometheusClient, Sleeps]:
        sleeps = Sleeps()
        session = requests.Session()
        session.trust_env = False  # loopback only: never go through a proxy from the environment
        sessions.append(session)
        options: dict[str, object] = {
            "sleep": sleeps,
            "rng": random.Random(7),
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "session": session,
        }
        options.update(kwargs)
        return PrometheusClient(url, **options), sleeps  # type: ignore[arg-type]

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The longest test files (measured wall time under `make test`, longest first). `make test` runs test
# files on parallel workers (pytest-xdist, --dist loadfile); handing out the long ones first keeps one
# worker from starting a two-minute file when the others are done (with --no-loadscope-reorder; by
# default xdist hands out the files with the most tests first).
LONGEST_FIRST = (
    "test_importer_corpus.py",
    "test_promtool.py",
    "test_stability_week.py",
    "test_properties.py",
    "test_vmalert.py",
    "test_demo.py",
    "test_e2e_alertmanager.py",
    "test_scenarios_quick.py",
    "test_cli.py",
    "test_drift.py",
    "test_importers.py",
    "test_exporter_faults.py",
    "test_changed.py",
    "test_backtest_live.py",
    "test_backfill_live.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
