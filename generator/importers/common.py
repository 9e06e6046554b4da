"""What the importers share: YAML documents and the objects in them, issues with line numbers, label and
annotation cleaning, hints at the right importer.

An importer never hands back a spec that slodrift would reject: everything it cannot express is either
converted with a warning (a label renamed, a template action dropped) or refused with an error that
names the file, the YAML path and, where known, the line. The last step of every import is
`finish()`, which runs the result through slodrift's own loader, so a spec that slips past the
importer's checks still becomes an error here instead of a file that fails later in `generate`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slodrift.generator import promql, yaml_out
from slodrift.generator.alert_templates import LABEL_REF_RE
from slodrift.generator.alert_templates import TEMPLATE_ACTION_RE as TEMPLATE_RE
from slodrift.generator.spec import (
    RESERVED_LABELS,
    SpecError,
    SpecIssue,
    load_spec_text,
    parse_yaml_documents,
)

from slodrift.issues import Path_, format_path

# `{{ .Labels.x }}`: Prometheus' other spelling of `{{ $labels.x }}` in alert templates.
DOT_LABELS_RE = re.compile(r"^\s*\.Labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")
# A severity slodrift accepts for an alert tier (the pattern of spec.schema.json).
SEVERITY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# The other importers, and what marks a document as theirs: which one to suggest when the input is not ours.
TOOLS = {"sloth": "a Sloth spec", "openslo": "OpenSLO", "pyrra": "Pyrra"}


def label_ref(action: str) -> str | None:
    """The label a template action (the text between `{{` and `}}`) refers to: `$labels.x` or `.Labels.x`."""
    ref = LABEL_REF_RE.match(action) or DOT_LABELS_RE.match(action)
    return ref.group(1) if ref else None


def other_tool(doc: dict[str, Any], this: str) -> str | None:
    """The other importer (sloth, openslo, pyrra) whose input `doc` looks like, if any."""
    api = str(doc.get("apiVersion", ""))
    for tool, theirs in (
        ("sloth", "slos" in doc or doc.get("kind") == "PrometheusServiceLevel"),
        ("openslo", api.startswith("openslo/")),
        ("pyrra", api.startswith("pyrra.dev/")),
    ):
        if theirs and tool != this:
            return tool
    return None


def other_tool_hint(doc: dict[str, Any], this: str) -> str:
    """` (OpenSLO: use `slodrift import openslo`)` when `doc` is another importer's input, else ``."""
    tool = other_tool(doc, this)
    return f" ({TOOLS[tool]}: use `slodrift import {tool}`)" if tool else ""


class ImportFailed(SpecError):
    """The input cannot be converted; `issues` lists every problem found (file, path, line, message)."""


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
    try:
        parsed = parse_yaml_documents(file, raw, multi=True)
    except SpecError as exc:
        raise ImportFailed(exc.issues) from None
    # An empty document (a trailing `---`, as kubectl, helm and kustomize write, or only a comment)
    # holds nothing to convert: skipped, as kubectl skips it.
    parsed = [(data, lines) for data, lines in parsed if data is not None]
    if not parsed:
        raise ImportFailed([SpecIssue(file, "", None, "the file is empty")])
    return Source(file, [data for data, _ in parsed], [lines for _, lines in parsed])


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
        # Where each converted service and SLO came from (by object identity): (document, YAML path),
        # so that slodrift's own complaints about the converted spec point at the input.
        self.origins: dict[int, tuple[int, Path_]] = {}
        # Where the object being converted sits in its document: () for a document that is one object,
        # (3,) for the fourth item of a YAML list of objects. Paths given to error() and warn() are
        # relative to it.
        self.base: Path_ = ()

    def origin(self, obj: dict[str, Any], path: Path_) -> None:
        """Remember that the converted `obj` comes from `path` of the current object."""
        self.origins[id(obj)] = (self.doc, (*self.base, *path))

    def _issue(self, path: Path_, message: str, doc: int | None = None) -> SpecIssue:
        """An issue at `path` of the current object, or at the full `path` of document `doc`."""
        if doc is None:
            doc, path = self.doc, (*self.base, *path)
        full: Path_ = ("documents", doc, *path) if len(self.source.documents) > 1 else path
        line = None
        lines = self.source.lines[doc] if doc < len(self.source.lines) else {}
        for n in range(len(path), -1, -1):
            line = lines.get(tuple(path[:n]))
            if line:
                break
        return SpecIssue(self.source.file, format_path(full), line, message)

    def error(self, path: Path_, message: str) -> None:
        self.errors.append(self._issue(path, message))

    def warn(self, path: Path_, message: str) -> None:
        self.warnings.append(self._issue(path, message))

    def ignore_unknown(self, d: dict[str, Any], known: Iterable[str], path: Path_, what: str) -> None:
        """A warning for each key of `d` not in `known`, in sorted order: `ignored: KEY is not WHAT`."""
        for key in sorted(set(d) - set(known)):
            self.warn((*path, key), f"ignored: {key} is not {what}")

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
                self.warn(
                    lpath,
                    f"label {name!r} renamed to {new!r}"
                    + (
                        " (slodrift sets it itself)"
                        if name in RESERVED_LABELS
                        else " (Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*)"
                    ),
                )
            if value == "":
                self.warn(lpath, "empty label value dropped (Prometheus treats it as an absent label)")
                continue
            if "{{" in value:
                self.warn(
                    lpath, "label value contains '{{': slodrift keeps it as literal text, not a template"
                )
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
                label = label_ref(m.group(1))
                if label is not None:
                    if label in refs:
                        return refs[label]
                    return "{{ $labels." + self.renamed.get(label, label) + " }}"
                self.warn(
                    apath,
                    f"template action {m.group(0)!r} dropped: slodrift annotations may only use "
                    "{{ $labels.NAME }}",
                )
                return ""

            out[name] = TEMPLATE_RE.sub(convert, text).strip() if "{{" in text else text
        return out


def source_objects(source: Source, list_kinds: tuple[str, ...] = ()) -> list[tuple[int, Path_, Any]]:
    """(document, path of the object in it, object) for every object of the file: a document may be one
    object, a YAML list of them (the OpenSLO Go SDK, oslo and Nobl9 write lists), or an object of one of
    `list_kinds` holding them in `items` (a Kubernetes `List`)."""
    out: list[tuple[int, Path_, Any]] = []
    for n, doc in enumerate(source.documents):
        if isinstance(doc, list):
            out.extend((n, (i,), item) for i, item in enumerate(doc))
        elif isinstance(doc, dict) and doc.get("kind") in list_kinds and isinstance(doc.get("items"), list):
            out.extend((n, ("items", i), item) for i, item in enumerate(doc["items"]))
        else:
            out.append((n, (), doc))
    return out


def grouped_differently(labels: dict[str, tuple[str, ...]], ungrouped: str) -> str | None:
    """None when every query keeps the same labels, else each query's grouping (`error_query by (x)`, or
    `<key> <ungrouped>`), for the error message."""
    first = next(iter(labels.values()))
    if all(set(v) == set(first) for v in labels.values()):
        return None
    return ", ".join(f"{k} by ({', '.join(v)})" if v else f"{k} {ungrouped}" for k, v in labels.items())


def description(value: Any) -> str:
    """A description as slodrift keeps it: text, at most 1024 characters."""
    return str(value)[:1024]


def label_name_ok(name: str) -> bool:
    """A legal, non-internal Prometheus label name."""
    try:
        promql.check_label_name(name)
    except promql.PromQLError:
        return False
    return True


def regroup(
    ctx: Context, sli: dict[str, Any], group_by: list[str], path: Path_, prefix: str
) -> tuple[dict[str, Any], list[str]]:
    """Group labels slodrift sets itself (`service`, `slo`, ...) renamed `<prefix>_<name>`, by a
    `label_replace` around each query of `sli` (which must then be queries, not selectors)."""
    reserved = [g for g in group_by if g in RESERVED_LABELS]
    if not reserved:
        return sli, group_by
    out = {}
    for key, query in sli.items():
        assert key.endswith("_query"), key
        for label in reserved:
            query = f'label_replace({query}, "{prefix}_{label}", "$1", "{label}", "(.*)")'
        out[key] = query
    new = [f"{prefix}_{g}" if g in reserved else g for g in group_by]
    ctx.renamed.update({g: f"{prefix}_{g}" for g in reserved})
    ctx.warn(
        path,
        f"group label(s) {', '.join(reserved)} renamed {', '.join(f'{prefix}_{g}' for g in reserved)} "
        "(slodrift sets them itself; the queries copy them with label_replace)",
    )
    return out, new


def dump_spec(spec: dict[str, Any], header: str = "") -> str:
    """The spec as YAML a person will review, written by the generator's emitter (`yaml_out`): keys in
    slodrift's order, multi-line PromQL as literal blocks."""
    return yaml_out.dump(_multiline_as_expr(spec), header)


def _multiline_as_expr(node: Any) -> Any:
    """A copy in which every multi-line string is an `Expr`, which `yaml_out` writes as a literal block
    when its lines allow one (and quoted otherwise)."""
    if isinstance(node, dict):
        return {k: _multiline_as_expr(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_multiline_as_expr(v) for v in node]
    if isinstance(node, str) and "\n" in node:
        return promql.Expr(node)
    return node


def finish(ctx: Context, spec: dict[str, Any]) -> Imported:
    """Validate the converted spec with slodrift's own loader; its complaints become import errors that
    point at the input: the service or SLO they concern, its line, and where in the converted spec."""
    ctx.check()
    try:
        load_spec_text(ctx.source.file, dump_spec(spec).encode("utf-8"))
    except SpecError as exc:
        places: list[tuple[str, tuple[int, Path_]]] = []
        for i, svc in enumerate(spec.get("services", [])):
            if id(svc) in ctx.origins:
                places.append((f"services[{i}]", ctx.origins[id(svc)]))
            for j, slo in enumerate(svc.get("slos", [])):
                if id(slo) in ctx.origins:
                    places.append((f"services[{i}].slos[{j}]", ctx.origins[id(slo)]))
        issues = []
        for issue in exc.issues:
            where = max(
                (p for p in places if issue.path == p[0] or issue.path.startswith((p[0] + ".", p[0] + "["))),
                key=lambda p: len(p[0]),
                default=None,
            )
            message = (
                f"cannot convert: {issue.message} (slodrift's check of the converted spec, at "
                f"{issue.path or 'its top level'})"
            )
            if where is None:
                issues.append(SpecIssue(ctx.source.file, "", None, message))
            else:
                doc, path = where[1]
                issues.append(ctx._issue(path, message, doc))
        raise ImportFailed(issues) from None
    return Imported(spec, ctx.warnings)


def percent(value: Any) -> int | float:
    """A number for the spec without float noise (99.9, not 99.90000000000001)."""
    f = float(value)
    return int(f) if f.is_integer() else float(repr(round(f, 10)))
