"""What both importers share: YAML documents with line numbers, issues, label and annotation cleaning.

An importer never hands back a spec that slodrift would reject: everything it cannot express is either
converted with a warning (a label renamed, a template action dropped) or refused with an error that
names the file, the YAML path and, where known, the line. The last step of every import is
`finish()`, which runs the result through slodrift's own loader, so a spec that slips past the
importer's checks still becomes an error here instead of a file that fails later in `generate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from generator import promql
from generator.spec import LABEL_REF_RE, MAX_BYTES, RESERVED_LABELS, SpecError, SpecIssue, load_spec_text

Path_ = tuple[str | int, ...]
TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
MAX_DOCUMENTS = 1000


class ImportFailed(Exception):
    """The input cannot be converted; `issues` lists every problem found (file, path, line, message)."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class Imported:
    """A converted spec (plain data, ready for `dump_spec`) and the warnings about what was changed."""

    spec: dict[str, Any]
    warnings: list[SpecIssue] = field(default_factory=list)


@dataclass
class Source:
    """Parsed YAML documents of one input file, with the line of every node when parsed from text."""

    file: str
    documents: list[Any]
    lines: list[dict[Path_, int]] = field(default_factory=list)


def parse_source(file: str, raw: bytes) -> Source:
    """Parse every YAML document of a file (Sloth and OpenSLO files may hold several, split by `---`).

    Duplicate keys are errors (PyYAML would silently keep the last one, and an SLO would quietly
    lose a setting); times stay text; line numbers are kept for messages.
    """
    if len(raw) > MAX_BYTES:
        raise ImportFailed([SpecIssue(file, "", None, f"file is {len(raw)} bytes; the limit is {MAX_BYTES}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFailed([SpecIssue(file, "", line, f"not valid UTF-8 (byte offset {exc.start})")]) from None
    constructor = yaml.SafeLoader("")
    documents: list[Any] = []
    all_lines: list[dict[Path_, int]] = []

    def build(n: yaml.Node, path: Path_, lines: dict[Path_, int], depth: int) -> Any:
        if depth > 40:
            raise ImportFailed([SpecIssue(file, promql_path(path), n.start_mark.line + 1, "nested too deeply")])
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for k, v in n.value:
                key = constructor.construct_object(k) if isinstance(k, yaml.ScalarNode) else None
                if not isinstance(key, str | int | float | bool):
                    raise ImportFailed([SpecIssue(file, promql_path(path), k.start_mark.line + 1,
                                                  "mapping keys must be plain strings")])
                key = str(key)
                if key in out:
                    raise ImportFailed([SpecIssue(file, promql_path((*path, key)), k.start_mark.line + 1,
                                                  f"duplicate key {key!r}")])
                out[key] = build(v, (*path, key), lines, depth + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, (*path, i), lines, depth + 1) for i, v in enumerate(n.value)]
        value = constructor.construct_object(n)
        return n.value if isinstance(value, datetime | date) else value

    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if node is None:
                continue
            if len(documents) >= MAX_DOCUMENTS:
                raise ImportFailed([SpecIssue(file, "", None, f"more than {MAX_DOCUMENTS} YAML documents")])
            lines: dict[Path_, int] = {}
            documents.append(build(node, (), lines, 0))
            all_lines.append(lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportFailed([SpecIssue(file, "", mark.line + 1 if mark else None, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise ImportFailed([SpecIssue(file, "", None, "nested too deeply")]) from None
    if not documents:
        raise ImportFailed([SpecIssue(file, "", None, "the file is empty")])
    return Source(file, documents, all_lines)


def promql_path(path: Path_) -> str:
    """`slos[0].sli.events`: the same path notation as slodrift's own spec errors."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


class Context:
    """Collects errors and warnings for one input file, pointing each at a document and YAML path."""

    def __init__(self, source: Source, label_prefix: str) -> None:
        self.source = source
        self.label_prefix = label_prefix
        self.doc = 0
        self.errors: list[SpecIssue] = []
        self.warnings: list[SpecIssue] = []
        # Labels renamed because slodrift reserves their names; annotation references follow them.
        self.renamed: dict[str, str] = {}

    def _issue(self, path: Path_, message: str) -> SpecIssue:
        full: Path_ = (f"documents[{self.doc}]", *path) if len(self.source.documents) > 1 else path
        line = None
        lines = self.source.lines[self.doc] if self.doc < len(self.source.lines) else {}
        for n in range(len(path), -1, -1):
            line = lines.get(tuple(path[:n]))
            if line:
                break
        return SpecIssue(self.source.file, promql_path(full), line, message)

    def error(self, path: Path_, message: str) -> None:
        self.errors.append(self._issue(path, message))

    def warn(self, path: Path_, message: str) -> None:
        self.warnings.append(self._issue(path, message))

    def check(self) -> None:
        """Stop here if anything was wrong: a partial conversion is not worth writing."""
        if self.errors:
            raise ImportFailed(self.errors)

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any]:
        """`value` if it is a mapping, else an error (and an empty mapping, so checking can continue)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping, not {type(value).__name__}")
            return {}
        return value

    def labels(self, raw: Any, path: Path_) -> dict[str, str]:
        """Labels slodrift accepts: legal names, not reserved (renamed with a prefix), non-empty strings."""
        out: dict[str, str] = {}
        for name, value in self.mapping(raw, path, "labels").items():
            lpath = (*path, name)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = ",".join(value)
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, str | int | float):
                self.warn(lpath, f"label value of type {type(value).__name__} dropped")
                continue
            value = str(value)
            new = re.sub(r"[^a-zA-Z0-9_]", "_", name)
            if not new or new[0].isdigit() or new.startswith("__") or new in RESERVED_LABELS:
                new = f"{self.label_prefix}_{new.lstrip('_')}"
            if new != name:
                self.renamed[name] = new
                self.warn(lpath, f"label {name!r} renamed to {new!r}"
                          + (" (slodrift sets it itself)" if name in RESERVED_LABELS else
                             " (Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*)"))
            if value == "":
                self.warn(lpath, "empty label value dropped (Prometheus treats it as an absent label)")
                continue
            if "{{" in value:
                self.warn(lpath, "label value contains '{{': slodrift keeps it as literal text, not a template")
            out[new] = value
        return out

    def annotations(self, raw: Any, path: Path_, label_refs: dict[str, str] | None = None) -> dict[str, str]:
        """Annotations whose template actions are all `{{ $labels.NAME }}`: the only kind slodrift allows,
        because its generated promtool tests must be able to render every annotation exactly.

        `label_refs` maps a source tool's own label names to slodrift's (Sloth's `sloth_slo` is `slo`);
        a reference may also expand to several actions. Any other action is dropped with a warning.
        """
        refs = label_refs or {}
        out: dict[str, str] = {}
        for name, text in self.mapping(raw, path, "annotations").items():
            apath = (*path, name)
            if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", name):
                self.warn(apath, f"annotation {name!r} dropped: not a valid annotation name")
                continue
            if not isinstance(text, str):
                text = "" if text is None else str(text)

            def convert(m: re.Match[str], apath: Path_ = apath) -> str:
                ref = LABEL_REF_RE.match(m.group(1))
                if ref:
                    label = ref.group(1)
                    if label in refs:
                        return refs[label]
                    return "{{ $labels." + self.renamed.get(label, label) + " }}"
                self.warn(apath, f"template action {m.group(0)!r} dropped: slodrift annotations may only use "
                          "{{ $labels.NAME }}")
                return ""

            out[name] = TEMPLATE_RE.sub(convert, text).strip() if "{{" in text else text
        return out


def label_name_ok(name: str) -> bool:
    """A legal, non-internal Prometheus label name."""
    try:
        promql.check_label_name(name)
    except promql.PromQLError:
        return False
    return True


def dump_spec(spec: dict[str, Any], header: str = "") -> str:
    """The spec as YAML a person will review: keys in slodrift's order, multi-line PromQL as blocks."""

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        block = "\n" in data and all(line == line.rstrip() for line in data.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if block else None)

    Dumper.add_representer(str, text)
    body = yaml.dump(spec, Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=110)
    head = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return head + body


def finish(ctx: Context, spec: dict[str, Any]) -> Imported:
    """Validate the converted spec with slodrift's own loader; its complaints become import errors."""
    ctx.check()
    try:
        load_spec_text(ctx.source.file, dump_spec(spec).encode("utf-8"))
    except SpecError as exc:
        raise ImportFailed([SpecIssue(ctx.source.file, "", None,
                                      f"the converted spec is not valid for slodrift: {i.path or '(document)'}: "
                                      f"{i.message}") for i in exc.issues]) from None
    return Imported(spec, ctx.warnings)


def percent(value: Any) -> int | float:
    """A number for the spec without float noise (99.9, not 99.90000000000001)."""
    f = float(value)
    return int(f) if f.is_integer() else float(repr(round(f, 10)))
