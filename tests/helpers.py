"""Paths and the command line, shared by the tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "checkout.yml"
# `make test-full` (SLODRIFT_FULL_TESTS=1) runs the exhaustive variants of the most expensive tests: every
# mutation of the mutation tests, promtool tests of every corpus spec. `make test` runs a fixed,
# evenly spread subset of them, so the suite fits the CI budget (8 minutes on 2 cores).
FULL = os.environ.get("SLODRIFT_FULL_TESTS") == "1"


def spread(items: list[T], keep: int) -> list[T]:
    """All of `items` under `make test-full`; otherwise about `keep` of them, evenly spread (the same
    ones at every run: never a random choice)."""
    if FULL or len(items) <= keep:
        return list(items)
    step = len(items) / keep
    return [items[int(k * step)] for k in range(keep)]


# Python source a child process ends with to print its peak RSS in KiB: its own memory's high-water
# mark (VmHWM). getrusage's ru_maxrss would also carry the peak of the pytest worker it was forked
# from, which Linux keeps across exec.
PRINT_PEAK_RSS_KIB = (
    "import re as _re\nprint(_re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))\n"
)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `slodrift` command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "slodrift", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
        check=False,
    )
