"""Runs the real promtool on generated files; the one place the generator shells out."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml


class PromtoolMissing(RuntimeError):
    """promtool is not installed; `scripts/install.sh` installs Debian's prometheus package."""


@dataclass(frozen=True)
class PromtoolResult:
    """Outcome of one promtool invocation, kept whole so callers can show promtool's own words."""

    ok: bool
    command: list[str]
    output: str


def promtool_path() -> str:
    """Locate promtool or explain how to get it."""
    path = shutil.which("promtool")
    if not path:
        raise PromtoolMissing(
            "promtool not found on PATH: run scripts/install.sh (Debian package 'prometheus')"
        )
    return path


def run(args: list[str], cwd: Path | None = None, timeout: float = 600) -> PromtoolResult:
    """Run promtool with `args`; a timeout counts as a failure, not a hang."""
    cmd = [promtool_path(), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return PromtoolResult(False, cmd, f"promtool timed out after {timeout:g}s")
    return PromtoolResult(proc.returncode == 0, cmd, proc.stdout + proc.stderr)


def check_rules(files: list[Path]) -> PromtoolResult:
    """`promtool check rules` on every file at once."""
    return run(["check", "rules", *map(str, files)])


def version() -> str:
    """promtool's version line (part of what `slodrift test --changed` fingerprints)."""
    if not shutil.which("promtool"):
        return ""
    r = run(["--version"])
    lines = r.output.splitlines()
    # a version that cannot be read is unique to this run, so nothing counts as tested with it before
    return lines[0] if r.ok and lines else f"unknown promtool version ({time.time_ns()})"


def test_each(files: list[Path], jobs: int | None = None) -> dict[Path, PromtoolResult]:
    """`promtool test rules` on each file, one process per file, as many at once as there are CPUs."""
    with ThreadPoolExecutor(max(1, jobs or os.cpu_count() or 1)) as pool:
        return dict(zip(files, pool.map(lambda f: run(["test", "rules", str(f)]), files), strict=True))


def test_rules(files: list[Path], jobs: int | None = None) -> PromtoolResult:
    """`promtool test rules`, one process per file and as many at once as there are CPUs (promtool runs a
    file's groups one after the other on one core, and a large spec has a test file per service); the
    output is promtool's, file after file in the order given."""
    if len(files) <= 1:
        return run(["test", "rules", *map(str, files)])
    results = list(test_each(files, jobs).values())
    return PromtoolResult(
        all(r.ok for r in results),
        [promtool_path(), "test", "rules", *map(str, files)],
        "".join(r.output for r in results),
    )


@dataclass(frozen=True)
class Counts:
    """What the generated files contain, for the summary line."""

    rules: int
    recording: int
    alerts: int
    test_groups: int
    alert_tests: int
    expr_tests: int


def count(rule_files: list[Path], test_files: list[Path]) -> Counts:
    """Count rules and tests by reading the YAML back (what promtool will see)."""
    recording = alerts = groups = alert_tests = expr_tests = 0
    for f in rule_files:
        for g in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("groups", []):
            for r in g.get("rules", []):
                recording += "record" in r
                alerts += "alert" in r
    for f in test_files:
        for t in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("tests", []):
            groups += 1
            alert_tests += len(t.get("alert_rule_test", []))
            expr_tests += len(t.get("promql_expr_test", []))
    return Counts(recording + alerts, recording, alerts, groups, alert_tests, expr_tests)
