"""Atomic output: every file is fully rendered in memory first, then staged, then swapped in with rename.

A run that fails while rendering or staging writes nothing (the staged temporary files are removed);
only the renames at the end can be interrupted, and they leave each file either old or new, never
half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FSYNC_THREADS = 8  # fsync waits on the disk, not the CPU: overlapping them lets the journal batch them


def _stage(path: Path, text: str) -> Path:
    """Write `text` to a new temporary sibling of `path` (not yet synced); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write one file via a temporary sibling, fsync and rename."""
    tmp = _stage(path, text)
    try:
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_tree(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` (relative path → text) under `out_dir`; unchanged files are left untouched.

    Every changed file is staged and synced before the first is renamed into place, so a failure
    while writing (a full disk, say) changes nothing.
    """
    written = []
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, text in sorted(files.items()):
            target = out_dir / rel
            written.append(target)
            if target.exists() and target.read_text(encoding="utf-8") == text:
                continue
            staged.append((_stage(target, text), target))
        if staged:
            with ThreadPoolExecutor(min(FSYNC_THREADS, len(staged))) as pool:
                list(pool.map(_fsync, [tmp for tmp, _ in staged]))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return written


MANIFEST = "MANIFEST.sha256"


def manifest_text(files: Mapping[str, str]) -> str:
    """`sha256sum` format, sorted: `sha256sum -c MANIFEST.sha256` checks a release without slodrift."""
    import hashlib

    lines = [
        f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {rel}" for rel, text in sorted(files.items())
    ]
    return "\n".join(lines) + "\n"


def verify_tree(out_dir: Path) -> list[str]:
    """Problems found checking `out_dir` against its manifest (empty: everything matches)."""
    import hashlib

    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return [f"{manifest}: missing"]
    problems = []
    for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel or rel.startswith("/") or ".." in Path(rel).parts:
            problems.append(f"{manifest}:{n}: not a 'sha256  relative/path' line")
            continue
        target = out_dir / rel
        if not target.is_file():
            problems.append(f"{rel}: missing")
        elif hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            problems.append(f"{rel}: changed since it was generated")
    return problems
