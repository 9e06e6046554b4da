"""Run independent pieces of rendering in one process per core (concurrent.futures).

Each service's files depend on that service alone (`render.service_files`), so services are rendered in
chunks by worker processes and the text comes back to the caller, in order. BENCHMARKS.md part 3 has the
interleaved A/B that keeps this: below `MIN_SLOS` a pool costs more than it saves, and one process is
used.
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
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def quota_cpus(cpu_max: str) -> int | None:
    """The CPUs a cgroup v2 `cpu.max` ("<quota> <period>", or "max <period>") allows, rounded up; None
    when unlimited or unreadable."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return max(1, math.ceil(quota / period)) if quota > 0 and period > 0 else None


def cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: those it may run on, fewer under a container's CPU quota
    (`docker run --cpus 2` on a 64-core host still shows 64)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    try:
        quota = quota_cpus(cgroup.read_text())
    except OSError:
        quota = None
    return min(n, quota) if quota else n


def _worker_start(parent: int) -> None:
    """Workers leave Ctrl-C to the caller, which cancels what has not started (no worker traceback).
    They start with SIGINT blocked (see `started`), so one cannot arrive before this runs.

    A worker dies with the caller: killed (SIGTERM, SIGKILL), the caller cannot stop its workers, and
    they would wait forever on a queue no one writes to any more."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the caller died before the line above
            os._exit(1)


@contextmanager
def started(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[Callable[[], list[R]]]:
    """Start `fn(item)` for every item on `workers` processes (in this process when `workers` <= 1).

    Yields a function that waits for the results, in the items' order. Between the start and that call
    the caller is free to do other work. On any error or interrupt, items not started are cancelled and
    the workers stopped before the error goes on."""
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
        yield lambda: [f.result() for f in futures]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
