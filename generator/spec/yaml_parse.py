"""Defensive YAML parsing: size, encoding, depth, alias expansion and duplicate keys are checked, and the
line of every node is kept for messages."""

from __future__ import annotations

import math
from typing import Any, NoReturn

import yaml
from slodrift.generator.spec.document import Document, SpecError, SpecIssue

from slodrift.issues import Path_, format_path

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000
MAX_DOCUMENTS = 1000


def _compose(text: str, multi: bool) -> list[yaml.Node | None]:
    """The node trees of `text`: libyaml's parser when PyYAML has it (several times faster on a big spec),
    PyYAML's own otherwise; on invalid YAML always PyYAML's, whose messages the error corpus pins."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return list(yaml.compose_all(text, Loader=fast)) if multi else [yaml.compose(text, Loader=fast)]
        except yaml.YAMLError:
            pass
    return (
        list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        if multi
        else [yaml.compose(text, Loader=yaml.SafeLoader)]
    )


def parse_yaml_documents(file: str, raw: bytes, multi: bool = False) -> list[tuple[Any, dict[Path_, int]]]:
    """Parse YAML defensively: size, encoding, depth, alias expansion and duplicate keys are all checked.

    Returns each document with the line of every node; `multi` accepts several `---` documents (Sloth
    and OpenSLO files), otherwise a second document is invalid YAML. An empty file gives no document.
    """
    if len(raw) > MAX_BYTES:
        raise SpecError([SpecIssue(file, "", None, f"file is {len(raw)} bytes; the limit is {MAX_BYTES}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError([SpecIssue(file, "", line, f"not valid UTF-8 (byte offset {exc.start})")]) from None
    budget = [MAX_NODES]  # shared by all documents: many small alias bombs are one big one
    constructor = yaml.SafeLoader("")

    def fail(path: Path_, node: yaml.Node, message: str) -> NoReturn:
        raise SpecError([SpecIssue(file, format_path(path), node.start_mark.line + 1, message)])

    def pairs(n: yaml.MappingNode, path: Path_, depth: int) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping with YAML merge keys (`<<: *defaults`) applied:
        keys written in the mapping win over merged ones, and earlier merged mappings over later ones."""
        own: list[tuple[str, yaml.Node, yaml.Node]] = []
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        for k, v in n.value:
            if not isinstance(k, yaml.ScalarNode):
                fail(path, k, "mapping keys must be plain strings")
            if k.tag == "tag:yaml.org,2002:merge":
                sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        fail(
                            path,
                            src,
                            "a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *defaults",
                        )
                    if depth > MAX_DEPTH:
                        fail(path, src, f"nested deeper than {MAX_DEPTH} levels")
                    merged += pairs(src, path, depth + 1)
                continue
            key = constructor.construct_object(k)
            own.append((key if isinstance(key, str) else str(key), k, v))
        out, seen = [], set()
        for key, k, v in own:
            if key in seen:
                fail((*path, key), k, f"duplicate key {key!r}")
            seen.add(key)
            out.append((key, k, v))
        for key, k, v in merged:
            if key not in seen:
                seen.add(key)
                out.append((key, k, v))
        return out

    def build(n: yaml.Node, path: Path_, lines: dict[Path_, int], depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            fail(path, n, f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
        if depth > MAX_DEPTH:
            fail(path, n, f"nested deeper than {MAX_DEPTH} levels")
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            return {key: build(v, (*path, key), lines, depth + 1) for key, _, v in pairs(n, path, depth)}
        if isinstance(n, yaml.SequenceNode):
            return [build(v, (*path, i), lines, depth + 1) for i, v in enumerate(n.value)]
        try:
            value = constructor.construct_object(n)
        except ValueError as exc:  # an integer with more digits than Python converts
            fail(path, n, f"{n.value[:40]!r}...: not a usable number ({exc})")
        if isinstance(value, float) and not math.isfinite(value):
            fail(path, n, f"{n.value[:40]!r} is not a finite number (NaN and infinities are not allowed)")
        if hasattr(value, "isoformat"):
            value = n.value  # keep dates and times as text; the schema and model parse them
        return value

    documents: list[tuple[Any, dict[Path_, int]]] = []
    try:
        for node in _compose(text, multi):
            if node is None:
                continue
            if len(documents) >= MAX_DOCUMENTS:
                raise SpecError([SpecIssue(file, "", None, f"more than {MAX_DOCUMENTS} YAML documents")])
            lines: dict[Path_, int] = {}
            documents.append((build(node, (), lines, 0), lines))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecIssue(file, "", at, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(file, "", None, "nested too deeply")]) from None
    return documents


def parse_yaml(file: str, raw: bytes) -> Document:
    """The one YAML document of a spec file."""
    documents = parse_yaml_documents(file, raw)
    if not documents:
        raise SpecError([SpecIssue(file, "", None, "the file is empty; a spec is a YAML mapping")])
    data, lines = documents[0]
    return Document(file, data, lines)
