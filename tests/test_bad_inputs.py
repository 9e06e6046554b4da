"""The bad-input corpus: every malformed input gets exit 2, a message naming the file and the place in
it, no traceback, and no file written or changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slodrift.cli import main
from tests.helpers import EXAMPLE, PRINT_PEAK_RSS_KIB, ROOT

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
    assert len(SPEC_CASES) >= 120


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's output, generated once; each case works on its own copy."""
    out = tmp_path_factory.mktemp("example") / "out"
    assert main(["generate", str(EXAMPLE), "--out", str(out)]) == 0
    return out


SLOW_SPEC_CASES = {"too_many_services.yml", "yaml_bomb.yml"}  # about a second each


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SPEC_CASES else n for n in sorted(SPEC_CASES)],
)
def test_bad_spec(name: str, tmp_path: Path, capsys, example_out: Path):
    out = tmp_path / "out"
    shutil.copytree(example_out, out)
    before = snapshot(out)
    assert before == snapshot(example_out)
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


def test_corpus_has_at_least_100_cases():
    assert len(SPEC_CASES) + len(BASELINE_CASES) >= 100


def _slodrift(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slodrift", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_special_files_are_refused_without_reading_them(tmp_path: Path):
    """/dev/zero used to be read until a MemoryError at 3.8 GB; a FIFO blocked forever."""
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    for argv, expected in (
        (["check", "/dev/zero"], "/dev/zero: (document): cannot read: it is a character device"),
        (["check", str(fifo)], "cannot read: it is a FIFO"),
        (["generate", str(fifo), "--out", str(tmp_path / "out")], "cannot read: it is a FIFO"),
        (["import", "sloth", "/dev/zero"], "cannot read: it is a character device"),
        (["import", "openslo", str(fifo)], "cannot read: it is a FIFO"),
    ):
        r = _slodrift(*argv, timeout=30)  # a regression would block: the timeout fails the test
        assert r.returncode == 2, (argv, r.stderr)
        assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_a_huge_spec_is_refused_before_it_is_read(tmp_path: Path):
    """A sparse 1 GiB file: refused from its size, so memory stays flat (it cost 1 GB of RSS)."""
    big = tmp_path / "big.yml"
    with big.open("wb") as fh:
        fh.truncate(1 << 30)
    code = (
        "import sys\n"
        "from slodrift.cli import main\n"
        f"rc = main(['check', {str(big)!r}])\n" + PRINT_PEAK_RSS_KIB + "sys.exit(rc)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert r.returncode == 2, r.stderr
    assert "file is 1073741824 bytes; the limit is 2097152" in r.stderr
    assert int(r.stdout.split()[-1]) < 200 * 1024, f"max RSS {int(r.stdout.split()[-1]) // 1024} MiB"


@pytest.mark.slow
def test_special_baseline_files_are_refused_at_start_up(tmp_path: Path):
    fifo = tmp_path / "baseline.fifo"
    os.mkfifo(fifo)
    for baseline, expected in ((fifo, "it is a FIFO"), ("/dev/zero", "it is a character device")):
        r = _slodrift(
            "serve",
            f"--config.file={EXAMPLE}",
            f"--baseline.file={baseline}",
            "--web.listen-address=127.0.0.1:1",
            timeout=30,
        )
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
