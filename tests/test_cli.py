import re
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE, run_cli

pytestmark = pytest.mark.slow


def test_check_ok():
    r = run_cli("check", str(EXAMPLE))
    assert r.returncode == 0 and "2 service(s), 4 SLO(s)" in r.stdout


SMALL = """\
version: 1
services:
  - name: a
    selector: {job: a}
    slos:
      - {name: availability, objective: 99.9, sli: {errors: 'r_total{code="500"}', total: r_total}}
"""


def test_generate_then_test_passes(tmp_path: Path, promtool):
    """The two commands end to end, on a small spec: the example's generated files are the golden files,
    which tests/test_promtool.py runs through promtool already (15-20 s of CPU each time)."""
    spec = tmp_path / "spec.yml"
    spec.write_text(SMALL)
    r = run_cli("generate", str(spec), "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = run_cli("test", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "promtool check rules: PASS" in r.stdout and "promtool test rules:  PASS" in r.stdout
    assert re.search(r"\d+ recording, \d+ alerting", r.stdout)


def test_bad_spec_exits_2_names_path_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "out"
    assert run_cli("generate", str(EXAMPLE), "--out", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.yml"
    bad.write_text(
        EXAMPLE.read_text()
        .replace("objective: 99.9", "objective: 150")
        .replace("team: payments", "team: payments, bad-label: x")
        .replace("window: 28d", "window: 28x")
    )
    r = run_cli("generate", str(bad), "--out", str(out))
    assert r.returncode == 2
    assert "services[0].slos[0].objective: 150 is greater than or equal to the maximum of 100" in r.stderr
    assert "services[1].slos[0].window: '28x' is not a duration" in r.stderr
    assert "Traceback" not in r.stderr
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_missing_file_and_bad_usage_exit_2(tmp_path: Path):
    r = run_cli("check", str(tmp_path / "nope.yml"))
    assert r.returncode == 2 and "nope.yml" in r.stderr and "cannot read" in r.stderr
    assert run_cli("generate").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_test_command_reports_failure(tmp_path: Path, promtool):
    # one SLO (the example's tests take promtool half a minute; this one a few seconds)
    spec = tmp_path / "one.yml"
    spec.write_text(
        "version: 1\nservices:\n  - name: checkout\n    selector: {job: checkout}\n    slos:\n"
        "      - name: availability\n        objective: 99.9\n"
        "        sli: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}\n"
    )
    out = tmp_path / "out"
    assert run_cli("generate", str(spec), "--out", str(out)).returncode == 0
    assert run_cli("test", str(out)).returncode == 0
    rule = out / "rules" / "checkout.slo.yml"
    rule.write_text(rule.read_text().replace("vector(0.001)", "vector(0.5)", 1))
    r = run_cli("test", str(out))
    assert r.returncode == 1 and "promtool test rules:  FAIL" in r.stdout


def test_generate_writes_a_manifest_that_verify_and_sha256sum_check(tmp_path: Path):
    import subprocess

    assert run_cli("generate", str(EXAMPLE), "--out", str(tmp_path)).returncode == 0
    manifest = (tmp_path / "MANIFEST.sha256").read_text().splitlines()
    assert any(line.endswith("  rules/checkout.slo.yml") for line in manifest)
    r = run_cli("verify", str(tmp_path))
    assert r.returncode == 0 and "ok:" in r.stdout
    assert subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=tmp_path).returncode == 0
    rule = tmp_path / "rules" / "catalog.slo.yml"
    rule.write_text(rule.read_text() + "# edited by hand\n")
    (tmp_path / "promtool-tests" / "checkout.slo.test.yml").unlink()
    r = run_cli("verify", str(tmp_path))
    assert r.returncode == 1
    assert "rules/catalog.slo.yml: changed since it was generated" in r.stderr
    assert "promtool-tests/checkout.slo.test.yml: missing" in r.stderr
    (tmp_path / "MANIFEST.sha256").unlink()
    assert run_cli("verify", str(tmp_path)).returncode == 1


def test_a_failed_write_changes_no_file(tmp_path, monkeypatch):
    """Staging fails on the third file (a full disk, say): every file keeps its old text, no temporary is left."""
    import slodrift.generator.writer as writer

    import slodrift.atomic as atomic

    out = tmp_path / "out"
    old = {f"rules/f{i}.yml": f"old {i}\n" for i in range(5)}
    writer.write_tree(out, old)
    real = atomic._stage
    calls = []

    def failing(tree, rel, data, skip_unchanged):
        calls.append(rel)
        if len(calls) == 3:
            raise atomic.OutputError(f"cannot write {rel}: No space left on device")
        return real(tree, rel, data, skip_unchanged)

    monkeypatch.setattr(atomic, "_stage", failing)
    with pytest.raises(atomic.OutputError, match="No space"):
        writer.write_tree(out, {rel: text.replace("old", "new") for rel, text in old.items()})
    assert {p.name: p.read_text() for p in (out / "rules").iterdir()} == {
        f"f{i}.yml": f"old {i}\n" for i in range(5)
    }


UNBUILDABLE = """\
  - name: odd
    selector: {job: odd}
    indicators:
      error_ratio: {unit: seconds}
"""


@pytest.mark.parametrize("slos", [0, 60])  # one process, and workers (from 40 SLOs on)
def test_a_spec_its_tests_cannot_be_written_for_is_one_line_and_writes_nothing(tmp_path: Path, slos: int):
    """An error ratio shown in seconds: its 0.001 is `1ms` on a rounding edge of the format, where
    Prometheus may print either; no sound expected annotation exists, and generate says so."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        import gen_scale
    finally:
        sys.path.pop(0)
    head = 'version: 1\nrelease: {name: x, version: v1, watch_start: "2025-11-22T00:00:00Z"}\nservices:\n'
    spec = tmp_path / "spec.yml"
    spec.write_text((gen_scale.spec(slos) if slos else head) + UNBUILDABLE)
    r = run_cli("generate", str(spec), "--out", str(tmp_path / "out"))
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip() == (
        f"error: {spec}: service odd: its drift tests: an expected annotation shows 0.001 as '1ms', on a "
        "rounding edge of its format: Prometheus may print it either way; cannot write its generated "
        "tests, no file changed"
    )
    assert not (tmp_path / "out").exists()
