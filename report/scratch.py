"""A short-lived Prometheus on 127.0.0.1 that evaluates queries over blocks made so far plus raw history.

The scratch server opens a data directory holding the TSDB blocks of the levels already evaluated and
reads everything else from the source Prometheus through Prometheus' own `remote_read`
(`/api/v1/read`, `read_recent: true`, so recent data is read too). It scrapes nothing and evaluates no
rules; it only answers `query_range`. It listens on a free port, is killed after `limit_s` seconds
whatever happens, and is always stopped (and its process group with it) when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScratchError", "Scratch", "scratch_prometheus", "link_blocks"]


class ScratchError(RuntimeError):
    """The scratch Prometheus could not start or died; the message carries the end of its log."""


@dataclass(frozen=True)
class Scratch:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def link_blocks(src: Path, dst: Path) -> int:
    """Hard-link (or copy, across file systems) every block of `src` into `dst`; returns how many.

    Prometheus may compact or delete the blocks of its data directory; links keep `src` intact.
    """
    n = 0
    for block in sorted(src.iterdir()) if src.exists() else []:
        if not (block / "meta.json").exists() or (dst / block.name).exists():
            continue
        tmp = dst / f"{block.name}.tmp"
        for path in block.rglob("*"):
            target = tmp / path.relative_to(block)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
        tmp.rename(dst / block.name)
        n += 1
    return n


def _config(source_url: str | None) -> dict[str, object]:
    cfg: dict[str, object] = {"global": {"evaluation_interval": "1m", "scrape_interval": "1m"}}
    if source_url:
        cfg["remote_read"] = [
            {"url": source_url.rstrip("/") + "/api/v1/read", "read_recent": True, "remote_timeout": "5m"}
        ]
    return cfg


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@contextlib.contextmanager
def scratch_prometheus(
    work: Path,
    blocks: list[Path],
    source_url: str | None,
    lookback_ms: int,
    limit_s: float = 3600.0,
    start_timeout_s: float = 120.0,
) -> Iterator[Scratch]:
    """A scratch Prometheus over `blocks` (directories of TSDB blocks) and `source_url` (remote read).

    `lookback_ms` is its `--query.lookback-delta`: how old a sample an instant selector still sees.
    """
    binary = shutil.which("prometheus")
    if not binary:
        raise ScratchError("prometheus is not installed (Debian: apt-get install prometheus)")
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    data.mkdir(exist_ok=True)
    for b in blocks:
        link_blocks(b, data)
    cfg = work / "prometheus.yml"
    cfg.write_text(json.dumps(_config(source_url)))  # JSON is YAML
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "prometheus.log"
    args = [
        binary,
        f"--config.file={cfg}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=100y",
        "--storage.tsdb.min-block-duration=2h",
        "--storage.tsdb.max-block-duration=2h",
        f"--query.lookback-delta={lookback_ms}ms",
        "--query.timeout=10m",
        "--query.max-samples=200000000",
        "--log.level=warn",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    killer = threading.Timer(limit_s, _stop, args=(proc,))
    killer.daemon = True
    killer.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _ready(url):
            if proc.poll() is not None:
                raise ScratchError(
                    f"scratch prometheus exited ({proc.returncode}): {log.read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise ScratchError(
                    f"scratch prometheus not ready after {start_timeout_s:g}s: {log.read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield Scratch(url=url, log=log)
        if proc.poll() is not None:
            raise ScratchError(f"scratch prometheus died while in use: {log.read_text()[-2000:]}")
    finally:
        killer.cancel()
        _stop(proc)
