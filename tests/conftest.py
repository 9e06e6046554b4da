"""Shared fixtures: paths, the example spec, and the real promtool (installed by scripts/install.sh)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "checkout.yml"


@pytest.fixture(scope="session")
def promtool() -> str:
    """The real promtool; a missing one is a broken install, so this fails rather than skips."""
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: run scripts/install.sh")
    return path


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
