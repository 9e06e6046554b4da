"""Load spec files: read (bounded), parse the YAML, check it against the JSON Schema, build the model; and
check what only several files together can get wrong (a service defined twice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from slodrift.generator.model import SLO, Service, Spec
from slodrift.generator.spec.build import build_spec
from slodrift.generator.spec.context import Context
from slodrift.generator.spec.document import Document, SpecError, SpecIssue
from slodrift.generator.spec.schema_check import schema_issues
from slodrift.generator.spec.yaml_parse import MAX_BYTES, parse_yaml

from slodrift.inputs import ReadError, read_bounded


def load_spec_text(file: str, raw: bytes) -> Spec:
    """Validate and build a spec from bytes; `file` is only used in messages."""
    return _load_text(file, raw)[0]


def _load_text(file: str, raw: bytes) -> tuple[Spec, Document]:
    """The spec and its parsed document (for the lines of checks across files)."""
    doc = parse_yaml(file, raw)
    if not isinstance(doc.data, dict):
        raise SpecError([doc.issue((), f"a spec is a YAML mapping, not a {type(doc.data).__name__}")])
    issues = schema_issues(doc)
    if issues:
        raise SpecError(issues)
    ctx = Context(doc)
    spec = build_spec(ctx)
    if ctx.issues:
        raise SpecError(ctx.issues)
    return spec, doc


def _read(path: str | Path) -> bytes:
    try:
        return read_bounded(path, MAX_BYTES)
    except ReadError as exc:
        raise SpecError([SpecIssue(str(path), "", None, str(exc))]) from None


def load_spec(path: str | Path) -> Spec:
    """Read and validate one spec file."""
    return load_spec_text(str(path), _read(path))


def load_specs(paths: list[str]) -> list[Spec]:
    """Load several specs, reporting every file's problems together; service names must be unique overall:
    a service defined again is reported at its line, with the file and line of its first definition."""
    loaded: list[tuple[Spec, Document]] = []
    issues = []
    for path in paths:
        try:
            loaded.append(_load_text(path, _read(path)))
        except SpecError as exc:
            issues.extend(exc.issues)
    owners: dict[str, tuple[str, str]] = {}  # service name -> its first file, and "file:line" there
    for spec, doc in loaded:
        for i, svc in enumerate(spec.services):
            where = ("services", i, "name")
            if svc.name in owners and owners[svc.name][0] != spec.path:
                issues.append(
                    doc.issue(where, f"service {svc.name!r} is also defined in {owners[svc.name][1]}")
                )
            line = doc.issue(where, "").line
            owners.setdefault(svc.name, (spec.path, f"{spec.path}:{line}" if line else spec.path))
    if issues:
        raise SpecError(issues)
    return [spec for spec, _ in loaded]


def iter_slos(spec: Spec) -> Iterator[tuple[Service, SLO]]:
    """Every (service, SLO) pair, in spec order."""
    for svc in spec.services:
        for slo in svc.slos:
            yield svc, slo
