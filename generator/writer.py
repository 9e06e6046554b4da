"""Atomic output: every file is fully rendered in memory first, then each is swapped in with rename.

A run that fails while rendering writes nothing; a run that fails while writing leaves each file
either old or new, never half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write one file via a temporary sibling, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tree(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` (relative path → text) under `out_dir`; unchanged files are left untouched."""
    written = []
    for rel, text in sorted(files.items()):
        target = out_dir / rel
        if target.exists() and target.read_text(encoding="utf-8") == text:
            written.append(target)
            continue
        write_atomic(target, text)
        written.append(target)
    return written


MANIFEST = "MANIFEST.sha256"


def manifest_text(files: Mapping[str, str]) -> str:
    """`sha256sum` format, sorted: `sha256sum -c MANIFEST.sha256` checks a release without slodrift."""
    import hashlib

    lines = [f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {rel}" for rel, text in sorted(files.items())]
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
