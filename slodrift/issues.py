"""Problems found in an input file (a spec, a baseline, another tool's spec), and how they are shown.

Every loader collects all its problems before failing, so a user fixes a file in one pass. An `Issue`
names the file, the path inside the document (as `format_path` writes it), the line when it is known,
and what is wrong. `InputError` carries the list; each loader raises its own subclass (`SpecError`,
`BaselineError`, ...) so callers can tell which input was bad.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Issue", "InputError", "Path_", "format_path", "print_issues"]

Path_ = tuple[str | int, ...]

_PLAIN_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


MAX_MESSAGE = 1000  # characters of one message (or path): an echoed 1 MB value must not become the error
MAX_PRINTED = 100  # issues printed before "... and N more"


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class Issue:
    """One problem, precise enough to fix without reading the code (and to jump to in an editor).

    Path and message are capped (`MAX_MESSAGE`), whatever value they quote."""

    file: str
    path: str
    line: int | None
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", _cap(self.file, MAX_MESSAGE))
        object.__setattr__(self, "path", _cap(self.path, MAX_MESSAGE))
        object.__setattr__(self, "message", _cap(self.message, MAX_MESSAGE))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(document)'}: {self.message}"


class InputError(Exception):
    """An input could not be loaded; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def format_path(path: Path_) -> str:
    """`services[0].slos[1].objective`, the form users see in messages; a key that is not plain
    (letters, digits, `_`, `-`) is quoted, so `labels["a.b"]` cannot be read as two keys."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY_RE.fullmatch(key := str(part)):
            out += ("." if out else "") + key
        else:
            out += f"[{json.dumps(key)}]"
    return out


def print_issues(issues: Sequence[Issue], stream: TextIO | None = None) -> None:
    """One `error:` line per issue, then the count; commands that print this write nothing."""
    out = stream if stream is not None else sys.stderr
    for issue in issues[:MAX_PRINTED]:
        print(f"error: {issue}", file=out)
    if len(issues) > MAX_PRINTED:
        print(f"error: ... and {len(issues) - MAX_PRINTED} more", file=out)
    print(f"{len(issues)} error(s); nothing written", file=out)
