"""Run independent pieces of rendering in one process per core (concurrent.futures).

Each service's files depend on that service alone (`render.service_files`), so services are rendered in
chunks by worker processes and the text comes back to the caller, in order. BENCHMARKS.md part 3 has the
interleaved A/B that keeps this: below `MIN_SLOS` a pool costs more than it saves, and one process is
used.

The workers never outlive the caller: on any error or interrupt (however many Ctrl-C) they are killed
before the error goes on, and if the caller itself is killed they die with it.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
_CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1 = Path("/sys/fs/cgroup/cpu")


class WorkerDied(Exception):
    """A worker process ended without finishing its piece (killed: the OOM killer, `kill -9`)."""


def quota_cpus(quota_text: str, period_text: str | None = None) -> int | None:
    """The CPUs a CPU quota allows, rounded up; None when unlimited or unreadable. cgroup v2 gives one
    text, `cpu.max` ("<quota> <period>" or "max <period>"); cgroup v1 two, `cpu.cfs_quota_us` (-1 for
    none) and `cpu.cfs_period_us`."""
    parts = quota_text.split() if period_text is None else [quota_text.strip(), period_text.strip()]
    if len(parts) != 2:
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:  # "max": no limit
        return None
    return max(1, math.ceil(quota / period)) if quota > 0 and period > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def cores(cgroup_v2: Path = _CGROUP_V2, cgroup_v1: Path = _CGROUP_V1) -> int:
    """The CPUs this process may use: those it may run on, fewer under a container's CPU quota
    (`docker run --cpus 2` on a 64-core host still shows 64 CPUs)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    v2 = _read(cgroup_v2)
    if v2 is not None:
        quota = quota_cpus(v2)
    else:
        q, p = _read(cgroup_v1 / "cpu.cfs_quota_us"), _read(cgroup_v1 / "cpu.cfs_period_us")
        quota = quota_cpus(q, p) if q is not None and p is not None else None
    return min(n, quota) if quota else n


def _worker_start(parent: int) -> None:
    """Workers leave Ctrl-C to the caller, which stops them. They start with SIGINT blocked (see
    `started`), so one cannot arrive before this runs.

    A worker dies with the caller: killed (SIGTERM, SIGKILL), the caller cannot stop its workers, and
    they would wait forever on a queue no one writes to any more."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the caller died before the line above
            os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Kill the workers and let the pool go, with Ctrl-C held back meanwhile (a second one while a
    pool shuts down leaves its workers waiting for a message that never comes)."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        workers = list((pool._processes or {}).values())  # no public way to reach them before 3.14
        for w in workers:
            w.kill()
        for w in workers:
            w.join(10)
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


_DIED = "a worker process was killed (out of memory?) before it finished"


def _results(futures: list[Future[R]]) -> list[R]:
    try:
        return [f.result() for f in futures]
    except BrokenProcessPool:
        raise WorkerDied(_DIED) from None


@contextmanager
def started(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[Callable[[], list[R]]]:
    """Start `fn(item)` for every item on `workers` processes (in this process when `workers` <= 1).

    Yields a function that waits for the results, in the items' order (`WorkerDied` if a worker was
    killed). Between the start and that call the caller is free to do other work. On any error or
    interrupt, the workers are killed before the error goes on."""
    if workers <= 1 or len(items) <= 1:
        yield lambda: [fn(item) for item in items]
        return
    # fork: the workers share the loaded modules, nothing is pickled but the items and the results.
    # Elsewhere the platform's default (spawn on macOS, where fork is unsafe).
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    # Ctrl-C is held back while the workers are started (they inherit the mask); it arrives right after.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = ProcessPoolExecutor(
            min(workers, len(items)), mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        raise
    try:
        try:
            futures: list[Future[R]] = [pool.submit(fn, item) for item in items]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        yield lambda: _results(futures)
        pool.shutdown(wait=True)
    except BrokenProcessPool:  # a worker killed while the items were being handed out
        _stop(pool)
        raise WorkerDied(_DIED) from None
    except BaseException:
        _stop(pool)
        raise
