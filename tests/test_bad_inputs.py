"""The bad-input corpus: every malformed input gets exit 2, a message naming the file and the place in
it, no traceback, and no file written or changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slodrift.cli import main
from tests.conftest import EXAMPLE, ROOT

CORPUS = ROOT / "tests" / "bad_inputs"
SPEC_CASES = json.loads((CORPUS / "specs" / "expected.json").read_text())


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_corpus_is_large_enough():
    assert len(SPEC_CASES) >= 60


@pytest.mark.parametrize("name", sorted(SPEC_CASES))
def test_bad_spec(name: str, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert run_main(["generate", str(EXAMPLE), "--out", str(out)], capsys)[0] == 0
    before = snapshot(out)
    spec = CORPUS / "specs" / name
    for argv in (["check", str(spec)], ["generate", str(spec), "--out", str(out)]):
        code, stdout, stderr = run_main(argv, capsys)
        assert code == 2, (argv, stdout, stderr)
        assert "Traceback" not in stderr
        lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert lines and all(str(spec) in line for line in lines), stderr
        assert any(SPEC_CASES[name] in line for line in lines), f"expected {SPEC_CASES[name]!r} in:\n{stderr}"
    assert snapshot(out) == before


def test_huge_spec_is_refused(tmp_path: Path, capsys):
    spec = tmp_path / "huge.yml"
    spec.write_text(
        "# " + "x" * (3 * 1024 * 1024) + "\n" + (CORPUS / "specs" / "unknown_top_key.yml").read_text()
    )
    code, _, stderr = run_main(["check", str(spec)], capsys)
    assert code == 2 and "huge.yml" in stderr and "the limit is" in stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["generate"], "the following arguments are required: spec"),
        (["check"], "the following arguments are required: spec"),
        (["bogus"], "invalid choice"),
        (["check", "/nonexistent/spec.yml"], "/nonexistent/spec.yml: (document): cannot read"),
        (["check", str(ROOT / "examples")], "cannot read"),
        (["test", "/nonexistent"], "no rule files in /nonexistent/rules"),
        (["generate", "--out"], "expected one argument"),
    ],
)
def test_bad_cli_use(argv: list[str], expected: str, capsys):
    code, _, stderr = run_main(argv, capsys)
    assert code == 2, stderr
    assert expected in stderr and "Traceback" not in stderr


BASELINE_CASES = json.loads((CORPUS / "baselines" / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(BASELINE_CASES))
def test_bad_baseline_refused_at_start_up(name: str, capsys):
    baseline = CORPUS / "baselines" / name
    before = baseline.read_bytes()
    code, _, stderr = run_main(
        [
            "serve",
            f"--config.file={EXAMPLE}",
            f"--baseline.file={baseline}",
            "--web.listen-address=127.0.0.1:1",
        ],
        capsys,
    )
    assert code == 2, stderr
    assert str(baseline) in stderr and "Traceback" not in stderr
    assert BASELINE_CASES[name] in stderr, stderr
    assert baseline.read_bytes() == before
