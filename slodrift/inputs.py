"""Reading an input file (a spec, a baseline, a MANIFEST, what an importer converts) with a bound.

Only a regular file is read, and never more than its limit: `/dev/zero` or a 1 GB file is refused after
an `fstat`, before any byte is read, and a FIFO is refused without waiting for a writer (it is opened
with `O_NONBLOCK`, which a regular file ignores). A file that grows while it is read is cut at the
limit and refused too.
"""

from __future__ import annotations

import os
import stat

from slodrift.atomic import file_kind

__all__ = ["ReadError", "TooLarge", "read_bounded"]

_CHUNK = 1 << 20


class ReadError(Exception):
    """An input could not be read; the message says why (without the file name: callers add it)."""


class TooLarge(ReadError):
    """The file is over its limit; `size` is what it has (at least), `limit` what is allowed."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"file is {size} bytes; the limit is {limit}")


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; ReadError otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"cannot read: it is {file_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise TooLarge(st.st_size, limit)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise TooLarge(total, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
