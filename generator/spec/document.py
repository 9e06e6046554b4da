"""A parsed spec document and the issues that point into it (file, YAML path, line)."""

from __future__ import annotations

from typing import Any

from slodrift.issues import InputError, Issue, Path_, format_path

SpecIssue = Issue


class SpecError(InputError):
    """A spec could not be loaded; `issues` lists every problem found."""


class Document:
    """A parsed YAML document plus the line of every node, for errors that point at the spec."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def issue(self, path: Path_, message: str) -> SpecIssue:
        line = None
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line:
                break
        return SpecIssue(self.file, format_path(path), line, message)
