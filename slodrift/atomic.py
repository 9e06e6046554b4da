"""Every file slodrift writes for a user goes through here: generated rules and tests, reports, baselines,
`import --out`.

- **Regular files only, never through a symbolic link.** Directories below the output root are opened
  one component at a time with `O_NOFOLLOW` and used through their file descriptors, so a symlink (or a
  symlink swapped in while writing) can never send a file outside the root. A target that exists and is
  not a regular file (a symlink, FIFO, device, socket or directory) is refused, never replaced.
- **Atomic.** Each file is written to a temporary sibling, every one of them is fsynced, and only then
  are they renamed into place and their directories fsynced. A failure before the renames (a full disk,
  a read-only directory) changes no file, removes the temporaries and the directories this call created.
  A reader sees each file old or new, never half-written.
- **Modes.** A new file gets the mode the umask gives (0644 under the usual 022: `mkstemp`'s 0600 would
  hide the rules from a Prometheus running as another user). A replaced file keeps its permission bits,
  and, where the process may (root), its owner and group.

Every failure is an `OutputError` whose message names the file and the reason.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["OutputError", "file_kind", "remove_files", "signals_held", "write_file", "write_files"]

# fsync waits on the disk, not the CPU: overlapping them lets the journal batch them. 0.25-0.47 s against
# 0.8-1.0 s one after another for the files of 1000 SLOs; 8 threads were no better than 4 beyond the
# noise in three runs (BENCHMARKS.md, part 3; bench/fsync_ab.py), so 4.
_FSYNC_THREADS = 4
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait until the block ends, then act as usual: files being renamed
    into place are all renamed, never half of them (only SIGKILL cannot wait; the temporaries it
    leaves are removed by the next `generate`).

    In the main thread the three get a handler that notes them, and are sent again once the old
    handlers are back: the kernel may deliver a signal to any thread, and Python runs handlers in the
    main thread. Elsewhere (Python lets only the main thread set handlers) they are blocked in the
    calling thread, which holds them only if no other thread takes them."""
    previous = {s: signal.getsignal(s) for s in _HELD}
    if threading.current_thread() is not threading.main_thread() or None in previous.values():
        before = signal.pthread_sigmask(signal.SIG_BLOCK, set(_HELD))
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        return
    noted: list[int] = []
    for s in _HELD:
        signal.signal(s, lambda signum, _frame: noted.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(noted):
            os.kill(os.getpid(), signum)


class OutputError(Exception):
    """A file could not be written (or removed); the message names it and says why."""


def file_kind(mode: int) -> str:
    """`a symbolic link`, `a FIFO`, ... for messages about something that is not a regular file."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@dataclass
class _Staged:
    dir_fd: int
    tmp: str
    name: str
    fd: int | None
    shown: str  # the target's path, for messages


class _Tree:
    """Directories under one root, opened without following symlinks; remembers what it created."""

    def __init__(self, root: Path, create: bool) -> None:
        self.root = root
        self.fds: dict[tuple[str, ...], int] = {}
        self.created_root: list[Path] = []  # root and its missing ancestors, outermost first
        self.created: list[tuple[tuple[str, ...], str]] = []  # (parent parts, name) made below the root
        if create:
            missing = []
            p = root
            while not os.path.lexists(p) and p != p.parent:
                missing.append(p)
                p = p.parent
            for d in reversed(missing):
                try:
                    os.mkdir(d)
                except FileExistsError:
                    continue
                except OSError as exc:
                    self.close(failed=True)
                    raise OutputError(f"cannot create directory {d}: {_reason(exc)}") from None
                self.created_root.append(d)
        try:
            self.fds[()] = os.open(root, _DIR_FLAGS)
        except NotADirectoryError:
            self.close(failed=True)
            raise OutputError(f"{root} is not a directory") from None
        except OSError as exc:
            self.close(failed=True)
            raise OutputError(f"cannot open directory {root}: {_reason(exc)}") from None

    def shown(self, parts: tuple[str, ...]) -> str:
        return str(self.root.joinpath(*parts)) if parts else str(self.root)

    def dir(self, parts: tuple[str, ...], create: bool) -> int | None:
        """The fd of `root/parts`, creating missing directories when `create`; None when absent."""
        if parts in self.fds:
            return self.fds[parts]
        parent = self.dir(parts[:-1], create)
        if parent is None:
            return None
        name = parts[-1]
        try:
            fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(name, 0o777, dir_fd=parent)
            except OSError as exc:
                raise OutputError(f"cannot create directory {self.shown(parts)}: {_reason(exc)}") from None
            self.created.append((parts[:-1], name))
            fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            try:
                st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except OSError:
                st = None
            if st is not None and not stat.S_ISDIR(st.st_mode):
                raise OutputError(
                    f"{self.shown(parts)} is {file_kind(st.st_mode)}, not a directory; slodrift writes "
                    "only into real directories under its output directory"
                ) from None
            raise OutputError(f"cannot open directory {self.shown(parts)}: {_reason(exc)}") from None
        self.fds[parts] = fd
        return fd

    def close(self, failed: bool = False) -> None:
        """Close every fd; after a failure, remove the (empty) directories this tree created."""
        if failed:
            for parent, name in reversed(self.created):
                fd = self.fds.get(parent)
                if fd is not None:
                    try:
                        os.rmdir(name, dir_fd=fd)
                    except OSError:
                        pass
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()
        if failed:
            for d in reversed(self.created_root):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


def _split(rel: str) -> tuple[tuple[str, ...], str]:
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise OutputError(f"{rel!r} is not a relative path below the output directory")
    return tuple(parts[:-1]), parts[-1]


def _unchanged(dir_fd: int, name: str, data: bytes, st: os.stat_result) -> bool:
    if st.st_size != len(data):
        return False
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(len(data) + 1) == data
    finally:
        os.close(fd)


def _stage(tree: _Tree, rel: str, data: bytes, skip_unchanged: bool) -> _Staged | None:
    """Write `data` to a new temporary sibling of `rel` with the target's mode; None if unchanged."""
    parts, name = _split(rel)
    dir_fd = tree.dir(parts, create=True)
    assert dir_fd is not None
    shown = tree.shown((*parts, name))
    try:
        st: os.stat_result | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {_reason(exc)}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(
            f"cannot write {shown}: it is {file_kind(st.st_mode)}; slodrift writes regular files only "
            "and does not replace anything else (remove it first)"
        )
    try:
        if st is not None and skip_unchanged and _unchanged(dir_fd, name, data, st):
            return None
    except OSError:
        pass  # unreadable: rewrite it
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666, dir_fd=dir_fd)  # the kernel applies the umask
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {shown}: {_reason(exc)}") from None
    else:
        raise OutputError(f"cannot write {shown}: no free temporary name")
    staged = _Staged(dir_fd, tmp, name, fd, shown)
    try:
        if st is not None:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) & 0o777)
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, st.st_uid, st.st_gid)
                except OSError:
                    pass  # not permitted (not root): the file is the writer's now, with the old mode
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        _discard(staged)
        raise OutputError(f"cannot write {shown}: {_reason(exc)}") from None
    return staged


def _discard(s: _Staged) -> None:
    if s.fd is not None:
        os.close(s.fd)
        s.fd = None
    try:
        os.unlink(s.tmp, dir_fd=s.dir_fd)
    except OSError:
        pass


def _sync(s: _Staged) -> None:
    assert s.fd is not None
    try:
        os.fsync(s.fd)
    except OSError as exc:
        raise OutputError(f"cannot write {s.shown}: {_reason(exc)}") from None


def _encode(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def write_files(
    root: str | os.PathLike[str], files: Mapping[str, str | bytes], *, skip_unchanged: bool = True
) -> list[Path]:
    """Write `files` (relative POSIX path → text or bytes) under `root`, all or nothing.

    `root` and its missing ancestors are created; below it, no symlink is followed. With
    `skip_unchanged`, a file whose bytes are already right is left alone (its mtime too). Ctrl-C,
    SIGTERM and SIGHUP wait until it is done (`signals_held`). Returns the target paths, in sorted
    order.
    """
    with signals_held():
        return _write_files(Path(root), files, skip_unchanged)


def _write_files(base: Path, files: Mapping[str, str | bytes], skip_unchanged: bool) -> list[Path]:
    tree = _Tree(base, create=True)
    staged: list[_Staged] = []
    ok = False
    try:
        for rel, data in sorted(files.items()):
            s = _stage(tree, rel, _encode(data), skip_unchanged)
            if s is not None:
                staged.append(s)
        if len(staged) > 1:
            with ThreadPoolExecutor(min(_FSYNC_THREADS, len(staged))) as pool:
                list(pool.map(_sync, staged))
        elif staged:
            _sync(staged[0])
        for s in staged:
            assert s.fd is not None
            os.close(s.fd)
            s.fd = None
        ok = True
    finally:
        if not ok:
            for s in staged:
                _discard(s)
            tree.close(failed=True)
    try:
        renamed: set[int] = set()
        for s in staged:
            try:
                os.replace(s.tmp, s.name, src_dir_fd=s.dir_fd, dst_dir_fd=s.dir_fd)
            except OSError as exc:
                for rest in staged[staged.index(s) :]:
                    _discard(rest)
                raise OutputError(f"cannot write {s.shown}: {_reason(exc)}") from None
            renamed.add(s.dir_fd)
        for fd in renamed:
            try:
                os.fsync(fd)
            except OSError:
                pass  # some file systems cannot sync a directory; the renames are still atomic
    finally:
        tree.close()
    return [base / rel for rel in sorted(files)]


def write_file(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write one file atomically (its directory is created if missing); the file itself may not be a
    symlink or anything but a regular file."""
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise OutputError(f"{path}: not a file name")
    write_files(target.parent, {target.name: data}, skip_unchanged=False)
    return target


def remove_files(root: str | os.PathLike[str], rels: list[str]) -> list[str]:
    """Remove regular files `rels` under `root` without following symlinks; returns what was removed.

    Something that is not a regular file, or a path through a symlinked directory, is left alone.
    """
    tree = _Tree(Path(root), create=False)
    removed = []
    try:
        for rel in rels:
            parts, name = _split(rel)
            try:
                dir_fd = tree.dir(parts, create=False)
            except OutputError:
                continue
            if dir_fd is None:
                continue
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    continue
                os.unlink(name, dir_fd=dir_fd)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot remove {tree.shown((*parts, name))}: {_reason(exc)}") from None
            removed.append(rel)
    finally:
        tree.close()
    return removed
