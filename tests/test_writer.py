"""Output files (issue 17, items 1 and 2): modes another user can read, no symlink followed, no special
file replaced, stale files removed or reported, clean errors (exit 2) for output directories that cannot
be written, and nothing left behind by a failed write."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from slodrift.generator import writer

from slodrift.atomic import OutputError, write_file, write_files
from tests.helpers import EXAMPLE, ROOT

TWO_SERVICES = EXAMPLE.read_text()


def cli(*args: str, umask: int = 0o022, fsize: int | None = None, user: str | None = None):
    """`slodrift ARGS` in a subprocess with a given umask, file-size limit or user."""

    def pre() -> None:
        os.umask(umask)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    cmd = [sys.executable, "-m", "slodrift", *args]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=pre, check=False
    )


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A directory every user may enter (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="slodrift-writer-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_generated_files_follow_the_umask_and_another_user_can_read_them(public_dir: Path):
    out = public_dir / "out"
    r = cli("generate", str(EXAMPLE), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert set(modes(out).values()) == {0o644}
    assert stat.S_IMODE(out.stat().st_mode) == 0o755 and stat.S_IMODE((out / "rules").stat().st_mode) == 0o755
    rules = sorted(str(p) for p in (out / "rules").glob("*.yml"))
    check = subprocess.run(
        ["runuser", "-u", "nobody", "--", "promtool", "check", "rules", *rules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "permission denied" not in (check.stdout + check.stderr).lower()
    strict = public_dir / "strict"
    assert cli("generate", str(EXAMPLE), "--out", str(strict), umask=0o027).returncode == 0
    assert set(modes(strict).values()) == {0o640}


@pytest.mark.slow
def test_a_replaced_file_keeps_its_mode(tmp_path: Path):
    out = tmp_path / "out"
    assert cli("generate", str(EXAMPLE), "--out", str(out)).returncode == 0
    rule = out / "rules" / "checkout.slo.yml"
    rule.chmod(0o600)
    rule.write_text(rule.read_text() + "# changed, so generate rewrites it\n")
    assert cli("generate", str(EXAMPLE), "--out", str(out)).returncode == 0
    assert stat.S_IMODE(rule.stat().st_mode) == 0o600
    assert "# changed" not in rule.read_text()


SLOTH = """version: prometheus/v1
service: svc
slos:
  - name: a
    objective: 99.5
    sli: {events: {error_query: 'sum(rate(e[{{ .window }}]))', total_query: 'sum(rate(t[{{.window}}]))'}}
"""


@pytest.mark.slow
def test_import_out_and_single_files_follow_the_umask(public_dir: Path):
    target = public_dir / "spec.yml"
    write_file(target, "a: 1\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    target.chmod(0o640)
    write_file(target, "a: 2\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "a: 2\n"
    src = public_dir / "sloth.yml"
    src.write_text(SLOTH)
    r = cli("import", "sloth", str(src), "--out", str(public_dir / "imported.yml"))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((public_dir / "imported.yml").stat().st_mode) == 0o644
    link = public_dir / "link.yml"
    link.symlink_to(public_dir / "elsewhere.yml")
    r = cli("import", "sloth", str(src), "--out", str(link))
    assert r.returncode == 2 and "symbolic link" in r.stderr and "Traceback" not in r.stderr
    assert not (public_dir / "elsewhere.yml").exists()


def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


@pytest.mark.slow
def test_a_symlinked_directory_inside_out_is_not_followed(tmp_path: Path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "alertmanager").symlink_to(outside, target_is_directory=True)
    r = cli("generate", str(EXAMPLE), "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "alertmanager" in r.stderr and "symbolic link" in r.stderr and "Traceback" not in r.stderr
    assert list(outside.iterdir()) == []
    assert not (out / "rules").exists(), "a failed run left directories behind"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "directory"])
def test_a_special_file_at_a_target_path_is_refused_not_replaced(tmp_path: Path, kind: str):
    out = tmp_path / "out"
    (out / "rules").mkdir(parents=True)
    target = out / "rules" / "checkout.slo.yml"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    else:
        target.mkdir()
    before = os.lstat(target)
    r = cli("generate", str(EXAMPLE), "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "rules/checkout.slo.yml" in r.stderr and "regular files only" in r.stderr
    assert "Traceback" not in r.stderr
    after = os.lstat(target)
    assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before.st_ino, stat.S_IFMT(before.st_mode))
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in (out / "rules").iterdir()) == ["checkout.slo.yml"], "temporaries left"


def test_write_files_refuses_paths_leaving_the_root(tmp_path: Path):
    for rel in ("../x", "/etc/x", "a/../../x", ""):
        with pytest.raises(OutputError):
            write_files(tmp_path, {rel: "x"})


@pytest.mark.slow
def test_stale_files_are_removed_and_unlisted_ones_flagged(tmp_path: Path):
    out = tmp_path / "out"
    spec = tmp_path / "spec.yml"
    spec.write_text(TWO_SERVICES)
    assert cli("generate", str(spec), "--out", str(out)).returncode == 0
    assert (out / "rules" / "catalog.slo.yml").exists()
    # drop the catalog service from the spec
    import yaml

    data = yaml.safe_load(TWO_SERVICES)
    data["services"] = [s for s in data["services"] if s["name"] != "catalog"]
    spec.write_text(yaml.safe_dump(data))
    r = cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert not (out / "rules" / "catalog.slo.yml").exists()
    assert not (out / "promtool-tests" / "catalog.slo.test.yml").exists()
    assert "removed" in r.stderr and "catalog.slo.yml" in r.stderr
    assert cli("verify", str(out)).returncode == 0
    # a file of slodrift's naming that no manifest lists is reported and left alone; verify flags it
    stray = out / "rules" / "old.slo.yml"
    stray.write_text("groups: []\n")
    r = cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0 and "rules/old.slo.yml" in r.stderr and "warning:" in r.stderr
    assert stray.exists()
    r = cli("verify", str(out))
    assert r.returncode == 1 and "rules/old.slo.yml: not listed in MANIFEST.sha256" in r.stderr


@pytest.mark.slow
def test_an_edited_stale_file_is_kept_and_reported(tmp_path: Path):
    out = tmp_path / "out"
    spec = tmp_path / "spec.yml"
    spec.write_text(TWO_SERVICES)
    assert cli("generate", str(spec), "--out", str(out)).returncode == 0
    edited = out / "rules" / "catalog.slo.yml"
    edited.write_text(edited.read_text() + "# my note\n")
    import yaml

    data = yaml.safe_load(TWO_SERVICES)
    data["services"] = [s for s in data["services"] if s["name"] != "catalog"]
    spec.write_text(yaml.safe_dump(data))
    r = cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0
    assert edited.exists() and "edited since slodrift generated it" in r.stderr
    assert "catalog.slo.yml: not listed" in cli("verify", str(out)).stderr


@pytest.mark.slow
def test_output_directory_errors_exit_2_with_a_message(tmp_path: Path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out in (a_file, a_file / "sub"):
        r = cli("generate", str(EXAMPLE), "--out", str(out))
        assert r.returncode == 2, r.stderr
        assert str(a_file) in r.stderr and "Traceback" not in r.stderr
    assert a_file.read_text() == "x"
    # a read-only directory: the immutable attribute refuses writes to root too
    locked = tmp_path / "locked"
    locked.mkdir()
    subprocess.run(["chattr", "+i", str(locked)], check=True, timeout=30)
    try:
        r = cli("generate", str(EXAMPLE), "--out", str(locked / "out"))
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "Operation not permitted" in r.stderr and str(locked) in r.stderr and "Traceback" not in r.stderr
    assert list(locked.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_changes_nothing_and_leaves_no_directory(tmp_path: Path):
    """RLIMIT_FSIZE makes the kernel refuse writes past 4 KiB (EFBIG), as a full disk refuses them."""
    out = tmp_path / "deep" / "out"
    r = cli("generate", str(EXAMPLE), "--out", str(out), fsize=4096)
    assert r.returncode == 2, r.stderr
    assert "File too large" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "deep").exists(), "a failed write left directories behind"
    assert cli("generate", str(EXAMPLE), "--out", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "rules" / "checkout.slo.yml").write_text("old\n")
    before[out / "rules" / "checkout.slo.yml"] = b"old\n"
    r = cli("generate", str(EXAMPLE), "--out", str(out), fsize=4096)
    assert r.returncode == 2 and "no file changed" in r.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_verify_reads_the_manifest_with_a_bound(tmp_path: Path):
    out = tmp_path / "out"
    assert cli("generate", str(EXAMPLE), "--out", str(out)).returncode == 0
    manifest = out / writer.MANIFEST
    manifest.unlink()
    manifest.symlink_to("/dev/zero")
    r = cli("verify", str(out))
    assert r.returncode == 1 and "not a regular file" in r.stderr and "Traceback" not in r.stderr
    manifest.unlink()
    (out / "rules" / "catalog.slo.yml").unlink()
    (out / "rules" / "catalog.slo.yml").symlink_to("/dev/zero")
    manifest.write_text(
        "0" * 64 + "  rules/catalog.slo.yml\n"
    )  # a MANIFEST pointing at a symlink to /dev/zero
    r = cli("verify", str(out))
    assert r.returncode == 1 and "symbolic link" in r.stderr and "Traceback" not in r.stderr


def test_temporaries_a_killed_run_left_are_flagged_then_removed(tmp_path: Path):
    """SIGKILL while writing (it cannot be held) leaves `.<name>.<hex>.tmp` files: verify names them,
    the next generate removes them; a temporary of a name slodrift does not write is left alone."""
    out, spec = tmp_path / "out", tmp_path / "spec.yml"
    spec.write_text(TWO_SERVICES)
    assert cli("generate", str(spec), "--out", str(out)).returncode == 0
    own = sorted(str(p.relative_to(out)) for d in ("rules", "promtool-tests") for p in (out / d).iterdir())
    assert all(writer.OWN_NAME_RE.fullmatch(rel) for rel in own), own  # the split files are named too
    left = [
        out / "rules" / ".checkout.slo-alerts.yml.0123abcd.tmp",
        out / "promtool-tests" / ".checkout.slo-windows.test.yml.89abcdef.tmp",
        out / ".MANIFEST.sha256.00ff00ff.tmp",
    ]
    theirs = out / "rules" / ".notes.txt.0123abcd.tmp"
    for p in [*left, theirs]:
        p.write_text("half")
    r = cli("verify", str(out))
    assert r.returncode == 1
    assert "rules/.checkout.slo-alerts.yml.0123abcd.tmp: a temporary file an interrupted run left" in r.stderr
    assert "rules/.notes.txt.0123abcd.tmp: not listed in MANIFEST.sha256" in r.stderr
    r = cli("generate", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "removed 3 temporary file(s) an interrupted run left" in r.stderr
    assert not any(p.exists() for p in left) and theirs.exists()
    theirs.unlink()
    assert cli("verify", str(out)).returncode == 0


HELD = """
import os, signal, sys
from pathlib import Path
from slodrift.atomic import write_files
real, renames = os.replace, []
def replace(*a, **k):
    renames.append(a[0])
    if len(renames) == 2:
        os.kill(os.getpid(), signal.SIGINT)
    return real(*a, **k)
os.replace = replace
try:
    write_files(Path(sys.argv[1]), {f"d/f{i}.txt": "new" for i in range(5)})
except KeyboardInterrupt:
    print("interrupted after", len(renames), "renames")
"""


def _rename_interrupted(
    tmp_path: Path, script: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Five files written over old ones by `script`, which signals itself during the renames: how it
    ended, and what the files hold afterwards."""
    (tmp_path / "d").mkdir()
    for i in range(5):
        (tmp_path / "d" / f"f{i}.txt").write_text("old")
    r = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    return r, {p.name: p.read_text() for p in (tmp_path / "d").iterdir()}


def test_ctrl_c_while_renaming_waits_until_every_file_is_in_place(tmp_path: Path):
    r, contents = _rename_interrupted(tmp_path, HELD)
    assert r.stdout.strip() == "interrupted after 5 renames", r.stdout + r.stderr
    assert contents == {f"f{i}.txt": "new" for i in range(5)}


HELD_WITH_A_THREAD = """
import os, signal, sys, threading
from pathlib import Path
from slodrift.atomic import write_files
threading.Timer(60, lambda: None).start()  # another live thread: the kernel may give it the signal
real, renames = os.replace, []
def replace(*a, **k):
    renames.append(a[0])
    if len(renames) == 2:
        os.kill(os.getpid(), signal.SIGTERM)
    return real(*a, **k)
os.replace = replace
write_files(Path(sys.argv[1]), {f"d/f{i}.txt": "new" for i in range(5)})
os._exit(0)  # not reached: SIGTERM acts once the files are written
"""


def test_sigterm_while_renaming_waits_with_another_thread_alive(tmp_path: Path):
    r, contents = _rename_interrupted(tmp_path, HELD_WITH_A_THREAD)
    assert r.returncode == -15, r.stdout + r.stderr
    assert contents == {f"f{i}.txt": "new" for i in range(5)}
