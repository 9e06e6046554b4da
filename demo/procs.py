"""Child processes of the demo: each in its own process group, logged, and always stopped.

A server is started with `start_new_session`, so the terminal's Ctrl-C reaches only the demo, which
then stops every group it started: SIGTERM to the whole group (the exporter's validating child, the
backtest's scratch Prometheus and promtool go with their parent), SIGKILL after a grace period. Each
child's PID and group are appended to `processes.log` so that anyone can check afterwards that none
is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

GRACE = 10.0  # seconds a group gets to exit after SIGTERM before SIGKILL
# Loopback only: never through a proxy named in the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DemoError(Exception):
    """The demo cannot go on (a program missing or failing); the message says what and where."""


@dataclass
class Children:
    """Every process group the demo started, stopped in reverse order by `stop_all`."""

    registry: Path  # processes.log: one "pid name" line per child
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(
        self, name: str, args: Sequence[str], log: Path, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `args` in a new session (its own process group), output to `log`."""
        with log.open("ab") as out:
            proc = subprocess.Popen(
                list(args),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                start_new_session=True,
            )
        self.procs.append((name, proc))
        with self.registry.open("a", encoding="utf-8") as f:
            f.write(f"{proc.pid} {name}\n")
        return proc

    def run(self, jobs: Sequence[tuple[str, Sequence[str], Path]], timeout: float) -> list[int]:
        """Run commands (name, args, log) side by side to their end, at most `timeout` seconds in all
        (then every group is killed); their exit codes."""
        procs = [(name, self.start(name, args, log), log) for name, args, log in jobs]
        deadline = time.monotonic() + timeout
        try:
            for name, proc, log in procs:
                try:
                    proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise DemoError(f"{name} did not finish in {timeout:g}s (log: {log})") from None
            return [proc.returncode for _, proc, _ in procs]
        finally:
            for _, proc, _ in procs:
                stop(proc)

    def stop_all(self) -> None:
        """Stop every group, newest first; never raises."""
        for _, proc in reversed(self.procs):
            stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = GRACE) -> None:
    """SIGTERM the process group, SIGKILL it after `grace`, and reap the leader."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)  # the group id is the leader's pid (new session)
        except ProcessLookupError:
            break  # nothing left in the group
        except PermissionError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and group_alive(proc.pid):
            proc.poll()
            time.sleep(0.05)
        if not group_alive(proc.pid):
            break
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` still runs (zombies of our own children do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(pid for pid in group_members(pgid) if not _zombie(pid))


def group_members(pgid: int) -> list[int]:
    """PIDs whose process group is `pgid` (read from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].startswith("Z")


def wait_ready(url: str, proc: subprocess.Popen[bytes], name: str, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise DemoError(f"{name} exited with code {proc.returncode} (log: {log}):\n{tail}")
        try:
            with OPENER.open(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise DemoError(f"{name} did not become ready at {url} within {timeout:g}s (log: {log})")
