"""The generated tree on disk: written atomically through `slodrift.atomic`, vouched for by
`MANIFEST.sha256`, checked by `slodrift verify`, and kept free of stale files.

Every file is rendered in memory first, then the changed ones are staged, fsynced and renamed together
(`slodrift.atomic.write_files`): a run that fails writes nothing, never follows a symlink, and gives new
files the umask's mode and replaced files their old one.

A spec that drops a service leaves rule files behind that Prometheus would keep loading. `prune` removes
the files the previous MANIFEST listed, that the new output does not have, and that nobody edited since;
files of slodrift's naming that no MANIFEST vouches for are reported, not removed (they may be a user's).
`verify` flags such files too.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from slodrift.atomic import OutputError, file_kind, remove_files, write_file, write_files
from slodrift.inputs import ReadError, read_bounded

__all__ = [
    "MANAGED_DIRS",
    "MANIFEST",
    "OWN_NAME_RE",
    "TEMPORARY_RE",
    "OutputError",
    "manifest_text",
    "prune",
    "temporaries",
    "read_manifest",
    "unlisted_files",
    "verify_tree",
    "write_atomic",
    "write_tree",
]

MANIFEST = "MANIFEST.sha256"
MANIFEST_MAX_BYTES = 16 * 1024 * 1024
FILE_MAX_BYTES = 256 * 1024 * 1024  # far beyond any generated file; a bigger one was not written by us
# The folders `generate` writes; `verify` and `prune` look only here, so an output directory may hold
# other things (the repository root holds the golden files next to the code).
MANAGED_DIRS = ("rules", "promtool-tests", "alertmanager", "dashboards", "kubernetes")
# Names `generate` gives its files: what `prune` and `verify` recognise as slodrift's own.
OWN_NAME_RE = re.compile(
    r"^(?:rules/[^/]+\.(?:slo|slo-alerts|slo-data|drift)\.yml|rules/slodrift-stability\.yml"
    r"|promtool-tests/[^/]+\.(?:slo|slo-alerts|slo-data|slo-windows|drift)\.test\.yml"
    r"|promtool-tests/slodrift-stability\.test\.yml"
    r"|kubernetes/[^/]+\.prometheusrule\.yml|alertmanager/alertmanager\.yml|dashboards/slodrift\.json)$"
)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write one file atomically (see `slodrift.atomic.write_file`)."""
    write_file(path, text)


def write_tree(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` (relative path → text) under `out_dir`; unchanged files are left untouched."""
    return write_files(out_dir, files)


def manifest_text(files: Mapping[str, str]) -> str:
    """`sha256sum` format, sorted: `sha256sum -c MANIFEST.sha256` checks a release without slodrift."""
    lines = [
        f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {rel}" for rel, text in sorted(files.items())
    ]
    return "\n".join(lines) + "\n"


def read_manifest(out_dir: Path) -> tuple[dict[str, str], list[str]]:
    """The entries of `out_dir/MANIFEST.sha256` (relative path → digest) and problems reading it."""
    manifest = out_dir / MANIFEST
    try:
        st = os.lstat(manifest)
    except FileNotFoundError:
        return {}, [f"{manifest}: missing"]
    except OSError as exc:
        return {}, [f"{manifest}: cannot read: {exc.strerror}"]
    if not stat.S_ISREG(st.st_mode):
        return {}, [f"{manifest}: it is {file_kind(st.st_mode)}, not a regular file"]
    try:
        raw = read_bounded(manifest, MANIFEST_MAX_BYTES)
        text = raw.decode("utf-8")
    except ReadError as exc:
        return {}, [f"{manifest}: {exc}"]
    except UnicodeDecodeError as exc:
        return {}, [f"{manifest}: not UTF-8 (byte {exc.start})"]
    entries: dict[str, str] = {}
    problems = []
    for n, line in enumerate(text.splitlines(), start=1):
        digest, sep, rel = line.partition("  ")
        if (
            not sep
            or not re.fullmatch(r"[0-9a-f]{64}", digest)
            or not rel
            or rel.startswith("/")
            or ".." in Path(rel).parts
        ):
            problems.append(f"{manifest}:{n}: not a 'sha256  relative/path' line")
            continue
        entries[rel] = digest
    return entries, problems


def _digest(path: Path) -> tuple[str | None, str | None]:
    """(sha256, None) of a regular file that is not a symlink, or (None, why not)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return None, f"is {file_kind(st.st_mode)}, not a regular file"
    try:
        return hashlib.sha256(read_bounded(path, FILE_MAX_BYTES)).hexdigest(), None
    except ReadError as exc:
        return None, str(exc)


def _walk(out_dir: Path) -> tuple[list[str], list[str]]:
    """Relative paths of the files under the managed folders (no symlink followed), and problems."""
    found, problems = [], []
    for top in MANAGED_DIRS:
        base = out_dir / top
        if not os.path.lexists(base):
            continue
        if os.path.islink(base) or not base.is_dir():
            problems.append(f"{top}: is {file_kind(os.lstat(base).st_mode)}, not a directory")
            continue
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            rel_dir = Path(dirpath).relative_to(out_dir)
            for d in list(dirnames):
                if os.path.islink(os.path.join(dirpath, d)):
                    problems.append(f"{(rel_dir / d).as_posix()}: a symbolic link inside the output")
                    dirnames.remove(d)
            found += [(rel_dir / f).as_posix() for f in filenames]
    return sorted(found), problems


def unlisted_files(out_dir: Path, listed: Mapping[str, object]) -> list[str]:
    """Files in the managed folders that `listed` does not have (temporaries of a crashed run too)."""
    return [rel for rel in _walk(out_dir)[0] if rel not in listed]


def verify_tree(out_dir: Path) -> list[str]:
    """Problems found checking `out_dir` against its manifest (empty: everything matches)."""
    entries, problems = read_manifest(out_dir)
    if not entries and problems:
        return problems
    for rel, digest in entries.items():
        actual, why = _digest(out_dir / rel)
        if why is not None:
            problems.append(f"{rel}: {why}")
        elif actual != digest:
            problems.append(f"{rel}: changed since it was generated")
    found, walk_problems = _walk(out_dir)
    problems += walk_problems
    leftovers = set(temporaries(out_dir))
    problems += [
        f"{rel}: a temporary file an interrupted run left (the next `slodrift generate` removes it)"
        if rel in leftovers
        else f"{rel}: not listed in {MANIFEST} (stale or added by hand)"
        for rel in found
        if rel not in entries
    ]
    return problems


# A temporary `slodrift.atomic` stages a file in (`.<name>.<8 hex>.tmp` beside it): a run killed while
# writing (SIGKILL, power loss) leaves them behind.
TEMPORARY_RE = re.compile(r"^(?P<dir>(?:[^/]+/)*)\.(?P<name>[^/]+)\.[0-9a-f]{8}\.tmp$")


def temporaries(out_dir: Path) -> list[str]:
    """Temporaries of an interrupted run, for files slodrift writes (its own names and the manifest)."""
    found = _walk(out_dir)[0]
    try:
        found += [n for n in os.listdir(out_dir) if n.startswith(f".{MANIFEST}.")]
    except OSError:
        pass
    out = []
    for rel in found:
        m = TEMPORARY_RE.match(rel)
        if m and (OWN_NAME_RE.fullmatch(m["dir"] + m["name"]) or m["dir"] + m["name"] == MANIFEST):
            out.append(rel)
    return sorted(out)


def prune(
    out_dir: Path, previous: Mapping[str, str], current: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """After a successful write: remove what the previous MANIFEST listed and the new output lacks, if
    unedited, and the temporaries an interrupted run left. Returns (removed, left) where `left` are
    stale-looking files kept, with the reason."""
    stale = [rel for rel in previous if rel not in current and rel != MANIFEST]
    unedited = [rel for rel in stale if _digest(out_dir / rel)[0] == previous[rel]] + temporaries(out_dir)
    removed = remove_files(out_dir, unedited) if unedited else []
    left = [
        f"{rel}: left in place: edited since slodrift generated it"
        for rel in stale
        if rel not in removed and os.path.lexists(out_dir / rel)
    ]
    for rel in _walk(out_dir)[0]:
        if rel not in current and rel not in previous and OWN_NAME_RE.fullmatch(rel):
            left.append(f"{rel}: left in place: named like slodrift's output, but no {MANIFEST} lists it")
    return removed, left
