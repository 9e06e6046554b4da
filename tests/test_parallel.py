"""Services rendered on several processes: the same files as one process, errors and Ctrl-C reach the
caller, and no worker outlives the command."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slodrift.generator import parallel
from slodrift.generator.render import chunks
from slodrift.generator.spec import load_specs

from tests.helpers import EXAMPLE

ROOT = Path(__file__).resolve().parent.parent


def scale_spec(n_slos: int) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gen_scale  # the benchmark's spec: services of 10 SLOs, events and latency
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return str(gen_scale.spec(n_slos))


RENDER = """
import hashlib, json, resource, sys
from slodrift.generator.render import render
from slodrift.generator.spec import load_specs
files = render(load_specs(sys.argv[1:-1]), workers=int(sys.argv[-1]))
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "files": {k: hashlib.sha256(v.encode()).hexdigest() for k, v in files.items()},
    "order": list(files),
    "children_cpu": children.ru_utime + children.ru_stime,
}))
"""


def _render_in_fresh_process(specs: list[str], workers: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", RENDER, *specs, str(workers)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_workers_render_the_same_files_as_one_process(tmp_path: Path) -> None:
    """Each in a fresh process (nothing left over from the other run): the files, byte for byte, and in
    the same order; with workers, the services' CPU was spent in child processes."""
    spec = tmp_path / "scale.yml"
    spec.write_text(scale_spec(60))
    specs = [str(spec), str(EXAMPLE)]
    one = _render_in_fresh_process(specs, 1)
    two = _render_in_fresh_process(specs, 2)
    assert one["files"] == two["files"]
    assert one["order"] == two["order"]
    assert len(one["files"]) > 30  # type: ignore[arg-type]
    assert one["children_cpu"] == 0
    assert two["children_cpu"] > 0.05  # type: ignore[operator]


def test_chunks_cover_every_service_once_in_order(tmp_path: Path) -> None:
    spec = tmp_path / "scale.yml"
    spec.write_text(scale_spec(95))  # 9 services of 10 SLOs and one of 5
    specs = load_specs([str(spec), str(EXAMPLE)])
    pieces = chunks(specs, size=25)
    flat = [(p.path, s.name) for p in pieces for s in p.services]
    assert flat == [(sp.path, s.name) for sp in specs for s in sp.services]
    sizes = [sum(len(s.slos) + len(s.indicators) for s in p.services) for p in pieces]
    assert sizes[:3] == [30, 30, 30]  # whole services, cut once a piece holds 25 or more
    assert all(
        p.evaluation_interval == sp.evaluation_interval for p in pieces for sp in specs if sp.path == p.path
    )


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x * x


def test_a_worker_error_reaches_the_caller_and_stops_the_workers() -> None:
    with parallel.started(_fail_on_three, [1, 2], 2) as results:
        assert results() == [1, 4]
    with pytest.raises(ValueError, match="three"):
        with parallel.started(_fail_on_three, list(range(8)), 2) as results:
            results()
    assert multiprocessing.active_children() == []
    with parallel.started(_fail_on_three, [5, 6], 1) as results:  # one process: in this one
        assert results() == [25, 36]


def _group_members(pgid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


@contextlib.contextmanager
def _generating(spec: Path, out: Path, members: int) -> Iterator[subprocess.Popen[str]]:
    """`slodrift generate` in a session of its own (a terminal's process group), once `members`
    processes are in it (the command and its workers) or it has ended; whatever is left of the group
    is killed afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "slodrift", "generate", str(spec), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and len(_group_members(proc.pid)) < members:
            time.sleep(0.02)
        yield proc
    finally:
        for pid in _group_members(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _left(pgid: int) -> list[int]:
    """The group's processes still there after up to 10 s."""
    deadline = time.monotonic() + 10
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _group_members(pgid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
def test_ctrl_c_during_generate_exits_130_without_traceback_and_writes_nothing(tmp_path: Path) -> None:
    """Ctrl-C goes to the terminal's whole process group: the command and its workers. Pressed twice
    (20 ms apart: the second lands while the first stops the workers), it still ends at once."""
    spec = tmp_path / "scale.yml"
    spec.write_text(scale_spec(400))
    out = tmp_path / "out"
    with _generating(spec, out, members=2) as proc:
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert err.strip().endswith("interrupted")
        assert not out.exists()
        assert _left(proc.pid) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.skipif(parallel.cores() < 2, reason="one core: generate starts no workers")
def test_workers_die_with_a_killed_generate(tmp_path: Path) -> None:
    """SIGTERM or SIGKILL to the command alone (a CI job's timeout, the OOM killer): it cannot stop its
    workers, which must not wait forever on a queue no one writes to."""
    spec = tmp_path / "scale.yml"
    spec.write_text(scale_spec(400))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with _generating(spec, tmp_path / "out", members=3) as proc:
            assert len(_group_members(proc.pid)) == 3
            proc.send_signal(sig)
            assert proc.wait(timeout=60) == -sig
            assert _left(proc.pid) == []
        assert not (tmp_path / "out").exists()


def test_a_container_cpu_quota_bounds_the_workers(tmp_path: Path) -> None:
    assert parallel.quota_cpus("200000 100000\n") == 2
    assert parallel.quota_cpus("150000 100000") == 2  # 1.5 CPUs: two workers, each partly busy
    assert parallel.quota_cpus("50000 100000") == 1
    assert parallel.quota_cpus("max 100000") is None
    assert parallel.quota_cpus("") is None
    assert parallel.quota_cpus("x y") is None
    assert parallel.quota_cpus("-1\n", "100000\n") is None  # cgroup v1: no quota
    assert parallel.quota_cpus("300000\n", "100000\n") == 3
    v2, v1 = tmp_path / "cpu.max", tmp_path / "v1"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    unlimited = parallel.cores(tmp_path / "none", tmp_path / "none")
    assert unlimited >= 1
    assert parallel.cores(tmp_path / "none", v1) == 1  # v1 read when there is no v2 file
    v2.write_text("max 100000\n")
    assert parallel.cores(v2, v1) == unlimited  # v2 decides when it is there
    v2.write_text("100000 100000\n")
    assert parallel.cores(v2, tmp_path / "none") == 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.skipif(parallel.cores() < 2, reason="one core: generate starts no workers")
def test_a_killed_worker_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    """The OOM killer takes a worker: one line, exit 1, no traceback, nothing written."""
    spec = tmp_path / "scale.yml"
    spec.write_text(scale_spec(400))
    with _generating(spec, tmp_path / "out", members=3) as proc:
        workers = [pid for pid in _group_members(proc.pid) if pid != proc.pid]
        assert workers
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert (
        err.strip()
        == "error: a worker process was killed (out of memory?) before it finished; no file changed"
    )
    assert not (tmp_path / "out").exists()
