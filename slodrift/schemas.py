"""The JSON Schemas shipped in the packages (`<package>/schema/*.json`), as ready validators."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any, cast

import jsonschema

__all__ = ["inline_refs", "load_schema", "validator"]

_ANNOTATIONS = frozenset({"description", "title", "examples", "default", "$comment"})


def load_schema(package: str, name: str) -> dict[str, Any]:
    """`schema/NAME` of `package` (e.g. `slodrift.generator`, `spec.schema.json`), parsed."""
    text = resources.files(package).joinpath("schema", name).read_text(encoding="utf-8")
    schema = json.loads(text)
    if not isinstance(schema, dict):
        raise ValueError(f"{package}/schema/{name} is not a JSON object")
    return schema


def inline_refs(node: Any, defs: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    """The schema with every local `$ref` replaced by its definition.

    Validation is the same, but jsonschema no longer resolves a reference at every one of a large
    spec's thousands of SLO fields (half its time). A `$ref`'s siblings may only be annotations here;
    anything else, or a cycle, keeps the reference.
    """
    if isinstance(node, list):
        return [inline_refs(x, defs, stack) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        rest = {k: v for k, v in node.items() if k != "$ref"}
        if name in defs and name not in stack and set(rest) <= _ANNOTATIONS:
            return {**inline_refs(defs[name], defs, (*stack, name)), **rest}
    return {k: inline_refs(v, defs, stack) for k, v in node.items()}


@cache
def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` with ECMA-262's meaning of `$` (JSON Schema's regex dialect): the very end of
    the text. Python's `$` also matches before a final newline, which let `"svc\n"` pass `^[a-z]+$`."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# types-jsonschema leaves `extend` unannotated; what it returns is a Draft 2020-12 validator class.
_Validator = cast(
    type[jsonschema.Draft202012Validator],
    jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern}),  # type: ignore[no-untyped-call]
)


@cache
def validator(package: str, name: str) -> jsonschema.Draft202012Validator:
    """A Draft 2020-12 validator for a shipped schema, its local `$ref`s inlined.

    Built once per schema and process: the files are part of the installed package and never change
    while it runs. Whether each schema is itself valid is checked by the tests, not at every start.
    """
    schema = load_schema(package, name)
    return _Validator(inline_refs(schema, schema.get("$defs", {})))
