"""`slodrift test --changed`: only the test files whose test, rules or promtool changed since they
passed run again; a failed file runs again; a full run is the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.slow

SPEC = """\
version: 1
services:
  - name: a
    selector: {job: a}
    slos:
      - {name: availability, objective: 99.9, sli: {errors: 'r_total{code="500"}', total: r_total}}
  - name: b
    selector: {job: b}
    slos:
      - {name: availability, objective: OBJECTIVE, sli: {errors: 'r_total{code="500"}', total: r_total}}
"""


def changed_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("changed:"))


def test_only_what_changed_since_it_passed_runs_again(tmp_path: Path):
    spec, out = tmp_path / "spec.yml", tmp_path / "out"
    spec.write_text(SPEC.replace("OBJECTIVE", "99"))
    assert run_cli("generate", str(spec), "--out", str(out)).returncode == 0
    files = len(list((out / "promtool-tests").glob("*.yml")))

    first = run_cli("test", str(out), "--changed")
    assert first.returncode == 0, first.stderr
    assert (
        changed_line(first.stdout) == f"changed: {files} test file(s) to run, 0 unchanged since they passed"
    )

    again = run_cli("test", str(out), "--changed")
    assert (
        changed_line(again.stdout) == f"changed: 0 test file(s) to run, {files} unchanged since they passed"
    )

    # service b's objective changes: its four SLO test files run again, a's and the shared ones do not
    spec.write_text(SPEC.replace("OBJECTIVE", "99.5"))
    assert run_cli("generate", str(spec), "--out", str(out)).returncode == 0
    third = run_cli("test", str(out), "--changed")
    assert third.returncode == 0
    assert (
        changed_line(third.stdout)
        == f"changed: 4 test file(s) to run, {files - 4} unchanged since they passed"
    )

    # a failing file is not remembered as passed: it runs again next time
    broken = out / "promtool-tests" / "a.slo-data.test.yml"
    broken.write_text(broken.read_text().replace("exp_alerts: []", "exp_alerts: [{exp_labels: {x: y}}]", 1))
    failed = run_cli("test", str(out), "--changed")
    assert failed.returncode == 1 and "1 test file(s) to run" in failed.stdout
    assert "1 test file(s) to run" in run_cli("test", str(out), "--changed").stdout

    # without --changed everything runs
    full = run_cli("test", str(out))
    assert full.returncode == 1 and "changed:" not in full.stdout
